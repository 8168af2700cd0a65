"""MCP server definitions in a collection: define, import, show, set, unset, edit.

Each change is one commit, with the definition's content hash in the lock (as ``add``
records it). A value that looks like a secret written out is refused unless allowed: the
collection is a Git history that gets pushed and shared.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME, LockEntry, ManifestEntry, Upstream
from skillmeat.model.mcp import McpServer
from skillmeat.services.hashing import tree_hash
from skillmeat.services.query import resolve
from skillmeat.store.claude_files import CLAUDE_JSON, ServerSource, SourceServer, read_server_source
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.manifest import render_lock, render_manifest_update
from skillmeat.store.mcp_definitions import KNOWN_KEYS, edit_key, read_definition
from skillmeat.store.server_json import env_name

_URL = re.compile(r"^(?:(?:https?|wss?)://\S+|\$\{[^}]+\}\S*)$")


@dataclass(frozen=True)
class Planned:
    """A definition about to be written, and where it came from (for the lock)."""

    id: ArtifactId
    server: McpServer
    text: str
    source: str = ""
    origin: str = ""
    version: str = ""


@dataclass
class DefsResult:
    planned: list[Planned] = field(default_factory=list)
    written: list[ArtifactId] = field(default_factory=list)
    unchanged: list[ArtifactId] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commit: str = ""
    source: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Pick:
    """Which servers of a source to import."""

    names: tuple[str, ...] = ()
    all: bool = False
    rename: str = ""  # --as: the one chosen server's new name
    scope: str = ""  # ~/.claude.json: "user" (top level) or "local" (projects)
    project: str = ""


@dataclass(frozen=True)
class Definition:
    id: ArtifactId
    text: str
    server: McpServer | None  # None: the file does not parse (config edit can fix it)
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        if self.server is None:
            return {"id": str(self.id), "path": self.id.relpath, "error": self.error}
        s = self.server
        out: dict[str, Any] = {"id": str(self.id), "name": self.id.name, "path": self.id.relpath,
                               "transport": s.transport, "description": s.description}
        if s.transport == "stdio":
            out.update(command=s.command, args=list(s.args), env=dict(s.env))
        else:
            out.update(url=s.url, headers=dict(s.headers))
        return {**out, "claude": s.to_claude()}


@dataclass(frozen=True)
class Change:
    id: ArtifactId
    commit: str = ""  # empty: nothing changed
    warnings: tuple[str, ...] = ()


def mcp_id(name: str) -> ArtifactId:
    return ArtifactId(ArtifactType.MCP, name.removeprefix("mcp/"))


def define(home: Home, store: CollectionStore, name: str, data: dict[str, Any], *,
           force: bool = False, allow_secret: bool = False) -> DefsResult:
    """Write ``mcp/NAME.toml`` from a definition's fields (one commit)."""
    aid = mcp_id(name)
    server = McpServer.from_dict(aid.name, data, str(aid))
    check_server(aid, server)
    refuse_secrets(aid, server, None, allow_secret)
    return _write(home, store, DefsResult([Planned(aid, server, server.to_toml())]), force)


def import_servers(home: Home, store: CollectionStore, source: Path, pick: Pick = Pick(), *,
                   force: bool = False, allow_secret: bool = False,
                   dry_run: bool = False) -> DefsResult:
    """Import servers from a .mcp.json, ~/.claude.json, Claude Desktop config or server.json."""
    src = read_server_source(source)
    result = DefsResult(source=str(src.path), kind=src.kind, warnings=list(src.notes))
    for offer in _select(src, pick):
        planned, notes = _plan(src, offer, pick.rename)
        refuse_secrets(planned.id, planned.server, None, allow_secret)
        result.planned.append(planned)
        result.warnings += notes
    return result if dry_run else _write(home, store, result, force)


def definition(store: CollectionStore, ref: str) -> Definition:
    aid = _resolve(store, ref)
    text = read_definition(store, aid) or ""
    try:
        return Definition(aid, text, McpServer.from_toml(aid.name, text, aid.relpath))
    except BadInputError as exc:
        return Definition(aid, text, None, exc.message)


def set_value(home: Home, store: CollectionStore, ref: str, key: str, value: str, *,
              allow_secret: bool = False) -> Change:
    return _change(home, store, ref, lambda aid, text: edit_key(text, key, value, str(aid)),
                   allow_secret, f"set {key}", semantic=True)


def unset_value(home: Home, store: CollectionStore, ref: str, key: str) -> Change:
    return _change(home, store, ref, lambda aid, text: edit_key(text, key, None, str(aid)), False,
                   f"unset {key}", semantic=True)


def replace_text(home: Home, store: CollectionStore, ref: str, base: str, text: str, *,
                 allow_secret: bool = False) -> Change:
    """A definition's new text (from an editor); ``base`` is what the editor started from."""
    def swap(aid: ArtifactId, current: str) -> str:
        if current != base:
            raise ConflictError(f"{aid} changed while it was being edited; nothing written",
                                hint="run the edit again")
        return text

    return _change(home, store, ref, swap, allow_secret, "edit", semantic=False)


