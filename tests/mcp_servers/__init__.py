"""Real MCP server processes for the health-check tests: plain scripts run with sys.executable.

Good: ``good_stdio.py`` and ``good_http.py`` (the mcp SDK, two tools each; streamable HTTP or
SSE) and ``legacy_stdio.py`` (a hand-written 2025-era server). Broken: ``exits_at_once.py``,
``hangs.py``, ``garbage.py``, ``bad_version.py``, ``crash_mid_session.py``. The hand-written
ones share ``wire.py``, and every stdio one records its pid in ``$MCP_TEST_PIDFILE``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from skillmeat.model.mcp import McpServer

SERVERS = Path(__file__).resolve().parent


def stdio(name: str, script: str, *args: str, **env: str) -> McpServer:
    return McpServer(name, "stdio", sys.executable, (str(SERVERS / script), *args), env)


def claude_entry(script: str, *args: str, **env: str) -> dict[str, object]:
    """The same server as Claude Code keeps it under mcpServers."""
    return stdio("x", script, *args, **env).to_claude()


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs. A zombie does not: orphans are reaped by init, if ever."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def pids_in(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def wait_for_pids(path: Path, count: int, limit: float = 30.0) -> list[int]:
    deadline = time.monotonic() + limit
    while len(pids_in(path)) < count:
        assert time.monotonic() < deadline, f"the servers never started ({path})"
        time.sleep(0.02)
    return pids_in(path)


@contextlib.contextmanager
def http_server(transport: str = "streamable-http", limit: float = 30.0) -> Iterator[str]:
    """``good_http.py`` on a free loopback port; yields its URL (``/mcp``, or ``/sse``)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(SERVERS / "good_http.py"), str(port), transport],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + limit
        while True:
            assert proc.poll() is None, "good_http.py exited"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert time.monotonic() < deadline, "good_http.py never listened"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/{'sse' if transport == 'sse' else 'mcp'}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
