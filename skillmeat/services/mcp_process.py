"""A stdio MCP server as a child in a process group of its own, bridged to JSON-RPC streams.

Every child starts in a new session (so a terminal's Ctrl-C reaches only SkillMeat, which then
cleans up) and is stopped with its whole group: stdin closed, then SIGTERM, then SIGKILL, each
wait bounded, inside a cancellation shield so a timeout or Ctrl-C cannot skip it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import mcp_types as types
from anyio.abc import Process
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage

STDERR_LINES = 10  # kept from a failing server, each cut to LINE_CHARS
LINE_CHARS = 200
MAX_LINE_BYTES = 32 * 1024 * 1024  # one JSON-RPC message; beyond this the server is broken
STDIN_GRACE = 1.0  # a finished server exits when its stdin closes (the spec's shutdown) ...
TERM_GRACE = 1.0  # ... else SIGTERM to its process group, then SIGKILL


@dataclass
class Child:
    """What was seen of one child process, filled in while it runs."""

    pid: int | None = None
    exit_code: int | None = None  # set when it exited by itself (stdout closed), not when stopped
    garbage: str = ""  # the first stdout line that is not JSON-RPC
    stderr: list[str] = field(default_factory=list)


class ProcessGroups:
    """Every process group started and not yet stopped: killed at once if a run is cut short."""

    def __init__(self) -> None:
        self.live: set[int] = set()

    def kill_all(self) -> None:
        for pgid in sorted(self.live):
            _signal_group(pgid, signal.SIGKILL)
        self.live.clear()


@asynccontextmanager
async def spawned(argv: Sequence[str], child: Child, *, cwd: Path, env: dict[str, str],
                  groups: ProcessGroups) -> AsyncIterator[TransportStreams]:
    """Start ``argv`` and yield (read, write) streams of JSON-RPC messages; OSError if it cannot."""
    process = await anyio.open_process(
        list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=cwd, env=env, start_new_session=True)
    child.pid = process.pid
    groups.live.add(process.pid)
    read_in, read_out = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_in, write_out = anyio.create_memory_object_stream[SessionMessage](0)
    stderr_done = anyio.Event()
    finished = False
    async with anyio.create_task_group() as tg:
        tg.start_soon(_pump_stdout, process, read_in, child)
        tg.start_soon(_pump_stdin, process, write_out)
        tg.start_soon(_collect_stderr, process, child, stderr_done)
        try:
            yield read_out, write_in
            finished = True
        finally:
            with anyio.CancelScope(shield=True):
                await _stop(process, groups, gentle=finished)
                with anyio.move_on_after(TERM_GRACE):
                    await stderr_done.wait()
            tg.cancel_scope.cancel()
            for stream in (read_in, read_out, write_in, write_out):
                stream.close()


async def _pump_stdout(process: Process, sink: MemoryObjectSendStream[SessionMessage | Exception],
                       child: Child) -> None:
    assert process.stdout is not None
    buffer = b""
    async with sink:
        try:
            async for chunk in process.stdout:
                *lines, buffer = (buffer + chunk).split(b"\n")
                for line in lines:
                    if line.strip() and not await _deliver(line, sink, child):
                        return
                if len(buffer) > MAX_LINE_BYTES:
                    child.garbage = clip(buffer)
                    return
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            return
        child.exit_code = await _exit_code(process, TERM_GRACE)


async def _deliver(line: bytes, sink: MemoryObjectSendStream[SessionMessage | Exception],
                   child: Child) -> bool:
    """Pass one stdout line on; False ends the conversation (garbage, or nobody listening)."""
    try:
        message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValueError:
        child.garbage = clip(line)
        return False
    try:
        await sink.send(SessionMessage(message))
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        return False
    return True


async def _pump_stdin(process: Process, source: MemoryObjectReceiveStream[SessionMessage]) -> None:
    assert process.stdin is not None
    # A server that stops reading has exited or will time out: its stdout tells which.
    with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        async with source:
            async for item in source:
                data = item.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                await process.stdin.send(data.encode())


async def _collect_stderr(process: Process, child: Child, done: anyio.Event) -> None:
    assert process.stderr is not None
    buffer = b""
    try:
        async for chunk in process.stderr:  # read to the end, so the server never blocks on it
            if len(child.stderr) < STDERR_LINES:
                *lines, buffer = (buffer + chunk).split(b"\n")
                child.stderr += [clip(x) for x in lines if x.strip()][: STDERR_LINES - len(child.stderr)]
                buffer = buffer[-MAX_LINE_BYTES:]
        if buffer.strip() and len(child.stderr) < STDERR_LINES:
            child.stderr.append(clip(buffer))
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
    finally:
        done.set()


async def _stop(process: Process, groups: ProcessGroups, *, gentle: bool) -> None:
    """Close stdin; if the server does not exit, SIGTERM its group, then SIGKILL it."""
    assert process.stdin is not None
    with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        await process.stdin.aclose()
    if await _exit_code(process, STDIN_GRACE if gentle else 0.0) is None:
        _signal_group(process.pid, signal.SIGTERM)
        if await _exit_code(process, TERM_GRACE) is None:
            _signal_group(process.pid, signal.SIGKILL)
            await _exit_code(process, TERM_GRACE)
    _signal_group(process.pid, signal.SIGKILL)  # whatever the server left behind in its group
    groups.live.discard(process.pid)


async def _exit_code(process: Process, within: float) -> int | None:
    """The exit code once the process is reaped, polled (``wait()`` also waits for pipe EOF)."""
    deadline = anyio.current_time() + within
    while process.returncode is None and anyio.current_time() < deadline:
        await anyio.sleep(0.01)
    return process.returncode


def _signal_group(pgid: int, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def clip(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").rstrip()
    return text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1] + "…"