# --- checks ---

def check_server(aid: ArtifactId, server: McpServer) -> None:
    if server.transport != "stdio" and not _URL.match(server.url):
        raise BadInputError(f"{aid}: url {server.url!r} is not an http(s):// or ws(s):// URL")


def refuse_secrets(aid: ArtifactId, server: McpServer, before: McpServer | None,
                   allow: bool) -> None:
    """Refuse literals that look like secrets (only new or changed ones when ``before``)."""
    if allow:
        return
    old = _values(before) if before is not None else {}
    now = _values(server)
    found = [f for f in server.literal_secrets() if old.get(f) != now.get(f)]
    if not found:
        return
    what = f"{found[0]} looks like a literal secret" if len(found) == 1 else (
        f"{', '.join(found)} look like literal secrets")
    raise BadInputError(
        f"{aid}: {what}; it would be committed to the collection's history, so nothing was written",
        hint=f"write a reference such as {_reference(aid, found[0], now)} for {found[0]} (Claude Code "
        "expands it from its environment), or pass --allow-literal-secret")


def _values(server: McpServer) -> dict[str, str]:
    out = {f"env.{k}": v for k, v in server.env.items()}
    out.update({f"headers.{k}": v for k, v in server.headers.items()})
    out.update({f"args[{i}]": a for i, a in enumerate(server.args)})
    out["url"] = server.url
    return out


def _reference(aid: ArtifactId, where: str, values: dict[str, str]) -> str:
    table, _, key = where.partition(".")
    if table == "env" and key:
        return f"${{{key}}}"
    prefix = next((p for p in ("Bearer ", "Basic ", "token ") if values[where].startswith(p)), "")
    if table == "headers" and key.lower() not in ("authorization", "proxy-authorization"):
        return f"{prefix}${{{env_name(key)}}}"
    return f"{prefix}${{{env_name(aid.base)}_TOKEN}}"


# --- import: choosing and converting ---

def _select(src: ServerSource, pick: Pick) -> list[SourceServer]:
    offers = list(src.servers)
    if pick.scope or pick.project:
        if src.kind != CLAUDE_JSON:
            raise BadInputError("--scope and --project apply to ~/.claude.json only")
        if pick.project and pick.scope == "user":
            raise BadInputError("--project picks a project's (local) servers, not --scope user")
        offers = [s for s in offers if _in_scope(s, pick)]
    if not offers:
        scoped = " for that scope" if pick.scope or pick.project else ""
        raise NotFoundError(f"no MCP servers in {src.path}{scoped}",
                            hint=src.notes[0] if src.notes else None)
    if pick.names:
        missing = [n for n in pick.names if not any(fnmatch.fnmatchcase(s.name, n) for s in offers)]
        if missing:
            raise NotFoundError(f"no server matching {', '.join(missing)} in {src.path}",
                                hint=f"it offers {_listing(offers)}")
        offers = [s for s in offers if any(fnmatch.fnmatchcase(s.name, n) for n in pick.names)]
    chosen = _one_per_name(src, offers)
    if len(chosen) > 1 and not (pick.all or pick.names):
        raise BadInputError(f"{src.path} holds {len(chosen)} MCP servers: {_listing(chosen)}",
                            hint="pick with --name NAME (repeat, globs work) or --all")
    if pick.rename and len(chosen) != 1:
        raise BadInputError(f"--as renames one server, but {len(chosen)} are chosen",
                            hint="pick one with --name")
    return chosen


def _in_scope(offer: SourceServer, pick: Pick) -> bool:
    if pick.project:
        wanted = {os.path.abspath(os.path.expanduser(pick.project)),
                  os.path.realpath(os.path.expanduser(pick.project))}
        return offer.scope == "local" and offer.project in wanted
    return offer.scope == pick.scope


def _listing(offers: Sequence[SourceServer]) -> str:
    names = list(dict.fromkeys(s.name for s in offers))
    return ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")


def _one_per_name(src: ServerSource, offers: list[SourceServer]) -> list[SourceServer]:
    """The same server in several places is one server; different ones by one name clash."""
    by_name: dict[str, SourceServer] = {}
    for offer in offers:
        first = by_name.setdefault(offer.name, offer)
        if first is not offer and first.entry != offer.entry:
            hint = ("choose with --scope user or --project PATH" if src.kind == CLAUDE_JSON
                    else "import them one at a time")
            raise BadInputError(f"{src.path}: server '{offer.name}' is defined differently at "
                                f"{first.origin} and {offer.origin}", hint=hint)
    return list(by_name.values())


def _plan(src: ServerSource, offer: SourceServer, rename: str) -> tuple[Planned, list[str]]:
    where = f"{src.path}: {offer.origin}"
    if not isinstance(offer.entry, dict):
        raise BadInputError(f"{where} is not an object")
    name = rename or offer.name
    try:
        aid = mcp_id(name)
    except BadInputError as exc:
        raise BadInputError(f"{where}: {exc.message}", hint="import it under another name with "
                            "--name SERVER --as NEW-NAME") from None
    server = McpServer.from_dict(aid.name, offer.entry, where)
    check_server(aid, server)
    dropped = sorted(set(offer.entry) - KNOWN_KEYS)
    notes = [f"{where}: {', '.join(dropped)} not kept (a definition holds transport, command, "
             "args, env, url, headers, description)"] if dropped else []
    return Planned(aid, server, server.to_toml(), str(src.path), offer.origin, offer.version), notes


