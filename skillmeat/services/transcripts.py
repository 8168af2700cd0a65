"""Real invocations of skills, subagents and slash commands, read from Claude Code's transcripts.

What counts as an invocation (sources in docs/analytics.md):

- an assistant ``tool_use`` of the ``Skill`` tool: ``input.skill`` (``input.command`` before 2.0.x
  renamed it);
- a ``tool_use`` of the ``Agent`` tool (called ``Task`` before 2.1.63): ``input.subagent_type``;
- a ``tool_use`` of the old ``SlashCommand`` tool: the first word of ``input.command``;
- a user message that starts with the ``<command-name>/foo</command-name>`` envelope Claude Code
  writes when the user types ``/foo``;
- a subagent transcript's ``agent-*.meta.json`` ``agentType``, when the tool call that started it
  is missing (same key as that call, so it is never counted twice).

Each invocation has a key that stays the same however often the files are read: the tool-use id
(unique per call, and kept when Claude Code copies history into a resumed session) or the user
message's uuid.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.events import Event
from skillmeat.store.events import EventStore
from skillmeat.store.transcripts import TranscriptFile, read_records, transcript_files

SKILL_TOOLS = frozenset({"Skill"})
AGENT_TOOLS = frozenset({"Agent", "Task"})
SLASH_TOOLS = frozenset({"SlashCommand"})
# Claude Code's own interactive commands and subagents: not artifacts anyone deploys.
BUILTIN_COMMANDS = frozenset({
    "add-dir", "agents", "bashes", "bug", "clear", "compact", "config", "context", "copy", "cost",
    "doctor", "effort", "exit", "export", "extra-usage", "fast", "feedback", "focus", "help", "hooks",
    "ide", "insights", "install-github-app", "login", "logout", "mcp", "memory", "model",
    "output-style", "permissions", "plugin", "plugins", "privacy-settings", "quit", "recap",
    "release-notes", "reload-plugins", "rename", "resume", "rewind", "sandbox", "skills", "status",
    "statusline", "tasks", "terminal-setup", "theme", "todos", "tui", "undo", "upgrade", "usage",
    "vim",
})
BUILTIN_AGENTS = frozenset({"general-purpose", "Explore", "Plan", "statusline-setup",
                            "output-style-setup", "claude-code-guide"})
_COMMAND_NAME = re.compile(r"<command-name>\s*/?([^<\s]+)\s*</command-name>")
_BOTH = ("skill", "command")  # since skills and commands merged, /foo and Skill(foo) may be either


@dataclass(frozen=True)
class ImportResult:
    root: str
    files: int
    records: int
    malformed: int
    invocations: int
    added: int
    duplicates: int
    builtin: int

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root, "files": self.files, "records": self.records,
                "malformed": self.malformed, "invocations": self.invocations, "added": self.added,
                "duplicates": self.duplicates, "builtin_skipped": self.builtin}


@dataclass
class _Tally:
    records: int = 0
    malformed: int = 0
    builtin: int = 0
    found: dict[str, Event] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        assert event.dedup_key is not None
        self.found.setdefault(event.dedup_key, event)  # a block repeated on several lines: once


@dataclass
class _Context:
    """What one file's lines share: the session, the subagent type, the last cwd seen."""

    file: TranscriptFile
    agent_type: str = ""
    cwd: str = ""
    first_time: float | None = None
    first_cwd: str = ""


