"""The values of ``skillmeat.toml`` (manifest) and ``skillmeat.lock``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skillmeat.model.errors import ConfigError

MANIFEST_NAME = "skillmeat.toml"
LOCK_NAME = "skillmeat.lock"
LOCK_FORMAT = "skillmeat-lock/1"


@dataclass(frozen=True)
class Upstream:
    """Where an artifact came from: a source (path or URL), a path inside it, a ref."""

    source: str = ""
    path: str = ""
    ref: str = ""

    @property
    def is_set(self) -> bool:
        return bool(self.source)


@dataclass(frozen=True)
class ManifestEntry:
    upstream: Upstream = Upstream()
    pin: bool = False
    tags: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> ManifestEntry:
        tags = data.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ConfigError(where, "'tags' must be an array of strings")
        for key in ("source", "path", "ref"):
            if not isinstance(data.get(key, ""), str):
                raise ConfigError(where, f"'{key}' must be a string")
        if not isinstance(data.get("pin", False), bool):
            raise ConfigError(where, "'pin' must be true or false")
        return cls(
            Upstream(data.get("source", ""), data.get("path", ""), data.get("ref", "")),
            data.get("pin", False),
            tuple(tags),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.upstream.source:
            out["source"] = self.upstream.source
            out["path"] = self.upstream.path
            if self.upstream.ref:
                out["ref"] = self.upstream.ref
        if self.pin:
            out["pin"] = True
        if self.tags:
            out["tags"] = list(self.tags)
        return out


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str = "0.1.0"
    description: str = ""
    license: str = ""
    maintainers: tuple[str, ...] = ()
    artifacts: dict[str, ManifestEntry] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str) -> Manifest:
        coll = data.get("collection")
        if not isinstance(coll, dict) or "name" not in coll:
            raise ConfigError(path, "missing [collection] name", hint="add: [collection] name = \"...\"")
        if not isinstance(coll["name"], str):
            raise ConfigError(path, "[collection] name must be a string")
        arts = data.get("artifacts", {})
        if not isinstance(arts, dict):
            raise ConfigError(path, "'artifacts' must be a table")
        entries = {}
        for aid, entry in arts.items():
            where = f"{path}: artifacts.\"{aid}\""
            if not isinstance(entry, dict):
                raise ConfigError(where, "must be a table")
            entries[aid] = ManifestEntry.from_dict(entry, where)
        maint = coll.get("maintainers", [])
        return cls(
            coll["name"],
            str(coll.get("version", "0.1.0")),
            str(coll.get("description", "")),
            str(coll.get("license", "")),
            tuple(str(m) for m in maint) if isinstance(maint, list) else (),
            entries,
        )


@dataclass(frozen=True)
class LockEntry:
    hash: str
    source: str = ""
    path: str = ""
    commit: str = ""
    version: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LockEntry:
        return cls(
            str(data.get("hash", "")),
            str(data.get("source", "")),
            str(data.get("path", "")),
            str(data.get("commit", "")),
            str(data.get("version", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        out = {"hash": self.hash}
        for key in ("source", "path", "commit", "version"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out
