"""A Claude Code plugin marketplace (``.claude-plugin/marketplace.json``) read as a marketplace.

``source`` is a directory, a git URL (``file://`` too) or ``github:owner/repo[/path][@ref]``.
``refresh`` reads the marketplace (a git source is cloned once into ``cache/repo`` and then
fetched and reset there) and lists, for each plugin in the marketplace's own repository, one
listing per artifact SkillMeat would import from it (skills, commands, agents, ``hooks``,
MCP servers; ``id`` is the artifact id, e.g. ``agent/backend-development:backend-architect``)
and one ``plugin/<name>`` listing whose ``artifacts`` names them. Plugins that live elsewhere
(``github``, ``url``, ``git-subdir`` sources) are listed from what marketplace.json says, with
no artifacts; they are cloned only when fetched. Listings are unsigned: ``verified`` is False.

What ``fetch`` returns, and how to install it::

    fetched = broker.fetch(listing, dest)            # Fetched("tree", path)
    add(home, store, str(fetched.path), selection=selection_for(listing))

``fetched.path`` is always a directory holding ``.claude-plugin/marketplace.json``:

* a plugin of the marketplace's own repository: the marketplace root itself (the source
  directory, or the git clone in ``cache/repo`` at the refreshed commit), so the artifacts
  get the same ids and a lasting upstream;
* a plugin from elsewhere: ``cache/plugins/<plugin>/``, a one-plugin marketplace written
  there whose plugin is the fresh clone in its ``repo/`` folder (ids ``type/<plugin>:name``).

``dest`` is not written to. ``selection_for`` narrows the import to the listing: exactly the
listed artifact for an artifact listing, every ``<plugin>:*`` artifact for a plugin listing.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
from pathlib import Path
from typing import Any, ClassVar

from skillmeat.model.artifact import ArtifactType, check_part
from skillmeat.model.errors import BadInputError, NotFoundError, SkillmeatError, SourceError
from skillmeat.services.artifacts import Selection
from skillmeat.services.brokers import listing_cache
from skillmeat.services.brokers.base import BrokerContext, Fetched, MarketListing, RefreshResult
from skillmeat.services.discover import Candidate, discover
from skillmeat.store import gitcli
from skillmeat.store.sources import SourceSpec, fetch, parse_source
from skillmeat.store.tree import FsTree

MARKETPLACE_JSON = ".claude-plugin/marketplace.json"
PLUGIN_JSON = ".claude-plugin/plugin.json"
CACHE_FILE = "listings.json"
REPO_DIR = "repo"
PLUGINS_DIR = "plugins"
CACHE_FORMAT = 1
REMOTE_KINDS = ("github", "url", "git-subdir", "npm")
_OWNER_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")


def selection_for(listing: MarketListing) -> Selection:
    """What to import from ``fetch``'s tree: one artifact, or all of a plugin's."""
    if listing.type == "plugin":
        return Selection(names=(f"{plugin_namespace(listing.name)}:*",), all=True)
    try:
        type_ = ArtifactType(listing.type)
    except ValueError:
        raise BadInputError(f"{listing.id}: a claude-plugin listing of unknown type "
                            f"'{listing.type}'") from None
    return Selection(types=(type_,), names=(listing.id,), all=True)


def plugin_namespace(name: str) -> str:
    """The namespace a plugin's artifacts get (as discovery makes it from the plugin name)."""
    try:
        return check_part(name, "plugin name")
    except BadInputError:
        return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.") or "x"


