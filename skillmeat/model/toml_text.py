"""Render small TOML values and tables as text (for generated files and fast appends)."""

from __future__ import annotations

import json
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key(text: str) -> str:
    return text if _BARE_KEY.match(text) else json.dumps(text, ensure_ascii=False)


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        # A JSON string is a valid TOML basic string (same escapes).
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot render {type(v).__name__} as TOML")


def table(header: list[str], items: dict[str, Any]) -> str:
    lines = ["[" + ".".join(key(h) for h in header) + "]"]
    lines += [f"{key(k)} = {value(v)}" for k, v in items.items() if v is not None]
    return "\n".join(lines) + "\n"
