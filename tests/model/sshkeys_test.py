from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillmeat.model.errors import BadInputError
from skillmeat.model.sshkeys import PrivateKey, PublicKey, ssh_string

SSH_KEYGEN = "/usr/bin/ssh-keygen"
SEED = bytes(range(32))


def keygen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    # No agent: ssh-keygen must use exactly the files named on its command line.
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run([SSH_KEYGEN, *map(str, args)], capture_output=True, text=True, env=env,
                          check=False)


def new_keyfile(tmp_path: Path, *args: str) -> Path:
    path = tmp_path / "k"
    done = keygen("-q", "-C", "made by ssh-keygen", "-f", path, *args)
    assert done.returncode == 0, done.stderr
    return path


def write_private(path: Path, key: PrivateKey) -> Path:
    path.write_text(key.to_openssh())
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------- public keys


def test_openssh_line_round_trips() -> None:
    public = PrivateKey(SEED, "alice@example.com").public
    line = public.openssh()
    assert line.startswith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI")
    assert line.endswith(" alice@example.com") and "\n" not in line
    assert PublicKey.parse(line) == public
    assert PublicKey.parse(line + "\n") == public


def test_openssh_line_without_comment() -> None:
    public = PrivateKey(SEED).public
    assert public.openssh().count(" ") == 1
    assert PublicKey.parse(public.openssh()) == public


def test_blob_layout() -> None:
    public = PrivateKey(SEED).public
    assert public.blob() == ssh_string(b"ssh-ed25519") + ssh_string(public.raw)
    assert PublicKey.from_blob(public.blob(), "c") == PublicKey(public.raw, "c")


def test_parse_skips_authorized_keys_options_and_keeps_comment_spaces() -> None:
    public = PrivateKey(SEED).public
    line = f'from="10.0.0.1",no-pty {public.openssh()} Alice Smith (laptop)'
    assert PublicKey.parse(line) == PublicKey(public.raw, "Alice Smith (laptop)")


def test_fingerprint_matches_ssh_keygen_for_our_key(tmp_path: Path) -> None:
    public = PrivateKey(SEED, "ours").public
    (tmp_path / "k.pub").write_text(public.openssh() + "\n")
    printed = keygen("-lf", tmp_path / "k.pub").stdout.split()
    assert printed[1] == public.fingerprint()
    assert "=" not in public.fingerprint()


def test_verify_raw() -> None:
    key = PrivateKey(SEED)
    sig = key.sign_raw(b"message")
    assert len(sig) == 64
    assert key.public.verify_raw(sig, b"message")
    assert not key.public.verify_raw(sig, b"messagE")
    assert not key.public.verify_raw(sig[:63], b"message")
    assert not key.public.verify_raw(bytes(64), b"message")
    assert not PrivateKey.generate().public.verify_raw(sig, b"message")


@pytest.mark.parametrize(("line", "expected"), [
    ("", "not an OpenSSH public key line"),
    ("ssh-ed25519", "not an OpenSSH public key line"),
    ("AAAAC3NzaC1lZDI1NTE5 comment", "not an OpenSSH public key line"),
    ("ssh-ed25519 AAAA!!!!", "not an OpenSSH public key line"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG", "malformed base64"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNc", "truncated key blob"),
    ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB", "only Ed25519 keys are supported (got ssh-rsa)"),
    ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB x", "only Ed25519 keys are supported (got ssh-rsa)"),
])
def test_malformed_pub_lines_are_refused(line: str, expected: str) -> None:
    with pytest.raises(BadInputError) as err:
        PublicKey.parse(line)
    assert expected in err.value.message


def test_two_lines_are_refused() -> None:
    line = PrivateKey(SEED).public.openssh()
    with pytest.raises(BadInputError, match="not an OpenSSH public key line"):
        PublicKey.parse(line + "\n" + line)


def test_wrong_length_key_in_blob_is_refused() -> None:
    blob = ssh_string(b"ssh-ed25519") + ssh_string(bytes(31))
    with pytest.raises(BadInputError, match="32 bytes, not 31"):
        PublicKey.parse("ssh-ed25519 " + base64.b64encode(blob).decode())
    with pytest.raises(BadInputError, match="trailing bytes"):
        PublicKey.from_blob(PrivateKey(SEED).public.blob() + b"\0")


# --------------------------------------------------------------------------- private keys


def test_repr_shows_only_the_fingerprint() -> None:
    key = PrivateKey(SEED, "alice")
    assert repr(key) == f"PrivateKey({key.public.fingerprint()})"
    assert str(key) == repr(key)
    assert SEED.hex() not in repr(key) and repr(SEED) not in repr(key)


def test_to_openssh_round_trips_with_comment() -> None:
    key = PrivateKey(SEED, "alice@example.com")
    text = key.to_openssh()
    assert text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert text.endswith("\n-----END OPENSSH PRIVATE KEY-----\n")
    assert all(len(line) <= 70 for line in text.splitlines())
    assert PrivateKey.from_openssh(text) == key
    assert PrivateKey.from_openssh(text).comment == "alice@example.com"
    assert text == key.to_openssh()


