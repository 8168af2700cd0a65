"""Deploy into a project, edit on both sides, status and sync: the everyday loop."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.runner import ok, skillmeat
from tests.helpers import EXAMPLES, git, tree_state

ALL = ["pdf-summary", "commit-message", "review", "deploy-check", "code-reviewer", "format-on-save"]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    ok("collection", "create", "c")
    ok("add", str(EXAMPLES), "--all")
    project = tmp_path / "proj"
    (project / ".claude").mkdir(parents=True)
    return Path(os.environ["SKILLMEAT_HOME"]) / "collections" / "c", project


def _states(project: Path) -> dict[str, str]:
    result = skillmeat("status", "--project", str(project), "--json")
    assert result.code in (0, 1), result.err
    return {a["artifact"]: a["state"] for a in json.loads(result.out)[0]["artifacts"]}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_fresh_deploy_is_in_sync_and_status_names_exactly_what_changed(setup) -> None:
    coll, project = setup
    ok("deploy", *ALL, "--project", str(project))
    states = _states(project)
    assert set(states.values()) == {"in-sync"} and len(states) == len(ALL)
    assert skillmeat("status", "--project", str(project)).code == 0
    claude = project / ".claude"
    edits = {
        "command/review": claude / "commands" / "review.md",
        "agent/code-reviewer": claude / "agents" / "code-reviewer.md",
        "skill/commit-message": claude / "skills" / "commit-message" / "SKILL.md",
    }
    for artifact, path in edits.items():
        path.write_text(path.read_text() + "\nlocal note\n")
        assert {a for a, s in _states(project).items() if s != "in-sync"} == {artifact}
        path.write_text(path.read_text().replace("\nlocal note\n", ""))
    settings = claude / "settings.json"
    data = json.loads(settings.read_text())
    data["hooks"]["PostToolUse"][0]["hooks"][0]["timeout"] = 5
    settings.write_text(json.dumps(data))
    assert _states(project)["hook/format-on-save"] == "modified-in-project"
    (claude / "skills" / "pdf-summary" / "scripts" / "extract.py").unlink()
    assert _states(project)["skill/pdf-summary"] == "modified-in-project"
    (claude / "commands" / "deploy-check.md").unlink()
    assert _states(project)["command/deploy-check"] == "missing"
    _edit(coll / "agents" / "code-reviewer.md", "senior reviewer", "principal reviewer")
    ok("snapshot", "-m", "sharper reviewer", "--no-sign")
    assert _states(project)["agent/code-reviewer"] == "outdated"
    (claude / "skills" / "mine").mkdir()
    (claude / "skills" / "mine" / "SKILL.md").write_text("---\nname: mine\ndescription: x\n---\nhi\n")
    assert _states(project)["skill/mine"] == "untracked-in-project"
    assert skillmeat("status", "--project", str(project)).code == 1


def test_settings_json_keeps_the_users_hooks_and_keys(setup) -> None:
    _coll, project = setup
    settings = project / ".claude" / "settings.json"
    original = {"model": "opus", "permissions": {"allow": ["Bash(ls:*)"]},
                "hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [
                    {"type": "command", "command": "echo mine"}]}],
                    "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]},
                "zzz_unknown": {"nested": [1, 2]}}
    settings.write_text(json.dumps(original, indent=2))
    ok("deploy", "format-on-save", "--project", str(project))
    deployed = json.loads(settings.read_text())
    assert list(deployed) == list(original)
    assert deployed["hooks"]["PostToolUse"][0] == original["hooks"]["PostToolUse"][0]
    assert len(deployed["hooks"]["PostToolUse"]) == 2
    ok("undeploy", "format-on-save", "--project", str(project))
    assert json.loads(settings.read_text()) == original


def test_invalid_settings_json_is_refused_untouched(setup) -> None:
    _coll, project = setup
    settings = project / ".claude" / "settings.json"
    settings.write_text('{"hooks": ')
    before = tree_state(project)
    result = skillmeat("deploy", "format-on-save", "review", "--project", str(project))
    assert result.code == 2 and "settings.json is not valid JSON" in result.err
    assert result.err.count("\n") == 1
    assert tree_state(project) == before


def test_sync_merges_non_overlapping_edits_and_stops_on_overlapping_ones(setup) -> None:
    coll, project = setup
    ok("deploy", "pdf-summary", "--project", str(project))
    deployed = project / ".claude" / "skills" / "pdf-summary" / "SKILL.md"
    source = coll / "skills" / "pdf-summary" / "SKILL.md"
    _edit(deployed, "# PDF summary", "# PDF summary (team edition)")
    _edit(source, "under 200 words", "under 150 words")
    ok("snapshot", "-m", "shorter", "--no-sign")
    assert _states(project)["skill/pdf-summary"] == "conflict"
    ok("sync", "--pull", "--project", str(project))
    for path in (source, deployed):
        text = path.read_text()
        assert "# PDF summary (team edition)" in text and "under 150 words" in text
    assert _states(project)["skill/pdf-summary"] == "in-sync"
    assert git("status", "--porcelain", cwd=coll) == ""

    _edit(deployed, "under 150 words", "under 80 words")
    _edit(source, "under 150 words", "under 120 words")
    ok("snapshot", "-m", "longer", "--no-sign")
    head = git("rev-parse", "HEAD", cwd=coll)
    before = tree_state(project)
    stopped = skillmeat("sync", "--pull", "--project", str(project))
    assert stopped.code == 1
    assert "conflict in .claude/skills/pdf-summary/SKILL.md" not in stopped.out
    assert "conflict in pdf-summary/SKILL.md" in stopped.out
    assert "<<<<<<< collection" in stopped.out and ">>>>>>> project" in stopped.out
    assert "nothing was written" in stopped.err
    assert git("rev-parse", "HEAD", cwd=coll) == head and tree_state(project) == before
    assert "under 80 words" in deployed.read_text() and "under 120 words" in source.read_text()
    ok("sync", "--pull", "--project", str(project), "--strategy", "theirs")
    assert "under 80 words" in source.read_text()


def test_sync_push_refreshes_outdated_and_dry_run_writes_nothing(setup) -> None:
    coll, project = setup
    ok("deploy", "review", "code-reviewer", "--project", str(project))
    _edit(coll / "commands" / "review.md", "Report bugs first", "Report security issues first")
    ok("snapshot", "-m", "security first", "--no-sign")
    before = tree_state(project)
    plan = ok("sync", "--push", "--project", str(project), "--dry-run").out
    assert "refresh-project  command/review [outdated]" in plan
    assert tree_state(project) == before
    ok("sync", "--push", "--project", str(project))
    assert "Report security issues first" in (project / ".claude/commands/review.md").read_text()
    assert set(_states(project).values()) == {"in-sync"}


def test_profiles_place_and_refuse_clearly(setup) -> None:
    _coll, project = setup
    ok("deploy", "pdf-summary", "review", "--project", str(project), "--profile", "gemini")
    toml = (project / ".gemini" / "commands" / "review.toml").read_text()
    assert 'prompt = "Review the changes' in toml and "{{args}}" in toml
    ok("deploy", "pdf-summary", "--project", str(project), "--profile", "codex")
    assert (project / ".agents" / "skills" / "pdf-summary" / "SKILL.md").is_file()
    ok("deploy", "code-reviewer", "review", "--project", str(project), "--profile", "cursor")
    assert (project / ".cursor" / "agents" / "code-reviewer.md").is_file()
    refused = skillmeat("deploy", "code-reviewer", "--project", str(project), "--profile", "codex")
    assert refused.code == 2 and "profile 'codex' cannot deploy agent/code-reviewer" in refused.err
    refused = skillmeat("deploy", "filesystem", "--project", str(project))
    assert refused.code == 2 and "cannot deploy mcp/filesystem" in refused.err


def test_user_level_deploy_and_project_registry(setup, tmp_path: Path) -> None:
    _coll, project = setup
    ok("deploy", "commit-message", "--user")
    home = Path(os.environ["HOME"])
    assert (home / ".claude" / "skills" / "commit-message" / "SKILL.md").is_file()
    assert _user_states() == {"skill/commit-message": "in-sync"}
    ok("deploy", "review", "--project", str(project))
    listed = json.loads(ok("project", "list", "--json").out)
    assert [p["path"] for p in listed] == [str(project.resolve())]
    all_status = json.loads(skillmeat("status", "--all", "--json").out)
    assert [s["target"] for s in all_status] == [str(project.resolve())]
    ok("project", "remove", str(project))
    assert json.loads(ok("project", "list", "--json").out) == []


def _user_states() -> dict[str, str]:
    data = json.loads(ok("status", "--user", "--json").out)
    return {a["artifact"]: a["state"] for a in data[0]["artifacts"]}


def test_existing_files_are_not_overwritten_without_force(setup) -> None:
    _coll, project = setup
    mine = project / ".claude" / "commands" / "review.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own review command\n")
    refused = skillmeat("deploy", "review", "--project", str(project))
    assert refused.code == 1 and "was not deployed by SkillMeat" in refused.err
    assert mine.read_text() == "my own review command\n"
    ok("deploy", "review", "--project", str(project), "--force")
    assert "Review the changes" in mine.read_text()


def test_add_deploy_sync_undeploy_are_recorded_for_analytics(setup) -> None:
    _coll, project = setup
    ok("deploy", "review", "--project", str(project))
    (project / ".claude" / "commands" / "review.md").write_text("changed\n")
    ok("sync", "--pull", "--project", str(project))
    ok("undeploy", "review", "--project", str(project))
    usage = json.loads(ok("analytics", "usage", "--json").out)
    review = next(u for u in usage if u["artifact"] == "command/review")
    text = json.dumps(review)
    for kind in ("add", "deploy", "sync", "undeploy"):
        assert kind in text, kind
    cleanup = json.loads(ok("analytics", "cleanup", "--json").out)
    assert "skill/pdf-summary" in {c["artifact"] for c in cleanup}  # never deployed
