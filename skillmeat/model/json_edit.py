"""Surgical edits of members of one object in JSON text (Claude Code's config files).

Only the members that change are rewritten: every other byte stays as it was, so the
user's formatting, key order and unknown keys survive. New text follows the file's own
style (indent unit, separators, ASCII escaping); Claude Code itself writes 2 spaces. Every
edit is checked by parsing the result; should a surgical edit ever disagree with the edited
data, the whole text is rewritten in the detected style instead.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REMOVE: Any = object()  # a change that deletes the member
_WS = re.compile(r"[ \t\n\r]*")
_NON_ASCII_ESCAPE = re.compile(r"\\u(?:00[89a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]|[1-9a-fA-F][0-9a-fA-F]{2})")
_DECODER = json.JSONDecoder()
_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


class JsonShapeError(ValueError):
    """A key on the path holds something other than an object."""

    def __init__(self, path: Sequence[str]) -> None:
        super().__init__(".".join(path))
        self.path = tuple(path)


@dataclass(frozen=True)
class Style:
    indent: str | None = "  "  # None: everything on one line
    key_sep: str = ": "
    item_sep: str = ", "  # between members on one line
    ascii_only: bool = False
    newline: str = "\n"

    def dumps(self, value: Any, base: str = "") -> str:
        """``value`` as JSON text, continuation lines indented by ``base``."""
        if self.indent is None:
            return json.dumps(value, separators=(self.item_sep, self.key_sep),
                              ensure_ascii=self.ascii_only)
        text = json.dumps(value, indent=self.indent, separators=(",", self.key_sep),
                          ensure_ascii=self.ascii_only)
        return text.replace("\n", self.newline + base)  # strings never hold a raw newline


@dataclass(frozen=True)
class _Member:
    key: str
    key_start: int  # the opening quote of the key
    key_end: int  # just past the closing quote
    value_start: int
    value_end: int


def parse_object(text: str) -> dict[str, Any]:
    """The top-level object of ``text`` (blank text is an empty object); ValueError otherwise."""
    body = text.removeprefix("\ufeff")
    if not body.strip():
        return {}
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError(f"the top level is a JSON {type(data).__name__}, not an object")
    return data


def lookup(data: dict[str, Any], path: Sequence[str]) -> dict[str, Any] | None:
    """The object at ``path`` (None when a key is absent); JsonShapeError for a non-object."""
    node: Any = data
    for depth, key in enumerate(path):
        node = node.get(key)
        if node is None:
            return None
        if not isinstance(node, dict):
            raise JsonShapeError(path[: depth + 1])
    return dict(node)


def apply_edits(text: str, path: Sequence[str], changes: Mapping[str, Any]) -> str:
    """``text`` with members of the object at ``path`` set to new values, or removed (REMOVE).

    Missing objects along the path are created; a member whose value is already equal keeps
    its bytes, so applying the same edits twice changes nothing.
    """
    data = parse_object(text)
    lookup(data, path)  # a non-object on the path is refused before anything is edited
    expected = data
    new = text if text.strip() else ""
    for key, value in changes.items():
        expected = _edited(expected, path, key, value)
        new = _edit_text(new, path, key, value)
    if not _agrees(new if new != text else None, data, expected, path):
        new = _rewrite(text, expected)
    return new


def _agrees(new: str | None, data: dict[str, Any], expected: dict[str, Any],
            path: Sequence[str]) -> bool:
    """Whether the edited text holds the expected data, key order along the path included."""
    got = data if new is None else parse_object(new)
    if got != expected:
        return False
    for depth in range(len(path) + 1):
        a, b = lookup(got, path[:depth]), lookup(expected, path[:depth])
        if list(a or ()) != list(b or ()):
            return False
    return True


def detect_style(text: str) -> Style:
    """The style of ``text``'s top-level object (Claude's 2-space style for an empty one)."""
    root = _root(text)
    if root is None:
        return Style()
    members, _ = _members(text, root, limit=2)  # the style shows in the first two
    if not members:
        return Style()
    first = members[0]
    lead = text[root + 1:first.key_start]
    key_sep = text[first.key_end:first.value_start]
    if "\n" in key_sep or "\r" in key_sep:
        key_sep = ": "
    ascii_only = text.isascii() and bool(_NON_ASCII_ESCAPE.search(text))
    if "\n" in lead:
        unit = lead.rsplit("\n", 1)[1][len(_line_indent(text, root)):]
        return Style(unit, key_sep, ", ", ascii_only, "\r\n" if "\r\n" in lead else "\n")
    item_sep = ", " if key_sep.endswith(" ") else ","
    if len(members) > 1:
        between = text[first.value_end:members[1].key_start]
        item_sep = between if between.strip() == "," else item_sep
    return Style(None, key_sep, item_sep, ascii_only)


def text_diff(old: str, new: str, label: str) -> str:
    """A unified diff of two versions of one file (fast on big files with small changes)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    start = max(0, head - 3)
    a_mid, b_mid = a[start:len(a) - max(0, tail - 3)], b[start:len(b) - max(0, tail - 3)]
    out = []
    for line in difflib.unified_diff(a_mid, b_mid, label if old else "/dev/null",
                                     label if new else "/dev/null"):
        match = _HUNK.match(line)
        if match:
            line = _shift_hunk(match, start) + line[match.end():]
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _shift_hunk(match: re.Match[str], offset: int) -> str:
    a, a_len, b, b_len = match.groups()
    return f"@@ -{int(a) + offset}{a_len or ''} +{int(b) + offset}{b_len or ''} @@"


