"""MCP Registry ``server.json`` documents read as a marketplace of MCP server definitions.

``source`` is a local path (``file://`` accepted): one ``server.json``, a JSON list of them, a
registry API answer (``{"servers": [{"server": {...}, "_meta": {...}}, ...]}``), or a directory
holding any of these as ``*.json`` files (searched recursively). Each server becomes one
listing of type ``mcp`` with id ``mcp/<server name>`` (e.g. ``mcp/io.github.acme/weather``);
its ``artifacts`` are the definitions an import writes (``mcp/weather``, or ``mcp/weather-npm``
and ``mcp/weather-http`` for a server with several ways to run). A name listed twice keeps its
highest version. Registry status ``deprecated`` or ``deleted`` lists the server as yanked.

``refresh`` keeps the documents themselves in the cache, so ``listings`` and ``fetch`` read
no source. ``fetch`` writes the listing's document to ``dest/server.json`` and returns
``Fetched("tree", dest / "server.json")``; ``install_server`` imports that file with
``services.mcp_defs.import_servers`` (every way to run it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

from skillmeat.model.errors import BadInputError, NotFoundError, SourceError
from skillmeat.model.feed import version_key
from skillmeat.services.brokers import listing_cache
from skillmeat.services.brokers.base import BrokerContext, Fetched, MarketListing, RefreshResult
from skillmeat.services.mcp_defs import DefsResult, Pick, import_servers, mcp_id
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.server_json import registry_server, registry_servers

CACHE_FILE = "listings.json"
CACHE_FORMAT = 1
OFFICIAL_META = "io.modelcontextprotocol.registry/official"


def install_server(home: Home, store: CollectionStore, path: Path, *, dry_run: bool = False,
                   force: bool = False, allow_secret: bool = False) -> DefsResult:
    """Import a fetched ``server.json`` as MCP definitions (all the ways it can run)."""
    return import_servers(home, store, path, Pick(all=True), force=force,
                          allow_secret=allow_secret, dry_run=dry_run)


class McpRegistryBroker:
    kind: ClassVar[str] = "mcp-registry"

    def __init__(self, name: str, source: str, ctx: BrokerContext) -> None:
        self.name = name
        self.source = source
        self.ctx = ctx
        self.path = _local_path(source)

    def refresh(self) -> RefreshResult:
        old = self._read_cache()
        found, notes = read_documents(self.path)
        chosen: dict[str, tuple[MarketListing, dict[str, Any]]] = {}
        for origin, wrapper, server in found:
            made = self._listing(origin, wrapper, server, notes)
            if made is None:
                continue
            prev = chosen.get(made.id)
            if prev is None or version_key(made.version) > version_key(prev[0].version):
                chosen[made.id] = (made, server)
        listings = [listing_cache.to_json(x) for x, _ in chosen.values()]
        documents = {lid: server for lid, (_, server) in chosen.items()}
        doc = {"format": CACHE_FORMAT, "source": self.source, "listings": listings,
               "documents": documents}
        changed = old is None or (old.get("listings"), old.get("documents")) != (
            listings, documents)
        listing_cache.write(self.ctx.cache / CACHE_FILE, doc)
        detail = f"{len(listings)} servers" + (f"; {len(notes)} skipped: {notes[0]}"
                                               if notes else "")
        return RefreshResult(changed, 0, len(listings), detail=detail)

    def listings(self) -> list[MarketListing]:
        return listing_cache.listings(self.name, self.ctx.cache, self._read_cache, self.refresh)

    def fetch(self, listing: MarketListing, dest: Path) -> Fetched:
        """``dest/server.json``: the listing's document as the last refresh read it."""
        doc = self._read_cache()
        if doc is None or listing.id not in doc.get("documents", {}):
            self.refresh()
            doc = self._read_cache() or {}
        server = doc.get("documents", {}).get(listing.id)
        if not isinstance(server, dict):
            raise NotFoundError(f"no server '{listing.id}' in marketplace {self.name}",
                                hint=f"refresh it: skillmeat marketplace refresh {self.name}")
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / "server.json"
        path.write_text(json.dumps(server, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return Fetched("tree", path)

    def _listing(self, origin: str, wrapper: dict[str, Any], server: dict[str, Any],
                 notes: list[str]) -> MarketListing | None:
        try:
            ways, _ = registry_servers(server, origin)
        except BadInputError as exc:
            notes.append(exc.message)
            return None
        full = str(server["name"])
        artifacts: list[str] = []
        for way in ways:
            try:
                artifacts.append(str(mcp_id(way.name)))
            except BadInputError:
                continue
        if not artifacts:
            notes.append(f"{origin}: {full} has no package or remote SkillMeat can run")
            return None
        status, reason = _status(wrapper, server)
        description = str(server.get("description") or server.get("title") or "")
        return MarketListing(
            id=f"mcp/{full}", type="mcp", name=full, version=str(server.get("version", "")),
            description=next((ln.strip() for ln in description.splitlines() if ln.strip()), ""),
            tags=_tags(server), publisher=full.rpartition("/")[0], status=status, reason=reason,
            verified=False, source=origin, artifacts=tuple(artifacts), marketplace=self.name)

    def _read_cache(self) -> dict[str, Any] | None:
        doc = listing_cache.read(self.ctx.cache / CACHE_FILE, CACHE_FORMAT, self.source)
        if doc is not None and not isinstance(doc.get("documents"), dict):
            return None
        return doc


# --- reading the source ---

def read_documents(path: Path) -> tuple[list[tuple[str, dict[str, Any], dict[str, Any]]],
                                        list[str]]:
    """Every server document under ``path`` as (origin, wrapper, server), and notes on what
    was not one. Malformed JSON is an error naming the file."""
    if not path.exists():
        raise SourceError(str(path), "no such file or directory")
    if path.is_file():
        files = [path]
        base = path.parent
    else:
        base = path
        files = sorted(p for p in path.rglob("*.json")
                       if p.is_file() and not any(part.startswith(".")
                                                  for part in p.relative_to(path).parts))
    found: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    notes: list[str] = []
    for file in files:
        rel = os.path.relpath(file, base).replace(os.sep, "/")
        items = _documents(_read_json(file), rel)
        for origin, item in items:
            server = registry_server(item) if isinstance(item, dict) else None
            if server is None:
                notes.append(f"{origin}: not an MCP Registry server.json")
                continue
            found.append((origin, item, server))
    if not found and path.is_file():
        raise BadInputError(f"{path}: no MCP Registry server.json documents here",
                            hint="expected a server.json with 'name' and 'packages' or 'remotes'")
    return found, notes


def _documents(data: Any, rel: str) -> list[tuple[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("servers"), list):
        data = data["servers"]  # a registry API answer
    if isinstance(data, list):
        return [(f"{rel}[{i}]", item) for i, item in enumerate(data)]
    return [(rel, data)]


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(str(path), exc.strerror or str(exc)) from None
    try:
        return json.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column "
                            f"{exc.colno})") from None


def _local_path(source: str) -> Path:
    text = source.removeprefix("file://")
    if "://" in text or text.startswith("github:"):
        raise BadInputError(f"mcp-registry source '{source}' is not a local path",
                            hint="give a server.json, a JSON list of them, or a directory")
    return Path(text).expanduser().resolve()


def _status(wrapper: dict[str, Any], server: dict[str, Any]) -> tuple[str, str]:
    found = ""
    for holder in (wrapper, server):
        meta = holder.get("_meta")
        official = meta.get(OFFICIAL_META) if isinstance(meta, dict) else None
        if isinstance(official, dict) and isinstance(official.get("status"), str):
            found = official["status"]
        elif isinstance(holder.get("status"), str):
            found = found or holder["status"]
    if found in ("deprecated", "deleted"):
        return "yanked", f"{found} in the MCP Registry"
    return "published", ""


def _tags(server: dict[str, Any]) -> tuple[str, ...]:
    tags: list[str] = []
    for section, key in (("packages", "registryType"), ("remotes", "type")):
        items = server.get(section)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get(key), str) and item[key]:
                tags.append(item[key])
    return tuple(dict.fromkeys(tags))
