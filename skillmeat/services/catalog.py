"""``web build``: the static catalog, built into a fresh directory and swapped in whole.

gather (catalog_data) -> MkDocs project (catalog_pages) -> mkdocs-material build
(store.mkdocs_site) -> static JSON API beside the pages (catalog_api) -> swap into place.
The previous site stays untouched until the new one is complete; a directory that is not a
previous catalog build is never replaced.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import html
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from skillmeat.model.catalog import Catalog, built
from skillmeat.model.errors import BadInputError, SkillmeatError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services import catalog_api, catalog_data, catalog_pages
from skillmeat.services.catalog_pages import one_line
from skillmeat.store import mkdocs_site, static_server
from skillmeat.store.collection import CollectionStore
from skillmeat.store.files import process_lock
from skillmeat.store.home import Home

MARKER = ".skillmeat-catalog.json"


@dataclass
class BuildResult:
    site: Path
    collections: int
    artifacts: int
    pages: int
    markets: int
    mcp: int
    feed_signed: bool
    signer: str = ""
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"site": str(self.site), "collections": self.collections, "artifacts": self.artifacts,
                "pages": self.pages, "marketplaces": self.markets, "mcp_servers": self.mcp,
                "feed_signed": self.feed_signed, "signer": self.signer, "warnings": self.warnings,
                "problems": self.problems, "seconds": self.seconds}


def build(home: Home, out: Path, *, collections: Sequence[str] = (),
          markets: Sequence[str] | None = None, title: str = "", site_url: str = "",
          signer: PrivateKey | None = None, strict: bool = False, project: Path | None = None,
          days: int = 30, now: datetime.datetime | None = None,
          opened: Sequence[CollectionStore] = ()) -> BuildResult:
    """Build the catalog into ``out``. ``project``: keep the generated MkDocs project there
    (it must be missing or empty); otherwise it lives in a temporary directory. ``opened``:
    collections already opened (an unregistered checkout, say), shown instead of ``collections``."""
    out = Path(os.path.abspath(out))
    _check_replaceable(out)
    check_site_url(site_url)
    if project is not None:
        project = Path(os.path.abspath(project))
        if project == out or out in project.parents or project in out.parents:
            raise BadInputError(f"--project {project} and the output {out} overlap",
                                hint="keep the MkDocs project outside the site directory")
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    gathered = catalog_data.gather(home, collections=collections, markets=markets, title=title,
                                   days=days, site_url=site_url, now=now, opened=opened)
    cat = gathered.catalog
    seconds["gather"] = _lap(started)
    out.parent.mkdir(parents=True, exist_ok=True)
    # one build per output directory at a time (the lock lives in the home, not beside it)
    lock = home.paths.state / "locks" / f"web-{hashlib.sha256(str(out).encode()).hexdigest()[:16]}"
    with process_lock(lock, timeout=600), _project_dir(project) as proj, _staging(out) as staged:
        t = time.perf_counter()
        pages = catalog_pages.write_project(cat, proj, catalog_pages.render_contents(cat))
        seconds["pages"] = _lap(t)
        t = time.perf_counter()
        warnings = mkdocs_site.build(proj / "mkdocs.yml", staged, strict=strict)
        mkdocs_site.add_search_entries(staged, search_entries(cat))
        seconds["mkdocs"] = _lap(t)
        t = time.perf_counter()
        api = catalog_api.write_api(cat, staged, gathered.read_file, signer)
        (staged / MARKER).write_text(json.dumps({"generated": cat.generated}) + "\n")
        seconds["api"] = _lap(t)
        _swap(staged, out)
    seconds["total"] = _lap(started)
    return BuildResult(out, len(cat.collections), len(cat.artifacts()), pages, len(cat.markets),
                       len(cat.mcp), api.feed_signed, api.signer, warnings,
                       gathered.problems + api.notes,
                       seconds)


SEARCH_BODY = 600  # characters of an artifact's content that search sees


def search_entries(cat: Catalog) -> list[dict[str, str]]:
    """What search finds for each collection and artifact page (those pages are left out of
    Material's own indexing, which would parse their HTML again): name, id, description,
    tags, and the start of the content, as escaped text."""
    out = []
    for c in cat.collections:
        text = one_line(f"Collection {c.name}. {c.description} {len(c.artifacts)} artifacts.")
        out.append({"location": built(c.page()), "title": c.name,
                    "text": html.escape(text, quote=False)})
    for a in cat.artifacts():
        body = " ".join(_MARKUP.sub(" ", a.body[:SEARCH_BODY * 2]).split())[:SEARCH_BODY]
        text = one_line(" ".join(filter(None, [f"{a.type} {a.id} in {a.collection}.", a.description,
                                               " ".join(a.tags), body])))
        out.append({"location": built(a.page()), "title": a.name,
                    "text": html.escape(text, quote=False)})
    return out


_MARKUP = re.compile(r"[#*_`>|\[\]()<>~=-]+")


def _lap(since: float) -> float:
    return round(time.perf_counter() - since, 3)


def check_site_url(url: str) -> None:
    """``--site-url``: an http(s) URL, nothing MkDocs or a page could misread."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc \
            or any(c.isspace() or c in "\"'<>`\\" for c in url):
        raise BadInputError(f"--site-url {url!r} is not a plain http(s) URL",
                            hint="e.g. --site-url https://team.github.io/catalog/")


