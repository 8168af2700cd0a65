"""``mcp health``: which MCP servers to check, checking them all at once, and the results.

A check starts the server (or connects to its URL) and speaks the real protocol to it
(:mod:`skillmeat.services.mcp_probe`); every check runs concurrently, each bounded by the
timeout, and every process started is killed with its process group when its check ends.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillmeat.model.artifact import ArtifactType, ids_from_paths
from skillmeat.model.errors import BadInputError, ConfigError, NotFoundError
from skillmeat.model.mcp import McpServer
from skillmeat.store import health_record

if TYPE_CHECKING:
    from skillmeat.services.mcp_probe import Trace
    from skillmeat.services.mcp_process import ProcessGroups
    from skillmeat.store.home import Home

STATUSES = ("healthy", "unhealthy", "timeout", "error")
SCOPES = ("collection", "project", "user", "local")
DEFAULT_TIMEOUT = 10.0
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class Definition:
    """A server to check, where it was defined, or why it cannot be read."""

    name: str
    source: str
    server: McpServer | None = None
    problem: str = ""


@dataclass(frozen=True)
class HealthResult:
    """One server's check: a status from STATUSES and what the conversation reached."""

    name: str
    status: str
    transport: str = ""
    source: str = ""
    latency_ms: float | None = None
    era: str = ""  # "stateless" (server/discover) or "handshake" (initialize)
    protocol_version: str = ""
    server_name: str = ""
    server_version: str = ""
    tools: int | None = None
    detail: str = ""
    stderr: tuple[str, ...] = ()
    pid: int | None = None

    @property
    def healthy(self) -> bool:
        return self.status == "healthy"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "transport": self.transport,
                "source": self.source, "latency_ms": self.latency_ms, "era": self.era,
                "protocol_version": self.protocol_version, "server_name": self.server_name,
                "server_version": self.server_version, "tools": self.tools, "detail": self.detail,
                "stderr": list(self.stderr), "pid": self.pid}


# --- which servers ----------------------------------------------------------------------------------


def load_definitions(home: Home, scope: str = "collection", project: Path | None = None,
                     names: Sequence[str] = ()) -> list[Definition]:
    """The servers of the collection (``mcp/*.toml`` at HEAD) or of one Claude Code scope."""
    if scope not in SCOPES:
        raise BadInputError(f"unknown scope '{scope}'", hint=f"use one of {', '.join(SCOPES)}")
    if scope == "collection":
        found, label = _collection_definitions(home)
    else:
        found, label = _claude_definitions(scope, (project or home.cwd).absolute())
    return _select(found, names, label)


def _collection_definitions(home: Home) -> tuple[list[Definition], str]:
    store = home.collection()
    head = store.repo.head()
    if head is None:
        return [], f"collection {store.name}"
    tree = store.tree_at(head)
    out = []
    for aid in sorted(ids_from_paths(tree.files())):
        if aid.type is ArtifactType.MCP:
            where = f"{store.name}:{aid.relpath}"
            try:
                server = McpServer.from_toml(aid.name, tree.read(aid.relpath).decode(), where)
            except (BadInputError, UnicodeDecodeError) as exc:
                out.append(Definition(aid.name, where, problem=str(exc)))
            else:
                out.append(Definition(aid.name, where, server))
    return out, f"collection {store.name}"


def _claude_definitions(scope: str, project: Path) -> tuple[list[Definition], str]:
    """Claude Code's own files, read only: ``.mcp.json`` or ``~/.claude.json``."""
    path = project / ".mcp.json" if scope == "project" else Path.home() / ".claude.json"
    data = _read_json(path)
    servers, keys = data.get("mcpServers", {}), "mcpServers"
    if scope == "local":
        entry = _project_entry(data.get("projects"), project)
        servers = entry.get("mcpServers", {}) if isinstance(entry, dict) else {}
        keys = f"projects[{project}].mcpServers"
    if not isinstance(servers, dict):
        raise ConfigError(str(path), f"{keys} is not an object")
    where = f"{path} {keys}"
    return [_claude_entry(name, entry, where) for name, entry in servers.items()], f"{scope} scope ({path})"


def _claude_entry(name: str, entry: Any, where: str) -> Definition:
    try:
        if not isinstance(entry, dict):
            raise BadInputError(f"{where}.{name}: not an object")
        return Definition(name, where, McpServer.from_dict(name, entry, f"{where}.{name}"))
    except BadInputError as exc:
        return Definition(name, where, problem=str(exc))


def _project_entry(projects: Any, project: Path) -> Any:
    """Claude Code keys projects by absolute path; accept the resolved spelling too."""
    for key in (str(project), str(project.resolve())):
        if isinstance(projects, dict) and key in projects:
            return projects[key]
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "is not a JSON object")
    return data


def _select(found: list[Definition], names: Sequence[str], label: str) -> list[Definition]:
    if not names:
        return found
    by_name = {d.name: d for d in found}
    missing = [n for n in names if n not in by_name]
    if missing:
        known = ", ".join(sorted(by_name)) or "none"
        raise NotFoundError(f"no MCP server named {', '.join(missing)} in the {label}",
                            hint=f"servers there: {known}")
    return [by_name[n] for n in dict.fromkeys(names)]


