"""Claude Code's local session transcripts, read-only.

Layout (see docs/analytics.md for the sources)::

    ~/.claude/projects/<encoded cwd>/<session-id>.jsonl                      a session
    ~/.claude/projects/<encoded cwd>/<session-id>/subagents/agent-<id>.jsonl  its subagents
    ~/.claude/projects/<encoded cwd>/<session-id>/subagents/agent-<id>.meta.json  {"agentType", ...}

One JSON record a line. This module only finds the files and decodes lines; what a record
means is the analytics service's business.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def default_root() -> Path:
    """Where Claude Code keeps transcripts: ``$CLAUDE_CONFIG_DIR/projects`` or ``~/.claude/projects``."""
    base = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".claude") / "projects"


@dataclass(frozen=True)
class TranscriptFile:
    path: Path
    session: str  # the session id the layout gives (file stem, or the subagent's parent directory)
    mtime: float
    agent_id: str = ""  # subagent transcripts only
    meta: dict[str, Any] | None = None  # the subagent's agent-<id>.meta.json, when readable
    meta_malformed: bool = False


def transcript_files(root: Path) -> list[TranscriptFile]:
    """Every session and subagent transcript under ``root``, in a stable order."""
    if not root.is_dir():
        return []
    out: list[TranscriptFile] = []
    for project in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(project.glob("*.jsonl")):
            out.extend(_file(path, path.stem))
            sub = project / path.stem / "subagents"
            for agent in sorted(sub.rglob("agent-*.jsonl")) if sub.is_dir() else ():
                out.extend(_subagent(agent, path.stem))
        out.extend(_orphan_subagents(project))
    return out


def _orphan_subagents(project: Path) -> list[TranscriptFile]:
    """Subagent transcripts whose session file is gone (Claude Code cleans old sessions up)."""
    out: list[TranscriptFile] = []
    for sub in sorted(project.glob("*/subagents")):
        session = sub.parent.name
        if not (project / f"{session}.jsonl").exists():
            for agent in sorted(sub.rglob("agent-*.jsonl")):
                out.extend(_subagent(agent, session))
    return out


def _file(path: Path, session: str) -> list[TranscriptFile]:
    try:
        return [TranscriptFile(path, session, path.stat().st_mtime)]
    except OSError:
        return []


def _subagent(path: Path, session: str) -> list[TranscriptFile]:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return []
    agent_id = path.name[len("agent-"): -len(".jsonl")]
    meta_path = path.with_name(f"agent-{agent_id}.meta.json")
    meta, bad = _read_meta(meta_path)
    return [TranscriptFile(path, session, mtime, agent_id, meta, bad)]


def _read_meta(path: Path) -> tuple[dict[str, Any] | None, bool]:
    try:
        value = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None, False
    except (OSError, ValueError):
        return None, True
    return (value, False) if isinstance(value, dict) else (None, True)


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line number, record) per non-blank line; the record is None for a line that is not a
    JSON object (a partly written last line, a corrupt one). A vanished file yields nothing."""
    try:
        with open(path, "rb") as fh:
            yield from _decode(fh)
    except OSError:
        return


def _decode(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any] | None]]:
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError:  # includes UnicodeDecodeError
            yield lineno, None
            continue
        yield lineno, value if isinstance(value, dict) else None
