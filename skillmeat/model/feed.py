"""The signed feed (``feed.json``): a vault's index of bundles, and a marketplace's.

``{"signed": {...}, "signatures": [{"keyid", "sig"}]}`` where each ``sig`` is an armored
SSHSIG (namespace ``skillmeat-feed``) over the canonical JSON of ``signed``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from skillmeat.model import strictjson
from skillmeat.model.errors import BadInputError

FORMAT = "skillmeat-feed/1"
NAMESPACE = "skillmeat-feed"
FEED_FILE = "feed.json"
MAX_FEED = 64 << 20


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 (what signatures cover)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Order versions naturally: 1.10.0 after 1.9.0, digits as numbers."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.+-]", version))


@dataclass
class Feed:
    name: str
    version: int = 0
    generated: str = ""
    expires: str = ""
    listings: list[dict[str, Any]] = field(default_factory=list)
    signatures: list[dict[str, str]] = field(default_factory=list)

    def signed(self) -> dict[str, Any]:
        return {"format": FORMAT, "name": self.name, "version": self.version,
                "generated": self.generated, "expires": self.expires, "listings": self.listings}

    def to_json(self) -> bytes:
        doc = {"signed": self.signed(), "signatures": self.signatures}
        return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()

    def find(self, name: str, version: str | None = None) -> dict[str, Any] | None:
        found = [entry for entry in self.listings if entry.get("name") == name
                 and (version is None or entry.get("version") == version)]
        if not found:
            return None
        return max(found, key=lambda e: version_key(str(e.get("version", ""))))



_LISTING_TEXT = ("id", "type", "name", "version", "description")


def _listing_problem(entry: Any) -> str:
    """What is wrong with one listing's shape ("" when nothing is)."""
    if not isinstance(entry, dict):
        return "not an object"
    for key in _LISTING_TEXT:
        value = entry.get(key, "")
        if not isinstance(value, str) or any(ord(c) < 32 or ord(c) == 127 for c in value):
            return f"'{key}' must be a one-line string"
    for key in ("tags", "artifacts"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"'{key}' must be a list of strings"
    bundle = entry.get("bundle")
    if not isinstance(bundle, dict) or not isinstance(bundle.get("url"), str) \
            or not isinstance(bundle.get("sha256"), str):
        return "'bundle' must hold a url and a sha256"
    size = bundle.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "'bundle.size' must be a non-negative integer"
    publisher = entry.get("publisher", {})
    if not isinstance(publisher, dict) or not isinstance(publisher.get("name", ""), str) \
            or any(ord(c) < 32 or ord(c) == 127 for c in publisher.get("name", "")):
        return "'publisher' must be an object with a one-line name"
    return ""


def parse(data: bytes, where: str) -> Feed:
    try:
        doc = strictjson.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInputError(f"{where}: not a valid feed ({exc})") from None
    signed = doc.get("signed") if isinstance(doc, dict) else None
    sigs = doc.get("signatures", []) if isinstance(doc, dict) else None
    if not isinstance(signed, dict) or not isinstance(sigs, list):
        raise BadInputError(f"{where}: not a feed (needs 'signed' and 'signatures')")
    if signed.get("format") != FORMAT:
        raise BadInputError(f"{where}: unsupported feed format {signed.get('format')!r}")
    version, listings = signed.get("version"), signed.get("listings")
    if not isinstance(version, int) or isinstance(version, bool) or not isinstance(listings, list):
        raise BadInputError(f"{where}: feed 'version' must be an integer and 'listings' a list")
    if not all(isinstance(s, dict) and isinstance(s.get("sig"), str) for s in sigs):
        raise BadInputError(f"{where}: malformed signatures")
    for i, entry in enumerate(listings):
        problem = _listing_problem(entry)
        if problem:
            raise BadInputError(f"{where}: listings[{i}]: {problem}",
                                hint="the feed is damaged; ask its publisher to publish again")
    return Feed(str(signed.get("name", "")), version, str(signed.get("generated", "")),
                str(signed.get("expires", "")), listings, sigs)
