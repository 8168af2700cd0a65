"""The events database: created on first use, versioned, deduplicating, safe for two writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from skillmeat.model.errors import ConfigError
from skillmeat.model.events import Event
from skillmeat.store.events import SCHEMA_VERSION, EventStore
from tests.helpers import REPO_ROOT

T0 = 1_777_600_000.0  # 2026-05-01T01:46:40Z


def ev(artifact: str = "skill/pdf", kind: str = "deploy", at: float = T0, **kw: object) -> Event:
    return Event(at, kind, artifact, **kw)  # type: ignore[arg-type]


def test_first_use_creates_a_versioned_wal_database(tmp_path: Path) -> None:
    path = tmp_path / "state" / "events.db"
    store = EventStore(path)
    assert store.count() == 0
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_events_round_trip_with_detail(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    assert store.record(ev(collection="team", project="/work/app", detail={"profile": "claude_code"}))
    store.record(ev("skill/ocr", "add", T0 + 5))
    got = store.events()
    assert [(e.artifact, e.kind) for e in got] == [("skill/pdf", "deploy"), ("skill/ocr", "add")]
    assert got[0].detail == {"profile": "claude_code"} and got[0].project == "/work/app"
    assert [e.artifact for e in store.events(since=T0 + 1)] == ["skill/ocr"]
    assert [e.artifact for e in store.events(kinds=("add",))] == ["skill/ocr"]


def test_dedup_key_skips_repeats_and_none_never_collides(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    batch = [ev("pdf", "invoke", source="transcript", dedup_key="cc:tool:toolu_1"),
             ev("pdf", "invoke", source="transcript", dedup_key="cc:tool:toolu_2")]
    assert store.record_many(batch) == 2
    assert store.record_many(batch) == 0
    assert store.record_many([ev(), ev()]) == 2
    assert store.count() == 4


def test_aggregates(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    store.record_many([
        ev("skill/pdf", "deploy", T0, project="/a"), ev("skill/pdf", "deploy", T0 + 10, project="/b"),
        ev("skill/pdf", "undeploy", T0 + 20, project="/b"),
        ev("pdf", "invoke", T0 + 86_400, project="/a", source="transcript",
           detail={"types": ["skill", "command"]}),
    ])
    counts = {(c.artifact, c.kind): (c.count, c.last) for c in store.kind_counts(None)}
    assert counts == {("skill/pdf", "deploy"): (2, T0 + 10), ("skill/pdf", "undeploy"): (1, T0 + 20),
                      ("pdf", "invoke"): (1, T0 + 86_400)}
    assert store.project_counts(None) == {"skill/pdf": 2, "pdf": 1}
    assert store.project_counts(T0 + 15) == {"skill/pdf": 1, "pdf": 1}
    days = [(p.period, p.invocations, p.deploys, p.changes, p.artifacts)
            for p in store.period_counts(None, "day")]
    assert days == [("2026-05-01", 0, 2, 1, 1), ("2026-05-02", 1, 0, 0, 1)]
    assert [p.period for p in store.period_counts(None, "week")] == ["2026-04-27"]
    assert [p.period for p in store.period_counts(None, "month")] == ["2026-05"]
    uses = {(u.artifact, u.kind): u for u in store.last_uses(("deploy", "invoke"))}
    assert uses["pdf", "invoke"].types == ("skill", "command")
    assert uses["skill/pdf", "deploy"].last == T0 + 10 and uses["skill/pdf", "deploy"].types == ()


def test_event_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError):
        ev(kind="explode")


def test_corrupt_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    path.write_bytes(b"this is not a database, just some text that is long enough " * 20)
    with pytest.raises(ConfigError) as info:
        EventStore(path).count()
    assert str(path) in info.value.message and info.value.exit_code == 2


def test_truncated_database_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = EventStore(path)
    store.record_many([ev(at=T0 + i) for i in range(500)])
    data = path.read_bytes()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(data[:100] + b"\xff" * 200 + data[300:4096])
    with pytest.raises(ConfigError) as info:
        store.events()
    assert str(path) in info.value.message


def test_foreign_and_newer_databases_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    with pytest.raises(ConfigError, match="not a SkillMeat events database"):
        EventStore(foreign).count()
    newer = tmp_path / "newer.db"
    EventStore(newer).count()
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(ConfigError, match="newer"):
        EventStore(newer).record(ev())


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from skillmeat.model.events import Event
    from skillmeat.store.events import EventStore
    path, name, n, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    while not go.exists():
        time.sleep(0.001)
    store = EventStore(path)
    for i in range(n):
        if i % 10 == 0:
            store.record_many([Event(time.time(), "invoke", f"{name}-{i}-{j}", source="transcript",
                                     dedup_key=f"{name}:{i}:{j}") for j in range(5)])
        else:
            store.record(Event(time.time(), "deploy", f"skill/{name}-{i}"))
""")


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state" / "events.db"  # neither process finds it: both race to create it
    go = tmp_path / "go"
    n = 150
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(n), str(go)],
                              cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
             for name in ("one", "two", "three")]
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    per_writer = (n - n // 10) + (n // 10) * 5
    assert EventStore(path).count() == 3 * per_writer