class ClaudePluginBroker:
    kind: ClassVar[str] = "claude-plugin"

    def __init__(self, name: str, source: str, ctx: BrokerContext) -> None:
        self.name = name
        self.source = source
        self.ctx = ctx
        self.spec: SourceSpec = parse_source(source)

    # --- the Broker interface ---

    def refresh(self) -> RefreshResult:
        old = self._read_cache()
        transferred = 0
        if self.spec.kind == "local":
            with fetch(self.spec) as got:
                root = _marketplace_root(got.root, self.spec.text)
                commit = got.commit
                doc = self._build(root, commit)
        else:
            commit, transferred = sync_repo(self.spec.location, self._repo, self.spec.ref,
                                            self.spec.text)
            if old is not None and old.get("commit") == commit:
                return RefreshResult(False, 0, len(old["listings"]),
                                     detail=f"unchanged at {commit[:12]}")
            doc = self._build(self._git_root(), commit)
        changed = old is None or old.get("listings") != doc["listings"]
        self._write_cache(doc)
        at = f" at {commit[:12]}" if commit else ""
        return RefreshResult(changed, transferred, len(doc["listings"]),
                             detail=f"{len(doc['plugins'])} plugins{at}")

    def listings(self) -> list[MarketListing]:
        return listing_cache.listings(self.name, self.ctx.cache, self._read_cache, self.refresh)

    def fetch(self, listing: MarketListing, dest: Path) -> Fetched:
        """The tree to add ``listing`` from (see the module docstring); ``dest`` is unused."""
        if listing.type not in ("plugin", *(t.value for t in ArtifactType)):
            raise BadInputError(f"{self.name}:{listing.id}: not a plugin or artifact listing")
        if listing.source.startswith("{"):
            return Fetched("tree", self._fetch_remote(listing))
        if self.spec.kind == "local":
            with fetch(self.spec) as got:
                root = _marketplace_root(got.root, self.spec.text)
        else:
            root = self._git_root()
            if not (root / MARKETPLACE_JSON).is_file():
                self.refresh()
        plugin_dir = root / listing.source if listing.source not in ("", ".") else root
        if not plugin_dir.is_dir():
            raise NotFoundError(f"{self.name}:{listing.id}: plugin folder '{listing.source}' is "
                                f"gone from {self.spec.text}",
                                hint=f"refresh it: skillmeat marketplace refresh {self.name}")
        return Fetched("tree", root)

    # --- building the listings ---

    def _build(self, root: Path, commit: str) -> dict[str, Any]:
        data = read_marketplace(root, self.spec.text)
        found = discover(FsTree(root), root.name)
        by_ns: dict[str, list[Candidate]] = {}
        for cand in found.candidates:
            by_ns.setdefault(cand.id.namespace, []).append(cand)
        market = data.get("metadata")
        plugin_root = market.get("pluginRoot") if isinstance(market, dict) else None
        plugin_root = plugin_root if isinstance(plugin_root, str) else data.get("pluginRoot")
        plugin_root = plugin_root if isinstance(plugin_root, str) else ""
        listings: list[dict[str, Any]] = []
        remote: dict[str, Any] = {}
        plugins: list[str] = []
        seen: set[str] = set()
        for entry in data["plugins"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            name = entry["name"]
            ns = plugin_namespace(name)
            if ns in seen:
                continue  # discovery keeps the first of two plugins by one name too
            seen.add(ns)
            source = entry.get("source")
            spec = remote_source(source)
            if spec is not None:
                remote[name] = entry
                meta = _describe(entry)
                plugins.append(name)
                listings.append(self._plugin_listing(name, meta, json.dumps(spec, sort_keys=True),
                                                     ()))
                continue
            if not isinstance(source, str):
                continue
            rel = posixpath.normpath(posixpath.join(plugin_root, source)).strip("/") or "."
            if rel.startswith("../") or rel == "..":
                continue
            meta_path = root / rel / PLUGIN_JSON
            meta = _describe({**_read_object(meta_path), **entry} if meta_path.is_file() else entry)
            cands = by_ns.get(ns, [])
            plugins.append(name)
            listings.append(self._plugin_listing(name, meta, rel,
                                                 tuple(str(c.id) for c in cands)))
            for cand in cands:
                listings.append(listing_cache.to_json(MarketListing(
                    id=str(cand.id), type=cand.id.type.value, name=cand.id.base,
                    version=meta["version"] or cand.version,
                    description=first_line(cand.description) or meta["description"],
                    tags=meta["tags"],
                    publisher=meta["publisher"], verified=False, source=rel,
                    artifacts=(str(cand.id),), marketplace=self.name)))
        return {"format": CACHE_FORMAT, "source": self.source, "commit": commit,
                "plugins": plugins, "remote": remote, "listings": listings}

    def _plugin_listing(self, name: str, meta: dict[str, Any], source: str,
                        artifacts: tuple[str, ...]) -> dict[str, Any]:
        return listing_cache.to_json(MarketListing(
            id=f"plugin/{name}", type="plugin", name=name, version=meta["version"],
            description=meta["description"], tags=meta["tags"], publisher=meta["publisher"],
            verified=False, source=source, artifacts=artifacts, marketplace=self.name))

    # --- remote plugins ---

    def _fetch_remote(self, listing: MarketListing) -> Path:
        try:
            spec = json.loads(listing.source)
        except ValueError:
            raise BadInputError(f"{self.name}:{listing.id}: unreadable plugin source "
                                f"{listing.source!r}") from None
        if not isinstance(spec, dict):
            raise BadInputError(f"{self.name}:{listing.id}: plugin source is not an object")
        url, sub, ref = git_location(spec, f"{self.name}:{listing.id}")
        doc = self._read_cache() or {}
        entry = dict(doc.get("remote", {}).get(listing.name) or {"name": listing.name})
        ns = plugin_namespace(listing.name)
        base = self.ctx.cache / PLUGINS_DIR / ns
        sync_repo(url, base / REPO_DIR, ref, url)
        plugin = posixpath.normpath(posixpath.join(REPO_DIR, sub)) if sub else REPO_DIR
        if not plugin.startswith(REPO_DIR + "/") and plugin != REPO_DIR:
            raise BadInputError(f"{self.name}:{listing.id}: plugin path '{sub}' leaves its "
                                "repository")
        if not (base / plugin).is_dir():
            raise SourceError(url, f"no path '{sub}' in the repository")
        entry.update(name=listing.name, source=f"./{plugin}")
        wrapper = {"name": self.name, "owner": {"name": self.name}, "plugins": [entry]}
        target = base / MARKETPLACE_JSON
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(wrapper, indent=2) + "\n", encoding="utf-8")
        return base

    # --- the cache ---

    @property
    def _repo(self) -> Path:
        return self.ctx.cache / REPO_DIR

    def _git_root(self) -> Path:
        root = self._repo / self.spec.subpath if self.spec.subpath else self._repo
        if self._repo.is_dir() and not root.is_dir():
            raise SourceError(self.spec.text, f"no path '{self.spec.subpath}' in the repository")
        return root

    def _read_cache(self) -> dict[str, Any] | None:
        return listing_cache.read(self.ctx.cache / CACHE_FILE, CACHE_FORMAT, self.source)

    def _write_cache(self, doc: dict[str, Any]) -> None:
        listing_cache.write(self.ctx.cache / CACHE_FILE, doc)


