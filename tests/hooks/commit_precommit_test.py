"""The commit-stage hooks through the real pre-commit tool, both ways: a `repo: local` config
(plus a real `git commit` through `pre-commit install`ed hooks) and `pre-commit try-repo`
against a snapshot of this checkout. Each hook passes on a good repo and fails usefully on a
bad one."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.helpers import git
from tests.hooks.precommit import env, local_config, pre_commit
from tests.hooks.teamrepo import SKILL, commit, team_repo, write

HOOKS = ["skillmeat-validate", "skillmeat-lock", "skillmeat-verify", "skillmeat-mcp-check"]
NAMES = {
    "skillmeat-validate": "SkillMeat validate",
    "skillmeat-lock": "SkillMeat lock",
    "skillmeat-verify": "SkillMeat verify",
    "skillmeat-mcp-check": "SkillMeat MCP check",
}
PACK = "bundles/team/1.0.0.skillmeat-pack"
TOKEN = "ghp_" + "Zx9Yw8Vu7T" * 4


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A team repo with work for every hook: artifacts, MCP definitions, a bundle signed by
    the user's key and that key in the team's .skillmeat/allowed_signers."""
    repo = team_repo(tmp_path)
    ok("keys", "generate", "--comment", "alice@example.com")
    (repo / "bundles" / "team").mkdir(parents=True)
    ok("export", "--all", "-o", str(repo / PACK), "--version", "1.0.0", cwd=repo)
    pub = ok("keys", "export", "--public").out.strip()
    ok("keys", "trust", pub, "--principal", "alice@example.com", "--team", cwd=repo)
    git("add", PACK, cwd=repo)
    commit(repo, "bundle")
    return repo


def _status(out: str, hook_id: str) -> str:
    found = re.search(rf"^{re.escape(NAMES[hook_id])}.*?\.+(\w+)$", out, re.MULTILINE)
    assert found, out
    return found.group(1)


def _break(repo: Path, hook_id: str) -> tuple[str, ...]:
    """Make ``hook_id`` fail; return what its output must say."""
    if hook_id == "skillmeat-validate":
        write(repo, "skills/pdf-summary/SKILL.md",
              "---\nname: pdf-summary\ndescription: [x]\n---\n\nBody.\n")
        return ("skills/pdf-summary/SKILL.md:3: error: description must be a string",)
    if hook_id == "skillmeat-lock":
        write(repo, "skills/hand-made/SKILL.md", SKILL.format(name="hand-made", description="Mine."))
        return ("skillmeat.lock was stale: ", "skill/hand-made", "it is rewritten: git add skillmeat.lock")
    if hook_id == "skillmeat-verify":
        write(repo, PACK, (repo / PACK).read_bytes() + b"junk")
        return (f"{PACK}: ",)
    write(repo, "mcp/gh.toml", f"command = 'npx'\n[env]\nGITHUB_TOKEN = '{TOKEN}'\n")
    return ("mcp/gh.toml: server gh: env.GITHUB_TOKEN looks like a literal secret",)


def test_local_config_passes_a_good_repo_and_each_hook_fails_usefully(team: Path,
                                                                      pc_home: Path) -> None:
    write(team, ".pre-commit-config.yaml", local_config(HOOKS))
    commit(team, "hooks")
    good = pre_commit("run", "--all-files", cwd=team, pc_home=pc_home)
    assert good.code == 0, good
    for hook_id in HOOKS:
        assert _status(good.out, hook_id) == "Passed", good
    expected = {hook_id: _break(team, hook_id) for hook_id in HOOKS}
    bad = pre_commit("run", "--all-files", cwd=team, pc_home=pc_home)
    assert bad.code == 1, bad
    for hook_id, words in expected.items():
        assert _status(bad.out, hook_id) == "Failed", bad
        assert all(w in bad.out for w in words), bad
    assert "Traceback" not in bad.out
    assert "skill/hand-made" in (team / "skillmeat.lock").read_text()  # the lock hook fixed it


