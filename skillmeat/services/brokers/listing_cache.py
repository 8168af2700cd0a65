"""Listings kept as JSON in a broker's cache directory, so ``listings()`` needs no network."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from skillmeat.services.brokers.base import MarketListing

_FIELDS = tuple(f.name for f in dataclasses.fields(MarketListing))


def to_json(listing: MarketListing) -> dict[str, Any]:
    """The listing's fields as plain JSON values (tuples as lists)."""
    return {name: list(v) if isinstance(v := getattr(listing, name), tuple) else v
            for name in _FIELDS}


def from_json(data: dict[str, Any], marketplace: str) -> MarketListing:
    kept: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                            for k, v in data.items() if k in _FIELDS}
    kept["marketplace"] = marketplace
    return MarketListing(**kept)


def read(path: Path, fmt: int, source: str) -> dict[str, Any] | None:
    """The cached document, or None when there is none, it is unreadable, of another format
    or written for another source."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (not isinstance(doc, dict) or doc.get("format") != fmt or doc.get("source") != source
            or not isinstance(doc.get("listings"), list)):
        return None
    return doc


def write(path: Path, doc: dict[str, Any]) -> None:
    """Write atomically (a reader sees the old document or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