# --- marketplace.json ---

def read_marketplace(root: Path, label: str) -> dict[str, Any]:
    """``root``'s marketplace.json as an object with a ``plugins`` list; one-line errors
    (``label``: the source as the user gave it) otherwise."""
    where = f"{label}: {MARKETPLACE_JSON}"
    try:
        raw = (root / MARKETPLACE_JSON).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise SourceError(label, f"no {MARKETPLACE_JSON}",
                          hint="a Claude Code plugin marketplace has one") from None
    except OSError as exc:
        raise SourceError(label, f"{MARKETPLACE_JSON}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError:
        raise BadInputError(f"{where}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column "
                            f"{exc.colno})") from None
    if not isinstance(data, dict):
        raise BadInputError(f"{where}: the top level is a JSON {type(data).__name__}, "
                            "not an object")
    if not isinstance(data.get("plugins"), list):
        raise BadInputError(f"{where}: 'plugins' is missing or not a list")
    return data


def remote_source(source: Any) -> dict[str, Any] | None:
    """A plugin source outside the marketplace's repository, as an object; None if local."""
    if isinstance(source, dict):
        if source.get("source") in ("local", "path") or "source" not in source:
            return None  # not a Claude Code form; treated as unusable below
        return source
    if isinstance(source, str) and source.startswith(("http:", "https:", "git@", "git:",
                                                      "ssh:")):
        return {"source": "url", "url": source}
    return None


def git_location(spec: dict[str, Any], what: str) -> tuple[str, str, str]:
    """(clone URL, path inside, ref or sha) of a remote plugin source."""
    kind = spec.get("source")
    ref = str(spec.get("sha") or spec.get("ref") or "")
    if kind == "github":
        repo = spec.get("repo")
        if not isinstance(repo, str) or not _OWNER_REPO.match(repo):
            raise BadInputError(f"{what}: github source without 'repo' (owner/repo)")
        return f"https://github.com/{repo.removesuffix('.git')}.git", "", ref
    if kind in ("url", "git-subdir"):
        url = spec.get("url")
        if not isinstance(url, str) or not url:
            raise BadInputError(f"{what}: {kind} source without 'url'")
        if _OWNER_REPO.match(url):
            url = f"https://github.com/{url.removesuffix('.git')}.git"
        sub = spec.get("path", "") if kind == "git-subdir" else ""
        if not isinstance(sub, str):
            raise BadInputError(f"{what}: git-subdir 'path' is not a string")
        return url, sub.strip("/"), ref
    if kind == "npm":
        raise BadInputError(f"{what}: the plugin is the npm package {spec.get('package')!r}; "
                            "SkillMeat fetches plugins from git only",
                            hint="install it with Claude Code's /plugin install")
    raise BadInputError(f"{what}: unknown plugin source type {kind!r}",
                        hint=f"supported: ./path, {', '.join(REMOTE_KINDS[:3])}")


def _marketplace_root(path: Path, text: str) -> Path:
    if path.is_file():
        if path.name == "marketplace.json" and path.parent.name == ".claude-plugin":
            return path.parent.parent
        raise SourceError(text, "not a directory holding .claude-plugin/marketplace.json")
    return path


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(meta: dict[str, Any]) -> dict[str, Any]:
    """Description, version, tags and publisher of a plugin entry (marketplace over plugin.json)."""
    tags: list[str] = []
    for key in ("keywords", "tags"):
        value = meta.get(key)
        if isinstance(value, list):
            tags += [str(v) for v in value if isinstance(v, str | int | float) and str(v)]
    if isinstance(meta.get("category"), str) and meta["category"]:
        tags.append(meta["category"])
    author = meta.get("author")
    publisher = author.get("name") if isinstance(author, dict) else author
    return {"description": first_line(str(meta.get("description") or "")),
            "version": str(meta.get("version") or ""),
            "tags": tuple(dict.fromkeys(tags)),
            "publisher": publisher if isinstance(publisher, str) else ""}


def first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


# --- the git cache ---

def sync_repo(url: str, dest: Path, ref: str, label: str) -> tuple[str, int]:
    """Bring the clone in ``dest`` to ``ref`` (default: the remote's HEAD): a fetch and reset
    when ``dest`` already clones ``url``, a fresh clone otherwise. Returns the commit and
    the bytes the object store grew by (0 when the commit did not change)."""
    gitcli.check_arg(url, "URL", label)
    if ref:
        gitcli.check_arg(ref, "ref", label)
    if (dest / ".git").is_dir() and _origin(dest) == url:
        before = _head(dest)
        if ref and before == ref:
            return before, 0  # pinned to the commit we have
        size = _objects_size(dest)
        gitcli.run_git(["fetch", "--quiet", "--no-tags", "origin", ref or "HEAD"], cwd=dest,
                       source=label)
        gitcli.run_git(["checkout", "--quiet", "--force", "--detach", "FETCH_HEAD"], cwd=dest,
                       source=label)
        gitcli.run_git(["clean", "--quiet", "-ffdx"], cwd=dest, source=label)
        commit = _head(dest)
        return commit, 0 if commit == before else max(0, _objects_size(dest) - size)
    fresh = dest.with_name(dest.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        commit = gitcli.clone(url, fresh, ref, label)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(fresh, dest)
    return commit, _objects_size(dest)


def _origin(repo: Path) -> str:
    try:
        return gitcli.run_git(["config", "--get", "remote.origin.url"], cwd=repo).strip()
    except SkillmeatError:
        return ""


def _head(repo: Path) -> str:
    return gitcli.run_git(["rev-parse", "HEAD"], cwd=repo).strip()


def _objects_size(repo: Path) -> int:
    total = 0
    for folder, _, files in os.walk(repo / ".git" / "objects"):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total
