"""skillmeat-lock: a no-op on collections SkillMeat's own commands maintain; a stale lock is
rewritten (exit 1, one summary line), or only reported with --check; the lock follows git's
index (autocrlf, core.fileMode, symlinks, `git commit -a`); a conflicted or unreadable lock is
rebuilt; a bad manifest, a lock of another format or a non-UTF-8 file name exit 2."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.helpers import git, tree_state
from tests.hooks.teamrepo import BIN, SKILL, commit, hook, team_repo, write


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


def test_the_lock_follows_git_content_not_the_work_tree(team: Path) -> None:
    """A CRLF checkout (core.autocrlf) and a lost exec bit (core.fileMode=false) are no change
    to git, so none to the lock: teammates on Windows and Linux agree."""
    git("config", "core.autocrlf", "true", cwd=team)
    git("config", "core.fileMode", "false", cwd=team)
    script = team / "skills" / "pdf-summary" / "scripts" / "extract.py"
    assert git("ls-files", "-s", str(script), cwd=team).startswith("100755")
    for rel in git("ls-files", "skills", "commands", "agents", cwd=team).split():
        (team / rel).unlink()
    git("checkout", "--", ".", cwd=team)
    os.chmod(script, 0o644)
    assert b"\r\n" in (team / "commands" / "review.md").read_bytes()
    assert git("status", "--porcelain", cwd=team) == ""
    _silent_pass(team)


def test_a_symlink_is_hashed_as_a_link_the_way_a_commit_tree_is(tmp_path: Path, team: Path) -> None:
    import pygit2

    from skillmeat.model.artifact import ArtifactId, ArtifactType
    from skillmeat.services.hashing import tree_hash
    from skillmeat.store.gitrepo import walk_tree
    from skillmeat.store.tree import GitTree

    outside = tmp_path / "outside.txt"
    outside.write_text("secret one\n")
    (team / "skills" / "pdf-summary" / "notes.md").symlink_to(outside)
    git("add", "skills/pdf-summary/notes.md", cwd=team)
    ran = hook("lock", cwd=team)
    assert ran.code == 1 and "1 changed (skill/pdf-summary)" in ran.out, ran
    outside.write_text("secret two\n")  # the target's content is not the link's
    _silent_pass(team)
    git("add", "skillmeat.lock", cwd=team)
    commit(team)
    repo = pygit2.Repository(str(team))
    files = dict(walk_tree(repo.head.peel(pygit2.Commit).tree))
    assert files["skills/pdf-summary/notes.md"][0] == 0o120000
    aid = ArtifactId(ArtifactType.SKILL, "pdf-summary")
    paths = sorted(p for p in files if p.startswith("skills/pdf-summary/"))
    assert _lock(team)["skill/pdf-summary"]["hash"] == tree_hash(GitTree(repo, files, "HEAD"), aid, paths)


def test_git_commit_a_is_checked_on_the_index_git_hands_the_hook(team: Path) -> None:
    hook_file = team / ".git" / "hooks" / "pre-commit"
    hook_file.write_text(f"#!/bin/sh\nexec {BIN / 'skillmeat-lock'} --check\n")
    hook_file.chmod(0o755)
    (team / "commands" / "review.md").write_text("---\ndescription: Harder\n---\n\nReview.\n")
    proc = subprocess.run(["git", "commit", "-qam", "edit"], cwd=team, capture_output=True, text=True)
    assert proc.returncode == 1, proc
    assert "skillmeat.lock is stale: 0 added, 1 changed (command/review), 0 removed" in proc.stderr
    before = git("rev-parse", "HEAD", cwd=team)
    assert hook("lock", "--check", cwd=team).code == 0  # .git/index itself has no change
    assert git("rev-parse", "HEAD", cwd=team) == before


def _upstream_side(tmp_path: Path, name: str) -> Path:
    src = tmp_path / "theirs-src"
    write(src, f"skills/{name}/SKILL.md", SKILL.format(name=name, description="Theirs."), stage=False)
    git("init", "-q", "-b", "main", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "theirs", cwd=src)
    return src


def test_a_lock_with_merge_conflicts_is_rebuilt_from_both_sides(tmp_path: Path, team: Path) -> None:
    src = _upstream_side(tmp_path, "zz-theirs")
    git("checkout", "-qb", "b1", cwd=team)
    ok("add", str(src), "--all", cwd=team)  # a commit with upstream fields in the lock
    theirs = _lock(team)["skill/zz-theirs"]
    assert theirs["commit"] and theirs["source"]
    git("checkout", "-q", "main", cwd=team)
    write(team, "skills/zz-mine/SKILL.md", SKILL.format(name="zz-mine", description="Mine."))
    assert hook("lock", cwd=team).code == 1
    git("add", "skillmeat.lock", cwd=team)
    commit(team, "mine")
    merge = subprocess.run(["git", "merge", "-q", "b1"], cwd=team, capture_output=True, text=True)
    assert merge.returncode == 1 and "CONFLICT (content): Merge conflict in skillmeat.lock" in merge.stdout
    before = tree_state(team)
    check = hook("lock", "--check", cwd=team)
    assert check.code == 1 and "it had merge conflicts" in check.out and check.err == "", check
    assert tree_state(team) == before  # --check never writes
    ran = hook("lock", cwd=team)
    assert ran.code == 1 and ran.err == "", ran
    assert ran.out == ("skillmeat.lock was stale: it had merge conflicts; both sides' entries are "
                       "merged for the staged content (10 artifacts); it is rewritten: "
                       "git add skillmeat.lock\n")
    after = _lock(team)
    assert after["skill/zz-theirs"] == theirs and set(after["skill/zz-mine"]) == {"hash"}
    _silent_pass(team)
    git("add", "skillmeat.lock", cwd=team)
    commit(team, "merged")


@pytest.mark.parametrize("raw, why", [
    (b"", "it could not be read (it is empty)"),
    (b"\xff\xfe\x00garbage", "it could not be read (not UTF-8 text: invalid start byte at byte 0)"),
    (None, "it could not be read (invalid TOML: "),
])
def test_an_unreadable_lock_is_rebuilt_from_the_manifest(team: Path, raw: bytes | None,
                                                         why: str) -> None:
    before = _lock(team)
    text = (team / "skillmeat.lock").read_bytes()
    (team / "skillmeat.lock").write_bytes(text[: len(text) // 2] if raw is None else raw)  # truncated
    ran = hook("lock", cwd=team)
    assert ran.code == 1 and ran.err == "" and ran.out.count("\n") == 1, ran
    assert ran.out.startswith(f"skillmeat.lock was stale: {why}"), ran
    assert ("it is rebuilt from skillmeat.toml's upstreams and the staged content (8 artifacts); "
            "the resolved commits and versions of 8 (") in ran.out
    assert "could not be kept: `skillmeat update` records them again" in ran.out
    after = _lock(team)
    assert {k: {f: v for f, v in e.items() if f not in ("commit", "version")}
            for k, e in before.items()} == after
    _silent_pass(team)


def test_a_file_name_that_is_not_utf8_is_named_exit_2(team: Path) -> None:
    name = os.fsdecode(b"skills/pdf-summary/caf\xe9.md")
    (team / name).write_text("x\n")
    subprocess.run(["git", "add", "--", os.fsencode(name)], cwd=team, check=True)
    before = tree_state(team)
    ran = hook("lock", cwd=team)
    assert ran.code == 2 and ran.out == "", ran
    assert ran.err == ('skillmeat-lock: error: "skills/pdf-summary/caf\\xe9.md": the file name is '
                       "not UTF-8 (in git's index) (hint: rename it with `git mv` to a UTF-8 name: "
                       "bundles, skillmeat.lock and Claude Code need one)\n")
    assert tree_state(team) == before
