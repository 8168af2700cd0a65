"""The signed feed (``feed.json``): a vault's index of bundles, and a marketplace's.

``{"signed": {...}, "signatures": [{"keyid", "sig"}]}`` where each ``sig`` is an armored
SSHSIG (namespace ``skillmeat-feed``) over the canonical JSON of ``signed``.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any

from skillmeat.model import strictjson
from skillmeat.model.errors import BadInputError

FORMAT = "skillmeat-feed/1"
NAMESPACE = "skillmeat-feed"
FEED_FILE = "feed.json"
MAX_FEED = 128 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
STATUSES = ("published", "draft", "yanked")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


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
    keys: list[str] = field(default_factory=list)  # the marketplace's key set (OpenSSH lines)
    threshold: int = 1  # distinct keys of that set a new version needs
    # "keys"/"threshold" written out by the signer even at their defaults (kept as read, so
    # the canonical bytes, and so the signatures, survive a parse)
    explicit: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    # the exact bytes of "signed" as read, when the file was laid out as to_json writes it
    # (then signatures are checked over them, with no re-serialising); None otherwise
    raw_signed: bytes | None = field(default=None, repr=False, compare=False)

    def signed(self) -> dict[str, Any]:
        """What the signatures cover; ``keys``/``threshold`` only when set (older feeds keep
        their exact canonical bytes)."""
        out: dict[str, Any] = {
            "format": FORMAT, "name": self.name, "version": self.version,
            "generated": self.generated, "expires": self.expires, "listings": self.listings}
        if self.keys or "keys" in self.explicit:
            out["keys"] = self.keys
        if self.threshold != 1 or "threshold" in self.explicit:
            out["threshold"] = self.threshold
        return out

    def to_json(self) -> bytes:
        doc = {"signed": self.signed(), "signatures": self.signatures}
        # compact: a feed of 100,000 listings stays well under MAX_FEED
        return (json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                + "\n").encode()

    def find(self, name: str, version: str | None = None) -> dict[str, Any] | None:
        found = [entry for entry in self.listings if entry.get("name") == name
                 and (version is None or entry.get("version") == version)]
        if not found:
            return None
        return max(found, key=lambda e: version_key(str(e.get("version", ""))))


def parse_time(text: str) -> datetime.datetime | None:
    """A feed timestamp ("YYYY-MM-DDTHH:MM:SSZ", UTC) or None when missing or malformed."""
    try:
        return datetime.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        return None


def format_time(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime(TIME_FORMAT)


def expires_at(feed: Feed) -> datetime.datetime | None:
    """When the feed stops being valid (None when it says nothing readable)."""
    return parse_time(feed.expires)


_LISTING_TEXT = ("id", "type", "name", "version", "description", "reason")


def _listing_problem(entry: Any) -> str:
    """What is wrong with one listing's shape ("" when nothing is)."""
    if not isinstance(entry, dict):
        return "not an object"
    for key in _LISTING_TEXT:
        value = entry.get(key, "")
        if not isinstance(value, str) or _CONTROL.search(value):
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
            or _CONTROL.search(publisher.get("name", "")):
        return "'publisher' must be an object with a one-line name"
    status = entry.get("status", "published")
    if status not in STATUSES:
        return f"'status' must be one of {', '.join(STATUSES)}"
    return ""


def _keys_problem(signed: dict[str, Any]) -> str:
    keys = signed.get("keys", [])
    if not isinstance(keys, list) or not all(
            isinstance(k, str) and k.strip() and not _CONTROL.search(k)
            for k in keys):
        return "'keys' must be a list of one-line OpenSSH public keys"
    threshold = signed.get("threshold", 1)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        return "'threshold' must be an integer >= 1"
    if keys and threshold > len(keys):
        return f"'threshold' {threshold} is more than the {len(keys)} key(s) listed"
    return ""


def parse(data: bytes, where: str, *, verified: bool = False) -> Feed:
    """A feed from bytes. ``verified``: these exact bytes passed every check before (their
    digest was recorded then), so the per-listing shape checks are not repeated."""
    loads = json.loads if verified else strictjson.loads
    split = _split(data, loads)
    raw_signed = None
    if split is not None:
        sigs, signed, raw_signed = split
    else:
        try:
            doc = loads(data)
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
    problem = _keys_problem(signed)
    if problem:
        raise BadInputError(f"{where}: {problem}",
                            hint="the feed is damaged; ask its publisher to publish again")
    for i, entry in enumerate(() if verified else listings):
        problem = _listing_problem(entry)
        if problem:
            raise BadInputError(f"{where}: listings[{i}]: {problem}",
                                hint="the feed is damaged; ask its publisher to publish again")
    return Feed(str(signed.get("name", "")), version, str(signed.get("generated", "")),
                str(signed.get("expires", "")), listings, sigs,
                list(signed.get("keys", [])), signed.get("threshold", 1),
                frozenset(k for k in ("keys", "threshold") if k in signed), raw_signed)


_HEAD, _MID = b'{"signatures":', b',"signed":'


def _split(data: bytes, loads: Any) -> tuple[Any, Any, bytes] | None:
    """``{"signatures":[...],"signed":{...}}`` exactly as ``to_json`` lays it out: the two
    parts parsed on their own, and the bytes of ``signed``. None for any other layout (then
    the whole document is parsed and ``signed`` re-serialised canonically)."""
    if not data.startswith(_HEAD):
        return None
    tail = 2 if data.endswith(b"}\n") else 1 if data.endswith(b"}") else 0
    if not tail:
        return None
    prefix = data[:1 << 20].decode("utf-8", "replace")
    try:
        _, end = json.JSONDecoder().raw_decode(prefix, len(_HEAD))
    except ValueError:
        return None
    at = len(prefix[:end].encode("utf-8"))
    if data[at:at + len(_MID)] != _MID:
        return None
    raw = data[at + len(_MID):len(data) - tail]
    try:
        sigs, signed = loads(data[len(_HEAD):at]), loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None
    return (sigs, signed, raw) if isinstance(signed, dict) else None