def _git_commit(repo: Path, pc_home: Path, message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-m", message], cwd=repo, env=env(pc_home),
                          capture_output=True, text=True, check=False)


def test_git_commit_is_refused_until_the_rewritten_lock_is_staged(team: Path, pc_home: Path) -> None:
    write(team, ".pre-commit-config.yaml", local_config(["skillmeat-validate", "skillmeat-lock"]))
    commit(team, "hooks")
    assert pre_commit("install", cwd=team, pc_home=pc_home).code == 0
    head = git("rev-parse", "HEAD", cwd=team)
    write(team, "skills/hand-made/SKILL.md", SKILL.format(name="hand-made", description="Mine."))
    refused = _git_commit(team, pc_home, "add a skill by hand")
    assert refused.returncode == 1, refused
    out = refused.stdout + refused.stderr
    assert "skillmeat.lock was stale: 1 added (skill/hand-made), 0 changed, 0 removed; it is " \
           "rewritten: git add skillmeat.lock" in out
    assert _status(out, "skillmeat-lock") == "Failed" and _status(out, "skillmeat-validate") == "Passed"
    assert git("rev-parse", "HEAD", cwd=team) == head
    assert "skill/hand-made" in (team / "skillmeat.lock").read_text()
    git("add", "skillmeat.lock", cwd=team)
    done = _git_commit(team, pc_home, "add a skill by hand")
    assert done.returncode == 0, done.stdout + done.stderr
    assert git("rev-parse", "HEAD~1", cwd=team) == head
    assert git("status", "--porcelain", cwd=team) == ""
    # an invalid artifact is refused by validate, with its line
    write(team, "commands/review.md", "---\ndescription: [x]\n---\n\nReview.\n")
    invalid = _git_commit(team, pc_home, "break a command")
    out = invalid.stdout + invalid.stderr
    assert invalid.returncode == 1 and _status(out, "skillmeat-validate") == "Failed", out
    assert "commands/review.md:2: error: description must be a string" in out
    # deleting an artifact alone still runs the lock hook (pre-commit lists no deleted files)
    git("reset", "-q", "--hard", cwd=team)
    git("rm", "-q", "agents/code-reviewer.md", cwd=team)
    removed = _git_commit(team, pc_home, "drop the agent")
    out = removed.stdout + removed.stderr
    assert removed.returncode == 1 and "1 removed (agent/code-reviewer)" in out, out


def test_try_repo_passes_a_good_repo_then_each_hook_fails_usefully(team: Path, hook_repo: Path,
                                                                  pc_home: Path) -> None:
    # try-repo makes a fresh store (so a fresh install, ~25 s) on every call: one call per state,
    # with no hook id, runs exactly the commit-stage hooks (the others are pre-push/post-merge)
    good = pre_commit("try-repo", str(hook_repo), "--all-files", cwd=team, pc_home=pc_home)
    assert good.code == 0, good
    for hook_id in HOOKS:
        assert _status(good.out, hook_id) == "Passed", good
    expected = {hook_id: _break(team, hook_id) for hook_id in HOOKS}
    bad = pre_commit("try-repo", str(hook_repo), "--all-files", cwd=team, pc_home=pc_home)
    assert bad.code == 1, bad
    for hook_id, words in expected.items():
        assert _status(bad.out, hook_id) == "Failed", bad
        assert all(w in bad.out for w in words), bad
    assert "Traceback" not in bad.out


def test_try_repo_runs_one_hook_by_its_id(team: Path, hook_repo: Path, pc_home: Path) -> None:
    words = _break(team, "skillmeat-mcp-check")
    bad = pre_commit("try-repo", str(hook_repo), "skillmeat-mcp-check", "--all-files", cwd=team,
                     pc_home=pc_home)
    assert bad.code == 1 and _status(bad.out, "skillmeat-mcp-check") == "Failed", bad
    assert all(w in bad.out for w in words), bad
    assert "SkillMeat validate" not in bad.out
