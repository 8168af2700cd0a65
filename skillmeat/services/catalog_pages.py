"""The catalog as an MkDocs project: ``mkdocs.yml``, Markdown pages and the site's assets.

``write_project(catalog, project)`` renders the jinja2 templates of
``skillmeat/templates/catalog`` (package data, read through ``importlib.resources``) into::

    project/mkdocs.yml
    project/docs/index.md                               home
    project/docs/collections/<collection>.md            one table per artifact type
    project/docs/artifacts/<collection>/<type>/<slug>.md
    project/docs/mcp.md, analytics.md, marketplace.md
    project/docs/assets/**                              copied from skillmeat/site/assets

Escaping: templates are not autoescaped (they write Markdown); every value that comes from
a collection, a marketplace or a health record goes through one of the filters below, which
make it inert in Markdown *and* HTML (the page may hold a table row, a heading or raw HTML):

``md``     inline text: whitespace folded to one line; ``<>&`` as entities, Markdown's
           specials (``\\`*_{}[]()#+-.!|``) backslash-escaped.
``code``   inline ``<code>`` (raw HTML, so no backtick fence to break out of; ``|`` as an
           entity so a table row is not split).
``pre``    a raw HTML ``<pre><code>`` block (commands, TOML bodies), HTML-escaped.
``url``    an http(s) URL as a raw ``<a>`` (never checked by MkDocs), anything else as ``code``.
``rel``    the relative URL from one page to another, percent-encoded.
``yaml``   a YAML double-quoted scalar, for ``mkdocs.yml`` (not ``tojson``: see ``yaml_str``).

``one_line`` (behind every filter but ``pre``, which does the same) drops bidi controls and
zero-width spaces: text shown on a page cannot reorder itself.

Artifact bodies are untrusted Markdown: ``catalog_markdown.render`` turns them into safe
HTML, embedded as a raw ``<div class="sm-content">`` block (TOML bodies of hooks and MCP
servers: an escaped ``<pre>``). Each page is one template render (a collection page with
10,000 rows is a loop, not 10,000 includes); rendering the bodies is most of the time.

``site_name``: mkdocs-material writes it into every page *unescaped* (text and attributes),
so the title's ``<>&"'`` become look-alike characters (``‹›＆”’``) before it reaches
``mkdocs.yml``. ``mkdocs.yml.j2`` is rendered with jinja2's default whitespace handling (an
overlay of the one environment); the page templates use ``trim_blocks``/``lstrip_blocks``.

Install commands come from ``CatalogArtifact.install`` (gathered with the collection's
remote); when it is empty, the commands that need no remote are shown.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import functools
import html
import importlib.resources
import json
import multiprocessing as mp
import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from skillmeat.model import svgchart
from skillmeat.model.catalog import Catalog, CatalogArtifact, CatalogCollection, Change, built
from skillmeat.services import catalog_markdown

if TYPE_CHECKING:
    import jinja2

TYPE_ORDER = ("skill", "command", "agent", "hook", "mcp")
TYPE_TITLES = {"skill": "Skills", "command": "Commands", "agent": "Agents", "hook": "Hooks",
               "mcp": "MCP servers"}
TYPE_NOUNS = {"skill": "skill", "command": "command", "agent": "agent", "hook": "hook", "mcp": "MCP server"}
MARKDOWN_TYPES = frozenset({"skill", "command", "agent"})
RECENT_CHANGES = 10
DESCRIPTION_CHARS = 160

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Shown text never holds characters that reorder or hide what is around them: bidi
# embeddings, overrides, isolates and marks (an "abc\u202egnp.exe" description would read
# "abcexe.png"), zero-width spaces and BOMs, and lone surrogates (not text; UTF-8 refuses
# them). ZWJ and ZWNJ stay: emoji sequences and several scripts need them.
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
# What a YAML (1.1, PyYAML) stream cannot hold, even escaped in a double-quoted scalar as
# MkDocs reads it back: C0/C1 controls (JSON escapes some, but they would end up in the
# value), lone surrogates, U+FFFE/U+FFFF, and YAML's extra line breaks (NEL, LS, PS).
_YAML_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029]")
_HTTP = re.compile(r"https?://[^\s<>\"'`]+\Z", re.IGNORECASE)
_CLASS_PART = re.compile(r"[^a-z0-9]+")
_LOOKALIKES = str.maketrans({"<": "‹", ">": "›", "&": " and ", '"': "”", "'": "’"})
DEFAULT_TITLE = "SkillMeat catalog"


# --- filters -------------------------------------------------------------------------------------


def one_line(value: object) -> str:
    """``value`` as one line of text: controls and invisible reordering characters (bidi
    controls, zero-width spaces) dropped, whitespace runs folded to a space."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", _CONTROL.sub("", str(value)))).strip()


