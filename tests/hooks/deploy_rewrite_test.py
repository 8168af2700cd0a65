"""skillmeat-deploy through real git and pre-commit: clashing artifacts are left out (the rest
deployed), post-checkout never makes git fail, nothing is deployed mid-rebase and post-rewrite
deploys after it, and a team whose commits SkillMeat signs passes --require-signed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import ok, skillmeat
from tests.helpers import git, tree_state
from tests.hooks.deploy_hook_test import Bob, _alice_commits, _servers, _setup
from tests.hooks.precommit import BIN
from tests.hooks.team import hook_lines, install, run_git

AGENT = "---\nname: backend-architect\ndescription: Designs {p} back ends.\n---\n\nBody {p}.\n"
SKILL = "---\nname: {name}\ndescription: Does {name}.\n---\n\n{body}\n"


def _deploy_now(bob: Bob) -> subprocess.CompletedProcess[str]:
    with bob.user:
        return subprocess.run([str(BIN / "skillmeat-deploy")], cwd=bob.repo, capture_output=True,
                              text=True, check=False)


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_clashing_artifacts_are_skipped_and_the_rest_deployed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pc_home: Path) -> None:
    alice, bob = _setup(tmp_path, monkeypatch, pc_home)
    with alice.user:  # two plugins' agents land on one file, two plugins' servers on one name
        for plugin in ("api-security", "api-scaffolding"):
            _write(alice.repo, f"agents/{plugin}/backend-architect.md", AGENT.format(p=plugin))
            _write(alice.repo, f"mcp/{plugin}/github.toml",
                   f'transport = "stdio"\ncommand = "{plugin}-server"\n')
        _write(alice.repo, "skills/standup/SKILL.md", SKILL.format(name="standup", body="Hi."))
        git("add", "-A", cwd=alice.repo)
        git("commit", "-qm", "plugins", cwd=alice.repo)
        git("push", "-q", "origin", "main", cwd=alice.repo)
    out = bob.pull(pc_home)
    lines = hook_lines(out, "deploy")
    clashes = [ln for ln in lines if ": clash: " in ln]
    assert clashes == [
        f"skillmeat-deploy: clash: {bob.project}: agent/api-scaffolding:backend-architect and "
        "agent/api-security:backend-architect: all would be deployed to "
        ".claude/agents/backend-architect.md, so none of them was; keep one in the collection "
        "(`skillmeat remove agent/api-security:backend-architect`)",
        f"skillmeat-deploy: clash: {bob.project}: mcp/api-scaffolding:github and "
        "mcp/api-security:github: all would be 'github' in .mcp.json, so none of them was "
        "deployed; keep one in the collection (`skillmeat remove mcp/api-security:github`)"], out
    assert "Failed" in out and "- exit code: 1" in out  # post-merge: it failed
    # everything else is deployed
    assert (bob.project / ".claude/skills/standup/SKILL.md").is_file()
    assert (bob.project / ".claude/skills/pdf-summary/SKILL.md").is_file()
    assert not (bob.project / ".claude/agents/backend-architect.md").exists()
    assert set(_servers(bob.project)) == {"docs-search", "filesystem"}
    again = _deploy_now(bob)
    assert again.returncode == 1 and again.stderr.count(": clash: ") == 2, again
    assert "already in sync" in again.stdout
    with bob.user:  # `skillmeat deploy` itself still refuses them together
        refused = skillmeat("deploy", "agent/api-scaffolding:backend-architect",
                            "agent/api-security:backend-architect", "--project", str(bob.project))
        assert refused.code == 1 and "would both be deployed to" in refused.err, refused

    # Alice keeps one: it is deployed on the next pull, and nothing clashes any more
    _alice_commits(alice, "remove", "agent/api-security:backend-architect",
                   "mcp/api-security:github")
    out = bob.pull(pc_home)
    assert not [ln for ln in hook_lines(out, "deploy") if ": clash: " in ln], out
    assert "Body api-scaffolding." in (bob.project / ".claude/agents/backend-architect.md").read_text()
    assert _servers(bob.project)["github"] == {"type": "stdio", "command": "api-scaffolding-server",
                                               "args": []}


def test_post_checkout_never_fails_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       pc_home: Path) -> None:
    alice, bob = _setup(tmp_path, monkeypatch, pc_home, ["--require-signed"])
    with bob.user:  # HEAD is unsigned: post-merge refuses (and fails), post-checkout only says so
        checked = run_git("checkout", "-b", "feature", cwd=bob.repo, pc_home=pc_home)
        assert checked.code == 0, checked
        lines = hook_lines(checked.out, "deploy")
        assert lines[0].startswith("skillmeat-deploy: error: HEAD ") and "unsigned" in lines[0]
        assert lines[1] == ("skillmeat-deploy: post-checkout reports problems without failing "
                            "the checkout (exit 0)"), checked
        assert "- exit code" not in checked.out
        # a worktree and a clone with the hooks in a template: neither is registered
        added = run_git("worktree", "add", "-q", str(tmp_path / "wt"), "main", cwd=bob.repo,
                        pc_home=pc_home)
        assert added.code == 0, added
        assert "is not registered, so no project follows it" in added.out, added
        template = tmp_path / "template"
        (template / "hooks").mkdir(parents=True)
        shutil.copy2(bob.repo / ".git/hooks/post-checkout", template / "hooks/post-checkout")
        cloned = run_git("clone", "-q", f"--template={template}", str(alice.remote),
                         str(tmp_path / "fresh"), cwd=tmp_path, pc_home=pc_home)
        assert cloned.code == 0, cloned
        assert hook_lines(cloned.out, "deploy") == [
            "skillmeat-deploy: this clone of collection 'team' is not registered, so no project "
            "follows it: register it with `skillmeat init . --name team`, then `skillmeat "
            "project add DIR --follow team`"], cloned
        # the same refusal at post-merge (git ignores its status) is a failure
        merged = subprocess.run([str(BIN / "skillmeat-deploy"), "--require-signed"],
                                cwd=bob.repo, capture_output=True, text=True, check=False,
                                env={**os.environ, "PRE_COMMIT_IS_SQUASH_MERGE": "0"})
        assert merged.returncode == 1, merged


def test_rebase_deploys_after_it_not_during(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            pc_home: Path) -> None:
    alice, bob = _setup(tmp_path, monkeypatch, pc_home)
    mine = bob.project / ".claude/skills/bobs-notes/SKILL.md"
    with bob.user:
        install(bob.repo, pc_home, ("post-rewrite",))
        _write(bob.repo, "skills/bobs-notes/SKILL.md", SKILL.format(name="bobs-notes", body="v1"))
        git("add", "skills", cwd=bob.repo)
        git("commit", "-qm", "bob's notes", cwd=bob.repo)
        assert _deploy_now(bob).returncode == 0
        assert mine.read_text().endswith("v1\n")
    with alice.user:
        _write(alice.repo, "skills/standup/SKILL.md", SKILL.format(name="standup", body="Hi."))
        git("add", "skills", cwd=alice.repo)
        git("commit", "-qm", "standup", cwd=alice.repo)
        git("push", "-q", "origin", "main", cwd=alice.repo)
    with bob.user:
        pulled = run_git("pull", "-q", "--rebase", "origin", "main", cwd=bob.repo, pc_home=pc_home)
    assert pulled.code == 0, pulled
    lines = hook_lines(pulled.out, "deploy")
    assert lines[0] == ("skillmeat-deploy: a rebase (.git/rebase-merge) is in progress: nothing "
                        "deployed until it ends (post-rewrite deploys when a rebase ends)"), pulled
    assert not any("removed" in ln for ln in lines), pulled  # bob's skill never taken back
    assert len(lines) == 2 and "deployed skill/standup" in lines[1], pulled
    assert mine.read_text().endswith("v1\n")
    assert (bob.project / ".claude/skills/standup/SKILL.md").is_file()

    with bob.user:  # amend: HEAD changed, deployed again
        _write(bob.repo, "skills/bobs-notes/SKILL.md", SKILL.format(name="bobs-notes", body="v2"))
        amended = run_git("commit", "-q", "-a", "--amend", "--no-edit", cwd=bob.repo,
                          pc_home=pc_home)
    assert amended.code == 0, amended
    assert any("deployed skill/bobs-notes" in ln for ln in hook_lines(amended.out, "deploy"))
    assert mine.read_text().endswith("v2\n")

    # a rebase stopped on a conflict: nothing deployed on checkouts meanwhile; the rest after
    with alice.user:
        _write(alice.repo, "skills/bobs-notes/SKILL.md", SKILL.format(name="bobs-notes", body="A"))
        _write(alice.repo, "skills/retro/SKILL.md", SKILL.format(name="retro", body="R"))
        git("add", "skills", cwd=alice.repo)
        git("commit", "-qm", "alice edits bob's notes", cwd=alice.repo)
        git("push", "-q", "origin", "main", cwd=alice.repo)
    with bob.user:
        before = tree_state(bob.project)
        stopped = run_git("pull", "-q", "--rebase", "origin", "main", cwd=bob.repo, pc_home=pc_home)
        assert stopped.code != 0 and "CONFLICT" in stopped.out, stopped
        assert tree_state(bob.project) == before
        busy = _deploy_now(bob)
        assert busy.returncode == 0 and "rebase (.git/rebase-merge) is in progress" in busy.stdout
        _write(bob.repo, "skills/bobs-notes/SKILL.md", SKILL.format(name="bobs-notes", body="v3"))
        git("add", "skills", cwd=bob.repo)
        done = run_git("-c", "core.editor=true", "rebase", "--continue", cwd=bob.repo,
                       pc_home=pc_home)
    assert done.code == 0, done
    assert any("deployed skill/bobs-notes, skill/retro" in ln
               for ln in hook_lines(done.out, "deploy")), done
    assert mine.read_text().endswith("v3\n")


def test_signed_team_commits_pass_require_signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 pc_home: Path) -> None:
    alice, bob = _setup(tmp_path, monkeypatch, pc_home, ["--require-signed"])
    with alice.user:
        ok("keys", "git-setup", "--repo", str(alice.repo))
    with bob.user:
        ok("keys", "trust", alice.pub, "--principal", "alice@example.com")
    # SkillMeat's own commits in Alice's repository are signed: Bob deploys them
    _write(tmp_path / "src", "standup/SKILL.md", SKILL.format(name="standup", body="Hi."))
    _alice_commits(alice, "add", str(tmp_path / "src" / "standup"))
    out = bob.pull(pc_home)
    lines = hook_lines(out, "deploy")
    assert lines[0].startswith("skillmeat-deploy: HEAD is signed by alice@example.com"), out
    assert "deployed " in lines[1] and "skill/standup" in lines[1], out
    _alice_commits(alice, "mcp", "add", "notes", "--", "python", "notes_server.py")

    # Bob's own (unsigned) merge commit is refused, and the hint says what to do
    def bob_merges() -> list[str]:
        with bob.user:
            _write(bob.repo, "NOTES.md", "bob\n")
            git("add", "NOTES.md", cwd=bob.repo)
            git("commit", "-qm", "bob's local note", cwd=bob.repo)
        return hook_lines(bob.pull(pc_home), "deploy")

    lines = bob_merges()
    assert len(lines) == 1 and "unsigned commit; nothing was deployed" in lines[0], lines
    for what in ("a merge you made", "skillmeat keys git-setup --repo .", "--ff-only",
                 "a teammate's commit: ask them to sign it",
                 "skillmeat keys trust KEY --principal NAME"):
        assert what in lines[0], what
    assert "notes" not in _servers(bob.project)
    with bob.user:  # the hint's way: sign here, redo the pull
        ok("keys", "generate", "--comment", "bob@example.com")
        ok("keys", "git-setup", "--repo", ".", "--principal", "bob@example.com", cwd=bob.repo)
        git("reset", "-q", "--hard", "ORIG_HEAD", cwd=bob.repo)
    lines = hook_lines(bob.pull(pc_home), "deploy")
    assert lines[0].startswith("skillmeat-deploy: HEAD is signed by bob@example.com"), lines
    assert _servers(bob.project)["notes"] == {"type": "stdio", "command": "python",
                                              "args": ["notes_server.py"]}
