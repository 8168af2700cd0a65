"""Signing keys: generate, import, default, remove, rotate, trust (the user's and a team's),
and git's own signing set-up."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from skillmeat.model import sshsig
from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError, SignatureError
from skillmeat.model.sshkeys import PrivateKey, PublicKey
from skillmeat.services import keys
from skillmeat.services.keys import TrustRequest
from skillmeat.services.trust import TrustSet, make_rotation, parse_rotation, verify
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.keystore import KeyStore
from tests.helpers import git

MESSAGE = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nsigned\n"
MALLORY = PrivateKey(bytes([9]) * 32, "mallory@example.com")


def no_passphrase() -> str:
    raise AssertionError("the passphrase must not be asked for")


def given(text: str):  # type: ignore[no-untyped-def]
    return lambda: text


def keygen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(["ssh-keygen", *map(str, args)], capture_output=True, text=True, env=env,
                          check=False)


def run_git(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(["git", *args], capture_output=True, text=True, env=env, check=False)


def head(store: CollectionStore) -> str:
    return git("rev-parse", "HEAD", cwd=store.path).strip()


def clean(store: CollectionStore) -> bool:
    return git("status", "--porcelain", "--untracked-files=all", cwd=store.path) == ""


def sign(home: Home, name: str, namespace: str = "git") -> str:
    return sshsig.sign(home.keys.load(name, no_passphrase), MESSAGE, namespace)


# --------------------------------------------------------------------------- generate, import


def test_generate_makes_the_first_key_the_default(home: Home) -> None:
    first = keys.generate(home, "work", comment="alice@example.com")
    assert first.public.comment == "alice@example.com"
    assert not first.encrypted
    assert keys.default_name(home) == "work"
    keys.generate(home, "spare")
    assert keys.default_name(home) == "work"
    assert home.keys.info("spare").public.comment == "spare"
    assert keys.resolve(home, None).name == "work"
    assert keys.resolve(home, "spare").name == "spare"
    with pytest.raises(ConflictError):
        keys.generate(home, "work")


def test_generate_with_a_passphrase(home: Home) -> None:
    info = keys.generate(home, "work", passphrase="pw")
    assert info.encrypted
    assert keys.signing_key(home, None, given("pw")).public == info.public
    with pytest.raises(SignatureError) as err:
        keys.signing_key(home, None, given("nope"))
    assert err.value.reason == "wrong passphrase"


def test_no_key_no_default(home: Home) -> None:
    with pytest.raises(NotFoundError):
        keys.default_name(home)
    with pytest.raises(NotFoundError):
        keys.signing_key(home, None, no_passphrase)


def test_import_an_ssh_keygen_key(home: Home, tmp_path: Path) -> None:
    assert keygen("-q", "-t", "ed25519", "-N", "", "-C", "me@laptop", "-f", tmp_path / "id").returncode == 0
    info = keys.import_key(home, "laptop", tmp_path / "id", no_passphrase)
    assert info.public.raw == PublicKey.parse((tmp_path / "id.pub").read_text()).raw
    assert info.public.comment == "me@laptop"
    printed = keygen("-l", "-f", tmp_path / "id.pub").stdout.split()[1]
    assert info.fingerprint == printed
    assert keys.default_name(home) == "laptop"
    # the imported key signs what ssh-keygen then verifies
    (tmp_path / "allowed").write_text(f"me {(tmp_path / 'id.pub').read_text()}")
    (tmp_path / "sig").write_text(sign(home, "laptop"))
    done = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "me",
                           "-n", "git", "-s", str(tmp_path / "sig")], input=MESSAGE, capture_output=True,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_import_with_a_new_passphrase(home: Home, tmp_path: Path) -> None:
    (tmp_path / "k").write_text(MALLORY.to_openssh())
    info = keys.import_key(home, "m", tmp_path / "k", no_passphrase, new_passphrase="new pw")
    assert info.encrypted
    assert home.keys.load("m", given("new pw")).seed == MALLORY.seed


def test_import_a_skillmeat_key_file(home: Home, tmp_path: Path) -> None:
    exported = KeyStore(tmp_path / "elsewhere").save("k", MALLORY, "pw").path
    info = keys.import_key(home, "copy", exported, given("pw"))
    assert info.public == MALLORY.public
    assert not info.encrypted


@pytest.mark.parametrize("content", [
    "not a key\n",
    "",
    MALLORY.public.openssh() + "\n",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
    '{"format": "skillmeat-key/1", "public": "ssh-ed25519 AAAA", "cipher": "none", "seed": ""}',
], ids=["text", "empty", "public", "tiny", "rsa-pem", "damaged-json"])
def test_import_refuses_malformed_key_files(home: Home, tmp_path: Path, content: str) -> None:
    (tmp_path / "k").write_text(content)
    with pytest.raises(BadInputError):
        keys.import_key(home, "k", tmp_path / "k", no_passphrase)
    assert home.keys.list() == []


def test_import_refuses_encrypted_and_foreign_openssh_keys(home: Home, tmp_path: Path) -> None:
    assert keygen("-q", "-t", "ed25519", "-N", "secret", "-f", tmp_path / "enc").returncode == 0
    assert keygen("-q", "-t", "ecdsa", "-N", "", "-f", tmp_path / "ec").returncode == 0
    with pytest.raises(BadInputError) as err:
        keys.import_key(home, "enc", tmp_path / "enc", no_passphrase)
    assert "encrypted" in err.value.message
    with pytest.raises(BadInputError) as err:
        keys.import_key(home, "ec", tmp_path / "ec", no_passphrase)
    assert "Ed25519" in err.value.message
    with pytest.raises(BadInputError):
        keys.import_key(home, "gone", tmp_path / "missing", no_passphrase)
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BadInputError):
        keys.import_key(home, "bin", tmp_path / "binary", no_passphrase)
    assert home.keys.list() == []


# --------------------------------------------------------------------------- default, remove


def test_set_default_and_remove(home: Home) -> None:
    keys.generate(home, "a")
    b = keys.generate(home, "b")
    assert keys.set_default(home, b.fingerprint).name == "b"
    assert keys.default_name(home) == "b"
    with pytest.raises(NotFoundError):
        keys.set_default(home, "zzz")
    assert keys.remove(home, "b").name == "b"
    assert not (home.paths.keys / "b.key").exists()
    assert keys.default_name(home) == "a"  # the only key left
    keys.generate(home, "c")
    assert keys.default_name(home) == "c"  # there was no default: the new key is it
    home.config.unset(keys.DEFAULT_KEY)
    with pytest.raises(NotFoundError):
        keys.default_name(home)  # two keys and no default: refuse to guess
    assert keys.remove(home, "a").name == "a"
    with pytest.raises(NotFoundError):
        keys.remove(home, "a")


# --------------------------------------------------------------------------- rotate


def test_rotate_writes_a_statement_revokes_and_moves_the_default(home: Home) -> None:
    old = keys.generate(home, "old", comment="alice@example.com")
    keys.trust_key(home, TrustRequest(old.public, ("alice@example.com",), ("git", "skillmeat-pack")))
    result = keys.rotate(home, None, "new", no_passphrase)
    assert result.old.name == "old"
    assert result.new.name == "new"
    assert result.new.public.comment == "alice@example.com"
    assert result.statement.parent == home.trust.rotations_dir
    rot = parse_rotation(result.statement.read_text(), str(result.statement))
    assert (rot.old.raw, rot.new.raw) == (old.public.raw, result.new.public.raw)
    [revoked] = home.trust.revoked()
    assert revoked.key.raw == old.public.raw
    assert revoked.retired
    assert result.new.fingerprint in revoked.reason
    new_lines = [s for s in home.trust.signers() if s.key.raw == result.new.public.raw]
    assert [(s.principals, s.namespaces) for s in new_lines] == [(("alice@example.com",),
                                                                  ("git", "skillmeat-pack"))]
    assert keys.default_name(home) == "new"
    assert keys.signing_key(home, None, no_passphrase).public.raw == result.new.public.raw
    with pytest.raises(SignatureError):
        keys.signing_key(home, "old", no_passphrase)  # a rotated key signs nothing more
    verdict = verify(sign(home, "new"), MESSAGE, "git", TrustSet.load([home.trust]))
    assert verdict.principals == ("alice@example.com",)


def test_rotate_to_an_existing_name_changes_nothing(home: Home) -> None:
    keys.generate(home, "old")
    keys.generate(home, "taken")
    with pytest.raises(ConflictError):
        keys.rotate(home, "old", "taken", no_passphrase)
    assert home.trust.revoked() == []
    assert home.trust.rotations() == []
    assert keys.default_name(home) == "old"


def test_rotate_an_encrypted_key(home: Home) -> None:
    keys.generate(home, "old", passphrase="pw")
    with pytest.raises(SignatureError):
        keys.rotate(home, "old", "new", given("wrong"))
    assert [i.name for i in home.keys.list()] == ["old"]
    assert home.trust.revoked() == []
    result = keys.rotate(home, "old", "new", given("pw"), new_passphrase="pw2")
    assert result.new.encrypted
    assert home.keys.load("new", given("pw2")).public == result.new.public


def test_a_team_that_trusted_the_old_key_accepts_the_new_one_until_the_old_is_compromised(
    home: Home, collection: CollectionStore
) -> None:
    old = keys.generate(home, "old", comment="alice@example.com")
    keys.trust_key(home, TrustRequest(old.public, ("alice@example.com",)), store=collection)
    result = keys.rotate(home, "old", "new", no_passphrase)
    collection.trust.add_rotation("alice-1", result.statement.read_text())
    team = TrustSet.load([collection.trust])

    verdict = verify(sign(home, "new"), MESSAGE, "git", team)
    assert verdict.principals == ("alice@example.com",)
    assert verdict.fingerprint == result.new.fingerprint
    assert verdict.via_rotation == (old.fingerprint,)

    assert keys.revoke_key(home, old.public, "compromised", store=collection)
    with pytest.raises(SignatureError) as err:
        verify(sign(home, "new"), MESSAGE, "git", TrustSet.load([collection.trust]))
    assert "unknown key" in err.value.reason


def test_compromise_after_rotation_voids_rotations_from_the_old_key(
    home: Home, collection: CollectionStore
) -> None:
    """Rotated first, then found leaked: a thief's own rotation statement must count for nothing."""
    old = keys.generate(home, "old", comment="alice@example.com")
    keys.trust_key(home, TrustRequest(old.public, ("alice@example.com",)), store=collection)
    keys.rotate(home, "old", "new", no_passphrase)
    keys.revoke_key(home, old.public, "compromised")
    stolen = home.keys.load("old", no_passphrase)
    collection.trust.add_rotation("thief", make_rotation(stolen, MALLORY.public))
    trust = TrustSet.load([home.trust, collection.trust])
    with pytest.raises(SignatureError):
        verify(sshsig.sign(MALLORY, MESSAGE, "git"), MESSAGE, "git", trust)


