"""YAML frontmatter of SKILL.md, command and agent files, parsed the way real files need.

Real files are messy: invalid YAML (an unquoted ``argument-hint: [x] | y``), no
frontmatter at all, a byte-order mark, CRLF line ends. Each is a warning with the
file and line; the parse never raises and never drops the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from skillmeat.model.diagnostics import Diagnostic, warning

_BOM = "\ufeff"
_BLOCK = re.compile(r"^([|>])[-+]?\d?\s*(#.*)?$")
_KEY_LINE = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*:(.*)$")


@dataclass(frozen=True)
class Frontmatter:
    data: dict[str, Any]
    body: str
    key_lines: dict[str, int] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()
    present: bool = False

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)

    def text(self, key: str) -> str:
        """A field as display text ('' when missing; lists joined)."""
        value = self.data.get(key)
        if value is None:
            return ""
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value).strip()


def decode(raw: bytes, path: str) -> tuple[str, list[Diagnostic]]:
    """Bytes to text, reporting a BOM, CRLF line ends and invalid UTF-8."""
    diags: list[Diagnostic] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diags.append(warning(path, line, "encoding", "not valid UTF-8; undecodable bytes replaced"))
        text = raw.decode("utf-8", errors="replace")
    if text.startswith(_BOM):
        diags.append(warning(path, 1, "bom", "file starts with a byte-order mark"))
        text = text[1:]
    if "\r\n" in text:
        diags.append(warning(path, 1, "crlf", "CRLF line endings"))
        text = text.replace("\r\n", "\n")
    return text, diags


def parse(raw: bytes | str, path: str) -> Frontmatter:
    if isinstance(raw, bytes):
        text, diags = decode(raw, path)
    else:
        text, diags = raw, []
    if not text.startswith("---") or text[3:4] not in ("\n", ""):
        diags.append(warning(path, 1, "no-frontmatter", "no YAML frontmatter"))
        return Frontmatter({}, text, {}, tuple(diags), present=False)
    split = _split(text)
    if split is None:
        diags.append(warning(path, 1, "unterminated", "frontmatter has no closing '---' line"))
        return Frontmatter({}, text, {}, tuple(diags), present=False)
    yaml_text, body = split
    lines = yaml_text.split("\n") if yaml_text is not None else []
    key_lines = _key_lines(lines)
    data = _load_yaml(yaml_text or "", path, diags)
    if data is None:
        data = _lenient(lines)
    return Frontmatter(data, body, key_lines, tuple(diags), present=True)


def _split(text: str) -> tuple[str | None, str] | None:
    """The lines between the opening line and the closing ``---`` (or ``...``) line (None when
    there are none) and the body after it; None when nothing closes the frontmatter. Reads only
    up to the closing line: a long body is sliced, never split into lines."""
    start = text.find("\n") + 1
    if not start:
        return None
    first = start
    while start <= len(text):
        nl = text.find("\n", start)
        stop = len(text) if nl < 0 else nl
        if text[start:stop].rstrip() in ("---", "..."):
            inner = text[first:start - 1] if start > first else None
            return inner, "" if nl < 0 else text[nl + 1:]
        if nl < 0:
            return None
        start = nl + 1
    return None


def _key_lines(lines: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, line in enumerate(lines):
        m = _KEY_LINE.match(line)
        if m and m.group(1) not in out:
            out[m.group(1)] = i + 2  # 1-based, after the opening '---'
    return out


def _load_yaml(text: str, path: str, diags: list[Diagnostic]) -> dict[str, Any] | None:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = (mark.line + 2) if mark is not None else 2
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        diags.append(
            warning(path, line, "invalid-yaml", f"invalid YAML frontmatter ({problem}); "
                    "read leniently, quote the value to fix it")
        )
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        diags.append(warning(path, 2, "not-a-mapping", "frontmatter is not a key: value mapping"))
        return {}
    return {str(k): v for k, v in data.items()}


def _lenient(lines: list[str]) -> dict[str, Any]:
    """Top-level ``key: value`` pairs, for frontmatter YAML cannot read."""
    out: dict[str, Any] = {}
    key: str | None = None
    sep = " "
    for line in lines:
        m = _KEY_LINE.match(line)
        if m:
            key, value = m.group(1), m.group(2).strip()
            block = _BLOCK.match(value)
            sep = "\n" if block and block.group(1) == "|" else " "
            out[key] = "" if block else _unquote(value)
        elif key is not None and line.startswith((" ", "\t")) and line.strip():
            prev = out[key]
            if isinstance(prev, str):
                out[key] = f"{prev}{sep if prev else ''}{line.strip()}"
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
