"""What was deployed where: per-project records, and the drift states ``status`` reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RECORD_FORMAT = "skillmeat-deployed/1"

IN_SYNC = "in-sync"
MODIFIED = "modified-in-project"
OUTDATED = "outdated"
CONFLICT = "conflict"
MISSING = "missing"
UNTRACKED = "untracked-in-project"
REMOVED = "removed-from-collection"
DRIFTED = frozenset({MODIFIED, OUTDATED, CONFLICT, MISSING, UNTRACKED, REMOVED})


@dataclass(frozen=True)
class Deployment:
    """One artifact deployed into one target by one profile."""

    artifact: str  # artifact id, e.g. "skill/pdf-summary"
    profile: str
    collection: str
    collection_path: str
    commit: str  # the collection commit it was deployed from
    hash: str  # the artifact's content hash in the collection at that commit
    deployed_hash: str  # hash of what was written into the target
    paths: tuple[str, ...]  # files/dirs written, relative to the target root
    settings: dict[str, Any] = field(default_factory=dict)  # hook groups merged into settings
    time: int = 0

    @property
    def key(self) -> str:
        return f"{self.profile}:{self.artifact}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "artifact": self.artifact, "profile": self.profile, "collection": self.collection,
            "collection_path": self.collection_path, "commit": self.commit, "hash": self.hash,
            "deployed_hash": self.deployed_hash, "paths": list(self.paths), "time": self.time,
        }
        if self.settings:
            out["settings"] = self.settings
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        return cls(
            str(data["artifact"]), str(data["profile"]), str(data.get("collection", "")),
            str(data.get("collection_path", "")), str(data.get("commit", "")),
            str(data.get("hash", "")), str(data.get("deployed_hash", "")),
            tuple(str(p) for p in data.get("paths", [])),
            dict(data.get("settings", {})), int(data.get("time", 0)),
        )


@dataclass(frozen=True)
class ArtifactStatus:
    artifact: str
    profile: str
    state: str
    detail: str = ""
    paths: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        return self.state in DRIFTED

    def to_dict(self) -> dict[str, Any]:
        return {"artifact": self.artifact, "profile": self.profile, "state": self.state,
                "detail": self.detail, "paths": list(self.paths)}