# --- writing ---

def _write(home: Home, store: CollectionStore, result: DefsResult, force: bool) -> DefsResult:
    with home.lock():
        manifest = store.manifest()  # a malformed manifest or lock stops us before any write
        lock = store.lock()
        work = store.worktree()
        new: list[Planned] = []
        for p in result.planned:
            current = _current(store, p.id)
            if current is not None and current == p.server:
                result.unchanged.append(p.id)
            elif current is not None and not force:
                raise ConflictError(f"{p.id} is already defined, differently; nothing was written",
                                    hint="pass --force to replace it, or change it with "
                                    "`skillmeat mcp config set|edit`")
            else:
                new.append(p)
        result.written = [p.id for p in new]
        if not new:
            return result
        with store.change() as txn:
            for p in new:
                txn.write(p.id.relpath, p.text)
                lock[str(p.id)] = LockEntry(tree_hash(work, p.id, [p.id.relpath]), p.source,
                                            p.origin, "", p.version)
            stale = {str(p.id): manifest.artifacts[str(p.id)] for p in new
                     if str(p.id) in manifest.artifacts}
            if any(e.upstream.is_set for e in stale.values()):
                # a replaced definition no longer comes from its upstream: `update` must not
                # bring the old one back (tags and pin stay)
                txn.write(MANIFEST_NAME, _drop_upstreams(store, stale))
            txn.write(LOCK_NAME, render_lock(lock))
            result.commit = txn.commit(_message(result, new))
        return result


def _message(result: DefsResult, new: list[Planned]) -> str:
    if not result.source:
        return f"Add MCP server {new[0].id}"
    noun = "server" if len(new) == 1 else "servers"
    return f"Import {len(new)} MCP {noun} from {result.source}\n\n" + "\n".join(
        f"- {p.id} ({p.origin})" for p in new)


def _current(store: CollectionStore, aid: ArtifactId) -> McpServer | None:
    """The definition now in the work tree (None if there is none); an unreadable one is a
    definition that differs from anything new."""
    text = read_definition(store, aid)
    if text is None:
        return None
    try:
        return McpServer.from_toml(aid.name, text, aid.relpath)
    except BadInputError:
        return McpServer(aid.name, "invalid")  # equal to nothing new: replacing it needs --force


def _drop_upstreams(store: CollectionStore, entries: dict[str, ManifestEntry]) -> str:
    kept = {a: ManifestEntry(Upstream(), e.pin, e.tags) for a, e in entries.items()}
    return render_manifest_update(store.manifest_path,
                                  replace={a: e for a, e in kept.items() if e.to_dict()},
                                  remove={a for a, e in kept.items() if not e.to_dict()})


def _resolve(store: CollectionStore, ref: str) -> ArtifactId:
    ids = [i for i in store.artifacts_in_worktree() if i.type is ArtifactType.MCP]
    return resolve(ref, ids, store.name)


def _change(home: Home, store: CollectionStore, ref: str, transform: Callable[[ArtifactId, str], str],
            allow_secret: bool, what: str, *, semantic: bool) -> Change:
    with home.lock():
        store.manifest()
        lock = store.lock()
        old = definition(store, ref)
        if old.server is None and semantic:
            raise BadInputError(old.error, hint=f"fix it with `skillmeat mcp config edit {old.id.name}`")
        text = transform(old.id, old.text)
        if text == old.text:
            return Change(old.id)
        try:
            server = McpServer.from_toml(old.id.name, text, old.id.relpath)
        except BadInputError as exc:
            raise BadInputError(f"{exc.message}; nothing was written", hint=None if semantic else
                                f"run `skillmeat mcp config edit {old.id.name}` again") from None
        if semantic and server == old.server:
            return Change(old.id)
        check_server(old.id, server)
        refuse_secrets(old.id, server, old.server, allow_secret)
        with store.change() as txn:
            txn.write(old.id.relpath, text)
            prev = lock.get(str(old.id), LockEntry(""))
            digest = tree_hash(store.worktree(), old.id, [old.id.relpath])
            lock[str(old.id)] = LockEntry(digest, prev.source, prev.path, prev.commit, prev.version)
            txn.write(LOCK_NAME, render_lock(lock))
            commit = txn.commit(f"{old.id}: {what}")
        return Change(old.id, commit, tuple(_unknown_keys(old.id, text)))


def _unknown_keys(aid: ArtifactId, text: str) -> list[str]:
    unknown = sorted(set(tomllib.loads(text)) - KNOWN_KEYS)
    return [f"{aid.relpath}: {', '.join(unknown)} ignored (not a definition key)"] if unknown else []
