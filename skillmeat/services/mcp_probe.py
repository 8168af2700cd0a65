"""One MCP conversation with one server: stdio (a process group of our own) or HTTP/SSE.

The stateless generation first (``server/discover`` at 2026-07-28); any answer that is not
positive evidence of it falls back to the 2025-era handshake (``initialize`` ->
``notifications/initialized`` -> ``ping`` -> ``tools/list``). This is where the ``mcp`` SDK loads:
only :mod:`skillmeat.services.mcp_health` imports this module, and only when a check runs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx2
import mcp_types as types
from mcp.client._transport import TransportStreams as Streams
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError
from mcp_types.version import (
    HANDSHAKE_PROTOCOL_VERSIONS,
    KNOWN_PROTOCOL_VERSIONS,
    LATEST_HANDSHAKE_VERSION,
    LATEST_MODERN_VERSION,
    MODERN_PROTOCOL_VERSIONS,
)
from pydantic import ValidationError

from skillmeat import __version__
from skillmeat.model.mcp import McpServer
from skillmeat.services.mcp_process import Child, ProcessGroups, spawned

TOOL_PAGES = 100  # a tools/list cursor that never ends cannot hang a check
CLIENT = types.Implementation(name="skillmeat", version=__version__)


class StartError(Exception):
    """The server could not be started or reached at all."""


class UnsupportedVersionError(Exception):
    def __init__(self, offered: list[str]) -> None:
        super().__init__(", ".join(offered) or "none")
        self.offered = offered


@dataclass
class Trace:
    """What one conversation learned, filled in as it goes; the verdict is read from it."""

    step: str = "start"
    era: str = ""
    protocol_version: str = ""
    server_name: str = ""
    server_version: str = ""
    tools: int | None = None
    done: bool = False  # the tools were counted: the server is healthy whatever happens next
    settled_at: float | None = None  # when the verdict was clear (clean-up comes after)
    child: Child = field(default_factory=Child)


@dataclass(frozen=True)
class Launch:
    cwd: Path
    env: dict[str, str]
    groups: ProcessGroups
    timeout: float

    @property
    def discover_grace(self) -> float:
        """How long server/discover may go unanswered before the handshake is tried as well."""
        return self.timeout / 2


async def converse(server: McpServer, trace: Trace, launch: Launch) -> None:
    """Speak MCP to ``server`` until its tools are counted; raises on any failure."""
    transport = TRANSPORTS.get(server.transport)
    if transport is None:
        raise StartError(f"health checks do not speak the {server.transport} transport")
    async with transport(server, trace, launch) as (read, write):
        try:
            async with ClientSession(read, write, client_info=CLIENT) as session:
                await _negotiate(session, trace, launch.discover_grace)
                trace.step = "tools/list"
                trace.tools = await _count_tools(session)
                trace.done = True
        finally:
            trace.settled_at = time.monotonic()


async def _negotiate(session: ClientSession, trace: Trace, grace: float) -> None:
    trace.step = "server/discover"
    if await _discover(session, trace, grace):
        return
    trace.step = "initialize"
    try:
        await _initialize(session, trace)
    except MCPError as exc:
        # A discover answered after the grace locks an SDK server to 2026: ask once more.
        offered = _offered(exc) if exc.code == types.UNSUPPORTED_PROTOCOL_VERSION else None
        if offered is None:
            raise
        if not any(v in MODERN_PROTOCOL_VERSIONS for v in offered):
            raise UnsupportedVersionError(offered) from None
        trace.step = "server/discover"
        if not await _discover(session, trace, None):
            raise
        return
    trace.step = "ping"
    await session.send_ping()


async def _discover(session: ClientSession, trace: Trace, grace: float | None) -> bool:
    """The stateless generation: True when adopted, False to fall back to the handshake."""
    with anyio.move_on_after(grace):
        try:
            raw = await session.send_discover(LATEST_MODERN_VERSION)
        except MCPError as exc:
            if exc.code == types.CONNECTION_CLOSED:
                raise  # nobody left to fall back to
            offered = _offered(exc) if exc.code == types.UNSUPPORTED_PROTOCOL_VERSION else None
            if offered and not any(v in KNOWN_PROTOCOL_VERSIONS for v in offered):
                raise UnsupportedVersionError(offered) from None
            return False
        try:
            result = types.DiscoverResult.model_validate(raw)
        except ValidationError:
            return False
        if not any(v in result.supported_versions for v in MODERN_PROTOCOL_VERSIONS):
            return False  # answers discover but offers only handshake versions
        session.adopt(result)
        trace.era, trace.protocol_version = "stateless", session.protocol_version or ""
        _identify(session, trace)
        return True
    return False


async def _initialize(session: ClientSession, trace: Trace) -> None:
    params = types.InitializeRequestParams(protocol_version=LATEST_HANDSHAKE_VERSION,
                                           capabilities=types.ClientCapabilities(), client_info=CLIENT)
    result = await session.send_request(types.InitializeRequest(params=params), types.InitializeResult)
    if result.protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS:
        raise UnsupportedVersionError([result.protocol_version])
    session.adopt(result)
    trace.era, trace.protocol_version = "handshake", result.protocol_version
    _identify(session, trace)
    await session.send_notification(types.InitializedNotification())


def _identify(session: ClientSession, trace: Trace) -> None:
    info = session.server_info
    if info is not None:
        trace.server_name, trace.server_version = info.name, info.version


async def _count_tools(session: ClientSession) -> int | None:
    capabilities = session.server_capabilities
    if capabilities is not None and capabilities.tools is None:
        return None  # a server without tools is not asked for them
    count, cursor = 0, None
    for _ in range(TOOL_PAGES):
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        count += len(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return count


def _offered(exc: MCPError) -> list[str] | None:
    try:
        return types.UnsupportedProtocolVersionErrorData.model_validate(exc.data).supported
    except ValidationError:
        return None


# --- verdict -------------------------------------------------------------------------------------


def verdict(exc: BaseException, trace: Trace) -> tuple[str, str]:
    """(status, one-line detail) for a conversation that raised ``exc``."""
    exc = _leaf(exc)
    step = trace.step
    if isinstance(exc, StartError):
        return "error", str(exc)
    if trace.child.garbage:
        line = trace.child.garbage
        return "unhealthy", f"wrote a line that is not JSON-RPC to stdout during {step}: {line!r}"
    if isinstance(exc, UnsupportedVersionError):
        known = f"{KNOWN_PROTOCOL_VERSIONS[0]} to {KNOWN_PROTOCOL_VERSIONS[-1]}"
        return "unhealthy", f"unsupported protocol version {exc} (SkillMeat speaks {known})"
    if isinstance(exc, MCPError) and exc.code == types.CONNECTION_CLOSED:
        if trace.child.exit_code is not None:
            return "unhealthy", f"exited with code {trace.child.exit_code} during {step}"
        return "unhealthy", f"closed the connection during {step}"
    if isinstance(exc, MCPError):
        return "unhealthy", f"{step} failed: {exc.message} (code {exc.code})"
    if isinstance(exc, ValidationError):
        problem = exc.errors()[0]
        return "unhealthy", f"{step}: the answer breaks the protocol ({problem['msg']})"
    if isinstance(exc, httpx2.HTTPError | OSError):
        return "error", f"cannot reach the server during {step}: {exc or type(exc).__name__}"
    return "error", f"{step}: {type(exc).__name__}: {exc}"


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


# --- transports --------------------------------------------------------------------------------------


@asynccontextmanager
async def _stdio(server: McpServer, trace: Trace, launch: Launch) -> AsyncIterator[Streams]:
    try:
        async with spawned([server.command, *server.args], trace.child, cwd=launch.cwd,
                           env=launch.env, groups=launch.groups) as streams:
            yield streams
    except OSError as exc:
        if trace.child.pid is not None:
            raise  # not a failure to start
        raise StartError(f"cannot start {server.command!r}: {exc.strerror or exc}") from None


@asynccontextmanager
async def _http(server: McpServer, trace: Trace, launch: Launch) -> AsyncIterator[Streams]:
    from mcp.client.streamable_http import streamable_http_client

    timeout = httpx2.Timeout(launch.timeout)
    async with (httpx2.AsyncClient(headers=server.headers, timeout=timeout) as client,
                streamable_http_client(server.url, http_client=client) as streams):
        yield streams


@asynccontextmanager
async def _sse(server: McpServer, trace: Trace, launch: Launch) -> AsyncIterator[Streams]:
    from mcp.client.sse import sse_client

    async with sse_client(server.url, headers=dict(server.headers), timeout=launch.timeout,
                          sse_read_timeout=launch.timeout) as streams:
        yield streams


Transport = Callable[[McpServer, Trace, Launch], AbstractAsyncContextManager[Streams]]
TRANSPORTS: dict[str, Transport] = {"stdio": _stdio, "http": _http, "sse": _sse}