# --------------------------------------------------------------------------- trust, untrust, revoke


def test_trust_request_validation() -> None:
    key = MALLORY.public
    for bad in (TrustRequest(key, ()), TrustRequest(key, ("",)), TrustRequest(key, ("a b",)),
                TrustRequest(key, ("a",), valid_before="tomorrow"),
                TrustRequest(key, ("a",), valid_after="2025-01-01")):
        with pytest.raises(BadInputError):
            bad.signer()
    signer = TrustRequest(key, ("a", "b"), ("git",), "20250101", "20260101").signer()
    assert signer.format().startswith('a,b namespaces="git",valid-after="20250101",valid-before="20260101" ')


def test_trust_untrust_revoke_in_the_users_trust(home: Home) -> None:
    key = MALLORY.public
    keys.trust_key(home, TrustRequest(key, ("m@example.com",), ("git",)))
    keys.trust_key(home, TrustRequest(key, ("m@work",)))
    assert [s.principals for s in home.trust.signers()] == [("m@example.com",), ("m@work",)]
    assert keys.untrust_key(home, key, "m@work") == 1
    assert [s.principals for s in home.trust.signers()] == [("m@example.com",)]
    with pytest.raises(NotFoundError):
        keys.untrust_key(home, key, "m@work")
    assert keys.revoke_key(home, key, "compromised")
    assert not keys.revoke_key(home, key, "again")
    assert [(r.key.raw, r.reason) for r in home.trust.revoked()] == [(key.raw, "compromised")]
    assert keys.untrust_key(home, key) == 1
    with pytest.raises(NotFoundError):
        keys.untrust_key(home, key)


