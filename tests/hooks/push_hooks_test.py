"""skillmeat-export and skillmeat-publish as real pre-push hooks (pre-commit installed in a real
repository, real `git push` to a bare remote); skillmeat-catalog on a checkout."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.cli.trust_story_test import User
from tests.helpers import git
from tests.hooks.precommit import BIN, pre_commit
from tests.hooks.team import (
    Team,
    commit_config,
    config,
    hook_lines,
    hook_script,
    make_team,
    remote_refs,
    run_git,
)

PUSH_HOOKS = ["skillmeat-export", "skillmeat-publish"]
FEED = "refs/skillmeat/feed"


@pytest.fixture
def alice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pc_home: Path) -> Team:
    user = User("alice", tmp_path / "alice", monkeypatch)
    return make_team(user, tmp_path / "alice-work", tmp_path / "remote.git", config(PUSH_HOOKS),
                     pc_home)


def _signers(team: Team, tmp_path: Path) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text(f"alice@example.com {team.pub}\n")
    return path


def _ssh_verify(signers: Path, namespace: str, data: bytes, sig: str, tmp_path: Path) -> None:
    (tmp_path / "sig").write_text(sig)
    proc = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I",
                           "alice@example.com", "-n", namespace, "-s", str(tmp_path / "sig")],
                          input=data, capture_output=True, check=False)
    assert proc.returncode == 0 and b"Good" in proc.stdout, proc.stderr


def _verify_commit(remote: Path, signers: Path, oid: str) -> None:
    out = subprocess.run(["git", "-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={signers}",
                          "verify-commit", oid], cwd=remote, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0 and 'Good "git" signature for alice@example.com' in out.stderr, out


def _edit_skill(repo: Path, text: str) -> None:
    path = repo / "skills/pdf-summary/SKILL.md"
    path.write_text(f"---\nname: pdf-summary\ndescription: {text}\n---\n\n{text}\n")
    git("commit", "-qam", f"pdf-summary: {text}", cwd=repo)


def test_push_exports_and_publishes_once_per_artifact_change(alice: Team, pc_home: Path,
                                                            tmp_path: Path) -> None:
    with alice.user:
        pushed = run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home)
        assert pushed.code == 0, pushed
        assert any("exported bundle team@0.1.0-" in ln for ln in hook_lines(pushed.out, "export"))
        assert any("published team@" in ln for ln in hook_lines(pushed.out, "publish"))
        refs = remote_refs(alice.remote)
        (bundle,) = [r for r in refs if r.startswith("refs/skillmeat/bundles/team/")]
        assert set(refs) == {bundle, FEED}
        version = bundle.rsplit("/", 1)[1]
        head = git("rev-parse", "HEAD", cwd=alice.repo).strip()
        assert git("ls-remote", str(alice.remote), "refs/heads/main", cwd=tmp_path).startswith(head)
        # stock git and ssh-keygen verify what the hooks signed
        signers = _signers(alice, tmp_path)
        _verify_commit(alice.remote, signers, refs[bundle])
        _verify_commit(alice.remote, signers, refs[FEED])
        manifest = subprocess.run(["git", "show", f"{bundle}:skillmeat-pack.json"], cwd=alice.remote,
                                  capture_output=True, check=True).stdout
        sig = git("show", f"{bundle}:skillmeat-pack.sig", cwd=alice.remote)
        _ssh_verify(signers, "skillmeat-pack", manifest, sig, tmp_path)
        assert len(json.loads(manifest)["artifacts"]) == 8
        feed = json.loads(git("show", f"{FEED}:feed.json", cwd=alice.remote))
        signed = json.dumps(feed["signed"], sort_keys=True, separators=(",", ":"),
                            ensure_ascii=False).encode()
        _ssh_verify(signers, "skillmeat-feed", signed, feed["signatures"][0]["sig"], tmp_path)
        assert [x["id"] for x in feed["signed"]["listings"]] == [f"team@{version}"]

        # a push that changes no artifact publishes nothing new
        (alice.repo / "README.md").write_text("# Our team's skills\n")
        git("add", "README.md", cwd=alice.repo)
        git("commit", "-qm", "readme", cwd=alice.repo)
        again = run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home)
        assert again.code == 0, again
        assert any("already exported" in ln for ln in hook_lines(again.out, "export")), again
        assert any("already published" in ln for ln in hook_lines(again.out, "publish")), again
        assert remote_refs(alice.remote) == refs

        # an artifact change: a new version, a feed commit on top of the last one
        _edit_skill(alice.repo, "Summarise PDFs in three bullets.")
        third = run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home)
        assert third.code == 0, third
        now = remote_refs(alice.remote)
        assert len([r for r in now if r.startswith("refs/skillmeat/bundles/")]) == 2
        parent = git("rev-parse", f"{now[FEED]}^", cwd=alice.remote).strip()
        assert parent == refs[FEED]
        listed = json.loads(git("show", f"{FEED}:feed.json", cwd=alice.remote))["signed"]["listings"]
        assert len(listed) == 2


def test_pushing_only_skillmeat_refs_skips(alice: Team, pc_home: Path) -> None:
    with alice.user:
        ok("snapshot", "--name", "v1", "-m", "release", cwd=alice.repo)
        pushed = run_git("push", "origin", "refs/skillmeat/snapshots/v1", cwd=alice.repo,
                         pc_home=pc_home)
        assert pushed.code == 0, pushed
        for hook in ("export", "publish"):
            assert hook_lines(pushed.out, hook) == [
                f"skillmeat-{hook}: the push only carries refs/skillmeat/*: nothing to do"], pushed
        assert list(remote_refs(alice.remote)) == ["refs/skillmeat/snapshots/v1"]


def test_git_pre_push_arguments_and_deletions(alice: Team) -> None:
    """Run by git's own pre-push hook: REMOTE URL as arguments, the refs on stdin."""
    zero = "0" * 40
    with alice.user:
        deletes = subprocess.run([str(BIN / "skillmeat-export"), "origin", str(alice.remote)],
                                 input=f"(delete) {zero} refs/heads/old {'1' * 40}\n",
                                 cwd=alice.repo, capture_output=True, text=True, check=False)
        assert deletes.returncode == 0 and "only deletes refs" in deletes.stdout, deletes
        head = git("rev-parse", "HEAD", cwd=alice.repo).strip()
        real = subprocess.run([str(BIN / "skillmeat-export"), "origin", str(alice.remote)],
                              input=f"refs/heads/main {head} refs/heads/main {zero}\n",
                              cwd=alice.repo, capture_output=True, text=True, check=False)
        assert real.returncode == 0 and "pushed to origin" in real.stdout, real
        assert len(remote_refs(alice.remote)) == 1