def import_into(store: EventStore, root: Path,
                progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Read every transcript under ``root`` and store the invocations not stored before."""
    files = transcript_files(root)
    tally = _Tally()
    for done, tf in enumerate(files, 1):
        _scan_file(tf, tally)
        if progress:
            progress(done, len(files))
    added = store.record_many(tally.found.values())
    return ImportResult(str(root), len(files), tally.records, tally.malformed, len(tally.found),
                        added, len(tally.found) - added, tally.builtin)


def _scan_file(tf: TranscriptFile, tally: _Tally) -> None:
    meta = tf.meta or {}
    agent_type = meta.get("agentType")
    ctx = _Context(tf, agent_type if isinstance(agent_type, str) else "")
    tally.malformed += tf.meta_malformed
    for lineno, record in read_records(tf.path):
        if record is None:
            tally.malformed += 1
            continue
        tally.records += 1
        for name, types, via, key, when in _invocations(record, ctx, lineno):
            _keep(tally, ctx, name, types, via, key, when)
    if ctx.agent_type:
        _keep_meta(tally, ctx, meta)


def _keep_meta(tally: _Tally, ctx: _Context, meta: dict[str, Any]) -> None:
    tool_use = meta.get("toolUseId")
    key = f"tool:{tool_use}" if isinstance(tool_use, str) and tool_use else \
        f"subagent:{ctx.file.session}:{ctx.file.agent_id}"
    when = ctx.first_time if ctx.first_time is not None else ctx.file.mtime
    ctx.cwd = ctx.first_cwd
    outer = ctx.agent_type
    ctx.agent_type = ""  # the subagent was started from outside itself
    _keep(tally, ctx, outer, ("agent",), "subagent-meta", key, when)


def _keep(tally: _Tally, ctx: _Context, name: str, types: tuple[str, ...], via: str, key: str,
          when: float) -> None:
    builtin = BUILTIN_AGENTS if types == ("agent",) else BUILTIN_COMMANDS
    if name in builtin:
        tally.builtin += 1
        return
    detail: dict[str, Any] = {"types": list(types), "via": via, "session": ctx.file.session}
    if ctx.agent_type:
        detail["in_subagent"] = ctx.agent_type
    tally.add(Event(when, "invoke", name, project=ctx.cwd, source="transcript", detail=detail,
                    dedup_key=f"cc:{key}"))


_Found = tuple[str, tuple[str, ...], str, str, float]


def _invocations(record: dict[str, Any], ctx: _Context, lineno: int) -> Iterator[_Found]:
    cwd = record.get("cwd")
    if isinstance(cwd, str) and cwd:
        ctx.cwd = cwd
        ctx.first_cwd = ctx.first_cwd or cwd
    when = _time(record.get("timestamp"))
    if when is not None and ctx.first_time is None:
        ctx.first_time = when
    when = ctx.file.mtime if when is None else when
    message = record.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    uuid = record.get("uuid")
    where = f"msg:{uuid}" if isinstance(uuid, str) and uuid else \
        f"line:{ctx.file.session}/{ctx.file.path.name}:{lineno}"
    if record.get("type") == "assistant" and isinstance(content, list):
        for i, (name, types, via, tool_id) in enumerate(_tool_calls(content)):
            yield name, types, via, f"tool:{tool_id}" if tool_id else f"{where}:{i}", when
    elif record.get("type") == "user":
        for name in _typed_commands(content):
            yield name, _BOTH, "slash", f"{where}:slash", when


def _tool_calls(content: list[Any]) -> Iterator[tuple[str, tuple[str, ...], str, str]]:
    for item in content:
        if not isinstance(item, dict) or item.get("type") != "tool_use":
            continue
        tool, args, tool_id = item.get("name"), item.get("input"), item.get("id")
        found = _called(tool, args if isinstance(args, dict) else {})
        if found is not None:
            yield *found, tool_id if isinstance(tool_id, str) else ""


def _called(tool: object, args: dict[str, Any]) -> tuple[str, tuple[str, ...], str] | None:
    if tool in SKILL_TOOLS:
        name = _text(args.get("skill")) or _text(args.get("command"))
        return (name.lstrip("/"), _BOTH, "Skill") if name.lstrip("/") else None
    if tool in AGENT_TOOLS:
        return _text(args.get("subagent_type")) or "general-purpose", ("agent",), str(tool)
    if tool in SLASH_TOOLS:
        words = _text(args.get("command")).split()
        name = words[0].lstrip("/") if words else ""
        return (name, _BOTH, "SlashCommand") if name else None
    return None


def _typed_commands(content: object) -> Iterable[str]:
    """``/foo`` typed by the user: the text starts with Claude Code's command envelope (a
    tool result or pasted text that merely mentions the tags does not count)."""
    texts: list[str] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        texts.extend(i["text"] for i in content
                     if isinstance(i, dict) and i.get("type") == "text" and isinstance(i.get("text"), str))
    for text in texts:
        if text.lstrip().startswith("<command-"):
            match = _COMMAND_NAME.search(text)
            if match:
                yield match.group(1)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _time(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1000 if value > 1e11 else float(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()
