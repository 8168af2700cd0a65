"""Surgical edits of ``[table."key"]`` sections in human-owned TOML text.

The text is split into sections at table headers; comment and blank lines right above a
header belong to that header's section. Removing a section takes its own comments with
it and leaves everyone else's in place; changing keys rewrites only those key lines.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from skillmeat.model import toml_text

_HEADER = re.compile(r"^\s*\[(?!\[)")
_KEY = re.compile(r'^\s*([A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')\s*=')


@dataclass
class Section:
    lead: list[str] = field(default_factory=list)  # comments/blank lines above the header
    header: str = ""
    body: list[str] = field(default_factory=list)

    def path(self) -> tuple[str, ...]:
        if not self.header:
            return ()
        try:
            data: Any = tomllib.loads(self.header.split("#", 1)[0].strip() + "\n")
        except tomllib.TOMLDecodeError:
            return ()
        parts: list[str] = []
        while isinstance(data, dict) and len(data) == 1:
            (key, data), = data.items()
            parts.append(key)
        return tuple(parts)

    def lines(self) -> list[str]:
        return [*self.lead, *([self.header] if self.header else []), *self.body]


def split(text: str) -> list[Section]:
    """Sections at table headers; a header's lead is the comment block right above it
    (no blank line between); other comments and blank lines stay where they are."""
    sections = [Section()]
    pending: list[str] = []
    for line in text.split("\n"):
        if _HEADER.match(line):
            cut = len(pending)
            while cut and pending[cut - 1].lstrip().startswith("#"):
                cut -= 1
            sections[-1].body += pending[:cut]
            sections.append(Section(pending[cut:], line))
            pending = []
        elif not line.strip() or line.lstrip().startswith("#"):
            pending.append(line)
        else:
            sections[-1].body += [*pending, line]
            pending = []
    sections[-1].body += pending
    return sections


def join(sections: list[Section]) -> str:
    return "\n".join(line for s in sections for line in s.lines())


def remove_table(sections: list[Section], path: tuple[str, ...]) -> bool:
    """Drop a table's header, its attached comment block and its keys; any other comment
    or blank line in it stays (moved to the section above), so no user note is lost."""
    for i, s in enumerate(sections):
        if s.path() == path and i > 0:
            spans = _key_spans(s.body)
            in_value = {n for start, (_k, end) in spans.items() for n in range(start, end)}
            kept = [ln for n, ln in enumerate(s.body) if n not in in_value]
            sections[i - 1].body += kept
            del sections[i]
            return True
    return False


def set_keys(section: Section, items: dict[str, Any]) -> None:
    """Make the section's keys exactly ``items``: changed lines rewritten, others kept."""
    spans = _key_spans(section.body)
    out: list[str] = []
    done: set[str] = set()
    i = 0
    while i < len(section.body):
        span = spans.get(i)
        if span is None:
            out.append(section.body[i])
            i += 1
            continue
        key, end = span
        if key in items and key not in done:
            old = section.body[i:end]
            new = f"{toml_text.key(key)} = {toml_text.value(items[key])}"
            out += old if _value_of(old) == items[key] else [new + _inline_comment(old)]
            done.add(key)
        i = end
    missing = [f"{toml_text.key(k)} = {toml_text.value(v)}" for k, v in items.items()
               if k not in done]
    last = max((n for n, ln in enumerate(out) if ln.strip() and not ln.lstrip().startswith("#")),
               default=-1)
    section.body = out[: last + 1] + missing + out[last + 1:]


def _key_spans(body: list[str]) -> dict[int, tuple[str, int]]:
    """Line index -> (key, end index) for each key = value, multi-line values included."""
    spans: dict[int, tuple[str, int]] = {}
    i = 0
    while i < len(body):
        m = _KEY.match(body[i])
        if not m:
            i += 1
            continue
        end = i + 1
        while end <= len(body) and _value_of(body[i:end]) is _INVALID:
            end += 1
        key = tomllib.loads(f"{m.group(1)} = 0\n").popitem()[0]
        spans[i] = (key, min(end, len(body)))
        i = max(end, i + 1)
    return spans


_INVALID = object()


def _inline_comment(lines: list[str]) -> str:
    """The ``  # note`` after a one-line value, so a changed value keeps its note."""
    if len(lines) != 1:
        return ""
    line = lines[0]
    for idx in [i for i, ch in enumerate(line) if ch == "#"]:
        if _value_of([line[:idx]]) is not _INVALID:
            return "  " + line[idx:].strip()
    return ""


def _value_of(lines: list[str]) -> Any:
    try:
        data = tomllib.loads("\n".join(lines) + "\n")
    except tomllib.TOMLDecodeError:
        return _INVALID
    return next(iter(data.values())) if len(data) == 1 else _INVALID


def find(sections: list[Section], path: tuple[str, ...]) -> Section | None:
    return next((s for s in sections if s.path() == path), None)