def test_no_recursion_through_our_own_pushes(alice: Team, pc_home: Path, tmp_path: Path) -> None:
    log = tmp_path / "hooks.log"
    entries = {f"skillmeat-{h}": hook_script(tmp_path / f"{h}.sh", log, h) for h in ("export", "publish")}
    with alice.user:
        commit_config(alice.repo, config(PUSH_HOOKS, entries=entries))
        pushed = run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home)
        assert pushed.code == 0, pushed
    runs = log.read_text().splitlines()
    starts = [ln for ln in runs if ln.startswith("start ")]
    # the push of main ran each hook once; our pushes of the bundle ref and the feed run no
    # pre-push hook at all (--no-verify)
    assert starts == ["start export active= branch=refs/heads/main",
                      "start publish active= branch=refs/heads/main"], runs
    assert len([ln for ln in runs if ln.startswith("end ") and ln.endswith("rc=0")]) == 2
    assert set(remote_refs(alice.remote)) >= {FEED}


def test_a_user_set_guard_says_the_hooks_are_off(alice: Team, pc_home: Path) -> None:
    with alice.user:
        pushed = run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home,
                         extra={"SKILLMEAT_HOOK_ACTIVE": "1"})
    assert pushed.code == 0, pushed
    for hook in ("export", "publish"):
        (line,) = hook_lines(pushed.out, hook)
        assert "skipped: SKILLMEAT_HOOK_ACTIVE is set" in line and "unset it" in line, pushed
    assert remote_refs(alice.remote) == {}