def test_ssh_keygen_accepts_our_private_key(tmp_path: Path) -> None:
    key = PrivateKey.generate("alice@example.com")
    done = keygen("-y", "-f", write_private(tmp_path / "ours", key))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == key.public.openssh()


def test_ssh_keygen_key_loads_with_matching_fingerprint(tmp_path: Path) -> None:
    path = new_keyfile(tmp_path, "-t", "ed25519", "-N", "")
    key = PrivateKey.from_openssh(path.read_text())
    printed = keygen("-lf", f"{path}.pub").stdout.split()
    assert key.public.fingerprint() == printed[1]
    assert key.comment == "made by ssh-keygen"
    assert PublicKey.parse(Path(f"{path}.pub").read_text()) == key.public


def test_ssh_keygen_signature_check_of_our_rewrite(tmp_path: Path) -> None:
    # A key loaded from ssh-keygen's file and written back out is still accepted by it.
    key = PrivateKey.from_openssh(new_keyfile(tmp_path, "-t", "ed25519", "-N", "").read_text())
    done = keygen("-y", "-f", write_private(tmp_path / "again", key))
    assert done.stdout.strip() == key.public.openssh()


def test_encrypted_key_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = new_keyfile(tmp_path, "-t", "ed25519", "-N", "secretpass")
    with pytest.raises(BadInputError) as err:
        PrivateKey.from_openssh(path.read_text())
    assert "encrypted" in err.value.message
    assert err.value.hint == "decrypt it first: ssh-keygen -p -f FILE"


@pytest.mark.parametrize("args", [
    ("-t", "rsa", "-b", "2048"),
    ("-t", "ecdsa"),
    ("-t", "rsa", "-b", "2048", "-m", "PEM"),
], ids=["rsa", "ecdsa", "rsa-pem"])
def test_non_ed25519_keys_are_refused(tmp_path: Path, args: tuple[str, ...]) -> None:
    path = new_keyfile(tmp_path, "-N", "", *args)
    with pytest.raises(BadInputError, match="only Ed25519 keys are supported"):
        PrivateKey.from_openssh(path.read_text())
    with pytest.raises(BadInputError, match="only Ed25519 keys are supported"):
        PublicKey.parse(Path(f"{path}.pub").read_text())


@pytest.mark.parametrize(("mangle", "expected"), [
    (lambda t: t.replace("-----BEGIN OPENSSH", "-----BEGIN OPENSSL"), "not an OpenSSH private key"),
    (lambda t: t[: len(t) // 2], "not an OpenSSH private key"),
    (lambda t: t.replace("\n", "\n!", 1), "malformed base64"),
    (lambda t: "\n".join(t.splitlines()[:3] + t.splitlines()[-1:]), "truncated key data"),
    (lambda t: t.replace("b3BlbnNzaC1rZXktdjEA", "b3BlbnNzaC1rZXktdjIA"), "not an openssh-key-v1 key"),
], ids=["header", "cut", "base64", "short", "magic"])
def test_corrupt_private_key_text_is_refused(mangle: Callable[[str], str], expected: str) -> None:
    text = PrivateKey(SEED).to_openssh()
    with pytest.raises(BadInputError, match=expected):
        PrivateKey.from_openssh(mangle(text))


def test_mismatched_halves_are_refused() -> None:
    body = base64.b64decode("".join(PrivateKey(SEED).to_openssh().splitlines()[1:-1]))
    other = PrivateKey(bytes(32)).public.raw
    forged = body.replace(PrivateKey(SEED).public.raw, other, 1)  # only the outer public key
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.b64encode(forged).decode()
    with pytest.raises(BadInputError, match="do not match"):
        PrivateKey.from_openssh(text + "\n-----END OPENSSH PRIVATE KEY-----\n")


def test_wrong_length_seed_is_refused() -> None:
    with pytest.raises(BadInputError, match="32 bytes"):
        PrivateKey(bytes(31))


@settings(max_examples=100)
@given(seed=st.binary(min_size=32, max_size=32), comment=st.text())
def test_private_key_text_round_trips(seed: bytes, comment: str) -> None:
    key = PrivateKey(seed, comment)
    back = PrivateKey.from_openssh(key.to_openssh())
    assert back == key and back.comment == comment


@settings(max_examples=300)
@given(data=st.data())
def test_corrupted_private_key_bytes_raise_only_bad_input(data: st.DataObject) -> None:
    body = bytearray(base64.b64decode("".join(PrivateKey(SEED, "c").to_openssh().splitlines()[1:-1])))
    for _ in range(data.draw(st.integers(1, 4))):
        body[data.draw(st.integers(0, len(body) - 1))] ^= data.draw(st.integers(1, 255))
    text = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{base64.b64encode(body).decode()}\n" \
           "-----END OPENSSH PRIVATE KEY-----\n"
    try:
        key = PrivateKey.from_openssh(text)
    except BadInputError:
        return
    assert key.seed == SEED  # only the comment (or the check integers, alike) can change unnoticed