# --- the data an edit should produce ---

def _edited(data: dict[str, Any], path: Sequence[str], key: str, value: Any) -> dict[str, Any]:
    if value is REMOVE and lookup(data, path) is None:
        return data
    out = dict(data)
    node = out
    for part in path:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, dict) else {}
        node = node[part]
    if value is REMOVE:
        node.pop(key, None)
    elif key not in node or not _same(node[key], value):
        node[key] = value
    return out


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _rewrite(text: str, data: dict[str, Any]) -> str:
    """The whole text in its detected style, keeping what surrounds the top-level object."""
    root = _root(text)
    if root is None:
        return Style().dumps(data)
    _, end = _members(text, root)
    return text[:root] + detect_style(text).dumps(data) + text[end:]


# --- text surgery ---

def _edit_text(text: str, path: Sequence[str], key: str, value: Any) -> str:
    if not text:
        if value is REMOVE:
            return text
        text = "{}"
    root = _root(text)
    assert root is not None  # parse_object accepted the text
    start, depth = _locate(text, root, path)
    if depth < len(path):
        if value is REMOVE:
            return text
        nested: Any = {key: value}
        for part in reversed(path[depth + 1:]):
            nested = {part: nested}
        return _set(text, start, path[depth], nested)
    if value is REMOVE:
        return _delete(text, start, key)
    return _set(text, start, key, value)


def _root(text: str) -> int | None:
    at = _skip(text, 1 if text.startswith("\ufeff") else 0)
    return at if at < len(text) and text[at] == "{" else None


def _locate(text: str, start: int, path: Sequence[str]) -> tuple[int, int]:
    """The deepest object along ``path`` that exists, and how many keys of the path it covers."""
    for depth, key in enumerate(path):
        found = [m for m in _members(text, start)[0] if m.key == key]
        if not found:
            return start, depth
        start = found[-1].value_start  # duplicate keys: the last one counts, as in json.loads
    return start, len(path)


def _set(text: str, start: int, key: str, value: Any) -> str:
    style = detect_style(text)
    members, end = _members(text, start)
    found = [m for m in members if m.key == key]
    if found:
        m = found[-1]
        if _same(_DECODER.raw_decode(text, m.value_start)[0], value):
            return text
        dumped = style.dumps(value, _line_indent(text, m.key_start))
        return text[:m.value_start] + dumped + text[m.value_end:]
    name = json.dumps(key, ensure_ascii=style.ascii_only)
    if not members:
        outer = _line_indent(text, start)
        if style.indent is None:
            return text[:start] + "{" + name + style.key_sep + style.dumps(value) + "}" + text[end:]
        inner = outer + style.indent
        nl = style.newline
        body = f"{{{nl}{inner}{name}{style.key_sep}{style.dumps(value, inner)}{nl}{outer}}}"
        return text[:start] + body + text[end:]
    last = members[-1]
    lead = text[(members[-2].value_end if len(members) > 1 else start + 1):last.key_start]
    if "\n" in lead:
        indent = _line_indent(text, last.key_start)
        insert = "," + style.newline + indent + name + style.key_sep + style.dumps(value, indent)
    else:  # an object written on one line stays on one line
        sep = lead if len(members) > 1 and lead.strip() == "," else style.item_sep
        flat = Style(None, style.key_sep, style.item_sep, style.ascii_only)
        insert = sep + name + style.key_sep + flat.dumps(value)
    return text[:last.value_end] + insert + text[last.value_end:]


def _delete(text: str, start: int, key: str) -> str:
    members, end = _members(text, start)
    for i in range(len(members) - 1, -1, -1):
        if members[i].key != key:
            continue
        if len(members) == 1:
            return text[:start + 1] + "}" + text[end:]
        if i == 0:
            return text[:members[0].key_start] + text[members[1].key_start:]
        return text[:members[i - 1].value_end] + text[members[i].value_end:]
    return text


def _members(text: str, start: int, limit: int = 0) -> tuple[list[_Member], int]:
    """The members of the object whose ``{`` is at ``start``, and the index past its ``}``
    (with a ``limit``, the first members only, and -1)."""
    at = _skip(text, start + 1)
    out: list[_Member] = []
    if text[at] == "}":
        return out, at + 1
    while not limit or len(out) < limit:
        key, key_end = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
        colon = _skip(text, key_end)
        value_start = _skip(text, colon + 1)
        _, value_end = _DECODER.raw_decode(text, value_start)
        out.append(_Member(key, at, key_end, value_start, value_end))
        at = _skip(text, value_end)
        if text[at] == "}":
            return out, at + 1
        at = _skip(text, at + 1)
    return out, -1


def _skip(text: str, at: int) -> int:
    match = _WS.match(text, at)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _line_indent(text: str, at: int) -> str:
    line = text.rfind("\n", 0, at) + 1
    match = _WS.match(text, line)
    return text[line:min(match.end(), at)] if match else ""