def md(value: object) -> str:
    """Inline text safe in Markdown and HTML: in a paragraph, a heading or a table cell."""
    text = _MD_SPECIAL.sub(r"\\\1", one_line(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return html.escape(value, quote=True).replace("|", "&#124;")


def code(value: object) -> str:
    """Inline code: raw HTML ``<code>`` holding Markdown-escaped text (safe in table cells)."""
    text = one_line(value)
    return f"<code>{md(text)}</code>" if text else ""


def pre(value: object) -> str:
    """A raw HTML code block (start it on its own line, after a blank line)."""
    text = _INVISIBLE.sub("", _CONTROL.sub("", str(value))).replace("\r\n", "\n").rstrip("\n")
    return f"<pre><code>{html.escape(text, quote=False)}</code></pre>"


def yaml_str(value: object) -> str:
    """``value`` as a YAML double-quoted scalar (for ``mkdocs.yml``): JSON with the characters
    kept as they are (jinja's ``tojson`` writes non-BMP ones as surrogate-pair escapes, which
    PyYAML reads back as two lone surrogates), minus what YAML cannot hold."""
    return json.dumps(_YAML_UNSAFE.sub("", str(value)), ensure_ascii=False)


def url(value: object) -> str:
    """An http(s) URL as a link (raw HTML, opens nothing by itself), anything else as code."""
    text = one_line(value)
    if _HTTP.match(text):
        return f'<a href="{_attr(text)}">{md(text)}</a>'
    return code(text)


def trunc(value: object, limit: int = DESCRIPTION_CHARS) -> str:
    text = one_line(value)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut + "…"


def when(seconds: object) -> str:
    """Seconds since the epoch as ``YYYY-MM-DD HH:MM UTC`` (``unknown`` for 0 or junk)."""
    try:
        t = float(seconds)  # type: ignore[arg-type]
        if t <= 0:
            return "unknown"
        return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError, OverflowError, OSError):
        return "unknown"


def size(n: object) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``12 MiB``."""
    value = float(n)  # type: ignore[arg-type]
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def mode(value: object) -> str:
    m = int(value)  # type: ignore[call-overload]
    return "executable" if m & 0o111 else ("symlink" if m & 0o170000 == 0o120000 else "file")


def short(value: object, n: int = 12) -> str:
    return one_line(value)[:n]


def badge(status: object, text: object = None) -> str:
    """A status badge: ``<span class="sm-badge sm-badge--STATUS">TEXT</span>``."""
    s = one_line(status) or "unknown"
    kind = _CLASS_PART.sub("-", s.lower()).strip("-") or "unknown"
    label = md(s if text is None else text)
    return f'<span class="sm-badge sm-badge--{kind}">{label}</span>'


def rel(target: str, start: str) -> str:
    """The URL of docs page ``target`` seen from docs page ``start`` (both '/' paths)."""
    path = posixpath.relpath(target, posixpath.dirname(start) or ".")
    return quote(path, safe="/")


def site_name(title: str) -> str:
    """The title as MkDocs' ``site_name``: mkdocs-material writes it into pages unescaped (in
    text and in attributes), so HTML's special characters become look-alikes that are inert."""
    return " ".join(one_line(title).translate(_LOOKALIKES).split()) or DEFAULT_TITLE


def type_title(kind: str) -> str:
    return TYPE_TITLES.get(kind, kind.capitalize() + "s")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def type_counts(counts: dict[str, int]) -> str:
    """``{"skill": 2, "mcp": 1}`` as ``2 skills, 1 MCP server`` (usual type order; Markdown-safe)."""
    order = [t for t in TYPE_ORDER if t in counts] + sorted(t for t in counts if t not in TYPE_ORDER)
    return ", ".join(md(plural(counts[t], TYPE_NOUNS.get(t, t))) for t in order if counts[t])


# --- the environment -----------------------------------------------------------------------------


def _template_source(name: str) -> str:
    return (importlib.resources.files("skillmeat") / "templates" / "catalog" / name).read_text("utf-8")


