"""Alice publishes to marketplaces (a directory, a git remote); Bob adds them, searches, installs
through the verified import, sees drafts and yanks honoured — with the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.runner import Result, ok, skillmeat
from tests.cli.trust_story_test import User
from tests.helpers import CORPUS, EXAMPLES, git, tree_state
from tests.servers import free_port


@pytest.fixture
def people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[User, User, Path]:
    alice = User("alice", tmp_path / "alice", monkeypatch)
    bob = User("bob", tmp_path / "bob", monkeypatch)
    pub = tmp_path / "alice.pub"
    with alice:
        ok("collection", "create", "team")
        ok("add", str(EXAMPLES), "--all")
        ok("keys", "generate", "--comment", "alice@example.com")
        pub.write_text(ok("keys", "export", "--public").out)
        ok("keys", "trust", str(pub), "--principal", "alice@example.com")
    with bob:
        ok("collection", "create", "mine")
        ok("keys", "trust", str(pub), "--principal", "alice@example.com")
    return alice, bob, pub


def _fails(result: Result, *words: str) -> None:
    assert result.code != 0, result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    for word in words:
        assert word in lines[0], result.err


def _collection(user: User, name: str) -> Path:
    return user.base / "skillmeat" / "collections" / name


def test_publish_search_install_draft_yank(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alice, bob, _ = people
    market = tmp_path / "market"
    with alice:
        ok("marketplace", "add", "m", str(market), "--type", "feed")
        ok("publish", "pdf-summary", "--marketplace", "m", "--version", "1.0.0")
        ok("publish", "review", "--marketplace", "m", "--version", "0.9.0", "--draft")
    with bob:
        assert "2 listings" in ok("marketplace", "add", "m", str(market)).out
        found = json.loads(ok("marketplace", "search", "pdf", "--json").out)
        assert [x["id"] for x in found] == ["pdf-summary@1.0.0"] and found[0]["verified"]
        assert json.loads(ok("marketplace", "search", "review", "--json").out) == []
        assert len(json.loads(ok("marketplace", "search", "review", "--drafts", "--json").out)) == 1
        _fails(skillmeat("marketplace", "install", "review"), "draft")
        assert "1 artifact changed" in ok("marketplace", "install", "review", "--drafts",
                                          "--dry-run").out
        assert "Installed m:pdf-summary@1.0.0 (verified): 1 artifact changed" in ok(
            "marketplace", "install", "pdf-summary").out
        mine = _collection(bob, "mine")
        assert (mine / "skills/pdf-summary/SKILL.md").read_bytes() == (
            _collection(alice, "team") / "skills/pdf-summary/SKILL.md").read_bytes()
        assert "0 artifacts changed" in ok("marketplace", "install", "m:pdf-summary@1.0.0").out
    with alice:
        ok("marketplace", "yank", "m:pdf-summary@1.0.0", "--reason", "leaks tokens")
    with bob:
        ok("marketplace", "refresh", "m")
        before = tree_state(_collection(bob, "mine"))
        _fails(skillmeat("marketplace", "install", "m:pdf-summary@1.0.0", "--strategy", "merge"),
               "yanked", "leaks tokens")
        assert tree_state(_collection(bob, "mine")) == before
        shown = ok("marketplace", "show", "m:pdf-summary@1.0.0").out
        assert "yanked (leaks tokens)" in shown
        assert json.loads(ok("marketplace", "search", "pdf", "--json").out) == []


def test_rollback_and_tampering_are_refused(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alice, bob, _ = people
    market = tmp_path / "market"
    with alice:
        ok("marketplace", "add", "m", str(market))
        ok("publish", "pdf-summary", "--marketplace", "m", "--version", "1")
    old = (market / "feed.json").read_bytes()
    with bob:
        ok("marketplace", "add", "m", str(market))
    with alice:
        ok("publish", "review", "--marketplace", "m", "--version", "1")
    with bob:
        assert "feed version 2" in ok("marketplace", "refresh", "m").out
        (market / "feed.json").write_bytes(old)  # a mirror serving the older feed
        _fails(skillmeat("marketplace", "refresh", "m"), "rollback")
    with alice:  # the publisher will not sign on top of an old feed put back either
        _fails(skillmeat("publish", "code-reviewer", "--marketplace", "m", "--version", "1"),
               "old feed was put back")
    with bob:
        doc = json.loads(old)
        doc["signed"]["version"] = 2
        (market / "feed.json").write_text(json.dumps(doc))
        _fails(skillmeat("marketplace", "refresh", "m"))


def test_concurrent_publishers_both_land(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alice, _, _ = people
    market = tmp_path / "market"
    with alice:
        ok("marketplace", "add", "m", str(market))
        names = ["pdf-summary", "review", "code-reviewer", "commit-message"]
        procs = [subprocess.Popen([sys.executable, "-m", "skillmeat", "publish", n, "--marketplace",
                                   "m", "--version", "1"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for n in names]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
        feed = json.loads((market / "feed.json").read_text())
        assert sorted(x["name"] for x in feed["signed"]["listings"]) == sorted(names)


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "www"
    root.mkdir()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(root)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    import socket

    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield root, f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def test_feed_over_http(people, tmp_path: Path, http_root) -> None:  # type: ignore[no-untyped-def]
    alice, bob, _ = people
    root, url = http_root
    with alice:
        ok("marketplace", "add", "m", str(root))
        ok("publish", "pdf-summary", "review", "--name", "starter", "--marketplace", "m",
           "--version", "2.0.0")
    time.sleep(1.1)  # a Last-Modified of this very second is not trusted for a 304
    with bob:
        ok("marketplace", "add", "web", f"{url}/feed.json")
        assert "0 bytes transferred" in ok("marketplace", "refresh", "web").out
        assert "2 artifacts changed" in ok("marketplace", "install", "web:starter@2.0.0").out


def test_git_marketplace(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alice, bob, _ = people
    remote = tmp_path / "market.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    with alice:
        ok("marketplace", "add", "g", str(remote), "--type", "git")
        ok("publish", "pdf-summary", "--marketplace", "g", "--version", "1.0.0")
        ok("publish", "review", "--marketplace", "g", "--version", "1.0.0")
    with bob:
        assert "2 listings" in ok("marketplace", "add", "g", str(remote), "--type", "git").out
        assert "1 artifact changed" in ok("marketplace", "install", "g:review@1.0.0").out
    # Someone with push access (but no key in the feed's key set) adds an unsigned commit:
    work = tmp_path / "mallory"
    git("init", "-q", str(work), cwd=tmp_path)
    git("fetch", "-q", str(remote), "refs/skillmeat/feed:refs/heads/feed", cwd=work)
    git("checkout", "-q", "feed", cwd=work)
    (work / "feed.json").write_text((work / "feed.json").read_text().replace('"review"', '"revue"'))
    git("commit", "-qam", "sneaky", cwd=work)
    git("push", "-q", str(remote), "feed:refs/skillmeat/feed", cwd=work)
    with alice:  # the publisher verifies the remote feed before signing on top of it
        _fails(skillmeat("publish", "code-reviewer", "--marketplace", "g", "--version", "1"),
               "unsigned commit")
    with bob:
        _fails(skillmeat("marketplace", "refresh", "g"), "unsigned")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_claude_plugin_marketplace(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, bob, _ = people
    with bob:
        ok("marketplace", "add", "wsh", str(CORPUS), "--type", "claude-plugin")
        found = json.loads(ok("marketplace", "search", "backend-architect", "--type", "agent",
                              "--json").out)
        assert found and not found[0]["verified"]
        ref = f"wsh:{found[0]['id']}"
        before = tree_state(_collection(bob, "mine"))
        _fails(skillmeat("marketplace", "install", ref), "unverified")
        assert tree_state(_collection(bob, "mine")) == before
        ok("marketplace", "install", ref, "--allow-unverified")
        listed = json.loads(ok("list", "--json").out)
        assert any(a["id"] == found[0]["id"] for a in listed)


def test_publish_from_git_skillmeat_inside_the_collection(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alice, _, _ = people
    market = tmp_path / "market"
    exe = shutil.which("git-skillmeat") or str(Path(sys.executable).parent / "git-skillmeat")
    with alice:
        ok("marketplace", "add", "m", str(market))
        env = dict(os.environ, PATH=f"{Path(exe).parent}{os.pathsep}{os.environ['PATH']}")
        proc = subprocess.run(["git", "skillmeat", "publish", "review", "--marketplace", "m",
                               "--version", "3"], cwd=_collection(alice, "team"), env=env,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        assert "Published review@3" in proc.stdout


def test_collection_as_claude_marketplace_via_cli(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.services.claude_export_test import claude

    alice, _, _ = people
    out = tmp_path / "claude-market"
    with alice:
        ok("remove", "deploy-check")  # the example with broken frontmatter on purpose
        said = ok("export", "--format", "claude-marketplace", "--all", "-o", str(out)).out
        assert "claude plugin marketplace add" in said
        ok("export", "--format", "claude-marketplace", "--all", "-o", str(out))  # again: replaced
        assert claude("plugin", "validate", str(out)).returncode == 0
        for plugin in (out / "plugins").iterdir():
            checked = claude("plugin", "validate", str(plugin))
            assert checked.returncode == 0, checked.stdout + checked.stderr
        added = claude("plugin", "marketplace", "add", str(out))
        assert added.returncode == 0, added.stdout + added.stderr
        name = json.loads((out / ".claude-plugin" / "marketplace.json").read_text())["name"]
        installed = claude("plugin", "install", f"team@{name}")
        assert installed.returncode == 0, installed.stdout + installed.stderr
