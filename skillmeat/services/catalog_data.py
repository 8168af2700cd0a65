"""Gather what the static catalog shows, once, from the collections' last commits, the MCP
health record, the analytics events and the marketplaces' cached (verified) listings.

Read only: nothing here writes to a collection, and marketplaces are not refreshed (run
``marketplace refresh`` first for fresh listings); a marketplace that cannot be read is shown
with its one-line reason instead of failing the build.
"""

from __future__ import annotations

import datetime
import hashlib
import posixpath
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from skillmeat.model import frontmatter
from skillmeat.model.artifact import ArtifactId, ArtifactType, ids_from_paths
from skillmeat.model.catalog import (
    Analytics,
    Catalog,
    CatalogArtifact,
    CatalogCollection,
    CatalogFile,
    CatalogMarket,
    CatalogMcp,
    Change,
    Cleanup,
    MarketEntry,
    McpHealth,
    TopArtifact,
    UsagePoint,
)
from skillmeat.model.errors import BadInputError, SignatureError, SkillmeatError
from skillmeat.model.feed import format_time
from skillmeat.model.hashing import content_hash
from skillmeat.model.mcp import McpServer
from skillmeat.services import analytics, marketplaces, mcp_health
from skillmeat.services.catalog_api import safe_object
from skillmeat.services.index import load_index
from skillmeat.services.refs import trust_for, verify_commit
from skillmeat.services.trust import TrustSet
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.refstore import RefStore

RECENT_CHANGES = 10
TOP_LIMIT = 10
MARKDOWN_TYPES = (ArtifactType.SKILL, ArtifactType.COMMAND, ArtifactType.AGENT)
ReadFile = Callable[[CatalogArtifact, CatalogFile], bytes]


@dataclass
class Gathered:
    catalog: Catalog
    stores: dict[str, CollectionStore] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one line each: shown, not fatal
    # (collection, repo path) -> blob id, as gathered: later reads see the same commit
    blobs: dict[tuple[str, str], str] = field(default_factory=dict)

    def read_file(self, artifact: CatalogArtifact, file: CatalogFile) -> bytes:
        """A file's bytes as committed in the commit the catalog describes."""
        oid = self.blobs[(artifact.collection, file.repo_path)]
        return self.stores[artifact.collection].repo.blob(oid)


def gather(home: Home, *, collections: Sequence[str] = (), markets: Sequence[str] | None = None,
           title: str = "", days: int = 30, site_url: str = "",
           now: datetime.datetime | None = None,
           opened: Sequence[CollectionStore] = ()) -> Gathered:
    """Everything the catalog shows. ``collections``: names (default: every collection);
    ``markets``: names (None: every marketplace; empty: none); ``opened``: collections
    already opened (registered or not), shown instead of ``collections``."""
    now = now or datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    if opened:
        stores = {s.name: s for s in opened}
    else:
        known = home.collections()
        names = list(dict.fromkeys(collections)) if collections else sorted(known)
        stores = {n: home.collection(n) for n in names}
    names = list(stores)
    health = mcp_health.last_health(home)
    cat = Catalog(title or _title(names), format_time(now), site_url=site_url)
    g = Gathered(cat, stores)
    for store in stores.values():
        coll, mcps = _collection(home, store, health, g.problems, g.blobs)
        cat.collections.append(coll)
        cat.mcp += mcps
    cat.analytics = _analytics(home, cat, days, now.timestamp())
    chosen = list(marketplaces.marketplaces(home)) if markets is None else list(markets)
    for mp_name in chosen:
        cat.markets.append(_market(home, mp_name, now))
    return g


def _title(names: list[str]) -> str:
    return f"{names[0]} catalog" if len(names) == 1 else "SkillMeat catalog"


# --- collections ---------------------------------------------------------------------------------


def _collection(home: Home, store: CollectionStore, health: dict[str, dict[str, Any]],
                problems: list[str], blobs: dict[tuple[str, str], str]
                ) -> tuple[CatalogCollection, list[CatalogMcp]]:
    manifest = store.manifest()
    coll = CatalogCollection(store.name, manifest.description, manifest.version, manifest.license,
                             list(manifest.maintainers))
    head = store.repo.head()
    if head is None:
        return coll, []
    coll.head = head
    trust = trust_for(home, store)
    refs = RefStore(store.repo.repo)
    verdicts: dict[str, tuple[str, str]] = {}

    def signature(commit: str) -> tuple[str, str]:
        if commit not in verdicts:
            verdicts[commit] = _commit_signature(refs, trust, commit)
        return verdicts[commit]

    coll.head_signature, coll.head_signature_detail = signature(head)
    coll.changes = [Change(c.id, c.summary, c.author, c.time)
                    for c in store.repo.log(limit=RECENT_CHANGES)]
    files = store.repo.files_at(head)
    blobs.update(((store.name, p), oid) for p, (_, oid) in files.items())
    groups = ids_from_paths(sorted(files))
    owners = {p: str(aid) for aid, paths in groups.items() for p in paths}
    changed = store.repo.last_changes(owners)
    index = {e["id"]: e for e in load_index(store)}
    lock = store.lock()
    remote = _remote(store)
    mcps = []
    for aid in sorted(groups):
        sid = str(aid)
        entry = index.get(sid, {})
        art = CatalogArtifact(store.name, sid, aid.type.value, aid.name, aid.namespace, aid.relpath,
                              description=str(entry.get("description", "")),
                              version=str(entry.get("version", "")),
                              tags=list(entry.get("tags", [])))
        main = _files(store, art, aid, groups[aid], files)
        if main is not None:
            _content(store.name, art, aid, main, problems)
        up = manifest.artifacts.get(sid)
        art.upstream = up.to_dict() if up else {}
        locked = lock.get(sid)
        if locked is not None:
            art.source, art.resolved = locked.source, locked.commit
        last = changed.get(sid)
        if last is not None:
            art.last_changed = last.time
            art.signature, art.signature_detail = signature(last.id)
        if art.source.startswith("bundle:"):
            art.signature_detail = (f"imported from signed bundle {art.source[7:]} (verified then); "
                                    + art.signature_detail)
        art.install = _install(store.name, manifest.name, art, remote)
        coll.artifacts.append(art)
        if aid.type is ArtifactType.MCP:
            mcps.append(_mcp(store.name, art, health.get(f"{store.name}:{aid.relpath}")))
    return coll, mcps


def _commit_signature(refs: RefStore, trust: TrustSet, commit: str) -> tuple[str, str]:
    signed = refs.commit(commit)
    if signed.signature is None:
        return "unsigned", f"commit {commit[:12]} is not signed"
    try:
        verdict = verify_commit(signed, trust)
    except SignatureError as exc:
        return "unverified", f"commit {commit[:12]}: {exc.reason}"
    return "verified", f"commit {commit[:12]} signed by {verdict.principal} ({verdict.fingerprint})"


def _remote(store: CollectionStore) -> str:
    """The collection's ``origin``, as the catalog may show it: without any user name,
    password or token (``https://user:TOKEN@host/...``), and only as a URL (no local paths)."""
    try:
        url = str(store.repo.repo.remotes["origin"].url or "")
    except (KeyError, ValueError):
        return ""
    return public_url(url)


def public_url(url: str) -> str:
    """``url`` without credentials; "" for anything that is not a network git URL."""
    if any(c.isspace() or c in "\"'<>`;|&$" for c in url):
        return ""
    parts = urlsplit(url)
    if parts.scheme in ("https", "http", "ssh", "git") and parts.hostname:
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        user = "git@" if parts.scheme == "ssh" and parts.username == "git" else ""
        return urlunsplit((parts.scheme, user + host, parts.path, "", ""))
    scp = re.fullmatch(r"([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):([A-Za-z0-9._/~-]+)", url)
    if scp and scp.group(1) == "git":
        return url
    return ""


def _files(store: CollectionStore, art: CatalogArtifact, aid: ArtifactId, paths: list[str],
           files: dict[str, tuple[int, str]]) -> bytes | None:
    """Each file with its size and sha256 (each read once), and the artifact's content hash;
    returns the main file's bytes (SKILL.md, or the single file), None when it is missing."""
    root = aid.relpath + "/" if aid.type is ArtifactType.SKILL else posixpath.dirname(aid.relpath) + "/"
    parent = posixpath.dirname(aid.relpath) + "/"
    main_path = aid.relpath + "/SKILL.md" if aid.type is ArtifactType.SKILL else aid.relpath
    main = None
    entries = []
    for path in sorted(paths):
        if not _utf8(path):
            raise BadInputError(f"{store.name}:{path.encode('utf-8', 'surrogateescape')!r}: "
                                "the file name is not UTF-8, so no web page can name it",
                                hint="rename it in the collection (git mv) and commit")
        mode, oid = files[path]
        data = store.repo.blob(oid)
        if path == main_path:
            main = data
        digest = hashlib.sha256(data).hexdigest()
        art.files.append(CatalogFile(path[len(root):], path, len(data), mode, digest))
        entries.append((path[len(parent):], mode, digest))
    art.content_hash = content_hash(entries)
    return main


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _content(collection: str, art: CatalogArtifact, aid: ArtifactId, raw: bytes,
             problems: list[str]) -> None:
    """Frontmatter and body of the main file (TOML text, redacted for MCP, otherwise)."""
    if aid.type in MARKDOWN_TYPES:
        fm = frontmatter.parse(raw, aid.relpath)
        art.metadata = safe_object(fm.data, f"{collection}:{aid}: frontmatter", problems)
        art.body = fm.body
        lic = fm.data.get("license")
        art.license = lic if isinstance(lic, str) else ""
    elif aid.type is ArtifactType.MCP:
        art.body = redact_mcp(raw.decode("utf-8", errors="replace"))
    else:
        art.body = raw.decode("utf-8", errors="replace")


