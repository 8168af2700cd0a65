"""skillmeat-lock: a no-op on collections SkillMeat's own commands maintain; a stale lock is
rewritten (exit 1, one summary line), or only reported with --check; bad files exit 2."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.helpers import git, tree_state
from tests.hooks.teamrepo import SKILL, commit, hook, team_repo, write


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return team_repo(tmp_path)


def _lock(repo: Path) -> dict[str, dict[str, str]]:
    return tomllib.loads((repo / "skillmeat.lock").read_text())["artifacts"]  # type: ignore[no-any-return]


def _silent_pass(repo: Path) -> None:
    before = (repo / "skillmeat.lock").read_bytes()
    ran = hook("lock", cwd=repo)
    assert (ran.code, ran.out, ran.err) == (0, "", ""), ran
    assert (repo / "skillmeat.lock").read_bytes() == before


def test_a_no_op_after_add_mcp_add_update_and_import(tmp_path: Path, team: Path,
                                                    upstream_repo: Path) -> None:
    _silent_pass(team)  # after `init` + `add examples --all`
    ok("mcp", "add", "gh", "--env", "GITHUB_TOKEN=${GITHUB_TOKEN}", "--", "npx", "gh-mcp", cwd=team)
    _silent_pass(team)
    ok("mcp", "add", "search", "--url", "https://example.com/mcp", cwd=team)
    _silent_pass(team)
    ok("add", f"file://{upstream_repo}", "--all", cwd=team)
    _silent_pass(team)
    (upstream_repo / "skills" / "greeter" / "SKILL.md").write_text(
        "---\nname: greeter\ndescription: Greets warmly.\n---\n\nSay hello twice.\n")
    git("commit", "-qam", "warmer", cwd=upstream_repo)
    assert "Updated 1 artifact" in ok("update", "--yes", cwd=team).out
    _silent_pass(team)
    assert _lock(team)["skill/greeter"]["commit"] == git("rev-parse", "HEAD", cwd=upstream_repo).strip()
    # import: a bundle exported (signed) from this collection into a fresh one
    ok("keys", "generate", "--comment", "team@example.com")
    pack = tmp_path / "team.skillmeat-pack"
    ok("export", "--all", "-o", str(pack), "--version", "1.0.0", cwd=team)
    other = tmp_path / "other"
    ok("init", str(other))
    assert "Imported" in ok("import", str(pack), "--allow-unsigned", cwd=other).out
    _silent_pass(other)
    assert len(_lock(other)) == len(_lock(team))


def test_a_stale_lock_is_rewritten_with_upstreams_kept(team: Path) -> None:
    before = _lock(team)
    write(team, "skills/hand-made/SKILL.md", SKILL.format(name="hand-made", description="Mine."))
    write(team, "commands/review.md", "---\ndescription: Review harder\n---\n\nReview.\n")
    git("rm", "-q", "agents/code-reviewer.md", cwd=team)
    untouched = tree_state(team)
    check = hook("lock", "--check", cwd=team)
    assert check.code == 1 and check.err == "", check
    assert check.out == ("skillmeat.lock is stale: 1 added (skill/hand-made), 1 changed "
                         "(command/review), 1 removed (agent/code-reviewer) (hint: run "
                         "`skillmeat-lock` or `pre-commit run skillmeat-lock` to rewrite it)\n")
    assert tree_state(team) == untouched
    ran = hook("lock", cwd=team)
    assert ran.code == 1 and ran.err == "", ran
    assert ran.out == ("skillmeat.lock was stale: 1 added (skill/hand-made), 1 changed "
                       "(command/review), 1 removed (agent/code-reviewer); it is rewritten: "
                       "git add skillmeat.lock\n")
    after = _lock(team)
    assert set(after) == set(before) - {"agent/code-reviewer"} | {"skill/hand-made"}
    assert set(after["skill/hand-made"]) == {"hash"}  # hand-written: no upstream
    review = after["command/review"]
    assert review["hash"] != before["command/review"]["hash"]
    assert {k: v for k, v in review.items() if k != "hash"} == {
        k: v for k, v in before["command/review"].items() if k != "hash"}
    assert review["source"]  # where `add` took it from is kept
    for aid in set(after) - {"skill/hand-made", "command/review"}:
        assert after[aid] == before[aid]
    _silent_pass(team)  # idempotent
    git("add", "skillmeat.lock", cwd=team)
    commit(team)
    # SkillMeat's own commands agree with the rewritten lock: removing the new skill keeps it in step
    ok("remove", "skill/hand-made", cwd=team)
    _silent_pass(team)


def test_untracked_files_do_not_count(team: Path) -> None:
    write(team, "skills/scratch/SKILL.md", SKILL.format(name="scratch", description="Wip."),
          stage=False)
    write(team, "commands/.DS_Store", b"\0junk", stage=False)
    _silent_pass(team)
    git("add", "skills/scratch", cwd=team)
    ran = hook("lock", "--check", cwd=team)
    assert ran.code == 1 and "1 added (skill/scratch)" in ran.out, ran


def test_a_lock_that_gets_created_and_a_collection_without_artifacts(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    ok("init", str(empty))
    _silent_pass(empty)
    (empty / "skillmeat.lock").unlink()
    ran = hook("lock", cwd=empty)
    assert (ran.code, ran.out) == (0, ""), ran
    assert not (empty / "skillmeat.lock").exists()  # nothing to lock: no file made
    write(empty, "commands/hello.md", "---\ndescription: Hello\n---\n\nSay hello.\n")
    ran = hook("lock", cwd=empty)
    assert ran.code == 1 and "1 added (command/hello)" in ran.out, ran
    assert list(_lock(empty)) == ["command/hello"]


@pytest.mark.parametrize("name, text, words", [
    ("skillmeat.lock", "format = [broken\n", ("skillmeat.lock", "invalid TOML")),
    ("skillmeat.lock", 'format = "other/9"\n', ("skillmeat.lock", "format is 'other/9'")),
    ("skillmeat.toml", "[collection]\nversion = 1\n", ("skillmeat.toml", "missing [collection] name")),
])
def test_malformed_lock_or_manifest_is_one_line_exit_2_nothing_written(
        team: Path, name: str, text: str, words: tuple[str, ...]) -> None:
    (team / name).write_text(text)
    write(team, "skills/new/SKILL.md", SKILL.format(name="new", description="New."))
    before = tree_state(team)
    ran = hook("lock", cwd=team)
    assert ran.code == 2 and ran.out == "", ran
    assert ran.err.count("\n") == 1 and ran.err.startswith("skillmeat-lock: error: "), ran
    assert all(w in ran.err for w in words) and "Traceback" not in ran.err
    assert tree_state(team) == before
