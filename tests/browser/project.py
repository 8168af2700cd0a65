"""A small MkDocs project made the way ``web build`` makes one: the real ``mkdocs.yml.j2`` and the
real site assets (``skillmeat/site/assets``), with a few hand-written pages.

Pages (docs-relative): ``index.md`` (title "Home"), ``collections/team.md``,
``collections/personal.md``, ``artifacts/team/skill/greeter.md`` (title "Greeter", body word
"zanzibar"; out of the nav, like every artifact page), ``mcp.md``, ``analytics.md``,
``marketplace.md``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

from skillmeat.model.catalog import CatalogCollection
from skillmeat.services import catalog_pages
from tests.helpers import REPO_ROOT

TEMPLATES = REPO_ROOT / "skillmeat" / "templates" / "catalog"
ASSETS = REPO_ROOT / "skillmeat" / "site" / "assets"
TITLE = "Sample Catalog"

PAGES = {
    "index.md": "# Home\n\nWelcome to the sample catalog. See the [team](collections/team.md) "
                "collection.\n",
    "collections/team.md": "# team\n\nThe team collection holds "
                           "[Greeter](../artifacts/team/skill/greeter.md).\n",
    "collections/personal.md": "# personal\n\nPersonal odds and ends.\n",
    "artifacts/team/skill/greeter.md": "# Greeter\n\nGreets people politely, with a zanzibar "
                                       "flourish.\n",
    "mcp.md": "# MCP servers\n\nNo MCP servers.\n",
    "analytics.md": "# Analytics\n\nNo usage recorded.\n",
    "marketplace.md": "# Marketplace\n\nNo marketplaces.\n",
}


def render_config(title: str = TITLE, collections: tuple[str, ...] = ("team", "personal"),
                  site_url: str = "") -> str:
    """``mkdocs.yml`` from the real template (jinja2's default whitespace handling)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                             undefined=jinja2.StrictUndefined)
    env.filters["yaml"] = catalog_pages.yaml_str
    env.filters["one_line"] = catalog_pages.one_line
    return env.get_template("mkdocs.yml.j2").render(
        title=title, site_url=site_url, collections=[CatalogCollection(name=c) for c in collections])


def write_project(root: Path, *, pages: dict[str, str] | None = None, config: str | None = None) -> Path:
    """Write the project into ``root``; ``pages`` add to (or replace) the sample pages. Returns
    the path of its ``mkdocs.yml``."""
    docs = root / "docs"
    shutil.copytree(ASSETS, docs / "assets", dirs_exist_ok=True)
    for page, text in {**PAGES, **(pages or {})}.items():
        (docs / page).parent.mkdir(parents=True, exist_ok=True)
        (docs / page).write_text(text, encoding="utf-8")
    path = root / "mkdocs.yml"
    path.write_text(render_config() if config is None else config, encoding="utf-8")
    shutil.copy(ASSETS.parent.parent / "templates/catalog/hooks.py", root / "hooks.py")
    return path
