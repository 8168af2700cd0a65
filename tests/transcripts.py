"""Write Claude Code session transcripts the way Claude Code does (see docs/analytics.md).

Record shapes follow public samples: user and assistant lines carry parentUuid, isSidechain,
userType, cwd, sessionId, version, gitBranch, type, message, uuid and timestamp; a typed
``/foo`` is a user message starting with the ``<command-name>`` envelope; tool calls are
assistant ``message.content[]`` items ``{"type": "tool_use", "id", "name", "input"}``.
"""

from __future__ import annotations

import json
import re
import uuid as uuidlib
from pathlib import Path
from typing import Any

SESSION = "9d77ea9c-a7a5-4b13-a590-baaf81427e77"


def encode(cwd: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def _base(cwd: str | None, session: str, ts: str, kind: str, uuid: str | None) -> dict[str, Any]:
    rec: dict[str, Any] = {"parentUuid": None, "isSidechain": False, "userType": "external",
                           "sessionId": session, "version": "2.1.70", "gitBranch": "main",
                           "type": kind, "uuid": uuid or str(uuidlib.uuid4()), "timestamp": ts}
    if cwd is not None:
        rec["cwd"] = cwd
    return rec


def tool_use(name: str, tool_input: dict[str, Any], *, cwd: str | None = "/work/app",
             session: str = SESSION, ts: str = "2026-05-01T10:00:00.000Z", tool_id: str | None = None,
             uuid: str | None = None) -> dict[str, Any]:
    rec = _base(cwd, session, ts, "assistant", uuid)
    rec["requestId"] = "req_" + uuidlib.uuid4().hex[:20]
    rec["message"] = {
        "model": "claude-opus-4-7", "id": "msg_" + uuidlib.uuid4().hex[:20], "type": "message",
        "role": "assistant", "stop_reason": "tool_use", "stop_sequence": None,
        "content": [{"type": "tool_use", "id": tool_id or "toolu_" + uuidlib.uuid4().hex[:22],
                     "name": name, "input": tool_input}],
        "usage": {"input_tokens": 3, "output_tokens": 40, "cache_read_input_tokens": 9000},
    }
    return rec


def typed_command(name: str, args: str = "", *, cwd: str | None = "/work/app", session: str = SESSION,
                  ts: str = "2026-05-01T09:59:00.000Z", uuid: str | None = None) -> dict[str, Any]:
    rec = _base(cwd, session, ts, "user", uuid)
    rec["message"] = {"role": "user", "content": f"<command-name>/{name}</command-name>\n"
                      f"<command-message>{name}</command-message>\n<command-args>{args}</command-args>"}
    return rec


def user_text(text: str, *, cwd: str = "/work/app", session: str = SESSION,
              ts: str = "2026-05-01T09:58:00.000Z") -> dict[str, Any]:
    rec = _base(cwd, session, ts, "user", None)
    rec["message"] = {"role": "user", "content": text}
    return rec


def tool_result(text: str, *, cwd: str = "/work/app", session: str = SESSION) -> dict[str, Any]:
    rec = _base(cwd, session, "2026-05-01T10:00:01.000Z", "user", None)
    rec["message"] = {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_x", "content": text}]}
    return rec


def noise(session: str = SESSION) -> list[dict[str, Any]]:
    """Records a transcript also holds: none of them is an invocation."""
    return [
        {"type": "permission-mode", "permissionMode": "default", "sessionId": session},
        {"type": "file-history-snapshot", "messageId": str(uuidlib.uuid4()),
         "snapshot": {"trackedFileBackups": {}, "timestamp": "2026-05-01T09:57:00.000Z"},
         "isSnapshotUpdate": False},
        {"type": "summary", "summary": "Refactor the parser", "leafUuid": str(uuidlib.uuid4())},
        {"type": "system", "subtype": "compact_boundary", "content": "Conversation compacted",
         "sessionId": session, "timestamp": "2026-05-01T09:57:30.000Z"},
        {"type": "progress", "data": {"type": "hook_progress", "hookEvent": "PreToolUse"},
         "sessionId": session, "timestamp": "2026-05-01T09:57:40.000Z"},
    ]


def write_session(root: Path, records: list[dict[str, Any]], *, cwd: str = "/work/app",
                  session: str = SESSION, raw: tuple[bytes, ...] = ()) -> Path:
    path = root / encode(cwd) / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as fh:
        for rec in records:
            fh.write(json.dumps(rec).encode() + b"\n")
        for line in raw:
            fh.write(line + b"\n")
    return path


def write_subagent(root: Path, records: list[dict[str, Any]], *, agent_id: str, agent_type: str,
                   tool_use_id: str | None, cwd: str = "/work/app", session: str = SESSION) -> Path:
    sub = root / encode(cwd) / session / "subagents"
    sub.mkdir(parents=True, exist_ok=True)
    path = sub / f"agent-{agent_id}.jsonl"
    for rec in records:
        rec.update(isSidechain=True, agentId=agent_id)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    meta: dict[str, Any] = {"agentType": agent_type, "description": "Review the diff"}
    if tool_use_id:
        meta["toolUseId"] = tool_use_id
    (sub / f"agent-{agent_id}.meta.json").write_text(json.dumps(meta))
    return path