_ONLY_REFERENCES = re.compile(r"^(?:[^$]*\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})*[^$]*$")


def redact_mcp(text: str) -> str:
    """An MCP definition as the catalog may show it: every ``env`` and ``headers`` value that
    is not only ``${VAR}`` references is replaced (literals may be secrets: the catalog shows
    variable names, never values). Unreadable TOML is not shown at all."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text)
    except TOMLKitError:
        return "# (definition not shown: it is not valid TOML)\n"
    for table in ("env", "headers"):
        values = doc.get(table)
        if not isinstance(values, dict):
            continue
        for key, value in list(values.items()):
            literal = not isinstance(value, str) or not _ONLY_REFERENCES.match(value) \
                or "${" not in value
            if literal:
                values[key] = "<redacted>"
    return tomlkit.dumps(doc)


def _install(collection: str, manifest_name: str, art: CatalogArtifact, remote: str
             ) -> dict[str, list[str]]:
    """How a reader of the catalog gets this artifact, with SkillMeat and with Claude Code."""
    from skillmeat.services.claude_export import kebab

    name, q = art.name, shlex.quote
    if remote:
        skillmeat = [f"skillmeat add {q(remote)} --type {art.type} --name {q(art.name.split(':')[-1])}"]
    else:
        skillmeat = []
    if art.type == "mcp":
        skillmeat.append(f"skillmeat -C {q(collection)} mcp deploy {q(name)} --scope project")
    else:
        skillmeat.append(f"skillmeat -C {q(collection)} deploy {q(name)} --project .")
    market = kebab(manifest_name) or "skillmeat"
    plugin = kebab(art.namespace) if art.namespace else market
    where = remote or "./claude-marketplace"
    claude = [f"/plugin marketplace add {where}", f"/plugin install {plugin}@{market}"]
    return {"skillmeat": skillmeat, "claude": claude}


def _mcp(collection: str, art: CatalogArtifact, last: dict[str, Any] | None) -> CatalogMcp:
    out = CatalogMcp(collection, art.name)
    try:
        server = McpServer.from_toml(art.name, art.body, f"{collection}:{art.path}")
    except BadInputError as exc:
        out.description = f"unreadable definition: {exc}"
    else:
        out.description = server.description
        out.transport = server.transport
        out.command = server.url if server.url else shlex.join([server.command, *server.args])
        out.env = sorted({**server.env, **server.headers})
    if last:
        latency = last.get("latency_ms")
        out.health = McpHealth(str(last.get("status", "")), str(last.get("detail", "")),
                               int(last.get("checked", 0) or 0),
                               float(latency) if isinstance(latency, int | float) else None,
                               str(last.get("server_name", "")), str(last.get("server_version", "")),
                               str(last.get("protocol_version", "")))
    return out


# --- analytics -----------------------------------------------------------------------------------


def _analytics(home: Home, cat: Catalog, days: int, now: float) -> Analytics:
    out = Analytics(days)
    trends = analytics.trends(home, days, "day", now=now)
    out.usage = [UsagePoint(t.period, t.invocations + t.deploys) for t in trends]
    out.top = [TopArtifact(r.artifact, r.invocations + r.deploys, int(r.last or 0))
               for r in analytics.top(home, days, TOP_LIMIT, now=now)]
    for coll in cat.collections:
        ids = [a.id for a in coll.artifacts]
        for c in analytics.cleanup(home, days, ids, coll.name, now=now):
            out.cleanup.append(Cleanup(f"{coll.name}:{c.artifact}" if len(cat.collections) > 1
                                       else c.artifact, c.reason))
    return out


# --- marketplaces --------------------------------------------------------------------------------


def _market(home: Home, name: str, now: datetime.datetime) -> CatalogMarket:
    mp = marketplaces.get(home, name)
    out = CatalogMarket(mp.name, mp.kind, mp.source, verified=False)
    try:
        broker = marketplaces.broker(home, mp, now)
        cached = getattr(broker, "cached_feed", None)
        cache_dir = marketplaces.context(home, mp, now).cache
        if not (cached.is_file() if cached is not None
                else cache_dir.is_dir() and any(cache_dir.iterdir())):
            out.detail = "no listings cached: run `skillmeat marketplace refresh`"
            return out  # the catalog never goes to the network
        found = broker.listings()
    except SkillmeatError as exc:
        out.detail = f"not shown: {exc}"
        return out
    out.entries = [MarketEntry(mp.name, mp.kind, x.name, x.version, x.type, x.description,
                               x.verified, x.status, x.publisher, tuple(x.artifacts)) for x in found]
    out.verified = bool(found) and all(x.verified for x in found)
    if mp.kind in ("feed", "git") and cached is not None and cached.is_file():
        out.feed = cached.read_bytes()
    if not found:
        out.detail = "no listings cached: run `skillmeat marketplace refresh`"
    elif out.verified:
        out.detail = "signed feed, verified against your trusted keys"
    else:
        out.detail = "not verified: listings are shown as the marketplace states them"
    return out
