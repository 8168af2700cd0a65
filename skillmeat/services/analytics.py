"""Usage analytics: record what SkillMeat does, import what Claude Code did, report on both."""

from __future__ import annotations

import datetime
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model.errors import ConfigError, LockedError
from skillmeat.model.events import KINDS, USE_KINDS, Event
from skillmeat.services.transcripts import ImportResult, import_into
from skillmeat.store.events import EventStore, LastUse
from skillmeat.store.home import Home
from skillmeat.store.transcripts import default_root

DAY = 86_400.0
BUCKETS = ("day", "week", "month")


def events_store(home: Home) -> EventStore:
    return EventStore(home.paths.state / "events.db")


def record(home: Home, kind: str, artifacts: Iterable[object], collection: str,
           project: str | os.PathLike[str] = "", *, detail: Mapping[str, Any] | None = None,
           now: float | None = None, best_effort: bool = False) -> int:
    """Record one ``kind`` event per artifact (ids or ``ArtifactId``s); returns how many.

    Call it after the change itself is done. With ``best_effort`` an unreadable or locked
    events database is ignored (returns 0) instead of failing a change that already happened.
    """
    when = time.time() if now is None else now
    where = os.path.abspath(project) if str(project) else ""
    events = [Event(when, kind, str(a), collection, where, "skillmeat", dict(detail or {}))
              for a in artifacts]
    try:
        return events_store(home).record_many(events)
    except (ConfigError, LockedError):
        if best_effort:
            return 0
        raise


def import_transcripts(home: Home, root: Path | None = None,
                       progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import skill, subagent and slash-command invocations from Claude Code's transcripts."""
    return import_into(events_store(home), root or default_root(), progress)


def iso(when: float | None) -> str:
    if when is None:
        return ""
    return datetime.datetime.fromtimestamp(when, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _since(days: int | None, now: float | None) -> float | None:
    return None if days is None else (time.time() if now is None else now) - days * DAY


# -- usage


@dataclass(frozen=True)
class UsageRow:
    artifact: str
    counts: Mapping[str, int]
    projects: int
    last: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {"artifact": self.artifact, "total": self.total,
                **{k: self.counts.get(k, 0) for k in KINDS},
                "projects": self.projects, "last": iso(self.last)}


def usage(home: Home, days: int | None, *, now: float | None = None) -> list[UsageRow]:
    """Per artifact: events of each kind, distinct projects and the latest event, in the window."""
    store = events_store(home)
    since = _since(days, now)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    last: dict[str, float] = {}
    for row in store.kind_counts(since):
        counts[row.artifact][row.kind] = row.count
        last[row.artifact] = max(last.get(row.artifact, 0.0), row.last)
    projects = store.project_counts(since)
    rows = [UsageRow(a, c, projects.get(a, 0), last[a]) for a, c in counts.items()]
    return sorted(rows, key=lambda r: (-r.total, r.artifact))


# -- top


@dataclass(frozen=True)
class TopRow:
    rank: int
    artifact: str
    invocations: int
    deploys: int
    projects: int
    last: float

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "artifact": self.artifact, "invocations": self.invocations,
                "deploys": self.deploys, "projects": self.projects, "last": iso(self.last)}


def top(home: Home, days: int | None, limit: int = 10, *, now: float | None = None) -> list[TopRow]:
    """The most used artifacts: by invocations, then deploys."""
    used = [r for r in usage(home, days, now=now) if any(r.counts.get(k) for k in USE_KINDS)]
    used.sort(key=lambda r: (-r.counts.get("invoke", 0), -r.counts.get("deploy", 0), r.artifact))
    return [TopRow(i, r.artifact, r.counts.get("invoke", 0), r.counts.get("deploy", 0), r.projects,
                   r.last) for i, r in enumerate(used[:limit], 1)]


# -- trends


@dataclass(frozen=True)
class TrendRow:
    period: str
    invocations: int
    deploys: int
    changes: int
    artifacts: int

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "invocations": self.invocations, "deploys": self.deploys,
                "changes": self.changes, "artifacts": self.artifacts}


def trends(home: Home, days: int, bucket: str = "day", *, now: float | None = None) -> list[TrendRow]:
    """Events per UTC day, week (labelled by its Monday) or month; empty periods included."""
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}")
    end = time.time() if now is None else now
    since = end - days * DAY
    found = {p.period: p for p in events_store(home).period_counts(since, bucket)}
    out = []
    for label in _periods(since, end, bucket):
        p = found.get(label)
        out.append(TrendRow(label, p.invocations, p.deploys, p.changes, p.artifacts) if p
                   else TrendRow(label, 0, 0, 0, 0))
    return out


def _periods(since: float, end: float, bucket: str) -> list[str]:
    day = datetime.datetime.fromtimestamp(since, datetime.UTC).date()
    last = datetime.datetime.fromtimestamp(end, datetime.UTC).date()
    labels: list[str] = []
    while day <= last:
        label = _label(day, bucket)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += datetime.timedelta(days=1)
    return labels


def _label(day: datetime.date, bucket: str) -> str:
    if bucket == "week":
        return (day - datetime.timedelta(days=day.weekday())).isoformat()
    return day.strftime("%Y-%m") if bucket == "month" else day.isoformat()


# -- cleanup


@dataclass(frozen=True)
class CleanupCandidate:
    artifact: str
    reason: str  # "never-deployed" or "unused"
    last_deployed: float | None
    last_used: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"artifact": self.artifact, "reason": self.reason,
                "last_deployed": iso(self.last_deployed), "last_used": iso(self.last_used)}


def cleanup(home: Home, days: int, collection_artifacts: Iterable[str], collection: str = "", *,
            now: float | None = None) -> list[CleanupCandidate]:
    """Artifacts of the collection with no deploy and no invocation in the last ``days`` days:
    never deployed at all, or unused since their last deploy or invocation."""
    since = _since(days, now)
    assert since is not None
    ids = sorted(set(collection_artifacts))
    names = _name_index(ids)
    last: dict[tuple[str, str], float] = {}
    for use in events_store(home).last_uses(USE_KINDS):
        if use.collection and collection and use.collection != collection:
            continue
        for aid in _matches(use, names):
            key = (aid, use.kind)
            last[key] = max(last.get(key, 0.0), use.last)
    out = []
    for aid in ids:
        deployed, invoked = last.get((aid, "deploy")), last.get((aid, "invoke"))
        used = max((t for t in (deployed, invoked) if t is not None), default=None)
        if used is None or used < since:
            out.append(CleanupCandidate(aid, "never-deployed" if deployed is None else "unused",
                                        deployed, used))
    return out


def _name_index(ids: list[str]) -> dict[str, list[str]]:
    """``name`` and, for plugin artifacts, the bare ``base`` -> the ids that carry it."""
    index: dict[str, list[str]] = defaultdict(list)
    for aid in ids:
        name = aid.partition("/")[2]
        index[name].append(aid)
        if ":" in name:
            index[name.rpartition(":")[2]].append(aid)
    return index


def _matches(use: LastUse, names: Mapping[str, list[str]]) -> list[str]:
    """Collection ids an event is about: the exact id, or for a transcript's bare name
    (``pdf``, ``plugin:pdf``) the ids of an allowed type with that name or base name."""
    if "/" in use.artifact:
        return [use.artifact] if use.artifact in names.get(use.artifact.partition("/")[2], ()) else []
    return [aid for aid in names.get(use.artifact, ())
            if not use.types or aid.partition("/")[0] in use.types]
