"""Signed refs: written with the user's key, checked by SkillMeat and by stock git alike;
every bad commit refused with a reason; two processes writing one ref lose nothing."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from skillmeat.model import sshsig
from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.errors import BadInputError, NotFoundError, SignatureError
from skillmeat.model.sshkeys import PrivateKey, wrap_base64
from skillmeat.services import keys, refs
from skillmeat.services.keys import TrustRequest
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.refstore import RefStore, tree_with_files
from tests.helpers import git

ALICE = PrivateKey(bytes([1]) * 32, "alice@example.com")
MALLORY = PrivateKey(bytes([9]) * 32, "mallory@example.com")
FEED = "refs/skillmeat/feed"


def run_git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False)


def git_ssh(home: Home, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_git("-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={home.trust.allowed_path}",
                   "-c", f"gpg.ssh.revocationFile={home.trust.revoked_path}", *args, cwd=cwd)


@pytest.fixture
def alice(home: Home) -> Home:
    """A home that trusts ALICE for git (and has an empty revocation file, as git_setup makes)."""
    home.trust.add_signer(AllowedSigner(("alice@example.com",), ALICE.public, ("git",)))
    home.trust.revoke(PrivateKey(bytes([42]) * 32).public, "an unrelated old key")
    return home


def tip(store: CollectionStore, name: str = FEED) -> str | None:
    return RefStore(store.repo.repo).read(name)


def crafted(store: CollectionStore, key: PrivateKey, *, namespace: str = "git", sign_over: str | None = None,
            armored: str | None = None, name: str = FEED) -> str:
    """Put a hand-made commit on ``name``: signed over ``sign_over`` (default: its own payload)."""
    repo = store.repo.repo
    parent = tip(store, name)
    tree = tree_with_files(repo, str(repo[parent].tree_id) if parent else None, {"crafted.txt": b"!"})
    who = store.repo.signature()
    payload = repo.create_commit_string(who, who, "crafted\n", tree, [parent] if parent else [])
    if armored is None:
        armored = sshsig.sign(key, (sign_over or payload).encode(), namespace)
    oid = str(repo.create_commit_with_signature(payload, armored.rstrip("\n")))
    RefStore(repo).set_if(name, oid, parent)
    return oid


def refusal(alice: Home, store: CollectionStore, bad: str) -> SignatureError:
    """verify_ref names the ref and the commit; log_ref marks that one commit and no other."""
    trust = refs.trust_for(alice, store)
    with pytest.raises(SignatureError) as err:
        refs.verify_ref(store, trust, "feed")
    assert err.value.what == f"{FEED} at {bad[:12]}"
    entries = refs.log_ref(store, trust, "feed")
    assert [e.ok for e in entries] == [e.commit.id != bad for e in entries]
    [entry] = [e for e in entries if not e.ok]
    assert entry.problem == err.value.reason
    assert entry.to_dict()["status"] == "bad"
    return err.value


def refusal_all(alice: Home, store: CollectionStore) -> SignatureError:
    with pytest.raises(SignatureError) as err:
        refs.verify_ref(store, refs.trust_for(alice, store), "feed")
    assert all(not e.ok for e in refs.log_ref(store, refs.trust_for(alice, store), "feed"))
    return err.value


@pytest.fixture
def history(alice: Home, collection: CollectionStore) -> list[str]:
    return [refs.signed_update(collection, "feed", {f"items/{i}.json": f"{i}".encode()}, f"item {i}", ALICE)
            for i in range(3)]


# --------------------------------------------------------------------------- good refs


def test_signed_update_builds_on_the_tip(alice: Home, collection: CollectionStore,
                                         history: list[str]) -> None:
    assert tip(collection) == history[-1]
    assert refs.list_refs(collection) == {FEED: history[-1]}
    assert git("ls-tree", "-r", "--name-only", FEED, cwd=collection.path).split() == [
        "items/0.json", "items/1.json", "items/2.json"]
    assert git("rev-list", FEED, cwd=collection.path).split() == history[::-1]
    assert collection.repo.head() != history[-1]  # the branch and work tree are not touched
    assert git("status", "--porcelain", cwd=collection.path) == ""


def test_verify_ref_and_log_ref(alice: Home, collection: CollectionStore, history: list[str]) -> None:
    trust = refs.trust_for(alice, collection)
    entries = refs.verify_ref(collection, trust, "feed")
    assert [e.commit.id for e in entries] == history[::-1]
    assert [e.commit.summary for e in entries] == ["item 2", "item 1", "item 0"]
    for e in entries:
        assert e.ok and e.problem == ""
        assert e.verdict is not None
        assert e.verdict.principals == ("alice@example.com",)
        assert e.verdict.fingerprint == ALICE.public.fingerprint()
        assert e.to_dict()["status"] == "good"
    assert [e.commit.id for e in refs.log_ref(collection, trust, FEED, limit=2)] == history[:0:-1]
    with pytest.raises(NotFoundError):
        refs.log_ref(collection, trust, "nothing-here")


def test_stock_git_verifies_signed_updates(alice: Home, collection: CollectionStore,
                                           history: list[str]) -> None:
    for oid in history:
        done = run_git("-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={alice.trust.allowed_path}",
                       "verify-commit", oid, cwd=collection.path)
        assert done.returncode == 0, done.stderr
        assert 'Good "git" signature for alice@example.com' in done.stderr
    shown = git_ssh(alice, "log", "--show-signature", FEED, cwd=collection.path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count('Good "git" signature') == len(history)
    assert "No signature" not in shown.stdout + shown.stderr


def test_stock_git_refuses_once_the_key_is_revoked(
    alice: Home, collection: CollectionStore, history: list[str]
) -> None:
    keys.revoke_key(alice, ALICE.public, "compromised")
    done = git_ssh(alice, "verify-commit", history[-1], cwd=collection.path)
    assert done.returncode != 0
    assert 'Good "git" signature' not in done.stderr
    err = refusal_all(alice, collection)
    assert "revoked" in err.reason
    assert "compromised" in err.reason


def test_signed_tree_ref(alice: Home, collection: CollectionStore) -> None:
    repo = collection.repo.repo
    tree = tree_with_files(repo, None, {"a": b"1"})
    first = refs.signed_tree_ref(collection, "snapshots/v1", tree, "v1", ALICE)
    assert str(repo[first].tree_id) == tree
    assert refs.verify_ref(collection, refs.trust_for(alice), "snapshots/v1")[0].commit.id == first


def test_team_trust_counts_only_with_the_collection(home: Home, collection: CollectionStore) -> None:
    keys.trust_key(home, TrustRequest(ALICE.public, ("alice@team",), ("git",)), store=collection)
    refs.signed_update(collection, "feed", {"x": b"1"}, "x", ALICE)
    assert refs.verify_ref(collection, refs.trust_for(home, collection), "feed")[0].verdict.principals == (
        "alice@team",)
    with pytest.raises(SignatureError) as err:
        refs.verify_ref(collection, refs.trust_for(home), "feed")
    assert "unknown key" in err.value.reason


@pytest.mark.parametrize("name", ["../heads/main", "refs/heads/main", "a b", "x.lock", "x@{1}", ""])
def test_bad_ref_names_are_refused(alice: Home, collection: CollectionStore, name: str) -> None:
    with pytest.raises(BadInputError):
        refs.signed_update(collection, name, {"x": b"1"}, "x", ALICE)
    assert refs.list_refs(collection) == {}
    assert refs.full_ref("feed") == FEED
    assert refs.full_ref(FEED) == FEED


# --------------------------------------------------------------------------- bad commits


def test_tampered_payload(alice: Home, collection: CollectionStore, history: list[str]) -> None:
    parent = history[-1]
    who = collection.repo.signature()
    tree = str(collection.repo.repo[parent].tree_id)
    innocent = collection.repo.repo.create_commit_string(who, who, "innocent\n", tree, [parent])
    bad = crafted(collection, ALICE, sign_over=innocent)
    err = refusal(alice, collection, bad)
    assert err.reason == "bad signature"
    done = git_ssh(alice, "verify-commit", bad, cwd=collection.path)
    assert done.returncode != 0
    assert 'Good "git" signature' not in done.stderr


def test_signature_from_another_namespace(alice: Home, collection: CollectionStore,
                                          history: list[str]) -> None:
    bad = crafted(collection, ALICE, namespace="skillmeat-pack")
    err = refusal(alice, collection, bad)
    assert "wrong namespace" in err.reason
    assert "'skillmeat-pack'" in err.reason
    assert git_ssh(alice, "verify-commit", bad, cwd=collection.path).returncode != 0


def test_unknown_key(alice: Home, collection: CollectionStore, history: list[str]) -> None:
    bad = crafted(collection, MALLORY)
    err = refusal(alice, collection, bad)
    assert "unknown key" in err.reason
    assert MALLORY.public.fingerprint() in err.reason
    assert git_ssh(alice, "verify-commit", bad, cwd=collection.path).returncode != 0


def test_revoked_key(alice: Home, collection: CollectionStore, history: list[str]) -> None:
    alice.trust.add_signer(AllowedSigner(("mallory@example.com",), MALLORY.public))
    bad = crafted(collection, MALLORY)
    assert refs.verify_ref(collection, refs.trust_for(alice), "feed")[0].commit.id == bad
    assert git_ssh(alice, "verify-commit", bad, cwd=collection.path).returncode == 0
    assert keys.revoke_key(alice, MALLORY.public, "compromised")
    err = refusal(alice, collection, bad)
    assert "revoked" in err.reason
    assert git_ssh(alice, "verify-commit", bad, cwd=collection.path).returncode != 0


def test_key_trusted_only_for_another_namespace(alice: Home, collection: CollectionStore,
                                                history: list[str]) -> None:
    alice.trust.add_signer(AllowedSigner(("mallory@example.com",), MALLORY.public, ("skillmeat-pack",)))
    bad = crafted(collection, MALLORY)
    err = refusal(alice, collection, bad)
    assert "not trusted for 'git'" in err.reason
    assert git_ssh(alice, "verify-commit", bad, cwd=collection.path).returncode != 0


def test_expired_key(alice: Home, collection: CollectionStore, history: list[str]) -> None:
    alice.trust.add_signer(AllowedSigner(("mallory@example.com",), MALLORY.public, ("git",), "", "20200101"))
    bad = crafted(collection, MALLORY)
    err = refusal(alice, collection, bad)
    assert "not trusted for 'git' now" in err.reason
    assert "validity" in err.reason
    assert git_ssh(alice, "verify-commit", bad, cwd=collection.path).returncode != 0


@pytest.mark.parametrize("cut", [-1, -30, 100])
def test_truncated_signature(alice: Home, collection: CollectionStore, history: list[str], cut: int) -> None:
    good = sshsig.sign(ALICE, b"whatever", "git")
    blob = base64.b64decode("".join(good.strip().splitlines()[1:-1]))
    armored = f"-----BEGIN SSH SIGNATURE-----\n{wrap_base64(blob[:cut])}\n-----END SSH SIGNATURE-----"
    bad = crafted(collection, ALICE, armored=armored)
    err = refusal(alice, collection, bad)
    assert "truncated" in err.reason


def test_signature_without_its_end_line(alice: Home, collection: CollectionStore, history: list[str]) -> None:
    armored = "\n".join(sshsig.sign(ALICE, b"whatever", "git").splitlines()[:3])
    bad = crafted(collection, ALICE, armored=armored)
    assert "truncated" in refusal(alice, collection, bad).reason


def test_unsigned_commit(alice: Home, collection: CollectionStore, history: list[str]) -> None:
    repo = collection.repo.repo
    who = collection.repo.signature()
    oid = str(repo.create_commit(None, who, who, "unsigned", repo[history[-1]].tree_id, [history[-1]]))
    RefStore(repo).set_if(FEED, oid, history[-1])
    assert refusal(alice, collection, oid).reason == "unsigned commit"


def test_a_bad_commit_deep_in_history_is_found(alice: Home, collection: CollectionStore,
                                               history: list[str]) -> None:
    bad = crafted(collection, MALLORY)
    for i in range(3):
        refs.signed_update(collection, "feed", {f"later/{i}": b"x"}, f"later {i}", ALICE)
    assert "unknown key" in refusal(alice, collection, bad).reason


# --------------------------------------------------------------------------- two processes


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from skillmeat.model.sshkeys import PrivateKey
    from skillmeat.services import refs
    from skillmeat.store.collection import CollectionStore

    path, seed, tag, rounds, gate = sys.argv[1:6]
    store = CollectionStore.open("test", Path(path))
    key = PrivateKey(bytes.fromhex(seed))
    Path(gate + "." + tag).touch()
    while not Path(gate).exists():
        time.sleep(0.001)
    for i in range(int(rounds)):
        name = f"{tag}/{i:03d}.txt"
        refs.signed_update(store, "feed", {name: name.encode()}, name, key)
""")