def _check_replaceable(out: Path) -> None:
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise BadInputError(f"{parent} is a file, so {out} cannot be made",
                                hint="pass another --output directory")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BadInputError(f"{out} exists and is not a directory",
                            hint="pass another --output directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise BadInputError(f"{out} is not empty and is not a catalog built by SkillMeat",
                            hint="pass an empty or new --output directory")


@contextlib.contextmanager
def _project_dir(project: Path | None) -> Iterator[Path]:
    if project is None:
        with tempfile.TemporaryDirectory(prefix="skillmeat-catalog-") as tmp:
            yield Path(tmp)
        return
    if project.exists() and (not project.is_dir() or any(project.iterdir())):
        raise BadInputError(f"{project} is not an empty directory",
                            hint="pass a new directory to --project (it is written from scratch)")
    project.mkdir(parents=True, exist_ok=True)
    yield project


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A new site directory beside ``out`` (same file system, so the swap is two renames)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".new", dir=out.parent))
    try:
        yield tmp / "site"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap(staged: Path, out: Path) -> None:
    old = staged.parent / "old"
    try:
        if out.exists():
            out.rename(old)
        staged.rename(out)
    except BaseException as exc:  # an interrupt between the renames too: the old site goes back
        if old.exists() and not out.exists():
            old.rename(out)
        if isinstance(exc, OSError):
            raise SkillmeatError(f"cannot put the new catalog in place at {out}: "
                                 f"{exc.strerror or exc}",
                                 hint="check the directory's permissions; the old catalog is "
                                 "unchanged") from None
        raise


def site_ready(site: Path) -> Path:
    """A built catalog directory, or a one-line error saying how to make one."""
    if not (site / "index.html").is_file():
        raise BadInputError(f"{site} holds no built catalog (no index.html)",
                            hint="run `skillmeat web build -o DIR` first")
    return site


def serve(site: Path, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """``web start``: serve a built catalog until interrupted."""
    static_server.serve(site, host, port, on_ready)


def serve_live(home: Home, site: Path, host: str, port: int, rebuild: Callable[[], None],
               collections: Sequence[str], on_ready: Callable[[str], None]) -> None:
    """``web dev``: serve ``site`` and call ``rebuild`` (then reload open pages) whenever a
    shown collection gets a commit, or the MCP health record or analytics change."""
    known = home.collections()
    names = list(collections) or sorted(known)
    watch = [known[n] / ".git" / sub for n in names if n in known for sub in ("refs", "logs")]
    watch.append(home.paths.state)
    for path in watch:
        path.mkdir(parents=True, exist_ok=True)
    mkdocs_site.serve(site, host=host, port=port, rebuild=rebuild, watch=watch, on_ready=on_ready)
