"""The analytics event log: one SQLite file (``state/events.db``), WAL, safe for concurrent writers.

Every operation opens its own short-lived connection, so several SkillMeat processes (a deploy
in one terminal, ``analytics import`` in another) can write at once: SQLite's busy timeout
serialises them and ``BEGIN IMMEDIATE`` keeps a writer from deadlocking on a lock upgrade.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model.errors import ConfigError, LockedError, SkillmeatError
from skillmeat.model.events import KINDS, SOURCES, Event

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0

_quoted = ", ".join
# Each entry upgrades the schema by one version (index 0: empty file -> version 1).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        f"""CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            time REAL NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ({_quoted(repr(k) for k in KINDS)})),
            artifact TEXT NOT NULL,
            collection TEXT NOT NULL DEFAULT '',
            project TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL CHECK (source IN ({_quoted(repr(s) for s in SOURCES)})),
            detail TEXT NOT NULL DEFAULT '{{}}',
            dedup_key TEXT UNIQUE
        )""",
        "CREATE INDEX events_time ON events (time)",
        "CREATE INDEX events_artifact ON events (artifact, kind, time)",
    ),
)

# UTC period labels: day 2026-05-09, week = the date of its Monday, month 2026-05.
BUCKET_SQL = {
    "day": "strftime('%Y-%m-%d', time, 'unixepoch')",
    "week": "date(time, 'unixepoch', '-6 days', 'weekday 1')",
    "month": "strftime('%Y-%m', time, 'unixepoch')",
}
_COLUMNS = "time, kind, artifact, collection, project, source, detail, dedup_key"


@dataclass(frozen=True)
class KindCount:
    artifact: str
    kind: str
    count: int
    last: float


@dataclass(frozen=True)
class PeriodCount:
    period: str
    invocations: int
    deploys: int
    changes: int
    artifacts: int


@dataclass(frozen=True)
class LastUse:
    """The latest event of one kind for one artifact, per source and collection."""

    artifact: str
    kind: str
    source: str
    collection: str
    types: tuple[str, ...]
    last: float


class EventStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    # -- writing

    def record(self, event: Event) -> bool:
        """Store one event; False when its dedup key was already there."""
        return self.record_many([event]) == 1

    def record_many(self, events: Iterable[Event]) -> int:
        """Store events in one transaction; returns how many were new (dedup keys skip repeats)."""
        rows = [_row(e) for e in events]
        with self._connect() as con, _write(con):  # even for none: a broken file is reported
            before = con.total_changes
            con.executemany(f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT (dedup_key) DO NOTHING", rows)
            return con.total_changes - before

    # -- reading

    def events(self, since: float | None = None, kinds: Sequence[str] = ()) -> list[Event]:
        where, args = _window(since, kinds)
        with self._connect() as con:
            rows = con.execute(f"SELECT {_COLUMNS} FROM events{where} ORDER BY time, id", args)
            return [_event(r) for r in rows]

    def count(self) -> int:
        with self._connect() as con:
            return int(con.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def kind_counts(self, since: float | None) -> list[KindCount]:
        where, args = _window(since)
        with self._connect() as con:
            rows = con.execute(f"SELECT artifact, kind, COUNT(*), MAX(time) FROM events{where} "
                               "GROUP BY artifact, kind ORDER BY artifact, kind", args)
            return [KindCount(a, k, int(n), float(t)) for a, k, n, t in rows]

    def project_counts(self, since: float | None) -> dict[str, int]:
        where, args = _window(since)
        where += " AND project != ''" if where else " WHERE project != ''"
        with self._connect() as con:
            rows = con.execute(f"SELECT artifact, COUNT(DISTINCT project) FROM events{where} "
                               "GROUP BY artifact", args)
            return {a: int(n) for a, n in rows}

    def period_counts(self, since: float | None, bucket: str) -> list[PeriodCount]:
        where, args = _window(since)
        sql = (f"SELECT {BUCKET_SQL[bucket]} AS period, "
               "COUNT(*) FILTER (WHERE kind = 'invoke'), COUNT(*) FILTER (WHERE kind = 'deploy'), "
               "COUNT(*) FILTER (WHERE kind NOT IN ('invoke', 'deploy')), COUNT(DISTINCT artifact) "
               f"FROM events{where} GROUP BY period ORDER BY period")
        with self._connect() as con:
            return [PeriodCount(p, int(i), int(d), int(c), int(a))
                    for p, i, d, c, a in con.execute(sql, args)]

    def last_uses(self, kinds: Sequence[str]) -> list[LastUse]:
        where, args = _window(None, kinds)
        sql = ("SELECT artifact, kind, source, collection, json_extract(detail, '$.types') AS types, "
               f"MAX(time) FROM events{where} GROUP BY artifact, kind, source, collection, types")
        with self._connect() as con:
            return [LastUse(a, k, s, c, _types(t), float(last))
                    for a, k, s, c, t, last in con.execute(sql, args)]

    # -- the connection

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            con.execute("PRAGMA journal_mode = WAL")
            self._migrate(con)
            yield con
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        except OSError as exc:
            raise ConfigError(str(self.path), f"cannot open the events database: {exc}") from exc
        finally:
            if con is not None:
                con.close()

    def _migrate(self, con: sqlite3.Connection) -> None:
        if _version(con) == SCHEMA_VERSION:
            return
        with _write(con):
            version = _version(con)  # again, under the write lock: another process may have won
            if version > SCHEMA_VERSION:
                raise ConfigError(str(self.path), f"schema version {version} is newer than this "
                                  f"SkillMeat knows ({SCHEMA_VERSION})", hint="upgrade skillmeat")
            if version == 0:
                self._check_empty(con)
            for steps in MIGRATIONS[version:]:
                for sql in steps:
                    con.execute(sql)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_empty(self, con: sqlite3.Connection) -> None:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if tables:
            raise ConfigError(str(self.path), "not a SkillMeat events database "
                              f"(unversioned, has tables {', '.join(sorted(tables))})",
                              hint="point SKILLMEAT_HOME elsewhere or move the file aside")

    def _error(self, exc: sqlite3.Error) -> SkillmeatError:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return LockedError(f"{self.path}: still locked by another process after "
                               f"{BUSY_TIMEOUT_S:.0f}s", hint="try again when it has finished")
        return ConfigError(str(self.path), f"not a readable events database ({text})",
                           hint=f"move it aside (mv {self.path} {self.path}.broken); "
                           "a new one is created on next use")


@contextlib.contextmanager
def _write(con: sqlite3.Connection) -> Iterator[None]:
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _version(con: sqlite3.Connection) -> int:
    return int(con.execute("PRAGMA user_version").fetchone()[0])


def _window(since: float | None, kinds: Sequence[str] = ()) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if since is not None:
        clauses.append("time >= ?")
        args.append(since)
    if kinds:
        clauses.append(f"kind IN ({', '.join('?' for _ in kinds)})")
        args.extend(kinds)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def _row(e: Event) -> tuple[Any, ...]:
    detail = json.dumps(dict(e.detail), sort_keys=True, ensure_ascii=False)
    return (e.time, e.kind, e.artifact, e.collection, e.project, e.source, detail, e.dedup_key)


def _event(row: tuple[Any, ...]) -> Event:
    time, kind, artifact, collection, project, source, detail, key = row
    try:
        parsed = json.loads(detail)
    except ValueError:
        parsed = {"raw": detail}
    return Event(float(time), kind, artifact, collection, project, source,
                 parsed if isinstance(parsed, dict) else {"raw": parsed}, key)


def _types(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()
