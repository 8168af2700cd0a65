"""Two users, their own homes and keys, one bare remote: signed refs travel, and every
bad remote ref is refused with one line while no local ref moves."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pygit2
import pytest

from skillmeat.model import sshsig
from skillmeat.model.sshkeys import PrivateKey
from tests.cli.runner import ok, skillmeat
from tests.helpers import EXAMPLES, git, isolate_env


class User:
    def __init__(self, name: str, base: Path, mp: pytest.MonkeyPatch) -> None:
        self.name, self.base, self.mp = name, base, mp

    def __enter__(self) -> User:
        isolate_env(self.mp, self.base)
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    @property
    def collection(self) -> Path:
        return self.base / "skillmeat" / "collections" / "team"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    alice = User("alice", tmp_path / "alice", monkeypatch)
    bob = User("bob", tmp_path / "bob", monkeypatch)
    with alice:
        ok("collection", "create", "team")
        git("remote", "add", "origin", str(remote), cwd=alice.collection)
        ok("add", str(EXAMPLES), "--all")
        ok("keys", "generate", "--comment", "alice@example.com")
        pub = ok("keys", "export", "--public").out.strip()
        ok("snapshot", "-m", "release 1", "--name", "v1")
        assert "refs/skillmeat/snapshots/v1" in ok("collection", "push").out
    with bob:
        ok("collection", "create", "team")
        git("remote", "add", "origin", str(remote), cwd=bob.collection)
    return {"remote": remote, "alice": alice, "bob": bob, "alice_pub": pub}


def _bob_refs(bob: User) -> dict[str, str]:
    return json.loads(ok("log", "--list", "--json").out)


def test_pull_verifies_then_moves_refs(world: dict) -> None:
    bob: User = world["bob"]
    with bob:
        refused = skillmeat("collection", "pull")
        assert refused.code == 1 and refused.err.count("\n") == 1
        assert "signed by unknown key SHA256:" in refused.err
        assert _bob_refs(bob) == {}
        ok("keys", "trust", world["alice_pub"], "--principal", "alice@example.com")
        pulled = ok("collection", "pull").out
        assert "refs/skillmeat/snapshots/v1: new ->" in pulled
        good = ok("verify-ref", "snapshots/v1").out
        assert "signed by alice@example.com" in good
        # git itself agrees, with the allowed-signers file SkillMeat keeps
        signers = bob.base / "skillmeat" / "trust" / "allowed_signers"
        out = git("-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={signers}",
                  "log", "--show-signature", "-1", "refs/skillmeat/snapshots/v1", cwd=bob.collection)
        assert 'Good "git" signature for alice@example.com' in out


def test_revoked_key_is_refused_and_nothing_moves(world: dict) -> None:
    bob: User = world["bob"]
    with bob:
        ok("keys", "trust", world["alice_pub"], "--principal", "alice@example.com")
        ok("keys", "revoke", world["alice_pub"], "--reason", "laptop stolen")
        refused = skillmeat("collection", "pull")
        assert refused.code == 1
        assert "revoked key" in refused.err and "laptop stolen" in refused.err
        assert _bob_refs(bob) == {}


def test_malformed_trust_file_is_bad_input(world: dict) -> None:
    bob: User = world["bob"]
    with bob:
        ok("keys", "trust", world["alice_pub"], "--principal", "alice@example.com")
        signers = bob.base / "skillmeat" / "trust" / "allowed_signers"
        signers.write_text(signers.read_text() + "mallory ssh-ed25519 AAAAnotbase64!!\n")
        refused = skillmeat("collection", "pull")
        assert refused.code == 2 and "allowed_signers:" in refused.err
        assert refused.err.count("\n") == 1 and _bob_refs(bob) == {}


def _alice_key(alice: User) -> PrivateKey:
    from skillmeat.store.keystore import KeyStore

    return KeyStore(alice.base / "skillmeat" / "keys").load("default", lambda: "")


def _forge(alice: User, ref: str, namespace: str = "git", tamper: bool = False,
           truncate: bool = False, unsigned: bool = False, parent: bool = True) -> None:
    """Write a commit on ``ref`` in alice's repo by hand and force-push it to the remote."""
    repo = pygit2.Repository(str(alice.collection))
    sig = pygit2.Signature("Alice", "alice@example.com")
    tree = repo.TreeBuilder().write()
    tip = repo.references.get(ref)
    parents = [tip.target] if tip is not None and parent else []
    payload = repo.create_commit_string(sig, sig, "forged", tree, parents)
    if unsigned:
        oid = repo.create_commit(None, sig, sig, "unsigned", tree, parents)
    else:
        signed = payload + ("tampered\n" if tamper else "")
        armored = sshsig.sign(_alice_key(alice), signed.encode(), namespace)
        if truncate:
            armored = armored[: len(armored) // 2] + "\n-----END SSH SIGNATURE-----"
        oid = repo.create_commit_with_signature(payload, armored.rstrip("\n"))
    repo.references.create(ref, oid, force=True)
    git("push", "-q", "--force", "origin", f"{ref}:{ref}", cwd=alice.collection)


@pytest.mark.parametrize(
    "forgery, reason",
    [
        ({"namespace": "skillmeat-pack"}, "wrong namespace 'skillmeat-pack'"),
        ({"tamper": True}, "bad signature"),
        ({"truncate": True}, "truncated"),
        ({"unsigned": True}, "unsigned commit"),
        ({"parent": False}, "rewrote history"),
    ],
)
def test_bad_remote_refs_are_refused(world: dict, forgery: dict, reason: str) -> None:
    alice: User = world["alice"]
    bob: User = world["bob"]
    with bob:
        ok("keys", "trust", world["alice_pub"], "--principal", "alice@example.com")
        ok("collection", "pull")
        before = _bob_refs(bob)
    with alice:
        _forge(alice, "refs/skillmeat/snapshots/v1", **forgery)
    with bob:
        refused = skillmeat("collection", "pull")
        assert refused.code == 1, refused.out
        assert reason in refused.err and refused.err.count("\n") == 1, refused.err
        assert _bob_refs(bob) == before
        assert not [r for r in pygit2.Repository(str(bob.collection)).references
                    if "incoming" in r], "the quarantine is cleaned up"


def test_push_surfaces_remote_rejections(world: dict) -> None:
    alice: User = world["alice"]
    remote: Path = world["remote"]
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: releases are frozen' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    with alice:
        ok("snapshot", "-m", "release 2", "--name", "v2")
        refused = skillmeat("collection", "push")
        assert refused.code == 1 and refused.err.count("\n") == 1
        assert "refused" in refused.err and "releases are frozen" in refused.err
    hook.unlink()
    with alice:
        # someone else moved v1 on the remote: our push is not a fast-forward
        other = alice.base / "other"
        git("clone", "-q", str(remote), str(other), cwd=alice.base)
        git("fetch", "-q", "origin", "refs/skillmeat/*:refs/skillmeat/*", cwd=other)
        git("commit", "-q", "--allow-empty", "-m", "elsewhere", cwd=other)
        git("push", "-q", "--force", "origin", "HEAD:refs/skillmeat/snapshots/v1", cwd=other)
        ok("snapshot", "-m", "release 1b", "--name", "v1")
        refused = skillmeat("collection", "push")
        assert refused.code == 1
        assert "refs/skillmeat/snapshots/v1" in refused.err
        assert "fetch first" in refused.err or "non-fast-forward" in refused.err


def test_rotation_is_accepted_by_those_who_trusted_the_old_key(world: dict) -> None:
    alice: User = world["alice"]
    bob: User = world["bob"]
    with alice:
        rotated = ok("keys", "rotate", "--new-name", "second").out
        statement = Path(rotated.split("Rotation statement: ")[1].splitlines()[0])
        team_rot = alice.collection / ".skillmeat" / "rotations"
        team_rot.mkdir(parents=True)
        (team_rot / statement.name).write_text(statement.read_text())
        ok("snapshot", "-m", "share rotation", "--name", "v2")
        ok("snapshot", "-m", "re-sign v1 with the new key", "--name", "v1")
        refused = skillmeat("snapshot", "--key", "default", "--name", "v3")
        assert refused.code == 1 and "revoked (rotated to SHA256:" in refused.err
        ok("collection", "push")
        git("push", "-q", "origin", "main", cwd=alice.collection)
    with bob:
        ok("keys", "trust", world["alice_pub"], "--principal", "alice@example.com")
        git("pull", "-q", "origin", "main", "--allow-unrelated-histories", "--no-rebase",
            "-X", "theirs", cwd=bob.collection)
        ok("collection", "pull")
        log = ok("log", "snapshots/v2").out
        assert "good alice@example.com" in log and "rotated from SHA256:" in log
        history = ok("log", "snapshots/v1").out.splitlines()
        assert "rotated from SHA256:" in history[0]  # the new tip vouches for the old commit
        assert "good alice@example.com" in history[1]


def test_keys_cli_round_trip(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@example.com",
                    "-f", str(key)], check=True)
    ok("keys", "import", str(key), "--name", "laptop")
    listed = json.loads(ok("keys", "list", "--json").out)
    fp = subprocess.run(["ssh-keygen", "-lf", f"{key}.pub"], capture_output=True, text=True,
                        check=True).stdout.split()[1]
    assert listed == [{**listed[0], "name": "laptop", "fingerprint": fp, "default": True}]
    assert ok("keys", "export", "--public").out.split()[:2] == key.with_suffix(".pub").read_text().split()[:2]
    stored = Path(listed[0]["path"])
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    os.environ["SKILLMEAT_KEY_PASSPHRASE"] = "correct horse"
    try:
        ok("keys", "generate", "--name", "locked", "--passphrase")
        assert json.loads(ok("keys", "show", "locked", "--json").out)["encrypted"] is True
        ok("collection", "create", "c")
        ok("snapshot", "--key", "locked", "--name", "s1")
        os.environ["SKILLMEAT_KEY_PASSPHRASE"] = "wrong"
        refused = skillmeat("snapshot", "--key", "locked", "--name", "s2")
        assert refused.code == 1 and "wrong passphrase" in refused.err
    finally:
        del os.environ["SKILLMEAT_KEY_PASSPHRASE"]
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    refused = skillmeat("keys", "import", str(bad), "--name", "bad")
    assert refused.code == 2 and "not an OpenSSH private key" in refused.err
    ok("keys", "remove", "laptop", "--yes")
    assert [k["name"] for k in json.loads(ok("keys", "list", "--json").out)] == ["locked"]
