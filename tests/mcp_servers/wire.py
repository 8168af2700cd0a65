"""Newline-delimited JSON-RPC over stdio for the hand-written test servers (standard library only)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

METHOD_NOT_FOUND = -32601


def record_pid(*pids: int) -> None:
    """Append these pids (default: this process) to $MCP_TEST_PIDFILE, for the no-orphan checks."""
    path = os.environ.get("MCP_TEST_PIDFILE")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(f"{pid}\n" for pid in pids or (os.getpid(),)))


def messages() -> Iterator[dict[str, Any]]:
    for line in sys.stdin:
        if line.strip():
            yield json.loads(line)


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def reply(request: dict[str, Any], result: dict[str, Any]) -> None:
    send({"jsonrpc": "2.0", "id": request["id"], "result": result})


def fail(request: dict[str, Any], code: int, message: str, data: Any = None) -> None:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    send({"jsonrpc": "2.0", "id": request["id"], "error": error})


def not_found(request: dict[str, Any]) -> None:
    fail(request, METHOD_NOT_FOUND, f"Method not found: {request.get('method')}")