@functools.cache
def environment() -> jinja2.Environment:
    """One environment for every page: Markdown output, so no autoescaping (filters do it)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md, code=code, pre=pre, url=url, trunc=trunc, when=when, size=size,
                       mode=mode, short=short, badge=badge, one_line=one_line, yaml=yaml_str)
    env.globals.update(rel=rel, type_title=type_title, plural=plural, badge=badge, type_counts=type_counts)
    return env


@functools.cache
def _config_environment() -> jinja2.Environment:
    """``mkdocs.yml.j2`` is written for jinja2's default whitespace handling (``{%- -%}``)."""
    return environment().overlay(trim_blocks=False, lstrip_blocks=False)


def _render(name: str, **values: Any) -> str:
    return environment().get_template(name).render(**values)


# --- the project ---------------------------------------------------------------------------------


def write_project(catalog: Catalog, project: Path,
                  contents: Mapping[tuple[str, str], str] | None = None) -> int:
    """Write the MkDocs project for ``catalog`` into ``project``; the number of pages written.
    ``contents``: artifacts' rendered content by (collection, id), when already rendered
    (see ``render_contents``)."""
    docs = project / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    config = _config_environment().get_template("mkdocs.yml.j2")
    (project / "mkdocs.yml").write_text(
        config.render(title=site_name(catalog.title), site_url=catalog.site_url,
                      collections=catalog.collections), encoding="utf-8")
    _copy_tree(importlib.resources.files("skillmeat") / "site" / "assets", docs / "assets")
    pages = 0
    made: set[Path] = set()

    def write(page: str, text: str) -> None:
        nonlocal pages
        if page.startswith("/") or ".." in page.split("/"):  # names are checked; never trust a path
            raise ValueError(f"page path outside the docs directory: {page!r}")
        path = docs / page
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(text, encoding="utf-8")
        pages += 1

    hook = importlib.resources.files("skillmeat") / "templates" / "catalog" / "hooks.py"
    (project / "hooks.py").write_bytes(hook.read_bytes())

    def write_content(page: str, parts: list[str]) -> None:
        """An artifact page's HTML parts, beside the docs (the hook puts them into the page)."""
        path = project / "content" / (page[: -len(".md")] + ".json")
        text = json.dumps(parts, ensure_ascii=False)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(text, encoding="utf-8")

    mcp_pages = {(a.collection, a.name): a.page() for a in catalog.artifacts() if a.type == "mcp"}
    artifact = environment().get_template("artifact.md.j2")
    write("index.md", _render("index.md.j2", catalog=catalog, recent=recent_changes(catalog.collections),
                              totals=totals(catalog)))
    for coll in catalog.collections:
        groups = by_type(coll.artifacts)
        write(coll.page(), _render("collection.md.j2", c=coll, page=coll.page(), groups=groups))
        write_content(coll.page(), collection_parts(coll, groups))
        for a in coll.artifacts:
            content = contents.get((a.collection, a.id)) if contents else None
            write_content(a.page(), artifact_parts(
                a, coll, content if content is not None else content_html(a)))
            write(a.page(), artifact.render(a=a))
    write("mcp.md", _render("mcp.md.j2", catalog=catalog, groups=_group_mcp(catalog),
                            mcp_pages=mcp_pages))
    analytics = catalog.analytics
    usage_svg = svgchart.bar_chart([(p.period, p.count) for p in analytics.usage],
                                   title=f"Usage over the last {analytics.days} days")
    top_svg = svgchart.hbar_chart([(t.id, t.count) for t in analytics.top], title="Most used artifacts")
    write("analytics.md", _render("analytics.md.j2", catalog=catalog, a=analytics, usage_svg=usage_svg,
                                  top_svg=top_svg))
    write("marketplace.md", _render("marketplace.md.j2", catalog=catalog))
    return pages


@functools.cache
def _html_environment() -> jinja2.Environment:
    """Artifact page sections are HTML: autoescaped, with HTML-producing helpers."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FunctionLoader(_template_source), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(one_line=one_line, when=when, size=size, mode=mode, short=short, trunc=trunc)
    env.globals.update(type_title=type_title, html_badge=_html_badge, link=_html_link)
    return env


def _html_badge(status: object) -> Any:
    from markupsafe import Markup

    s = one_line(status) or "unknown"
    kind = _CLASS_PART.sub("-", s.lower()).strip("-") or "unknown"
    return Markup('<span class="sm-badge sm-badge--{}">{}</span>').format(kind, s)


def _html_link(value: object) -> Any:
    from markupsafe import Markup

    text = one_line(value)
    if _HTTP.match(text):
        return Markup('<a href="{0}">{0}</a>').format(text)
    return Markup("<code>{}</code>").format(text)


def artifact_parts(a: CatalogArtifact, c: CatalogCollection, content: str) -> list[str]:
    """The HTML sections of an artifact's page: about, install, files, content."""
    from markupsafe import Markup

    page = a.page()
    html_text = _html_environment().get_template("artifact.html.j2").render(
        a=a, c=c, content=Markup(content), install=install_commands(a),
        collection_url=built(rel(c.page(), page)), api_url=rel(a.api_path(), page))
    return html_text.split("<!--PART-->")


