"""Deploying MCP server definitions into Claude Code's own config files, and taking them back.

Every change is one edit of one file under the process lock: the diff is shown first (a
dry run stops there), the file is backed up, then written. Only the server entries change;
every other byte of the file is kept. What SkillMeat wrote is recorded, so undeploy removes
only its own entries and a rollback puts the file and the record back together.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import ArtifactId, ArtifactType, ids_from_paths
from skillmeat.model.errors import BadInputError, ConfigError, ConflictError, NotFoundError
from skillmeat.model.json_edit import REMOVE, JsonShapeError, apply_edits, lookup, text_diff
from skillmeat.model.mcp import McpServer
from skillmeat.services.mcp_targets import McpTarget, tilde
from skillmeat.services.query import resolve
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.jsonconfig import (
    Backup,
    Backups,
    BackupSet,
    JsonFile,
    read_json_config,
    slug_for,
    write_json_config,
)
from skillmeat.store.mcp_record import McpDeployment, McpRecord, Record
from skillmeat.store.tree import GitTree

Show = Callable[[str], None]


@dataclass
class McpChange:
    """What one deploy, undeploy or rollback did (or, in a dry run, would do) to one file."""

    label: str
    file: Path
    diff: str = ""
    changed: bool = False  # the file's bytes changed
    written: list[str] = field(default_factory=list)  # servers added or updated
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # recorded, but no longer in the file
    artifacts: list[str] = field(default_factory=list)
    backup: Path | None = None  # the copy taken before the change
    restored: str = ""  # rollback: the backup put back


def deploy(home: Home, store: CollectionStore, names: Sequence[str], target: McpTarget, *,
           dry_run: bool = False, force: bool = False, show: Show | None = None) -> McpChange:
    """Write the servers' definitions (at the collection's HEAD) into the target's file."""
    with home.lock():
        head, servers = definitions(store, names)
        cfg = read_json_config(target.file)
        record = McpRecord(record_path(home)).load()
        present = servers_in(cfg, target.keys)
        result = McpChange(target.label, target.file)
        changes: dict[str, Any] = {}
        after = dict(record)
        for aid, server in servers:
            entry = server.to_desktop() if target.scope == "desktop" else server.to_claude()
            mine = record.get((target.key, server.name))
            _check_ours(target, server.name, present.get(server.name), mine, entry, force)
            same = server.name in present and present[server.name] == entry
            (result.unchanged if same else result.written).append(server.name)
            changes[server.name] = entry
            if mine is None or mine.entry != entry or mine.artifact != str(aid):
                after[(target.key, server.name)] = McpDeployment(
                    target.key, target.scope, str(target.file), server.name, str(aid), store.name,
                    head, entry, int(time.time()))
        result.artifacts = [str(aid) for aid, server in servers if server.name in result.written]
        new = apply_edits(cfg.text, target.keys, changes)
        return _commit(home, cfg, new, record, after, result, "deploy", dry_run, show,
                       target.new_mode)


def undeploy(home: Home, names: Sequence[str], target: McpTarget, *, dry_run: bool = False,
             force: bool = False, show: Show | None = None) -> McpChange:
    """Remove server entries SkillMeat wrote into the target (never the user's own)."""
    with home.lock():
        cfg = read_json_config(target.file)
        record = McpRecord(record_path(home)).load()
        present = servers_in(cfg, target.keys)
        result = McpChange(target.label, target.file)
        after = dict(record)
        changes: dict[str, Any] = {}
        for ref in names:
            mine = _recorded(record, target, ref)
            if mine.server in changes:
                continue
            have = present.get(mine.server)
            if have is not None and have != mine.entry and not force:
                raise ConflictError(f"'{mine.server}' in {target.label} was edited since SkillMeat "
                                    "wrote it; nothing removed", hint="pass --force to remove it anyway")
            (result.removed if have is not None else result.gone).append(mine.server)
            result.artifacts.append(mine.artifact)
            changes[mine.server] = REMOVE
            del after[mine.key]
        new = apply_edits(cfg.text, target.keys, changes)
        return _commit(home, cfg, new, record, after, result, "undeploy", dry_run, show,
                       target.new_mode)


