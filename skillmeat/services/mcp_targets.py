"""Where Claude Code (and Claude Desktop) keep MCP servers: one target per scope.

| scope   | file                               | where in it                              |
| project | <project>/.mcp.json                | mcpServers                               |
| user    | ~/.claude.json                     | mcpServers                               |
| local   | ~/.claude.json                     | projects["<abs project path>"].mcpServers |
| desktop | Claude Desktop's config (per OS)   | mcpServers (stdio servers only)          |

Claude Code uses a server's definition from the first of local, project, user that holds it,
where a project (``.mcp.json``) server counts only once the user approved it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skillmeat.model.errors import BadInputError
from skillmeat.store.home import Home

SCOPES = ("project", "user", "local", "desktop")
PRECEDENCE = ("local", "project", "user")  # the order in which Claude Code picks a definition


@dataclass(frozen=True)
class McpTarget:
    scope: str
    file: Path
    keys: tuple[str, ...]  # the path to the servers object inside the file
    project: Path | None = None

    @property
    def key(self) -> str:
        """How the deployment record names this target."""
        where = f"{self.scope}:{self.file}"
        return f"{where}#{self.project}" if self.scope == "local" else where

    @property
    def label(self) -> str:
        shown = tilde(self.file)
        if self.scope == "local":
            return f"{shown} projects[{self.project}] (local)"
        return f"{shown} ({self.scope})"

    @property
    def new_mode(self) -> int:
        """The mode of a file SkillMeat creates: Claude keeps ~/.claude.json private."""
        return 0o644 if self.scope == "project" else 0o600


def target_for(home: Home, scope: str, project: Path | None = None) -> McpTarget:
    if scope not in SCOPES:
        raise BadInputError(f"unknown scope '{scope}'", hint=f"use one of {', '.join(SCOPES)}")
    root = (project or home.cwd).resolve()  # Claude keys projects by their real path
    if scope == "project":
        return McpTarget(scope, root / ".mcp.json", ("mcpServers",), root)
    if scope == "user":
        return McpTarget(scope, claude_json(), ("mcpServers",))
    if scope == "local":
        return McpTarget(scope, claude_json(), ("projects", str(root), "mcpServers"), root)
    return McpTarget(scope, desktop_config(), ("mcpServers",))


def claude_json() -> Path:
    """Claude Code's global config (in ``$CLAUDE_CONFIG_DIR`` when that is set, as Claude does)."""
    config_dir = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(config_dir) if config_dir else Path.home()) / ".claude.json"


def claude_settings(project: Path) -> list[Path]:
    """Claude Code's settings files for a project: user, project (shared), local."""
    config_dir = os.environ.get("CLAUDE_CONFIG_DIR")
    user = Path(config_dir) if config_dir else Path.home() / ".claude"
    return [user / "settings.json", project / ".claude" / "settings.json",
            project / ".claude" / "settings.local.json"]


def desktop_config(platform: str = sys.platform, env: Mapping[str, str] = os.environ) -> Path:
    """Claude Desktop's ``claude_desktop_config.json`` on this OS."""
    name = "claude_desktop_config.json"
    if platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Claude" / name
    if platform.startswith(("win", "cygwin")):
        appdata = env.get("APPDATA")
        base = Path(appdata) if appdata else Path.home() / "AppData" / "Roaming"
        return base / "Claude" / name
    config = env.get("XDG_CONFIG_HOME")  # Electron's appData on Linux
    return (Path(config) if config else Path.home() / ".config") / "Claude" / name


def tilde(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home):] if text.startswith(home + os.sep) else text
