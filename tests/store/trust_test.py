"""Trust files on disk: the allowed_signers and revoked files ssh-keygen and git read."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
from pathlib import Path

import pytest

from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.errors import BadInputError
from skillmeat.model.sshkeys import PrivateKey, PublicKey
from skillmeat.store.trust import HEADER, REVOKED_HEADER, Revoked, TrustDir

ALICE = PrivateKey(bytes([1]) * 32, "alice@example.com")
BOB = PrivateKey(bytes([2]) * 32, "bob@example.com")
CAROL = PrivateKey(bytes([3]) * 32, "carol@example.com")


def keygen(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(["ssh-keygen", *map(str, args)], input=stdin, capture_output=True,
                          env=env, check=False)


@pytest.fixture
def trust(tmp_path: Path) -> TrustDir:
    return TrustDir(tmp_path / "trust", "user trust")


def today() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- allowed signers


def test_empty_dir_has_nothing(trust: TrustDir) -> None:
    assert trust.signers() == []
    assert trust.revoked() == []
    assert trust.rotations() == []
    assert trust.remove_key(ALICE.public) == 0
    assert not trust.dir.exists()


def test_add_signer_writes_a_header_and_one_line(trust: TrustDir) -> None:
    signer = AllowedSigner(("alice@example.com",), ALICE.public, ("git",))
    trust.add_signer(signer)
    assert trust.allowed_path.read_text() == HEADER + signer.format() + "\n"
    assert trust.signers() == [signer]


def test_add_signer_replaces_the_same_key_and_principals(trust: TrustDir) -> None:
    trust.add_signer(AllowedSigner(("alice@example.com",), ALICE.public, ("git",)))
    trust.add_signer(AllowedSigner(("bob@example.com",), BOB.public))
    newer = AllowedSigner(("alice@example.com",), ALICE.public, ("git", "skillmeat-pack"), "20240101")
    trust.add_signer(newer)
    signers = trust.signers()
    assert len(signers) == 2
    assert newer in signers
    assert sum(s.key.raw == ALICE.public.raw for s in signers) == 1


def test_add_signer_keeps_other_principals_for_the_same_key(trust: TrustDir) -> None:
    trust.add_signer(AllowedSigner(("alice@example.com",), ALICE.public))
    trust.add_signer(AllowedSigner(("alice@work.example",), ALICE.public))
    assert [s.principals for s in trust.signers()] == [("alice@example.com",), ("alice@work.example",)]


def test_add_signer_keeps_comments_and_foreign_lines(trust: TrustDir) -> None:
    trust.dir.mkdir()
    foreign = "rsa@example.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"
    trust.allowed_path.write_text(f"# my own notes\n{foreign}\n\n# team\nbob {BOB.public.openssh()}\n")
    trust.add_signer(AllowedSigner(("alice",), ALICE.public))
    lines = trust.allowed_path.read_text().splitlines()
    assert lines[:5] == ["# my own notes", foreign, "", "# team", f"bob {BOB.public.openssh()}"]
    assert lines[5] == f"alice {ALICE.public.openssh()}"


def test_add_signer_refuses_to_rewrite_a_malformed_file(trust: TrustDir) -> None:
    trust.dir.mkdir()
    bad = f"{HEADER}bob ssh-ed25519 AAAA%%%%\n"
    trust.allowed_path.write_text(bad)
    with pytest.raises(BadInputError) as err:
        trust.add_signer(AllowedSigner(("alice",), ALICE.public))
    assert str(trust.allowed_path) in err.value.message
    assert trust.allowed_path.read_text() == bad
    with pytest.raises(BadInputError) as err:
        trust.signers()
    assert f"{trust.allowed_path}:2" in err.value.message


def test_non_utf8_files_are_bad_input(trust: TrustDir) -> None:
    trust.dir.mkdir()
    trust.allowed_path.write_bytes(b"alice \xff\xfe\n")
    trust.revoked_path.write_bytes(b"\xff\n")
    with pytest.raises(BadInputError):
        trust.signers()
    with pytest.raises(BadInputError):
        trust.revoked()


def test_remove_key(trust: TrustDir) -> None:
    trust.add_signer(AllowedSigner(("alice@example.com",), ALICE.public))
    trust.add_signer(AllowedSigner(("alice@work.example",), ALICE.public))
    trust.add_signer(AllowedSigner(("bob",), BOB.public))
    assert trust.remove_key(ALICE.public, "alice@work.example") == 1
    assert [s.principals for s in trust.signers()] == [("alice@example.com",), ("bob",)]
    assert trust.remove_key(ALICE.public) == 1
    assert [s.principals for s in trust.signers()] == [("bob",)]
    before = trust.allowed_path.read_text()
    assert trust.remove_key(CAROL.public) == 0
    assert trust.remove_key(BOB.public, "someone-else") == 0
    assert trust.allowed_path.read_text() == before
    assert trust.allowed_path.read_text().startswith(HEADER)


def test_remove_key_for_one_principal_keeps_the_others_on_a_shared_line(trust: TrustDir) -> None:
    trust.dir.mkdir()
    trust.allowed_path.write_text(f"{HEADER}alice@example.com,bob@example.com {ALICE.public.openssh()}\n")
    trust.remove_key(ALICE.public, "alice@example.com")
    assert [(s.principals, s.key.raw) for s in trust.signers()] == [(("bob@example.com",), ALICE.public.raw)]


# --------------------------------------------------------------------------- revocation


def test_revoke_writes_a_dated_reason_above_the_key(trust: TrustDir) -> None:
    assert trust.revoke(ALICE.public, "laptop   stolen\nyesterday")
    assert trust.revoked_path.read_text() == (
        f"{REVOKED_HEADER}# revoked {today()}: laptop stolen yesterday\n{ALICE.public.openssh()}\n")
    assert trust.revoked() == [Revoked(ALICE.public, "laptop stolen yesterday")]


def test_revoke_is_idempotent(trust: TrustDir) -> None:
    assert trust.revoke(ALICE.public, "compromised")
    before = trust.revoked_path.read_text()
    assert not trust.revoke(PublicKey(ALICE.public.raw, "other comment"), "again")
    assert trust.revoked_path.read_text() == before


def test_revoke_without_reason(trust: TrustDir) -> None:
    trust.revoke(ALICE.public, "  ")
    assert trust.revoked()[0].reason == "no reason given"


def test_revoked_reasons_stay_with_their_keys(trust: TrustDir) -> None:
    trust.dir.mkdir()
    trust.revoked_path.write_text(
        f"{REVOKED_HEADER}# revoked 2024-01-01: compromised\n{ALICE.public.openssh()}\n"
        f"{BOB.public.openssh()}\n\n# a note\n# revoked 2024-02-02: rotated to SHA256:x\n"
        f"{CAROL.public.openssh()}\n")
    assert [(r.key.raw, r.reason, r.retired) for r in trust.revoked()] == [
        (ALICE.public.raw, "compromised", False),
        (BOB.public.raw, "", False),
        (CAROL.public.raw, "rotated to SHA256:x", True),
    ]


def test_revoking_a_rotated_key_as_compromised_makes_it_compromised(trust: TrustDir) -> None:
    trust.revoke(ALICE.public, f"rotated to {BOB.public.fingerprint()}")
    assert trust.revoke(ALICE.public, "compromised")  # news, not a repeat: it must be recorded
    mine = [r for r in trust.revoked() if r.key.raw == ALICE.public.raw]
    assert any(not r.retired and r.reason == "compromised" for r in mine)
    assert not trust.revoke(ALICE.public, "compromised")


def test_malformed_revoked_line_is_bad_input(trust: TrustDir) -> None:
    trust.dir.mkdir()
    trust.revoked_path.write_text(f"{REVOKED_HEADER}# revoked 2024-01-01: x\nssh-ed25519 AAAA%%%\n")
    with pytest.raises(BadInputError) as err:
        trust.revoked()
    assert f"{trust.revoked_path}:3" in err.value.message


def test_retired_means_rotated() -> None:
    assert Revoked(ALICE.public, "rotated to SHA256:abc").retired
    assert not Revoked(ALICE.public, "compromised").retired
    assert not Revoked(ALICE.public, "").retired


# --------------------------------------------------------------------------- rotations


def test_rotations_are_listed_in_name_order(trust: TrustDir) -> None:
    b = trust.add_rotation("b", "second\n")
    a = trust.add_rotation("a", "first\n")
    (trust.rotations_dir / "notes.txt").write_text("ignored")
    assert trust.rotations() == [(a, "first\n"), (b, "second\n")]
    assert a == trust.rotations_dir / "a.rotation"


# --------------------------------------------------------------------------- ssh-keygen reads them


def keygen_verify(trust: TrustDir, sig: Path, principal: str, namespace: str = "git",
                  message: bytes = b"hello\n") -> subprocess.CompletedProcess[bytes]:
    return keygen("-Y", "verify", "-f", trust.allowed_path, "-I", principal, "-n", namespace,
                  "-s", sig, "-r", trust.revoked_path, stdin=message)


@pytest.fixture
def signed(tmp_path: Path) -> tuple[PublicKey, Path]:
    """A key made by ssh-keygen and its signature over b"hello\\n" in namespace git."""
    assert keygen("-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", tmp_path / "id").returncode == 0
    (tmp_path / "msg").write_bytes(b"hello\n")
    done = keygen("-Y", "sign", "-f", tmp_path / "id", "-n", "git", tmp_path / "msg")
    assert done.returncode == 0, done.stderr
    return PublicKey.parse((tmp_path / "id.pub").read_text()), tmp_path / "msg.sig"


def test_ssh_keygen_accepts_until_revoked(trust: TrustDir, signed: tuple[PublicKey, Path]) -> None:
    key, sig = signed
    trust.add_signer(AllowedSigner(("bob@example.com",), BOB.public))
    trust.add_signer(AllowedSigner(("alice@example.com",), key, ("git",)))
    trust.revoke(CAROL.public, "compromised")  # the file exists and names another key
    done = keygen_verify(trust, sig, "alice@example.com")
    assert done.returncode == 0, done.stderr
    assert b'Good "git" signature for alice@example.com' in done.stdout
    assert keygen_verify(trust, sig, "bob@example.com").returncode != 0

    assert trust.revoke(key, "compromised")
    assert keygen_verify(trust, sig, "alice@example.com").returncode != 0
    trust.revoked_path.write_text(REVOKED_HEADER)  # the same call without the revocation passes
    assert keygen_verify(trust, sig, "alice@example.com").returncode == 0


def test_ssh_keygen_honours_written_namespaces_and_validity(
    trust: TrustDir, signed: tuple[PublicKey, Path]
) -> None:
    key, sig = signed
    trust.revoke(CAROL.public, "compromised")
    trust.add_signer(AllowedSigner(("alice",), key, ("skillmeat-pack",)))
    assert keygen_verify(trust, sig, "alice").returncode != 0
    trust.add_signer(AllowedSigner(("alice",), key, ("git",), "", "20200101"))
    assert keygen_verify(trust, sig, "alice").returncode != 0
    trust.add_signer(AllowedSigner(("alice",), key, ("git",), "20200101", ""))
    done = keygen_verify(trust, sig, "alice")
    assert done.returncode == 0, done.stderr
    trust.remove_key(key)
    assert keygen_verify(trust, sig, "alice").returncode != 0


def test_ssh_keygen_find_principals_reads_the_file(trust: TrustDir, signed: tuple[PublicKey, Path]) -> None:
    key, sig = signed
    trust.add_signer(AllowedSigner(("alice@example.com", "a@work"), key))
    done = keygen("-Y", "find-principals", "-f", trust.allowed_path, "-s", sig)
    assert done.returncode == 0, done.stderr
    assert re.split(r"[,\s]+", done.stdout.decode().strip()) == ["alice@example.com", "a@work"]
