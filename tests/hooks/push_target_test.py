"""What the pre-push hooks build and publish: the commit being pushed (not HEAD), only for the
publishing branch; pushes that carry refs/skillmeat/* themselves are left alone; teammates
listed in the team's allowed_signers join the feed's key set; a publish that happens before
the branch is refused says so."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.cli.trust_story_test import User
from tests.helpers import git
from tests.hooks.precommit import BIN
from tests.hooks.team import Team, config, hook_lines, install, make_team, remote_refs, run_git

PUSH_HOOKS = ["skillmeat-export", "skillmeat-publish"]
FEED = "refs/skillmeat/feed"
ZERO = "0" * 40


@pytest.fixture
def alice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pc_home: Path) -> Team:
    user = User("alice", tmp_path / "alice", monkeypatch)
    return make_team(user, tmp_path / "alice-work", tmp_path / "remote.git", config(PUSH_HOOKS),
                     pc_home)


def _edit_skill(repo: Path, text: str) -> str:
    path = repo / "skills/pdf-summary/SKILL.md"
    path.write_text(f"---\nname: pdf-summary\ndescription: {text}\n---\n\n{text}\n")
    git("commit", "-qam", f"pdf-summary: {text}", cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo).strip()


def _listed(remote: Path) -> list[str]:
    feed = json.loads(git("show", f"{FEED}:feed.json", cwd=remote))
    return [str(x["version"]) for x in feed["signed"]["listings"]]


def _bundles(remote: Path) -> list[str]:
    return sorted(r.rsplit("/", 1)[1] for r in remote_refs(remote) if "/bundles/" in r)


def _hook(name: str, repo: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / f"skillmeat-{name}"), *args], input=stdin, cwd=repo,
                          capture_output=True, text=True, check=False)


def test_the_pushed_branch_is_published_not_head(alice: Team, pc_home: Path) -> None:
    """The reviewer's case: on wip, `git push origin main` publishes main's commit."""
    repo = alice.repo
    with alice.user:
        assert run_git("push", "origin", "main", cwd=repo, pc_home=pc_home).code == 0
        first = _listed(alice.remote)
        git("checkout", "-qb", "wip", cwd=repo)
        wip = _edit_skill(repo, "Work in progress.")
        git("checkout", "-q", "main", cwd=repo)
        main = _edit_skill(repo, "Summarise PDFs, released.")
        git("checkout", "-q", "wip", cwd=repo)
        pushed = run_git("push", "origin", "main", cwd=repo, pc_home=pc_home)
        assert pushed.code == 0, pushed
        listed = _listed(alice.remote)
        assert len(listed) == 2 and listed[0] == first[0]
        assert listed[1].endswith(f"-g{main[:7]}"), listed
        assert not any(v.endswith(f"-g{wip[:7]}") for v in _bundles(alice.remote))
        (line,) = hook_lines(pushed.out, "publish")
        assert f"published team@{listed[1]}" in line and "ahead of refs/heads/main" in line

        # the wip branch itself: its bundle is exported, nothing is published
        on_wip = run_git("push", "origin", "wip", cwd=repo, pc_home=pc_home)
        assert on_wip.code == 0, on_wip
        assert any(v.endswith(f"-g{wip[:7]}") for v in _bundles(alice.remote))
        (skip,) = hook_lines(on_wip.out, "publish")
        assert "pushing branch refs/heads/wip, not the publishing branch" in skip, on_wip
        assert _listed(alice.remote) == listed


def test_the_publishing_branch_and_tags(alice: Team) -> None:
    """git's own pre-push arguments: the configured branch, the remote's default, tags."""
    repo = alice.repo
    with alice.user:
        head = git("rev-parse", "HEAD", cwd=repo).strip()
        tag = _hook("publish", repo, f"refs/tags/v1 {head} refs/tags/v1 {ZERO}\n", "origin",
                    str(alice.remote))
        assert tag.returncode == 0, tag
        assert "pushing tag refs/tags/v1, not the publishing branch " in tag.stdout
        assert "refs/heads/main or refs/heads/master" in tag.stdout, tag
        git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk", cwd=repo)
        main = _hook("publish", repo, f"refs/heads/main {head} refs/heads/main {ZERO}\n", "origin",
                     str(alice.remote))
        assert main.returncode == 0 and "not the publishing branch refs/heads/trunk" in main.stdout
        git("config", "skillmeat.publishBranch", "release", cwd=repo)
        release = _hook("publish", repo, f"refs/heads/main {head} refs/heads/release {ZERO}\n",
                        "origin", str(alice.remote))
        assert release.returncode == 0 and "published team@" in release.stdout, release
        assert "ahead of refs/heads/release" in release.stdout
    assert remote_refs(alice.remote, "refs/heads/*") == {}  # the hooks push no branch


def test_a_push_carrying_our_refs_is_left_alone(alice: Team, pc_home: Path, tmp_path: Path) -> None:
    repo = alice.repo
    with alice.user:
        assert run_git("push", "origin", "main", cwd=repo, pc_home=pc_home).code == 0
        ours = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/skillmeat", cwd=repo)
        _edit_skill(repo, "A change on main.")
        mirror = tmp_path / "mirror.git"
        git("init", "-q", "--bare", str(mirror), cwd=tmp_path)
        pushed = run_git("push", "--mirror", str(mirror), cwd=repo, pc_home=pc_home)
        assert pushed.code == 0, pushed
        for hook in ("export", "publish"):
            (line,) = hook_lines(pushed.out, hook)
            assert "the push carries refs/skillmeat/* itself" in line, pushed
        assert git("for-each-ref", "--format=%(refname) %(objectname)", "refs/skillmeat",
                   cwd=mirror) == ours
        # git's own hook arguments: the refs on stdin
        head = git("rev-parse", "HEAD", cwd=repo).strip()
        stdin = (f"refs/heads/main {head} refs/heads/main {ZERO}\n"
                 f"refs/skillmeat/feed {head} refs/skillmeat/feed {ZERO}\n")
        ran = _hook("export", repo, stdin, "origin", str(alice.remote))
        assert ran.returncode == 0 and "carries refs/skillmeat/* itself" in ran.stdout, ran


def test_a_refused_branch_push_keeps_the_listing_and_says_so(alice: Team, pc_home: Path) -> None:
    hook = alice.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nif grep -q ' refs/heads/main$'; then echo 'main is frozen' >&2; "
                    "exit 1; fi\n")
    hook.chmod(0o755)
    with alice.user:
        pushed = run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home)
    assert pushed.code != 0 and "main is frozen" in pushed.out, pushed
    (line,) = hook_lines(pushed.out, "publish")
    assert "ahead of refs/heads/main (if the remote refuses it, the listing stays)" in line
    assert remote_refs(alice.remote, "refs/heads/*") == {}
    assert len(_listed(alice.remote)) == 1  # published before git sent the branch


def _teammate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, alice: Team,
              pc_home: Path) -> tuple[User, Path, str]:
    user = User(name, tmp_path / name, monkeypatch)
    with user:
        ok("keys", "generate", "--comment", f"{name}@example.com")
        pub = ok("keys", "export", "--public").out.strip()
        repo = tmp_path / f"{name}-work"
        git("clone", "-q", str(alice.remote), str(repo), cwd=tmp_path)
        install(repo, pc_home, ("pre-push",))
    return user, repo, pub


def test_teammates_join_the_key_set_and_concurrent_pushes_show(
        alice: Team, pc_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bob, b_repo, bob_pub = _teammate(tmp_path, monkeypatch, "bob", alice, pc_home)
    mallory, m_repo, _ = _teammate(tmp_path, monkeypatch, "mallory", alice, pc_home)
    carol = User("carol", tmp_path / "carol", monkeypatch)  # a client trusting both members
    with alice.user:
        ok("keys", "trust", "--team", alice.pub, "--principal", "alice@example.com", cwd=alice.repo)
        ok("keys", "trust", "--team", bob_pub, "--principal", "bob@example.com", cwd=alice.repo)
        assert run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home).code == 0
    with carol:
        ok("keys", "trust", alice.pub, "--principal", "alice@example.com")
        ok("keys", "trust", bob_pub, "--principal", "bob@example.com")
        ok("marketplace", "add", "team", str(alice.remote), "--type", "git")
        ok("marketplace", "refresh", "team")
    for user, repo in ((bob, b_repo), (mallory, m_repo)):
        with user:
            git("pull", "-q", "origin", "main", cwd=repo)

    with bob:  # listed in .skillmeat/allowed_signers at the pushed commit: joins the key set
        _edit_skill(b_repo, "Bob's better summary.")
        pushed = run_git("push", "origin", "main", cwd=b_repo, pc_home=pc_home)
        assert pushed.code == 0, pushed
        assert any("published team@" in ln for ln in hook_lines(pushed.out, "publish")), pushed
    feed = json.loads(git("show", f"{FEED}:feed.json", cwd=alice.remote))["signed"]
    assert [k.split()[1] for k in feed["keys"]] == [alice.pub.split()[1], bob_pub.split()[1]]
    assert len(feed["listings"]) == 2
    with carol:  # a client that trusts the new signer accepts the added key
        refreshed = ok("marketplace", "refresh", "team")
        assert "error" not in refreshed.out + refreshed.err
        assert len(json.loads(ok("marketplace", "search", "team", "--json").out)) >= 2

    with mallory:  # not in the team's list: refused; the exported bundle ref is said to stay
        _edit_skill(m_repo, "Mallory's summary.")
        before = json.loads(git("show", f"{FEED}:feed.json", cwd=alice.remote))["signed"]
        refused = run_git("push", "origin", "main", cwd=m_repo, pc_home=pc_home)
        assert refused.code != 0, refused
        (line,) = hook_lines(refused.out, "publish")
        assert "is not in the key set of marketplace" in line
        assert "stays on" in line and "unlisted" in line, line
        after = json.loads(git("show", f"{FEED}:feed.json", cwd=alice.remote))["signed"]
        assert after == before

    with alice.user:  # Alice pushes off the old base: the feed lists Bob's version too
        _edit_skill(alice.repo, "Alice's concurrent summary.")
        raced = run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home)
        assert raced.code != 0 and "rejected" in raced.out, raced  # not a fast-forward
        notes = [ln for ln in hook_lines(raced.out, "publish") if "note:" in ln]
        assert len(notes) == 1 and "1 version(s) not in this history" in notes[0], raced
        assert len(_listed(alice.remote)) == 3


def test_a_key_only_in_the_work_tree_is_not_admitted(alice: Team, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from skillmeat.model.sshkeys import PublicKey
    from skillmeat.services.team_export import team_allows
    from skillmeat.store.collection import CollectionStore

    with alice.user:
        store = CollectionStore.open("team", alice.repo)
        key = PublicKey.parse(alice.pub)
        head = git("rev-parse", "HEAD", cwd=alice.repo).strip()
        assert not team_allows(store, head, key)
        ok("keys", "trust", "--team", alice.pub, "--principal", "alice@example.com",
           "--namespaces", "git", cwd=alice.repo)
        assert not team_allows(store, store.repo.head() or "", key)  # not for feeds
        ok("keys", "trust", "--team", alice.pub, "--principal", "alice@example.com", cwd=alice.repo)
        assert team_allows(store, store.repo.head() or "", key)
        assert not team_allows(store, head, key)  # the older commit does not list it
