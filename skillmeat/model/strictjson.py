"""JSON from others (bundle manifests, feeds): strict UTF-8, duplicate keys refused."""

from __future__ import annotations

import json
from typing import Any


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def loads(data: bytes) -> Any:
    """Parse ``data``; UnicodeDecodeError or ValueError (bad JSON, a duplicate key) otherwise."""
    return json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
