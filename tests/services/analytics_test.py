"""Recording, transcript import and the reports, on real files in the isolated home."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import ConfigError
from skillmeat.services import analytics
from skillmeat.store.home import Home
from tests.transcripts import (
    noise,
    tool_result,
    tool_use,
    typed_command,
    user_text,
    write_session,
    write_subagent,
)

DAY = 86_400.0


def at(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp()


NOW = at("2026-05-20T12:00:00")


def invocations(home: Home) -> list[tuple[str, str, str]]:
    store = analytics.events_store(home)
    return sorted((e.artifact, e.project, e.detail["via"]) for e in store.events(kinds=("invoke",)))


# -- record


def test_record_one_event_per_artifact_with_absolute_project(home: Home, tmp_path: Path) -> None:
    ids = ["skill/pdf-summary", ArtifactId(ArtifactType.AGENT, "code-reviewer")]
    assert analytics.record(home, "deploy", ids, "team", tmp_path / "proj", now=NOW) == 2
    events = analytics.events_store(home).events()
    assert [(e.kind, e.artifact, e.collection, e.project, e.source) for e in events] == [
        ("deploy", "skill/pdf-summary", "team", str(tmp_path / "proj"), "skillmeat"),
        ("deploy", "agent/code-reviewer", "team", str(tmp_path / "proj"), "skillmeat")]
    assert (home.paths.state / "events.db").is_file()


def test_record_on_a_corrupt_db_raises_unless_best_effort(home: Home) -> None:
    db = home.paths.state / "events.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"garbage " * 200)
    with pytest.raises(ConfigError, match=r"events\.db"):
        analytics.record(home, "add", ["skill/a"], "team")
    assert analytics.record(home, "add", ["skill/a"], "team", best_effort=True) == 0


# -- transcript import


def _session(root: Path) -> None:
    task = tool_use("Task", {"description": "Review", "prompt": "Review the diff",
                             "subagent_type": "code-reviewer"}, tool_id="toolu_task1",
                    ts="2026-05-01T10:05:00.000Z")
    write_session(root, [
        *noise(),
        typed_command("review", "123"),
        typed_command("clear"),  # built in: not an artifact
        user_text("please summarise report.pdf"),
        tool_use("Skill", {"skill": "pdf-summary"}, tool_id="toolu_skill1"),
        tool_use("Agent", {"description": "Explore", "prompt": "find", "subagent_type": "Explore"}),
        task,
    ])
    write_subagent(root, [tool_use("Skill", {"skill": "tools:lint"}, tool_id="toolu_sub1",
                                   ts="2026-05-01T10:06:00.000Z")],
                   agent_id="a1b2c3", agent_type="code-reviewer", tool_use_id="toolu_task1")


def test_import_finds_skills_subagents_and_slash_commands(home: Home, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    _session(root)
    result = analytics.import_transcripts(home, root)
    assert (result.files, result.added, result.duplicates, result.malformed) == (2, 4, 0, 0)
    assert result.builtin == 2  # /clear and the built-in Explore subagent
    assert invocations(home) == [("code-reviewer", "/work/app", "Task"),
                                 ("pdf-summary", "/work/app", "Skill"),
                                 ("review", "/work/app", "slash"),
                                 ("tools:lint", "/work/app", "Skill")]
    events = {e.artifact: e for e in analytics.events_store(home).events()}
    assert events["pdf-summary"].time == at("2026-05-01T10:00:00")
    assert events["pdf-summary"].source == "transcript" and events["pdf-summary"].collection == ""
    assert events["tools:lint"].detail["in_subagent"] == "code-reviewer"
    assert events["code-reviewer"].detail["types"] == ["agent"]


def test_reimport_is_idempotent_and_picks_up_new_lines(home: Home, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    _session(root)
    first = analytics.import_transcripts(home, root)
    again = analytics.import_transcripts(home, root)
    assert (again.added, again.duplicates) == (0, first.added)
    write_session(root, [tool_use("Skill", {"skill": "pdf-summary"}, ts="2026-05-02T08:00:00Z")])
    third = analytics.import_transcripts(home, root)
    assert (third.added, third.duplicates) == (1, first.added)
    assert analytics.events_store(home).count() == first.added + 1


def test_the_same_tool_call_on_several_lines_or_sessions_counts_once(home: Home, tmp_path: Path) -> None:
    """Claude Code can write one response over several lines and copies history into a resumed
    session: the tool-use id identifies the call."""
    root = tmp_path / "projects"
    call = tool_use("Skill", {"skill": "pdf-summary"}, tool_id="toolu_same")
    write_session(root, [call, call])
    copied = tool_use("Skill", {"skill": "pdf-summary"}, tool_id="toolu_same", session="resumed-1")
    write_session(root, [copied], session="resumed-1")
    result = analytics.import_transcripts(home, root)
    assert (result.invocations, result.added) == (1, 1)


def test_malformed_lines_and_missing_fields_are_tolerated(home: Home, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    bare = {"type": "assistant", "message": {"content": [
        {"type": "tool_use", "name": "Skill", "input": {"command": "old-style"}},  # pre-rename input
        {"type": "tool_use", "name": "SlashCommand", "input": {"command": "/deploy-check prod"}},
        {"type": "tool_use", "name": "Skill", "input": "not a dict"},
        {"type": "tool_use", "name": "Agent"},
        "stray string", {"type": "text", "text": "<command-name>/nope</command-name>"}]}}
    write_session(root, [
        bare,
        {"type": "assistant", "message": "not a dict"},
        {"type": "assistant", "message": {"content": "plain text"}},
        {"type": "user"},
        {"no_type": True},
        tool_result("<command-name>/pasted</command-name>"),
        user_text("I typed <command-name>/quoted</command-name> in the middle"),
    ], raw=(b"{not json", b"[1, 2, 3]", b'"just a string"', b"\xff\xfe\x00 not utf-8",
            b"", b"   ", b'{"type": "assistant", "message": {"content": [{"type": "tool_u'))
    write_session(root, [tool_use("Skill", {"skill": "no-cwd"}, cwd=None, ts="yesterday",
                                  session="s2")], session="s2")
    sub = write_subagent(root, [], agent_id="x9", agent_type="auditor", tool_use_id=None)
    sub.with_name("agent-x9.meta.json").write_text("{broken")
    result = analytics.import_transcripts(home, root)
    assert result.malformed == 6  # five bad lines, one broken meta file; blank lines don't count
    assert result.records == 8  # every JSON object, whatever its type
    assert sorted(a for a, _, _ in invocations(home)) == ["deploy-check", "no-cwd", "old-style"]
    builtin_agent = result.builtin
    assert builtin_agent == 1  # Agent without subagent_type runs the general-purpose agent
    no_cwd = next(e for e in analytics.events_store(home).events() if e.artifact == "no-cwd")
    assert no_cwd.project == "" and no_cwd.time > 0  # file mtime stands in for a bad timestamp


def test_subagent_meta_counts_only_when_its_tool_call_is_missing(home: Home, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_subagent(root, [tool_use("Skill", {"skill": "lint"}, ts="2026-05-03T10:00:00Z",
                                   cwd="/work/other")],
                   agent_id="orphan", agent_type="auditor", tool_use_id="toolu_gone", cwd="/work/other")
    result = analytics.import_transcripts(home, root)
    assert result.added == 2
    events = {e.artifact: e for e in analytics.events_store(home).events()}
    assert events["auditor"].project == "/work/other"
    assert events["auditor"].time == at("2026-05-03T10:00:00")
    assert "in_subagent" not in events["auditor"].detail
    # the parent's record of the call appears later: same key, not counted again
    write_session(root, [tool_use("Agent", {"subagent_type": "auditor", "prompt": "p"},
                                  tool_id="toolu_gone", cwd="/work/other")], cwd="/work/other")
    assert analytics.import_transcripts(home, root).added == 0


def test_no_transcripts_is_an_empty_import(home: Home, tmp_path: Path) -> None:
    result = analytics.import_transcripts(home, tmp_path / "nowhere")
    assert (result.files, result.records, result.added) == (0, 0, 0)
    assert result.to_dict()["root"] == str(tmp_path / "nowhere")


def test_default_root_is_the_users_claude_projects(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    _session(Path.home() / ".claude" / "projects")
    assert analytics.import_transcripts(home).added == 4


# -- reports


def _history(home: Home) -> None:
    store = analytics.events_store(home)
    analytics.record(home, "add", ["skill/pdf-summary", "skill/ocr", "agent/code-reviewer"], "team",
                     now=NOW - 40 * DAY)
    analytics.record(home, "deploy", ["skill/pdf-summary"], "team", "/work/app", now=NOW - 2 * DAY)
    analytics.record(home, "deploy", ["skill/pdf-summary"], "team", "/work/web", now=NOW - DAY)
    analytics.record(home, "deploy", ["agent/code-reviewer"], "team", "/work/app", now=NOW - 50 * DAY)
    analytics.record(home, "deploy", ["skill/ocr"], "other", "/work/app", now=NOW - DAY)
    assert store.count() == 7


def _invoke(root: Path, name: str, tool: str, when: str, n: int = 1) -> None:
    key = "skill" if tool == "Skill" else "subagent_type"
    write_session(root, [tool_use(tool, {key: name, "prompt": "x"}, ts=when) for _ in range(n)])


def test_usage_and_top(home: Home, tmp_path: Path) -> None:
    _history(home)
    root = tmp_path / "projects"
    _invoke(root, "pdf-summary", "Skill", "2026-05-19T09:00:00Z", 3)
    _invoke(root, "code-reviewer", "Agent", "2026-05-18T09:00:00Z", 5)
    analytics.import_transcripts(home, root)
    rows = {r.artifact: r for r in analytics.usage(home, 7, now=NOW)}
    assert set(rows) == {"skill/pdf-summary", "skill/ocr", "pdf-summary", "code-reviewer"}
    assert rows["skill/pdf-summary"].counts == {"deploy": 2} and rows["skill/pdf-summary"].projects == 2
    assert rows["code-reviewer"].to_dict()["invoke"] == 5
    everything = {r.artifact: r for r in analytics.usage(home, None, now=NOW)}
    assert set(everything) - set(rows) == {"agent/code-reviewer"}  # its add and deploy are old
    assert everything["skill/pdf-summary"].counts == {"add": 1, "deploy": 2}
    best = analytics.top(home, 7, 3, now=NOW)
    assert [(r.rank, r.artifact, r.invocations) for r in best] == [
        (1, "code-reviewer", 5), (2, "pdf-summary", 3), (3, "skill/pdf-summary", 0)]
    assert json.loads(json.dumps([r.to_dict() for r in best]))[0]["last"] == "2026-05-18T09:00:00Z"


def test_trends_fill_empty_periods(home: Home) -> None:
    _history(home)
    days = analytics.trends(home, 3, now=NOW)
    assert [(r.period, r.deploys) for r in days] == [
        ("2026-05-17", 0), ("2026-05-18", 1), ("2026-05-19", 2), ("2026-05-20", 0)]
    weeks = analytics.trends(home, 60, "week", now=NOW)
    assert weeks[0].period == "2026-03-16" and weeks[-1].period == "2026-05-18"
    assert all(datetime.date.fromisoformat(w.period).weekday() == 0 for w in weeks)
    assert sum(w.changes for w in weeks) == 3 and sum(w.deploys for w in weeks) == 4
    months = analytics.trends(home, 60, "month", now=NOW)
    assert [m.period for m in months] == ["2026-03", "2026-04", "2026-05"]


def test_cleanup_candidates(home: Home, tmp_path: Path) -> None:
    _history(home)
    root = tmp_path / "projects"
    _invoke(root, "review", "Skill", "2026-05-19T09:00:00Z")           # command/review, by bare name
    _invoke(root, "lint", "Skill", "2026-05-19T09:00:00Z")             # skill/tools:lint, by base name
    _invoke(root, "code-reviewer", "Skill", "2026-05-19T09:00:00Z")    # a Skill call is not the agent
    analytics.import_transcripts(home, root)
    ids = ["skill/pdf-summary", "skill/ocr", "agent/code-reviewer", "command/review", "skill/tools:lint",
           "hook/format-on-save"]
    found = {c.artifact: c for c in analytics.cleanup(home, 30, ids, "team", now=NOW)}
    assert set(found) == {"skill/ocr", "agent/code-reviewer", "hook/format-on-save"}
    assert found["skill/ocr"].reason == "never-deployed"  # its deploy was from another collection
    assert found["agent/code-reviewer"].reason == "unused"
    assert found["agent/code-reviewer"].last_deployed == NOW - 50 * DAY
    assert found["hook/format-on-save"].to_dict() == {
        "artifact": "hook/format-on-save", "reason": "never-deployed", "last_deployed": "",
        "last_used": ""}
    wider = {c.artifact for c in analytics.cleanup(home, 60, ids, "team", now=NOW)}
    assert wider == {"skill/ocr", "hook/format-on-save"}
