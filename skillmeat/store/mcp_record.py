"""``$SKILLMEAT_HOME/state/mcp-deployed.json``: what SkillMeat wrote into which MCP config.

Undeploy removes only entries listed here, and ``mcp list`` tells SkillMeat's entries
(as written, edited since, gone) from the user's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.errors import ConfigError
from skillmeat.store.files import atomic_write, read_record

RECORD_FORMAT = "skillmeat-mcp-deployed/1"


@dataclass(frozen=True)
class McpDeployment:
    """One server entry SkillMeat wrote into one target."""

    target: str  # the target's key: scope, file and (for local) project
    scope: str
    file: str  # the config file, absolute, as the user names it
    server: str  # the name under mcpServers
    artifact: str = ""  # mcp/<name> in the collection
    collection: str = ""
    commit: str = ""
    entry: dict[str, Any] = field(default_factory=dict)  # exactly what was written
    time: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return self.target, self.server

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "scope": self.scope, "file": self.file,
                "server": self.server, "artifact": self.artifact, "collection": self.collection,
                "commit": self.commit, "entry": self.entry, "time": self.time}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> McpDeployment:
        entry = data.get("entry", {})
        if not isinstance(entry, dict):
            raise TypeError("entry must be an object")
        return cls(str(data["target"]), str(data["scope"]), str(data["file"]),
                   str(data["server"]), str(data.get("artifact", "")),
                   str(data.get("collection", "")), str(data.get("commit", "")), entry,
                   int(data.get("time", 0)))


Record = dict[tuple[str, str], McpDeployment]


class McpRecord:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Record:
        hint = "move it away: SkillMeat then treats every entry as the user's"
        items = read_record(self.path, RECORD_FORMAT, "MCP deployment record", hint)
        try:
            return {d.key: d for d in (McpDeployment.from_dict(x) for x in items)}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(str(self.path), f"unreadable MCP deployment record ({exc})",
                              hint=hint) from None

    def save(self, record: Record) -> None:
        items = [record[k].to_dict() for k in sorted(record)]
        atomic_write(self.path, json.dumps({"format": RECORD_FORMAT, "deployments": items},
                                           indent=2) + "\n")