def test_team_trust_is_committed_to_the_collection(home: Home, collection: CollectionStore) -> None:
    key = MALLORY.public
    fp = key.fingerprint()
    start = head(collection)
    keys.trust_key(home, TrustRequest(key, ("m@example.com",)), store=collection)
    assert git("log", "-1", "--format=%s", cwd=collection.path).strip() == f"Trust {fp} as m@example.com"
    assert git("rev-parse", "HEAD~1", cwd=collection.path).strip() == start
    committed = git("show", "HEAD:.skillmeat/allowed_signers", cwd=collection.path)
    assert f"m@example.com {key.openssh()}" in committed.splitlines()
    assert clean(collection)
    assert home.trust.signers() == []  # the user's own trust is not touched

    keys.revoke_key(home, key, "lost it", store=collection)
    assert git("log", "-1", "--format=%s", cwd=collection.path).strip() == f"Revoke {fp}: lost it"
    revoked = git("show", "HEAD:.skillmeat/revoked", cwd=collection.path)
    assert revoked.splitlines()[-2:][0].endswith(": lost it")
    assert revoked.splitlines()[-1] == key.openssh()
    assert clean(collection)
    assert home.trust.revoked() == []

    keys.untrust_key(home, key, store=collection)
    assert git("log", "-1", "--format=%s", cwd=collection.path).strip() == f"Stop trusting {fp}"
    assert collection.trust.signers() == []
    assert clean(collection)

    before = head(collection)
    with pytest.raises(NotFoundError):
        keys.untrust_key(home, key, store=collection)
    assert head(collection) == before
    assert clean(collection)