# --- references -------------------------------------------------------------------------------------


def expand(server: McpServer, environ: Mapping[str, str]) -> McpServer:
    """``${VAR}`` and ``${VAR:-default}`` replaced from ``environ``, as Claude Code does."""

    def sub(text: str, where: str) -> str:
        def one(match: re.Match[str]) -> str:
            value = environ.get(match[1])
            if value is None and match[2] is None:
                raise BadInputError(f"{server.name}: {where} needs ${{{match[1]}}}, which is not set",
                                    hint=f"export {match[1]}=... or give a default: ${{{match[1]}:-x}}")
            return value if value is not None else match[2]

        return _REFERENCE.sub(one, text)

    return replace(
        server, command=sub(server.command, "command"), url=sub(server.url, "url"),
        args=tuple(sub(a, f"args[{i}]") for i, a in enumerate(server.args)),
        env={k: sub(v, f"env.{k}") for k, v in server.env.items()},
        headers={k: sub(v, f"headers.{k}") for k, v in server.headers.items()})


# --- checking ---------------------------------------------------------------------------------------


def check_health(definitions: Sequence[Definition], *, timeout: float = DEFAULT_TIMEOUT,
                 cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> list[HealthResult]:
    """Check every server at once, each within ``timeout`` seconds; results in the given order.

    Stdio servers run in ``cwd`` with ``environ`` plus their own ``env``; Ctrl-C (or any other
    interruption) kills every process started before it propagates.
    """
    if not definitions:
        return []
    import anyio

    from skillmeat.services.mcp_process import ProcessGroups

    groups = ProcessGroups()
    env = dict(os.environ if environ is None else environ)
    try:
        return anyio.run(_check_all, list(definitions), timeout, cwd or Path.cwd(), env, groups)
    finally:
        groups.kill_all()  # empty unless the run was cut short in the middle of a clean-up


async def _check_all(definitions: list[Definition], timeout: float, cwd: Path,
                     environ: dict[str, str], groups: ProcessGroups) -> list[HealthResult]:
    import anyio

    results: dict[int, HealthResult] = {}

    async def run(index: int, definition: Definition) -> None:
        results[index] = await _check_one(definition, timeout, cwd, environ, groups)

    async with anyio.create_task_group() as tg:
        for index, definition in enumerate(definitions):
            tg.start_soon(run, index, definition)
    return [results[i] for i in range(len(definitions))]


async def _check_one(definition: Definition, timeout: float, cwd: Path, environ: dict[str, str],
                     groups: ProcessGroups) -> HealthResult:
    import anyio

    from skillmeat.services import mcp_probe

    base = HealthResult(definition.name, "error", source=definition.source,
                        transport=definition.server.transport if definition.server else "")
    if definition.server is None:
        return replace(base, detail=definition.problem)
    try:
        server = expand(definition.server, environ)
    except BadInputError as exc:
        return replace(base, detail=str(exc))
    trace = mcp_probe.Trace()
    launch = mcp_probe.Launch(cwd, {**environ, **server.env}, groups, timeout)
    started = time.monotonic()
    status, detail = "healthy", ""
    with anyio.move_on_after(timeout) as scope:
        try:
            await mcp_probe.converse(server, trace, launch)
        except Exception as exc:
            if not trace.done:  # a failure while closing a finished conversation does not count
                status, detail = mcp_probe.verdict(exc, trace)
    if scope.cancelled_caught and not trace.done:
        status, detail = "timeout", f"no answer to {trace.step} within {timeout:g}s"
    return _result(base, status, detail, trace, started)


def _result(base: HealthResult, status: str, detail: str, trace: Trace, started: float) -> HealthResult:
    ended = trace.settled_at or time.monotonic()  # when the verdict was clear, not after clean-up
    return replace(
        base, status=status, detail=" ".join(detail.split()), latency_ms=round((ended - started) * 1000, 1),
        era=trace.era, protocol_version=trace.protocol_version, server_name=trace.server_name,
        server_version=trace.server_version, tools=trace.tools, pid=trace.child.pid,
        stderr=() if status == "healthy" else tuple(trace.child.stderr))


# --- the last result of each server, for the catalog -------------------------------------------------


def remember(home: Home, results: Sequence[HealthResult], *, now: float | None = None) -> None:
    """Record these results as each server's last health (keyed by where it is defined)."""
    checked = int(time.time() if now is None else now)
    record = {r.source: {**r.to_dict(), "checked": checked, "stderr": []}
              for r in results if r.source}
    if record:
        health_record.save(home.paths.state / health_record.FILE_NAME, record)


def last_health(home: Home) -> dict[str, dict[str, Any]]:
    """Each server's last recorded result, by its source (``<collection>:mcp/<name>.toml``)."""
    return health_record.load(home.paths.state / health_record.FILE_NAME)