def definitions(store: CollectionStore, names: Sequence[str]
                ) -> tuple[str, list[tuple[ArtifactId, McpServer]]]:
    """The collection's HEAD and the MCP definitions the names refer to."""
    head = store.repo.head()
    if head is None:
        raise NotFoundError(f"collection '{store.name}' has no commits yet",
                            hint="add an MCP server first (`skillmeat mcp add`)")
    tree = store.tree_at(head)
    ids = [a for a in ids_from_paths(tree.files()) if a.type is ArtifactType.MCP]
    chosen = {aid: parse_definition(store.name, tree, aid)
              for aid in dict.fromkeys(resolve(ref, ids, store.name) for ref in names)}
    found = name_clashes(list(chosen.items()))
    if found:
        name, (first, second, *_) = found[0]
        raise BadInputError(f"{first} and {second} would both be deployed as '{name}'",
                            hint="deploy one of them at a time, into different scopes")
    return head, list(chosen.items())


def parse_definition(collection: str, tree: GitTree, aid: ArtifactId) -> McpServer:
    text = tree.read(aid.relpath).decode("utf-8", errors="replace")
    return McpServer.from_toml(aid.base, text, f"{collection}:{aid.relpath}")


def name_clashes(servers: Sequence[tuple[ArtifactId, McpServer]]
                 ) -> list[tuple[str, list[ArtifactId]]]:
    """The server names more than one definition would be deployed as (namespaced servers of
    two plugins may share one), with those definitions, sorted by name."""
    by_name: dict[str, list[ArtifactId]] = {}
    for aid, server in servers:
        by_name.setdefault(server.name, []).append(aid)
    return sorted((name, ids) for name, ids in by_name.items() if len(ids) > 1)


def servers_in(cfg: JsonFile, keys: Sequence[str]) -> dict[str, Any]:
    """The servers object at ``keys`` in a config file (empty when absent)."""
    try:
        found = lookup(cfg.data, keys)
    except JsonShapeError as exc:
        raise ConfigError(str(cfg.path), f"{json_path(exc.path)} is not an object; SkillMeat left "
                          "the file untouched", hint="fix the file, then retry") from None
    return found or {}


def json_path(keys: Sequence[str]) -> str:
    return "".join(k if i == 0 and k.isidentifier() else f"[{k!r}]" if not k.isidentifier()
                   else f".{k}" for i, k in enumerate(keys))


def record_path(home: Home) -> Path:
    return home.paths.state / "mcp-deployed.json"


def backups(home: Home) -> Backups:
    keep = home.config.get("mcp.backups", 20)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ConfigError(str(home.paths.config), f"[mcp] backups = {keep!r}: it must be a whole "
                          "number of at least 1", hint="e.g. `backups = 20` under [mcp]")
    return Backups(home.paths.state / "backups", keep)


def _check_ours(target: McpTarget, name: str, have: Any, mine: McpDeployment | None,
                entry: dict[str, Any], force: bool) -> None:
    if have is None or have == entry or force:
        return
    if mine is None:
        raise ConflictError(f"{target.label} already has a server '{name}' that SkillMeat did not "
                            "write; nothing written", hint="pass --force to replace it")
    if have != mine.entry:
        raise ConflictError(f"'{name}' in {target.label} was edited since SkillMeat wrote it; "
                            "nothing written", hint="pass --force to overwrite the edit")


def _recorded(record: Record, target: McpTarget, ref: str) -> McpDeployment:
    bare = ref.removeprefix("mcp/")
    for dep in record.values():
        if dep.target == target.key and bare in (dep.server, dep.artifact.removeprefix("mcp/")):
            return dep
    raise NotFoundError(f"SkillMeat did not deploy '{ref}' to {target.label}",
                        hint="see `skillmeat mcp list`; servers SkillMeat did not write are left alone")


