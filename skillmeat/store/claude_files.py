"""Reading the files other programs keep MCP servers in (read-only).

A source is a project's or plugin's ``.mcp.json`` (with or without the ``mcpServers``
wrapper), Claude Code's ``~/.claude.json`` (top-level ``mcpServers`` and each
``projects[path].mcpServers``), Claude Desktop's ``claude_desktop_config.json``, or an MCP
Registry ``server.json``. Each yields the servers it offers in Claude Code's JSON shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model.errors import BadInputError, ConfigError, SourceError

MCP_JSON = ".mcp.json"
CLAUDE_JSON = "~/.claude.json"
DESKTOP = "Claude Desktop config"
SERVER_JSON = "server.json"
DESKTOP_NAME = "claude_desktop_config.json"
_ENTRY_KEYS = ("command", "url", "type", "transport")


@dataclass(frozen=True)
class SourceServer:
    """One server a source offers: its name, where in the file, its entry as found."""

    name: str
    origin: str  # e.g. mcpServers, projects["/home/ada/app"].mcpServers, packages[0]
    entry: Any  # Claude Code's shape (command/args/env or type/url/headers); checked later
    scope: str = ""  # ~/.claude.json only: "user" (top level) or "local" (a project)
    project: str = ""
    version: str = ""


@dataclass(frozen=True)
class ServerSource:
    path: Path
    kind: str
    servers: tuple[SourceServer, ...]
    notes: tuple[str, ...] = ()  # what was left out, and why


def read_server_source(path: Path) -> ServerSource:
    """The servers a file (or a directory holding ``.mcp.json`` or ``server.json``) offers."""
    path = _pick_file(path)
    data = read_json_object(path)
    from skillmeat.store.server_json import registry_server, registry_servers

    server = registry_server(data)
    if server is not None:
        servers, notes = registry_servers(server, str(path))
        return ServerSource(path, SERVER_JSON, tuple(servers), tuple(notes))
    if isinstance(data.get("projects"), dict) or path.name == ".claude.json":
        return ServerSource(path, CLAUDE_JSON, tuple(_claude_json(data, path)))
    kind = DESKTOP if path.name == DESKTOP_NAME else MCP_JSON
    if "mcpServers" in data:
        return ServerSource(path, kind, tuple(_servers(data["mcpServers"], "mcpServers", path)))
    if data and all(isinstance(v, dict) and any(k in v for k in _ENTRY_KEYS) for v in data.values()):
        return ServerSource(path, MCP_JSON, tuple(_servers(data, "", path)))
    raise BadInputError(f"{path}: no MCP servers here (no 'mcpServers', 'projects', 'packages' or "
                        "'remotes')", hint="expected a .mcp.json, ~/.claude.json, "
                        "claude_desktop_config.json or an MCP Registry server.json")


def read_json_object(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(str(path), "no such file or directory") from None
    except IsADirectoryError:
        raise SourceError(str(path), "is a directory") from None
    except OSError as exc:
        raise SourceError(str(path), exc.strerror or str(exc)) from None
    try:
        data = json.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), "not UTF-8 text", hint="nothing was imported") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), f"not valid JSON ({exc.msg} at line {exc.lineno} column "
                          f"{exc.colno})", hint="fix the file; nothing was imported") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), f"the top level is a JSON {type(data).__name__}, not an object")
    return data


def _pick_file(path: Path) -> Path:
    if not path.is_dir():
        return path
    for name in (MCP_JSON, SERVER_JSON):
        if (path / name).is_file():
            return path / name
    raise SourceError(str(path), f"no {MCP_JSON} or {SERVER_JSON} in this directory")


def _claude_json(data: dict[str, Any], path: Path) -> list[SourceServer]:
    out = [SourceServer(s.name, s.origin, s.entry, "user") for s in
           _servers(data.get("mcpServers", {}), "mcpServers", path)]
    projects = data.get("projects", {})
    if not isinstance(projects, dict):
        raise ConfigError(str(path), "'projects' is not an object")
    for project, settings in projects.items():
        if not isinstance(settings, dict) or "mcpServers" not in settings:
            continue
        origin = f"projects[{json.dumps(project)}].mcpServers"
        out += [SourceServer(s.name, s.origin, s.entry, "local", project)
                for s in _servers(settings["mcpServers"], origin, path)]
    return out


def _servers(servers: Any, origin: str, path: Path) -> list[SourceServer]:
    if not isinstance(servers, dict):
        raise ConfigError(str(path), f"'{origin}' is not an object of servers")
    return [SourceServer(name, f"{origin}.{name}" if origin else name, entry)
            for name, entry in servers.items()]