def test_two_processes_sign_one_ref_and_lose_nothing(
    alice: Home, collection: CollectionStore, tmp_path: Path
) -> None:
    rounds, tags = 40, ("one", "two")
    gate = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(collection.path), ALICE.seed.hex(), tag,
                               str(rounds), str(gate)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for tag in tags]
    try:
        while not all(gate.with_name(f"go.{t}").exists() for t in tags):
            for p in procs:
                if p.poll() is not None:
                    raise AssertionError(p.communicate()[1].decode())
            time.sleep(0.01)
        gate.touch()
        for p in procs:
            _, err = p.communicate(timeout=300)
            assert p.returncode == 0, err.decode()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    stream.close()

    expected = sorted(f"{t}/{i:03d}.txt" for t in tags for i in range(rounds))
    entries = refs.verify_ref(collection, refs.trust_for(alice, collection), "feed")
    assert len(entries) == 2 * rounds
    assert sorted(e.commit.summary for e in entries) == expected
    assert git("ls-tree", "-r", "--name-only", FEED, cwd=collection.path).split() == expected
    assert git("rev-list", "--count", FEED, cwd=collection.path).strip() == str(2 * rounds)
    shown = git_ssh(alice, "log", "--show-signature", FEED, cwd=collection.path)
    assert shown.stdout.count('Good "git" signature for alice@example.com') == 2 * rounds
