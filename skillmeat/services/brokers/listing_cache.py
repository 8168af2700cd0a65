"""Listings kept as JSON in a broker's cache directory, so ``listings()`` needs no network."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skillmeat.model.errors import SkillmeatError
from skillmeat.services.brokers.base import MarketListing
from skillmeat.store.files import atomic_write

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
    atomic_write(path, json.dumps(doc, indent=1, sort_keys=True) + "\n", sync=False)


def listings(name: str, cache: Path, read_cache: Callable[[], dict[str, Any] | None],
             refresh: Callable[[], object]) -> list[MarketListing]:
    """The cached listings, refreshing first when there are none yet."""
    doc = read_cache()
    if doc is None:
        refresh()
        doc = read_cache()
        if doc is None:
            raise SkillmeatError(f"marketplace {name}: its listings cannot be cached in {cache}")
    return [from_json(d, name) for d in doc["listings"]]