def commit_file(home: Home, cfg: JsonFile, new: bytes | None, before: Record, after: Record,
                backup: Backup, new_mode: int) -> tuple[bool, Path | None]:
    """Back the file up, write it, then the record: whether the file changed, and the copy of
    its old bytes (None when it did not exist or did not change)."""
    changed, saved = new != cfg.raw, None
    if changed:
        mine = [d.to_dict() for d in before.values() if d.file == str(cfg.path)]
        store = backups(home)
        kept = store.save(cfg.path, cfg.raw, Backup(backup.id, backup.action, backup.servers,
                                                    restored=backup.restored, record=mine))
        write_json_config(cfg, new, new_mode=new_mode)
        saved = store.path_of(cfg.path, kept)
    if after != before:
        McpRecord(record_path(home)).save(after)
    return changed, saved


def _commit(home: Home, cfg: JsonFile, new_text: str, before: Record, after: Record,
            result: McpChange, action: str, dry_run: bool, show: Show | None,
            new_mode: int) -> McpChange:
    result.diff = text_diff(cfg.text, new_text, str(cfg.path))
    if show is not None and result.diff:
        show(result.diff)
    if dry_run:
        return result
    new = None if cfg.raw is None and not new_text else new_text.encode("utf-8")
    servers = tuple(result.written + result.removed)
    result.changed, result.backup = commit_file(home, cfg, new, before, after,
                                                Backup("", action, servers), new_mode)
    return result


def backup_sets(home: Home, target: McpTarget | None = None) -> list[BackupSet]:
    """The backups of the target's file, or of every file SkillMeat backed up."""
    store = backups(home)
    if target is None:
        return store.all()
    found = store.load(slug_for(target.file))
    return [found] if found is not None and found.backups else []


def rollback(home: Home, target: McpTarget | None = None, to: str | None = None, *,
             dry_run: bool = False, show: Show | None = None) -> McpChange:
    """Put a config file back as a backup holds it (by default: as before the last change)."""
    with home.lock():
        chosen = _backup_set(home, target)
        backup = pick_backup(chosen, to)
        old = backups(home).read(chosen.slug, backup)
        cfg = read_json_config(chosen.file, require_valid=False)  # a broken file can be rolled back
        result = McpChange(tilde(chosen.file), chosen.file, restored=backup.id)
        result.diff = text_diff(cfg.text, (old or b"").decode("utf-8", errors="replace"),
                                str(chosen.file))
        if show is not None and result.diff:
            show(result.diff)
        if dry_run:
            return result
        before = McpRecord(record_path(home)).load()
        after = {k: d for k, d in before.items() if d.file != str(chosen.file)}
        after.update({d.key: d for d in map(McpDeployment.from_dict, backup.record)})
        mode = 0o644 if chosen.file.name == ".mcp.json" else 0o600
        result.changed, result.backup = commit_file(
            home, cfg, old, before, after, Backup("", "rollback", backup.servers, restored=backup.id),
            mode)
        return result


def pick_backup(chosen: BackupSet, to: str | None) -> Backup:
    """``to`` (an id, a unique start of one, or a backup's file), or the undo step before."""
    entries = chosen.backups
    if to is not None:
        wanted = Path(to).name.removesuffix(".json")
        hits = [b for b in entries if b.id == wanted] or [b for b in entries if b.id.startswith(wanted)]
        if len(hits) != 1:
            raise NotFoundError(f"no {'single ' if hits else ''}backup '{to}' of {chosen.file}",
                                hint="see `skillmeat mcp rollback --list`")
        return hits[0]
    last = entries[-1]
    if last.action == "rollback" and last.restored:  # step further back, like an undo stack
        older = [b for b in entries if b.action != "rollback" and b.id < last.restored]
    else:
        older = [b for b in entries if b.action != "rollback"]
    if not older:
        raise NotFoundError(f"nothing older to roll {chosen.file} back to",
                            hint="see `skillmeat mcp rollback --list`, then pass --to")
    return older[-1]


def _backup_set(home: Home, target: McpTarget | None) -> BackupSet:
    sets = backup_sets(home, target)
    if not sets:
        where = f" of {target.file}" if target else ""
        raise NotFoundError(f"no MCP config backups{where} yet",
                            hint="SkillMeat backs a file up before each change it makes to it")
    return max(sets, key=lambda s: s.backups[-1].id)
