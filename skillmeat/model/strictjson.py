"""JSON from others (bundle manifests, feeds): strict UTF-8, no duplicate keys, no lone
surrogates, bounded nesting — every problem a ValueError."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64


SMALL = 4 << 20  # documents up to this size get the full walk (depth and every string)
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key '{dup}'")
    return out


def loads(data: bytes) -> Any:
    """Parse ``data``; UnicodeDecodeError or ValueError (bad JSON, a duplicate key, ...) otherwise."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    # Decoded UTF-8 holds no surrogates: only a \\uD8xx-\\uDFxx escape can make one, so big
    # documents without one skip the walk (their depth is bounded by the parser's recursion).
    if len(data) <= SMALL or _SURROGATE.search(data):
        _check(value)
    return value


def _check(value: Any) -> None:
    """Every string (keys too) encodable as UTF-8, and nesting at most MAX_DEPTH deep."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, str):
            _utf8(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _utf8(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate (not valid Unicode)") from None
