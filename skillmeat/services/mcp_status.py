"""``mcp list``: per server, defined in the collection or not, present in which scope (and
whether SkillMeat's entry is as written), and which definition Claude Code will use: local,
then project (once approved), then user; a project server still pending approval is used
only when no other scope defines the name (Claude Code asks first)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import ArtifactType, ids_from_paths
from skillmeat.model.errors import BadInputError, ConfigError
from skillmeat.model.mcp import McpServer
from skillmeat.services.mcp_deploy import record_path, servers_in
from skillmeat.services.mcp_targets import PRECEDENCE, SCOPES, McpTarget, claude_settings, target_for
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.jsonconfig import JsonFile, read_json_config
from skillmeat.store.mcp_record import McpDeployment, McpRecord

DEPLOYED = "deployed"  # SkillMeat's entry, as written, matching the collection
OUTDATED = "outdated"  # SkillMeat's entry, as written, but the collection changed since
MODIFIED = "modified"  # SkillMeat's entry, edited in the file since
MISSING = "missing"  # SkillMeat wrote it, it is gone from the file
UNMANAGED = "unmanaged"  # in the file, not written by SkillMeat


APPROVED, PENDING, REJECTED = "approved", "pending", "rejected"  # a project server, for Claude


@dataclass(frozen=True)
class Presence:
    scope: str
    state: str
    file: str
    entry: dict[str, Any] | None  # what the file holds (None when missing)
    approval: str = ""  # project scope: whether Claude Code's user approved the server

    def to_dict(self) -> dict[str, Any]:
        out = {"state": self.state, "file": self.file, "entry": self.entry}
        return {**out, "approval": self.approval} if self.approval else out


@dataclass(frozen=True)
class ServerView:
    name: str
    artifact: str = ""  # mcp/<name> when the collection defines it
    scopes: dict[str, Presence] = field(default_factory=dict)
    effective: str = ""  # the scope whose definition Claude Code uses ("" when none)

    def to_dict(self) -> dict[str, Any]:
        used = self.scopes.get(self.effective)
        return {"name": self.name, "defined": bool(self.artifact), "artifact": self.artifact or None,
                "scopes": {s: p.to_dict() for s, p in self.scopes.items()},
                "effective": self.effective or None, "effective_entry": used.entry if used else None}


@dataclass(frozen=True)
class _Definition:
    artifact: str
    claude: dict[str, Any] | None
    desktop: dict[str, Any] | None


def list_servers(home: Home, store: CollectionStore | None, project: Path | None = None
                 ) -> list[ServerView]:
    """Every server the collection defines or any scope holds, for one project."""
    targets = [target_for(home, scope, project) for scope in SCOPES]
    record = McpRecord(record_path(home)).load()
    defined = _definitions(store) if store is not None else {}
    files: dict[Path, JsonFile] = {}
    present: dict[str, dict[str, Any]] = {}
    for target in targets:
        if target.file not in files:
            files[target.file] = read_json_config(target.file)
        present[target.scope] = servers_in(files[target.file], target.keys)
    names = set(defined).union(*present.values())
    names |= {d.server for d in record.values() if d.target in {t.key for t in targets}}
    user = next(t for t in targets if t.scope == "user")
    approval = _approval(files[user.file].data, targets[0].project or Path())
    return [_view(name, targets, present, record, defined.get(name), approval(name))
            for name in sorted(names)]


def _view(name: str, targets: list[McpTarget], present: dict[str, dict[str, Any]],
          record: dict[tuple[str, str], McpDeployment], definition: _Definition | None,
          approval: str) -> ServerView:
    scopes = {}
    for target in targets:
        want = None
        if definition is not None:
            want = definition.desktop if target.scope == "desktop" else definition.claude
        state = _state(present[target.scope].get(name), record.get((target.key, name)), want)
        if state is not None:
            scopes[target.scope] = Presence(target.scope, state, str(target.file),
                                            present[target.scope].get(name),
                                            approval if target.scope == "project" else "")
    used = [s for s in PRECEDENCE if s in scopes and scopes[s].state != MISSING
            and scopes[s].approval != REJECTED]
    # Claude Code skips a project server not yet approved when another scope defines the name.
    effective = next((s for s in used if scopes[s].approval != PENDING), used[0] if used else "")
    return ServerView(name, definition.artifact if definition else "", scopes, effective)


def _approval(claude: dict[str, Any], project: Path) -> Callable[[str], str]:
    """Whether Claude Code uses a project's .mcp.json server: its settings' enabled/disabled
    lists (only the user's own settings until the project is trusted)."""
    settings = [_settings(path) for path in claude_settings(project)]
    entry = (claude.get("projects") or {}).get(str(project))
    trusted = isinstance(entry, dict) and entry.get("hasTrustDialogAccepted") is True

    def approval(name: str) -> str:
        if any(name in _names(s, "disabledMcpjsonServers") for s in settings):
            return REJECTED
        if any(s.get("enableAllProjectMcpServers") is True or name in _names(s, "enabledMcpjsonServers")
               for s in (settings if trusted else settings[:1])):
            return APPROVED
        return PENDING

    return approval


def _settings(path: Path) -> dict[str, Any]:
    try:
        return read_json_config(path).data
    except ConfigError:  # Claude Code reports a broken settings file itself
        return {}


def _names(settings: dict[str, Any], key: str) -> list[str]:
    value = settings.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _state(have: Any, mine: McpDeployment | None, want: dict[str, Any] | None) -> str | None:
    if mine is None:
        return UNMANAGED if have is not None else None
    if have is None:
        return MISSING
    if have != mine.entry:
        return MODIFIED
    return OUTDATED if want is not None and want != mine.entry else DEPLOYED


def _definitions(store: CollectionStore) -> dict[str, _Definition]:
    head = store.repo.head()
    if head is None:
        return {}
    tree = store.tree_at(head)
    out: dict[str, _Definition] = {}
    for aid in sorted(ids_from_paths(tree.files())):
        if aid.type is not ArtifactType.MCP or aid.base in out:
            continue
        try:
            server = McpServer.from_toml(aid.base, tree.read(aid.relpath).decode("utf-8"), aid.relpath)
        except (BadInputError, UnicodeDecodeError):
            out[aid.base] = _Definition(str(aid), None, None)  # `skillmeat validate` reports it
            continue
        desktop = server.to_desktop() if server.transport == "stdio" else None
        out[aid.base] = _Definition(str(aid), server.to_claude(), desktop)
    return out
