"""The team workflow, end to end, as two people run it: two homes and keys, one bare remote,
the real `pre-commit` tool installed as real git hooks, plain `git commit/push/pull`.

Alice scaffolds the team repository, adds a skill and an MCP server and commits (validate and
lock run), then pushes (export and publish sign and push the bundle and the feed). Bob clones,
trusts Alice's key, follows the team with his project and pulls: the skill lands in his
project and the server in its .mcp.json, `status` says in sync, his catalog shows the skill.
Then Alice's key is revoked and Bob refuses everything it signed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import ok, skillmeat
from tests.helpers import claude_cli, git, isolate_env
from tests.hooks.precommit import env as pc_env

SKILL = """---
name: release-notes
description: Drafts release notes from the merged pull requests since the last tag.
---

# Release notes

1. List the merged pull requests since the last tag.
2. Group them by label and write one line each.
"""

SERVER = """transport = "stdio"
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "."]

[env]
API_TOKEN = "${API_TOKEN}"
"""


class User:
    """One person: their own HOME, SKILLMEAT_HOME, git identity; the CLI runs as them."""

    def __init__(self, name: str, base: Path, mp: pytest.MonkeyPatch, pc_home: Path) -> None:
        self.name, self.base, self.mp, self.pc_home = name, base, mp, pc_home
        self.email = f"{name}@example.com"

    def __enter__(self) -> User:
        isolate_env(self.mp, self.base)
        (self.base / "user" / ".gitconfig").write_text(
            f"[user]\n\tname = {self.name.title()}\n\temail = {self.email}\n"
            "[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n"
            "[pull]\n\tff = only\n")
        for key, value in pc_env(self.pc_home).items():
            if key in ("PRE_COMMIT_HOME", "PATH", "PIP_NO_BUILD_ISOLATION", "PIP_CACHE_DIR"):
                self.mp.setenv(key, value)
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def git(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _ok_git(user: User, *args: str, cwd: Path) -> str:
    proc = user.git(*args, cwd=cwd)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout + proc.stderr


def _remote_refs(remote: Path) -> dict[str, str]:
    out = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/skillmeat", cwd=remote)
    return dict(line.split(" ", 1) for line in out.splitlines())  # type: ignore[misc]


def test_two_people_one_team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pc_home: Path) -> None:
    remote = tmp_path / "team.git"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    alice = User("alice", tmp_path / "alice", monkeypatch, pc_home)
    bob = User("bob", tmp_path / "bob", monkeypatch, pc_home)
    a_repo, b_repo, app = tmp_path / "alice" / "team", tmp_path / "bob" / "team", tmp_path / "bob" / "app"

    # --- Alice scaffolds the team repository and pushes it -------------------------------
    with alice:
        ok("keys", "generate", "--comment", alice.email)
        alice_pub = ok("keys", "export", "--public").out.strip()
        made = ok("init", "--team", str(a_repo), "--name", "team")
        assert ".pre-commit-config.yaml" in made.out
        signers = (a_repo / ".skillmeat" / "allowed_signers").read_text()
        assert alice_pub.split()[1] in signers and alice.email in signers
        _ok_git(alice, "remote", "add", "origin", str(remote), cwd=a_repo)
        installed = ok_pre_commit(alice, "install", cwd=a_repo)
        for hook in ("pre-commit", "pre-push", "post-merge", "post-checkout"):
            assert f".git/hooks/{hook}" in installed
        _ok_git(alice, "push", "-u", "origin", "main", cwd=a_repo)

    # --- Bob clones, trusts Alice's key, follows the team with his project ------------------
    with bob:
        ok("keys", "generate", "--comment", bob.email)
        _ok_git(bob, "clone", "-q", str(remote), str(b_repo), cwd=tmp_path)
        ok("init", str(b_repo), "--name", "team")
        ok("keys", "trust", alice_pub, "--principal", alice.email)
        app.mkdir()
        _ok_git(bob, "init", "-q", cwd=app)
        ok("project", "add", str(app), "--follow", "team")
        ok_pre_commit(bob, "install", cwd=b_repo)

    # --- Alice adds a skill and an MCP server; the commit hooks run ------------------------
    with alice:
        (a_repo / "skills" / "release-notes").mkdir(parents=True)
        (a_repo / "skills" / "release-notes" / "SKILL.md").write_text(SKILL)
        (a_repo / "mcp").mkdir()
        (a_repo / "mcp" / "files.toml").write_text(SERVER)
        _ok_git(alice, "add", "-A", cwd=a_repo)
        refused = alice.git("commit", "-m", "Add release-notes and the files server", cwd=a_repo)
        assert refused.returncode != 0, refused.stdout
        assert "skillmeat.lock was stale" in refused.stdout + refused.stderr
        _ok_git(alice, "add", "skillmeat.lock", cwd=a_repo)
        committed = _ok_git(alice, "commit", "-m", "Add release-notes and the files server", cwd=a_repo)
        assert "SkillMeat validate" in committed and "Passed" in committed
        # the commit is signed with Alice's key (init --team set git up), and git says so
        team_signers = a_repo / ".skillmeat" / "allowed_signers"
        shown = _ok_git(alice, "-c", f"gpg.ssh.allowedSignersFile={team_signers}",
                        "verify-commit", "HEAD", cwd=a_repo)
        assert f'Good "git" signature for {alice.email}' in shown

        pushed = _ok_git(alice, "push", "origin", "main", cwd=a_repo)
        assert "SkillMeat export" in pushed and "SkillMeat publish" in pushed
    refs = _remote_refs(remote)
    bundle_refs = [r for r in refs if r.startswith("refs/skillmeat/bundles/team/")]
    assert len(bundle_refs) == 1 and "refs/skillmeat/feed" in refs
    feed_commit = refs["refs/skillmeat/feed"]
    feed = json.loads(git("show", f"{feed_commit}:feed.json", cwd=remote))
    (listing,) = feed["signed"]["listings"]
    assert listing["name"] == "team"
    version = listing["version"]
    assert bundle_refs == [f"refs/skillmeat/bundles/team/{version}"]

    with alice:  # a second push with nothing new publishes nothing new
        (a_repo / "README.md").write_text((a_repo / "README.md").read_text() + "\nMore words.\n")
        _ok_git(alice, "commit", "-qam", "README only", cwd=a_repo)
        _ok_git(alice, "push", "origin", "main", cwd=a_repo)
    assert _remote_refs(remote)["refs/skillmeat/feed"] == feed_commit

    # --- Bob pulls: the skill and the server land in his project ---------------------------
    with bob:
        pulled = _ok_git(bob, "pull", "origin", "main", cwd=b_repo)
        assert "SkillMeat deploy" in pulled
        deployed = app / ".claude" / "skills" / "release-notes" / "SKILL.md"
        assert deployed.read_text() == SKILL
        servers = json.loads((app / ".mcp.json").read_text())["mcpServers"]
        assert servers["files"]["command"] == "npx"
        assert servers["files"]["env"] == {"API_TOKEN": "${API_TOKEN}"}
        ok("status", "--project", str(app))  # exit 0: everything in sync
        got = subprocess.run([str(claude_cli()), "mcp", "get", "files"], cwd=app, capture_output=True,
                             text=True, timeout=120, check=False,
                             env={**os.environ, "DISABLE_AUTOUPDATER": "1"})
        assert got.returncode == 0 and "npx" in got.stdout, got.stdout + got.stderr

        site = tmp_path / "bob" / "site"
        ok("web", "build", "--collection", "team", "--no-marketplaces", "-o", str(site))
        pages = [p.name for p in site.rglob("*.html")]
        assert any("release-notes" in name for name in pages), pages

        # the published bundle verifies on Bob's side, through the vault of the team remote
        ok("vault", "add", "team-remote", str(remote), "--type", "git")
        assert version in ok("vault", "ls", "team-remote").out
        planned = ok("import", f"team-remote:team@{version}", "--dry-run", cwd=b_repo)
        assert alice.email in planned.out + planned.err

        # --- Alice's key leaks: revoked, and nothing it signed is accepted any more --------
        ok("keys", "revoke", alice_pub, "--reason", "compromised")
        refused_bundle = skillmeat("import", f"team-remote:team@{version}", "--dry-run", cwd=b_repo)
        assert refused_bundle.code == 1 and "revoked" in refused_bundle.err
        assert refused_bundle.err.count("\n") == 1
        assert "Traceback" not in refused_bundle.err

    # a commit Alice signs after the leak is pulled, but its deploy is refused
    with alice:
        (a_repo / "skills" / "release-notes" / "SKILL.md").write_text(SKILL + "\n3. Post them.\n")
        assert alice.git("commit", "-qam", "release-notes: post them", cwd=a_repo).returncode == 1
        # the lock hook rewrote skillmeat.lock: commit it too, then push
        _ok_git(alice, "commit", "-qam", "release-notes: post them", cwd=a_repo)
        _ok_git(alice, "push", "origin", "main", cwd=a_repo)
    with bob:
        pulled = bob.git("pull", "origin", "main", cwd=b_repo)
        out = pulled.stdout + pulled.stderr
        assert "SkillMeat deploy" in out and "Failed" in out and "revoked" in out, out
        assert deployed.read_text() == SKILL  # the project keeps what was deployed before


def ok_pre_commit(user: User, *args: str, cwd: Path) -> str:
    proc = subprocess.run(["pre-commit", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr
