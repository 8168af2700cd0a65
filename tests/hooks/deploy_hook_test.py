"""skillmeat-deploy as real post-merge and post-checkout hooks: Alice pushes, Bob pulls and the
projects that follow the team collection are redeployed (drift kept, signed HEADs required)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import ok, skillmeat
from tests.cli.trust_story_test import User
from tests.helpers import git, tree_state
from tests.hooks.precommit import BIN
from tests.hooks.team import Team, config, hook_lines, install, make_team, run_git

MERGE_HOOKS = ("post-merge", "post-checkout")


class Bob:
    def __init__(self, user: User, repo: Path, project: Path) -> None:
        self.user, self.repo, self.project = user, repo, project

    def pull(self, pc_home: Path) -> str:
        with self.user:
            pulled = run_git("pull", "-q", "--no-rebase", "origin", "main", cwd=self.repo,
                             pc_home=pc_home)
        assert pulled.code == 0, pulled  # git ignores a post-merge hook's exit code
        return pulled.out


def _setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pc_home: Path,
           args: list[str] | None = None) -> tuple[Team, Bob]:
    alice = make_team(User("alice", tmp_path / "alice", monkeypatch), tmp_path / "alice-work",
                      tmp_path / "remote.git", config(["skillmeat-deploy"],
                                                      {"skillmeat-deploy": args or []}),
                      pc_home, hook_types=())
    with alice.user:
        git("push", "-q", "origin", "main", cwd=alice.repo)
    bob = User("bob", tmp_path / "bob", monkeypatch)
    with bob:
        repo, project = tmp_path / "bob-work" / "team", tmp_path / "bob-work" / "app"
        project.mkdir(parents=True)
        git("clone", "-q", str(alice.remote), str(repo), cwd=tmp_path)
        ok("init", str(repo), "--name", "team")  # register the clone
        assert "follows team" in ok("project", "add", str(project), "--follow", "team").out
        install(repo, pc_home, MERGE_HOOKS)
    return alice, Bob(bob, repo, project)


def _alice_commits(alice: Team, *args: str) -> None:
    with alice.user:
        ok(*args, cwd=alice.repo)
        git("push", "-q", "origin", "main", cwd=alice.repo)


def _servers(project: Path) -> dict[str, object]:
    found: dict[str, object] = json.loads((project / ".mcp.json").read_text())["mcpServers"]
    return found


def test_pull_deploys_into_following_projects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              pc_home: Path) -> None:
    alice, bob = _setup(tmp_path, monkeypatch, pc_home)
    skill = tmp_path / "src" / "skills" / "standup"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: standup\ndescription: Write the standup note.\n"
                                    "---\n\nThree lines.\n")
    _alice_commits(alice, "add", str(skill))
    _alice_commits(alice, "mcp", "add", "notes", "--", "python", "notes_server.py")
    out = bob.pull(pc_home)
    (line,) = [ln for ln in hook_lines(out, "deploy") if str(bob.project) in ln]
    assert "deployed " in line and "skill/standup" in line and ".mcp.json: wrote" in line, out
    assert (bob.project / ".claude/skills/standup/SKILL.md").read_text().endswith("Three lines.\n")
    assert _servers(bob.project)["notes"] == {"type": "stdio", "command": "python",
                                              "args": ["notes_server.py"]}
    with bob.user:
        assert skillmeat("status", "--project", str(bob.project)).code == 0
        listed = json.loads(ok("project", "list", "--json").out)
        assert listed[0]["follow"] == ["team"]
        # a second run writes nothing
        before = tree_state(bob.project)
        again = subprocess.run([str(BIN / "skillmeat-deploy")], cwd=bob.repo, capture_output=True,
                               text=True, check=False)
        assert again.returncode == 0, again
        assert "7 artifact(s) and 3 MCP server(s) already in sync" in again.stdout, again
        assert tree_state(bob.project) == before

    # removed upstream: undeployed (the server too); a file checkout deploys nothing
    with alice.user:
        git("rm", "-q", "-r", "skills/standup", "mcp/notes.toml", cwd=alice.repo)
        git("commit", "-qm", "drop standup and notes", cwd=alice.repo)
        git("push", "-q", "origin", "main", cwd=alice.repo)
    out = bob.pull(pc_home)
    assert any("removed skill/standup" in ln and ".mcp.json: removed notes" in ln
               for ln in hook_lines(out, "deploy")), out
    assert not (bob.project / ".claude/skills/standup").exists()
    assert "notes" not in _servers(bob.project)
    with bob.user:
        (bob.repo / "README.md").write_text("scratch\n")
        git("add", "README.md", cwd=bob.repo)
        git("commit", "-qm", "scratch", cwd=bob.repo)
        (bob.repo / "README.md").write_text("changed\n")
        checked = run_git("checkout", "--", "README.md", cwd=bob.repo, pc_home=pc_home)
        assert hook_lines(checked.out, "deploy") == [
            "skillmeat-deploy: a checkout of files, not of a commit: nothing to deploy"], checked
        branch = run_git("checkout", "-b", "feature", cwd=bob.repo, pc_home=pc_home)
        assert any("already in sync" in ln for ln in hook_lines(branch.out, "deploy")), branch


def test_drift_is_reported_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           pc_home: Path) -> None:
    alice, bob = _setup(tmp_path, monkeypatch, pc_home)
    with bob.user:
        first = subprocess.run([str(BIN / "skillmeat-deploy")], cwd=bob.repo, capture_output=True,
                               text=True, check=False)
        assert first.returncode == 0, first
    mine = bob.project / ".claude/skills/pdf-summary/SKILL.md"
    mine.write_text(mine.read_text() + "\nBob's own note.\n")
    with alice.user:
        (alice.repo / "skills/pdf-summary/SKILL.md").write_text(
            "---\nname: pdf-summary\ndescription: Summarise a PDF.\n---\n\nNew steps.\n")
        (alice.repo / "agents/code-reviewer.md").write_text(
            "---\nname: code-reviewer\ndescription: Reviews code.\n---\n\nReview v2.\n")
        git("commit", "-qam", "update two", cwd=alice.repo)
        git("push", "-q", "origin", "main", cwd=alice.repo)
    out = bob.pull(pc_home)
    drift = [ln for ln in hook_lines(out, "deploy") if "drift:" in ln]
    assert len(drift) == 1 and "skill/pdf-summary: conflict" in drift[0], out
    assert "skillmeat sync" in drift[0]
    assert mine.read_text().endswith("Bob's own note.\n")
    assert "Review v2." in (bob.project / ".claude/agents/code-reviewer.md").read_text()
    with bob.user:
        again = subprocess.run([str(BIN / "skillmeat-deploy")], cwd=bob.repo, capture_output=True,
                               text=True, check=False)
        assert again.returncode == 1 and "skill/pdf-summary" in again.stderr, again
        assert skillmeat("status", "--project", str(bob.project)).code == 1


def test_nothing_to_follow_and_unregistered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            pc_home: Path) -> None:
    _, bob = _setup(tmp_path, monkeypatch, pc_home)
    gone = tmp_path / "gone"
    gone.mkdir()
    with bob.user:
        ok("project", "add", str(gone), "--follow", "team")
        gone.rmdir()
        one_missing = subprocess.run([str(BIN / "skillmeat-deploy")], cwd=bob.repo,
                                     capture_output=True, text=True, check=False)
        assert one_missing.returncode == 1, one_missing
        assert one_missing.stderr == (f"skillmeat-deploy: error: {gone}: project {gone} (following "
                                      f"'team') is missing (hint: forget it: `skillmeat project "
                                      f"remove {gone}`)\n")
        assert f"{bob.project}: deployed " in one_missing.stdout  # the others still deployed
        ok("project", "remove", str(gone))
        ok("project", "remove", str(bob.project))
        none = subprocess.run([str(BIN / "skillmeat-deploy")], cwd=bob.repo, capture_output=True,
                              text=True, check=False)
        assert none.returncode == 0, none
        assert "skillmeat project add DIR --follow team" in none.stdout
        ok("collection", "remove", "team")
        # an unregistered clone, in every stage: one line on how to register, and exit 0
        for stage_env in ({}, {"PRE_COMMIT_IS_SQUASH_MERGE": "0"},
                          {"PRE_COMMIT_CHECKOUT_TYPE": "1"}, {"PRE_COMMIT_REWRITE_COMMAND": "rebase"},
                          {"PRE_COMMIT_REWRITE_COMMAND": "amend"}):
            unregistered = subprocess.run([str(BIN / "skillmeat-deploy")], cwd=bob.repo,
                                          capture_output=True, text=True, check=False,
                                          env={**os.environ, **stage_env})
            assert unregistered.returncode == 0 and unregistered.stderr == "", unregistered
            assert unregistered.stdout == (
                "skillmeat-deploy: this clone of collection 'team' is not registered, so no "
                "project follows it: register it with `skillmeat init . --name team`, then "
                "`skillmeat project add DIR --follow team`\n"), stage_env


def test_require_signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pc_home: Path) -> None:
    alice, bob = _setup(tmp_path, monkeypatch, pc_home, ["--require-signed"])
    with alice.user:
        ok("keys", "git-setup", "--repo", str(alice.repo))

    def alice_signs(rel: str, text: str) -> None:
        with alice.user:
            path = alice.repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            git("add", rel, cwd=alice.repo)
            git("commit", "-S", "-qm", f"signed: {rel}", cwd=alice.repo)
            git("push", "-q", "origin", "main", cwd=alice.repo)

    def refused(*words: str) -> None:
        before = tree_state(bob.project)
        out = bob.pull(pc_home)
        lines = hook_lines(out, "deploy")
        assert len(lines) == 1 and lines[0].startswith("skillmeat-deploy: error: HEAD "), out
        assert "nothing was deployed" in lines[0]
        for word in words:
            assert word in lines[0], out
        assert tree_state(bob.project) == before

    with alice.user:  # an unsigned commit (git-setup --repo made signing the default here)
        (alice.repo / "README.md").write_text("unsigned\n")
        git("add", "README.md", cwd=alice.repo)
        git("commit", "--no-gpg-sign", "-qm", "unsigned", cwd=alice.repo)
        git("push", "-q", "origin", "main", cwd=alice.repo)
    refused("unsigned commit", "a merge you made", "a teammate's commit")
    # signed by Alice, whose key the same commit adds to the team's allowed_signers
    alice_signs(".skillmeat/allowed_signers", f"alice@example.com {alice.pub}\n")
    refused("unknown key", "skillmeat keys trust KEY")
    with bob.user:
        ok("keys", "trust", alice.pub, "--principal", "alice@example.com")
    alice_signs("README.md", "signed and trusted\n")
    out = bob.pull(pc_home)
    lines = hook_lines(out, "deploy")
    assert lines[0].startswith("skillmeat-deploy: HEAD is signed by alice@example.com"), out
    assert (bob.project / ".claude/skills/pdf-summary/SKILL.md").is_file()
    # the team revokes Alice's key: her next commit is refused, even though Bob trusts her
    alice_signs(".skillmeat/revoked", f"# revoked 2026-01-01: laptop lost\n{alice.pub}\n")
    refused("revoked")
