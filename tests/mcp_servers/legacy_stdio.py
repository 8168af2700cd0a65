"""A healthy 2025-era stdio server: no server/discover, the initialize handshake only.

argv[1] (optional): seconds to sleep before reading anything, like a slow-starting server.
$MCP_TEST_BARRIER=PATH:N (optional): append this pid to PATH and answer nothing until N pids
are there, so a group of these answers only when they all run at the same time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from wire import messages, not_found, record_pid, reply

TOOLS = [{"name": "lookup", "description": "Look something up.", "inputSchema": {"type": "object"}}]


def wait_for_peers(barrier: str) -> None:
    path, _, count = barrier.rpartition(":")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    while len(Path(path).read_text(encoding="utf-8").split()) < int(count):
        time.sleep(0.01)


if __name__ == "__main__":
    record_pid()
    if len(sys.argv) > 1:
        time.sleep(float(sys.argv[1]))
    if os.environ.get("MCP_TEST_BARRIER"):
        wait_for_peers(os.environ["MCP_TEST_BARRIER"])
    for msg in messages():
        if "id" not in msg:
            continue  # notifications/initialized
        method = msg.get("method")
        if method == "initialize":
            reply(msg, {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                        "serverInfo": {"name": "legacy-stdio", "version": "0.9.0"}})
        elif method == "ping":
            reply(msg, {})
        elif method == "tools/list":
            reply(msg, {"tools": TOOLS})
        else:
            not_found(msg)
