"""``skillmeat analytics ...`` through the real CLI, on real transcripts and a real collection."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest

from skillmeat.services import analytics
from skillmeat.store.home import Home
from tests.cli.runner import ok, skillmeat
from tests.helpers import EXAMPLES
from tests.transcripts import noise, tool_use, typed_command, write_session, write_subagent


def _iso(ago_days: float) -> str:
    return analytics.iso(time.time() - ago_days * 86_400)


def _transcripts(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    root = Path.home() / ".claude" / "projects"
    write_session(root, [
        *noise(),
        typed_command("review", ts=_iso(1)),
        tool_use("Skill", {"skill": "pdf-summary"}, ts=_iso(1)),
        tool_use("Skill", {"skill": "pdf-summary"}, ts=_iso(2)),
        tool_use("Agent", {"subagent_type": "code-reviewer", "prompt": "p"}, tool_id="toolu_cr",
                 ts=_iso(3)),
    ], raw=(b"{truncated", b"\x00\x01"))
    write_subagent(root, [tool_use("Skill", {"skill": "commit-message"}, ts=_iso(3))],
                   agent_id="7f3a", agent_type="code-reviewer", tool_use_id="toolu_cr")
    return root


def test_import_prints_counts_and_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    root = _transcripts(monkeypatch)
    first = ok("analytics", "import").out
    assert f"2 transcript files under {root}" in first
    assert "invocations added:   5" in first
    assert "duplicates skipped:  0" in first and "malformed lines:     2" in first
    assert "records read:        10" in first
    again = json.loads(ok("analytics", "import", "--json").out)
    assert (again["added"], again["duplicates"], again["malformed"]) == (0, 5, 2)


def test_reports_as_json_csv_and_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    _transcripts(monkeypatch)
    ok("analytics", "import")
    analytics.record(Home.from_env(), "deploy", ["skill/pdf-summary"], "c", "/work/app")
    usage = json.loads(ok("analytics", "usage", "--json").out)
    by_name = {r["artifact"]: r for r in usage}
    assert by_name["pdf-summary"]["invoke"] == 2 and by_name["skill/pdf-summary"]["deploy"] == 1
    rows = list(csv.DictReader(io.StringIO(ok("analytics", "usage", "--csv", "--days", "7").out)))
    assert {r["artifact"] for r in rows} == set(by_name)
    assert rows[0].keys() >= {"artifact", "total", "invoke", "deploy", "projects", "last"}
    top = json.loads(ok("analytics", "top", "--limit", "2", "--json").out)
    assert [t["artifact"] for t in top] == ["pdf-summary", "code-reviewer"]
    trends = list(csv.DictReader(io.StringIO(ok("analytics", "trends", "--days", "5", "--csv").out)))
    assert len(trends) in (5, 6) and sum(int(t["invocations"]) for t in trends) == 5
    weeks = json.loads(ok("analytics", "trends", "--bucket", "week", "--json").out)
    assert sum(w["deploys"] for w in weeks) == 1
    table = ok("analytics", "top")
    assert table.out.splitlines()[0].split() == ["#", "ARTIFACT", "INVOKED", "DEPLOYED", "PROJECTS", "LAST"]


def test_cleanup_lists_unused_collection_artifacts(monkeypatch: pytest.MonkeyPatch) -> None:
    _transcripts(monkeypatch)
    ok("collection", "create", "c")
    ok("add", str(EXAMPLES), "--all")
    ok("analytics", "import")
    analytics.record(Home.from_env(), "deploy", ["hook/format-on-save"], "c", "/work/app")
    found = {r["artifact"]: r["reason"] for r in json.loads(ok("analytics", "cleanup", "--json").out)}
    assert found == {"command/deploy-check": "never-deployed", "mcp/docs-search": "never-deployed",
                     "mcp/filesystem": "never-deployed"}
    rows = list(csv.DictReader(io.StringIO(ok("analytics", "cleanup", "--csv").out)))
    assert [r["artifact"] for r in rows] == sorted(found)
    text = ok("analytics", "cleanup")
    assert "3 cleanup candidates of 8 artifacts in 'c'" in text.err


def test_corrupt_database_is_one_line_exit_2() -> None:
    db = Home.from_env().paths.state / "events.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"not sqlite " * 100)
    for args in (("usage",), ("import", "--json"), ("trends", "--csv")):
        result = skillmeat("analytics", *args)
        assert result.code == 2, result.err
        assert result.err.count("\n") == 1 and str(db) in result.err
        assert "Traceback" not in result.err and result.out == ""


def test_json_and_csv_together_is_a_usage_error() -> None:
    result = skillmeat("analytics", "usage", "--json", "--csv")
    assert result.code == 2 and "either --json or --csv" in result.err
    assert skillmeat("analytics", "top", "--days", "0").code == 2


def test_cleanup_without_a_collection_says_so() -> None:
    result = skillmeat("analytics", "cleanup")
    assert result.code == 1 and "no collection" in result.err