def collection_parts(c: CatalogCollection, groups: list[tuple[str, list[CatalogArtifact]]]) -> list[str]:
    """A collection page's artifact tables as HTML, one per type."""
    page = c.page()
    env = _html_environment()
    out = []
    for kind, items in groups:
        urls = [built(rel(a.page(), page)) for a in items]
        out.append(env.get_template("collection.html.j2").render(groups=[(kind, items)], urls=urls))
    return out


def content_html(a: CatalogArtifact) -> str:
    """The artifact's main text as safe HTML: rendered Markdown, or TOML as an escaped block."""
    if not a.body.strip():
        return '<p class="sm-empty">No content.</p>'
    if a.type in MARKDOWN_TYPES:
        return catalog_markdown.render(a.body, where=f"{a.collection}:{a.id}")
    return pre(a.body)


def install_commands(a: CatalogArtifact) -> dict[str, list[str]]:
    """``a.install`` (made by the gatherer, ``catalog_data._install``), each command one line."""
    return {key: [one_line(x) for x in a.install.get(key, [])] for key in ("skillmeat", "claude")}


def by_type(artifacts: Iterable[CatalogArtifact]) -> list[tuple[str, list[CatalogArtifact]]]:
    """Artifacts grouped by type: the known types in their usual order, then any others."""
    groups: dict[str, list[CatalogArtifact]] = {}
    for a in artifacts:
        groups.setdefault(a.type, []).append(a)
    order = [t for t in TYPE_ORDER if t in groups] + sorted(t for t in groups if t not in TYPE_ORDER)
    return [(t, groups[t]) for t in order]


def recent_changes(collections: Iterable[CatalogCollection], limit: int = RECENT_CHANGES
                   ) -> list[tuple[CatalogCollection, Change]]:
    every = [(c, ch) for c in collections for ch in c.changes]
    every.sort(key=lambda pair: pair[1].time, reverse=True)
    return every[:limit]


def totals(catalog: Catalog) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    for c in catalog.collections:
        for kind, n in c.counts().items():
            kinds[kind] = kinds.get(kind, 0) + n
    ordered = {t: kinds[t] for t in TYPE_ORDER if t in kinds}
    ordered.update({t: kinds[t] for t in sorted(kinds) if t not in ordered})
    return {"collections": len(catalog.collections), "artifacts": sum(kinds.values()), "by_type": ordered,
            "mcp": len(catalog.mcp), "markets": len(catalog.markets),
            "listings": sum(len(m.entries) for m in catalog.markets)}


def _group_mcp(catalog: Catalog) -> list[tuple[str, list[Any]]]:
    groups: dict[str, list[Any]] = {}
    for m in catalog.mcp:
        groups.setdefault(m.collection, []).append(m)
    return list(groups.items())


def _copy_tree(src: Traversable, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.name.startswith(".") or item.name == "__pycache__":
            continue
        if item.is_dir():
            _copy_tree(item, dest / item.name)
        else:
            (dest / item.name).write_bytes(item.read_bytes())


PARALLEL_FROM = 500  # artifacts: below this, one process renders faster than a pool starts


def render_contents(catalog: Catalog) -> dict[tuple[str, str], str]:
    """Every artifact's content rendered (``content_html``), on all cores for big catalogs:
    Markdown rendering is most of the page-writing time."""
    arts = catalog.artifacts()
    workers = min(os.cpu_count() or 1, 8)
    if len(arts) < PARALLEL_FROM or workers < 2 or "fork" not in mp.get_all_start_methods():
        return {(a.collection, a.id): content_html(a) for a in arts}
    chunk = max(50, len(arts) // (workers * 4))
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        rendered = list(pool.map(content_html, arts, chunksize=chunk))
    return {(a.collection, a.id): html for a, html in zip(arts, rendered, strict=True)}