def test_an_untrusted_remote_feed_stops_the_push(alice: Team, pc_home: Path, tmp_path: Path) -> None:
    with alice.user:
        assert run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home).code == 0
    # someone with push access (no key in the feed's key set) adds an unsigned feed commit
    work = tmp_path / "mallory"
    git("init", "-q", str(work), cwd=tmp_path)
    git("fetch", "-q", str(alice.remote), f"{FEED}:refs/heads/feed", cwd=work)
    git("checkout", "-q", "feed", cwd=work)
    (work / "feed.json").write_text((work / "feed.json").read_text().replace('"team"', '"teem"'))
    git("-c", "user.name=M", "-c", "user.email=m@x", "commit", "-qam", "sneaky", cwd=work)
    git("push", "-q", str(alice.remote), f"feed:{FEED}", cwd=work)
    before = remote_refs(alice.remote, "refs/*")
    with alice.user:
        _edit_skill(alice.repo, "A change to publish.")
        pushed = run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home)
    assert pushed.code != 0, pushed
    errors = hook_lines(pushed.out, "publish")
    assert len(errors) == 1 and errors[0].startswith("skillmeat-publish: error:"), pushed
    assert "unsigned commit" in errors[0] and "Traceback" not in pushed.out
    after = remote_refs(alice.remote, "refs/*")
    assert after[FEED] == before[FEED] and after["refs/heads/main"] == before["refs/heads/main"]


def test_an_unreachable_vault_stops_the_push(alice: Team, pc_home: Path) -> None:
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with alice.user:
        ok("vault", "add", "dead", "s3://bucket/team", "--option", "endpoint_url=http://127.0.0.1:1")
        commit_config(alice.repo, config(["skillmeat-export"], {"skillmeat-export": ["--to", "dead"]}))
        pushed = run_git("push", "origin", "main", cwd=alice.repo, pc_home=pc_home, extra=creds)
    assert pushed.code != 0, pushed
    (line,) = hook_lines(pushed.out, "export")
    assert line.startswith("skillmeat-export: error: cannot reach vault s3://bucket/team"), pushed
    assert remote_refs(alice.remote, "refs/*") == {}  # nothing pushed, not even the bundle ref


def test_no_signing_key(tmp_path: Path) -> None:
    repo = tmp_path / "team"
    repo.mkdir()
    ok("init", str(repo), "--name", "team")
    (repo / "commands").mkdir()
    (repo / "commands" / "hi.md").write_text("---\ndescription: Say hi\n---\nHi.\n")
    git("add", "commands", cwd=repo)
    git("commit", "-qm", "a command", cwd=repo)
    result = subprocess.run([str(BIN / "skillmeat-export")], cwd=repo, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result
    assert result.stderr.startswith("skillmeat-export: error: no signing key")
    assert "skillmeat keys generate" in result.stderr


def test_an_empty_collection_has_nothing_to_share(tmp_path: Path) -> None:
    repo, remote = tmp_path / "team", tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    repo.mkdir()
    ok("init", str(repo), "--name", "team")
    ok("keys", "generate")
    for hook, verb in (("export", "export"), ("publish", "publish")):
        ran = subprocess.run([str(BIN / f"skillmeat-{hook}"), "--remote", str(remote)], cwd=repo,
                             capture_output=True, text=True, check=False)
        assert ran.returncode == 0, ran
        assert ran.stdout == (f"skillmeat-{hook}: collection 'team' has no artifacts yet: "
                              f"nothing to {verb}\n")
    assert remote_refs(remote, "refs/*") == {}


def test_catalog_of_an_unregistered_checkout(alice: Team, pc_home: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(alice.repo), str(clone), cwd=tmp_path)
    commit_config(clone, config(["skillmeat-catalog"], {"skillmeat-catalog": ["--no-sign"]}))
    ran = pre_commit("run", "skillmeat-catalog", "--hook-stage", "manual", "--all-files",
                     cwd=clone, pc_home=pc_home)
    assert ran.code == 0, ran
    (line,) = hook_lines(ran.out, "catalog")
    assert "built the catalog of 'team' (8 artifact(s)" in line and str(clone / "site") in line
    assert (clone / "site" / "index.html").is_file()
    api = json.loads((clone / "site" / "api" / "feed.json").read_text())
    assert "pdf-summary" in json.dumps(api)
    registered = [c["path"] for c in json.loads(ok("collection", "list", "--json").out)]
    assert registered == [str(alice.repo)]  # the clone was read, not registered