def test_a_failed_team_edit_leaves_the_collection_as_it_was(home: Home, collection: CollectionStore) -> None:
    keys.trust_key(home, TrustRequest(MALLORY.public, ("m",)), store=collection)
    path = collection.trust.allowed_path
    path.write_text(path.read_text() + "bob ssh-ed25519 AAAA%%%%\n")
    git("commit", "-qam", "a bad line", cwd=collection.path)
    before, text = head(collection), path.read_text()
    with pytest.raises(BadInputError):
        keys.trust_key(home, TrustRequest(PrivateKey(bytes(32)).public, ("z",)), store=collection)
    assert head(collection) == before
    assert path.read_text() == text
    assert clean(collection)


# --------------------------------------------------------------------------- find_public


def test_find_public(home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    mine = keys.generate(home, "mine")
    assert keys.find_public(home, "mine") == mine.public
    assert keys.find_public(home, mine.fingerprint) == mine.public
    keys.trust_key(home, TrustRequest(MALLORY.public, ("m",)), store=collection)
    assert keys.find_public(home, MALLORY.public.fingerprint(), store=collection).raw == MALLORY.public.raw
    with pytest.raises(NotFoundError):
        keys.find_public(home, MALLORY.public.fingerprint())  # not in the user's own trust
    (tmp_path / "m.pub").write_text(MALLORY.public.openssh() + "\n")
    assert keys.find_public(home, str(tmp_path / "m.pub")) == MALLORY.public
    assert keys.find_public(home, MALLORY.public.openssh()) == MALLORY.public
    with pytest.raises(BadInputError):
        keys.find_public(home, str(tmp_path / "missing.pub"))
    (tmp_path / "bad.pub").write_text("ssh-rsa AAAAB3NzaC1yc2E bob\n")
    with pytest.raises(BadInputError):
        keys.find_public(home, str(tmp_path / "bad.pub"))


# --------------------------------------------------------------------------- git's own signing


@pytest.fixture
def work_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "work"
    git("init", "-q", str(repo), cwd=tmp_path)
    return repo


def test_git_setup_makes_git_sign_and_verify_commits(home: Home, work_repo: Path) -> None:
    global_config = Path(os.environ["GIT_CONFIG_GLOBAL"])
    before = global_config.read_text()
    info = keys.generate(home, "alice", comment="alice@example.com")
    setup = keys.git_setup(home, None, no_passphrase, repo=work_repo, principal="alice@example.com")

    assert global_config.read_text() == before  # only the repository's config was touched
    assert run_git("-C", str(work_repo), "config", "--local", "gpg.format").stdout.strip() == "ssh"
    assert run_git("-C", str(work_repo), "config", "--local", "user.signingkey").stdout.strip() == \
        str(setup.key_file)
    assert setup.settings["gpg.ssh.allowedSignersFile"] == str(home.trust.allowed_path)
    assert oct(setup.key_file.stat().st_mode & 0o777) == oct(0o600)
    assert [s.principals for s in home.trust.signers()] == [("alice@example.com",)]
    assert home.keys.list() == [home.keys.info("alice")]  # the OpenSSH copy is not another key
    assert PrivateKey.from_openssh(setup.key_file.read_text()).public.raw == info.public.raw

    done = run_git("-C", str(work_repo), "commit", "-S", "--allow-empty", "-m", "x")
    assert done.returncode == 0, done.stderr
    done = run_git("-C", str(work_repo), "verify-commit", "HEAD")
    assert done.returncode == 0, done.stderr
    assert 'Good "git" signature for alice@example.com' in done.stderr
    assert info.fingerprint in done.stderr

    keys.revoke_key(home, info.public, "compromised")
    assert run_git("-C", str(work_repo), "verify-commit", "HEAD").returncode != 0


def test_git_setup_is_idempotent(home: Home, work_repo: Path) -> None:
    keys.generate(home, "alice")
    keys.git_setup(home, None, no_passphrase, repo=work_repo, principal="alice@example.com")
    keys.git_setup(home, None, no_passphrase, repo=work_repo, principal="alice@example.com")
    assert len(home.trust.signers()) == 1
    done = run_git("-C", str(work_repo), "commit", "-S", "--allow-empty", "-m", "x")
    assert done.returncode == 0, done.stderr
    assert run_git("-C", str(work_repo), "verify-commit", "HEAD").returncode == 0


def test_git_setup_protects_the_openssh_copy_of_an_encrypted_key(home: Home, work_repo: Path) -> None:
    keys.generate(home, "alice", passphrase="pw pw")
    setup = keys.git_setup(home, None, given("pw pw"), repo=work_repo, principal="a@x")
    assert keygen("-y", "-P", "", "-f", setup.key_file).returncode != 0
    shown = keygen("-y", "-P", "pw pw", "-f", setup.key_file)
    assert shown.returncode == 0, shown.stderr
    assert PublicKey.parse(shown.stdout).raw == home.keys.info("alice").public.raw
    assert "BEGIN OPENSSH PRIVATE KEY" in setup.key_file.read_text()
