"""MCP server definitions and Claude Code ``.mcp.json`` files, checked before they are
committed: a known transport with its fields (``command`` for stdio, ``url`` for http, sse
and ws) and no value that looks like a literal secret (``${VAR}`` references are fine)."""

from __future__ import annotations

import json
import posixpath
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import BadInputError
from skillmeat.model.findings import Finding
from skillmeat.model.mcp import McpServer
from skillmeat.store.server_json import env_name
from skillmeat.store.tree import FsTree

MCP_JSON = ".mcp.json"
_ANY = ArtifactId(ArtifactType.MCP, "server")  # check_server names it in its message only


def check_files(root: Path, files: Sequence[str]) -> list[Finding]:
    """Findings for the ``mcp/*.toml`` definitions and ``.mcp.json`` files among ``files``."""
    out: list[Finding] = []
    for rel in dict.fromkeys(files):
        if posixpath.basename(rel) == MCP_JSON:
            out += check_mcp_json(rel, FsTree(root, only=[rel]).read(rel))
        elif rel.startswith("mcp/") and rel.endswith(".toml"):
            out += check_definition(rel, FsTree(root, only=[rel]).read(rel))
    return out


def check_definition(rel: str, raw: bytes) -> list[Finding]:
    """``mcp/<name>.toml`` or ``mcp/<plugin>/<name>.toml``: one server."""
    name = ":".join(rel.removesuffix(".toml").split("/")[1:])
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return [Finding(rel, "not UTF-8 text", "save it as UTF-8")]
    except tomllib.TOMLDecodeError as exc:
        return [Finding(rel, f"invalid TOML ({exc})", "fix the TOML syntax")]
    return check_server(rel, name, data)


def check_mcp_json(rel: str, raw: bytes) -> list[Finding]:
    """Claude Code's project file: ``{"mcpServers": {NAME: {type, command|url, ...}}}``."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [Finding(rel, f"invalid JSON ({exc})", "fix the JSON syntax")]
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        return [Finding(rel, "no \"mcpServers\" object", "Claude Code reads servers from "
                        "{\"mcpServers\": {\"NAME\": {...}}}")]
    out: list[Finding] = []
    for name, entry in servers.items():
        if not isinstance(entry, dict):
            out.append(Finding(rel, f"server {name}: not a JSON object",
                               "give it type and command (stdio) or url (http, sse)"))
        else:
            out += check_server(rel, str(name), entry)
    return out


def check_server(rel: str, name: str, data: dict[str, Any]) -> list[Finding]:
    """A server's shape (the definition model's own rules) and its literal secrets."""
    from skillmeat.services.mcp_defs import check_server as check_url

    where = f"{rel}: server {name}"
    try:
        server = McpServer.from_dict(name, data, where)
        check_url(_ANY, server)
    except BadInputError as exc:
        detail = exc.message.removeprefix(f"{where}: ").removeprefix(f"{_ANY}: ")
        return [Finding(rel, f"server {name}: {detail}",
                        exc.hint or "stdio needs command (and args); http, sse and ws need url")]
    return [Finding(rel, f"server {name}: {field} looks like a literal secret",
                    f"write a reference such as {_reference(server, field)} instead (Claude Code "
                    "expands it from the environment); a literal stays in the repository's history")
            for field in server.literal_secrets()]


def _reference(server: McpServer, field: str) -> str:
    """A reference to suggest for a literal: ${KEY} for env, a prefix such as Bearer kept."""
    table, _, key = field.partition(".")
    if table == "env" and key:
        return f"${{{key}}}"
    value = server.headers.get(key, "") if table == "headers" else ""
    prefix = next((p for p in ("Bearer ", "Basic ", "token ") if value.startswith(p)), "")
    if table == "headers" and key.lower() not in ("authorization", "proxy-authorization"):
        return f"{prefix}${{{env_name(key)}}}"
    return f"{prefix}${{{env_name(server.name.rpartition(':')[2])}_TOKEN}}"
