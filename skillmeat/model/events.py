"""Usage events: what happened to which artifact, where and when (the analytics record)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = ("add", "remove", "update", "deploy", "undeploy", "sync", "invoke")
SOURCES = ("skillmeat", "transcript")
# Events that show an artifact is in use: a cleanup candidate has none of these in its window.
USE_KINDS = ("deploy", "invoke")


@dataclass(frozen=True)
class Event:
    """One event. ``time`` is UTC epoch seconds; ``artifact`` a full id (``skill/pdf``) for
    SkillMeat's own events, the bare name Claude Code used for transcript invocations."""

    time: float
    kind: str
    artifact: str
    collection: str = ""
    project: str = ""
    source: str = "skillmeat"
    detail: Mapping[str, Any] = field(default_factory=dict, hash=False)
    dedup_key: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown event source {self.source!r}")
        if not self.artifact:
            raise ValueError("an event needs an artifact")

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "kind": self.kind, "artifact": self.artifact,
                "collection": self.collection, "project": self.project, "source": self.source,
                "detail": dict(self.detail)}
