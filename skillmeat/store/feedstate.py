"""What a client remembers of a marketplace feed between runs (in ``$SKILLMEAT_HOME/state/``):
the last version it accepted, that version's digest, and the key set and threshold the next
version must satisfy. Without it a rollback, a replay or a key swap could not be noticed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from skillmeat.model import strictjson
from skillmeat.model.errors import ConfigError
from skillmeat.store.files import atomic_write

FORMAT = "skillmeat-feed-state/1"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_MAX_STATE = 4 << 20
_HINT = "delete it to trust the feed afresh on next use (first-use trust)"


@dataclass(frozen=True)
class FeedState:
    version: int
    digest: str  # sha256 hex of the canonical JSON of the accepted feed's ``signed``
    keys: tuple[str, ...]  # the accepted key set (OpenSSH public key lines)
    threshold: int
    name: str = ""  # the feed's own ``signed.name``: another marketplace's feed is refused

    def to_json(self) -> bytes:
        doc = {"format": FORMAT, "version": self.version, "digest": self.digest,
               "keys": list(self.keys), "threshold": self.threshold, "name": self.name}
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def load_state(path: Path) -> FeedState | None:
    """The saved state, None when there is none yet; ConfigError (one line) when unreadable."""
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_STATE + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read feed state ({exc.strerror})", hint=_HINT) from None
    if len(data) > _MAX_STATE:
        raise ConfigError(str(path), "feed state is too large", hint=_HINT)
    try:
        doc = strictjson.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(str(path), f"feed state is not valid JSON ({detail})", hint=_HINT) from None
    problem = _problem(doc)
    if problem:
        raise ConfigError(str(path), f"malformed feed state: {problem}", hint=_HINT)
    name = doc.get("name", "")
    return FeedState(doc["version"], doc["digest"], tuple(doc["keys"]), doc["threshold"],
                     name if isinstance(name, str) else "")


def save_state(path: Path, state: FeedState) -> None:
    atomic_write(path, state.to_json())


def _problem(doc: object) -> str:
    if not isinstance(doc, dict):
        return "not an object"
    if doc.get("format") != FORMAT:
        return f"unsupported format {doc.get('format')!r}"
    version, threshold = doc.get("version"), doc.get("threshold")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        return "'version' must be a non-negative integer"
    if not isinstance(doc.get("digest"), str) or not _DIGEST.match(doc["digest"]):
        return "'digest' must be a sha256 hex digest"
    keys = doc.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) and "\n" not in k for k in keys):
        return "'keys' must be a list of public key lines"
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        return "'threshold' must be an integer >= 1"
    return ""
