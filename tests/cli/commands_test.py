"""Thin wiring tests of each command through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.runner import ok, skillmeat
from tests.helpers import EXAMPLES, git


def test_init_registers_and_commands_find_the_repo_around_cwd(tmp_path: Path) -> None:
    team = tmp_path / "team-skills"
    ok("init", str(team))
    ok("init", str(tmp_path / "other"), "--name", "other")
    ok("collection", "use", "other")
    ok("add", str(EXAMPLES), "--name", "review", cwd=team)  # the repo around cwd wins
    assert (team / "commands" / "review.md").is_file()
    assert not (tmp_path / "other" / "commands").exists()
    listed = json.loads(ok("collection", "list", "--json").out)
    assert {c["name"]: c["active"] for c in listed} == {"team-skills": False, "other": True}
    again = skillmeat("init", str(team))
    assert again.code == 1 and "already a collection" in again.err


def test_collection_remove_keeps_files_unless_delete(tmp_path: Path) -> None:
    ok("collection", "create", "a")
    ok("collection", "create", "b")
    kept = ok("collection", "remove", "a").out
    assert "files kept" in kept
    path = Path(kept.rsplit("files kept in ", 1)[1].rstrip(")\n"))
    assert (path / "skillmeat.toml").is_file()
    ok("collection", "remove", "b", "--delete")
    assert json.loads(ok("collection", "list", "--json").out) == []


def test_list_filters_and_json(tmp_path: Path) -> None:
    ok("collection", "create", "c")
    ok("add", str(EXAMPLES), "--type", "skill", "--tag", "docs")
    ok("add", str(EXAMPLES), "--all")
    skills = json.loads(ok("list", "--type", "skill", "--json").out)
    assert {s["id"] for s in skills} == {"skill/pdf-summary", "skill/commit-message"}
    tagged = json.loads(ok("list", "--tag", "docs", "--json").out)
    assert {t["id"] for t in tagged} == {"skill/pdf-summary", "skill/commit-message"}
    mcp = json.loads(ok("list", "--type", "mcp", "--json").out)
    assert [m["name"] for m in mcp] == ["docs-search", "filesystem"]


def test_add_needs_a_selection_without_a_terminal(tmp_path: Path) -> None:
    ok("collection", "create", "c")
    result = skillmeat("add", str(EXAMPLES))
    assert result.code == 2 and "holds 8 artifacts" in result.err and "--all" in result.err
    dry = ok("add", str(EXAMPLES), "--all", "--dry-run")
    assert "Would add 8 artifacts" in dry.out
    assert json.loads(ok("list", "--json").out) == []


def test_search_json_ranks_and_explains(tmp_path: Path) -> None:
    ok("collection", "create", "c")
    ok("add", str(EXAMPLES), "--all")
    hits = json.loads(ok("search", "review", "--json").out)
    assert hits[0]["id"] == "command/review" and hits[0]["matched"] == ["name"]
    assert "agent/code-reviewer" in [h["id"] for h in hits]
    assert json.loads(ok("search", "no-such-word-anywhere", "--json").out) == []


def test_snapshot_history_diff_rollback(tmp_path: Path) -> None:
    ok("collection", "create", "c")
    ok("add", str(EXAMPLES), "--all")
    coll = Path(json.loads(ok("collection", "list", "--json").out)[0]["path"])
    review = coll / "commands" / "review.md"
    original = review.read_text()
    review.write_text(original + "\nAlso check the docs.\n")
    assert "+Also check the docs." in ok("diff", "review").out
    snap = ok("snapshot", "-m", "tweak review", "--name", "tweaked").out
    assert "Snapshot 'tweaked'" in snap and "1 changed path" in snap
    history = json.loads(ok("history", "--json").out)
    assert history[0]["summary"] == "tweak review" and history[0]["snapshots"] == ["tweaked"]
    assert [c["summary"] for c in json.loads(ok("history", "review", "--json").out)][:1] == \
        ["tweak review"]
    ok("rollback", "HEAD~1")
    assert review.read_text() == original
    assert "Roll back to" in git("log", "-1", "--format=%s", cwd=coll)
    assert len(json.loads(ok("history", "--json").out)) == len(history) + 1
    ok("rollback", "tweaked")  # a snapshot name is a revision too
    assert "Also check the docs." in review.read_text()
    review.write_text("dirty\n")
    refused = skillmeat("rollback", "HEAD~2")
    assert refused.code == 1 and "uncommitted changes" in refused.err


def test_validate_exit_codes_and_json(tmp_path: Path) -> None:
    ok("collection", "create", "c")
    ok("add", str(EXAMPLES), "--all")
    report = json.loads(ok("validate", "--json").out)
    assert report["artifacts"] == 8 and report["errors"] == 0 and report["warnings"] == 1
    strict = skillmeat("validate", "--strict")
    assert strict.code == 1
    assert "commands/deploy-check.md:3: error: invalid YAML frontmatter" in strict.out
    bad = tmp_path / "skills" / "Bad--Name"
    bad.mkdir(parents=True)
    (bad / "SKILL.md").write_text("---\nname: Bad--Name\ndescription: x\nfoo: 1\n---\nbody\n")
    one = skillmeat("validate", str(bad / "SKILL.md"), "--strict")
    assert one.code == 1
    assert "SKILL.md:2: error: name 'Bad--Name' must be 1-64 of a-z" in one.out
    assert "SKILL.md:4: error: 'foo' is not an Agent Skills field" in one.out
    assert skillmeat("validate", str(tmp_path / "nope")).code == 1
