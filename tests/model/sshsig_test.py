from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillmeat.model import sshsig
from skillmeat.model.errors import SignatureError
from skillmeat.model.sshkeys import PrivateKey, PublicKey, ssh_string, wrap_base64
from skillmeat.model.sshsig import NAMESPACES

SSH_KEYGEN = "/usr/bin/ssh-keygen"
KEY = PrivateKey(bytes(range(32)), "alice@example.com")
OTHER = PrivateKey(bytes(range(1, 33)), "mallory@example.com")
MESSAGE = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nsigned content\n"


def keygen(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    # No agent: ssh-keygen must use exactly the files named on its command line.
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run([SSH_KEYGEN, *map(str, args)], input=stdin, capture_output=True, env=env,
                          check=False)


def keygen_verify(tmp_path: Path, armored: str, message: bytes, namespace: str,
                  key: PrivateKey = KEY) -> subprocess.CompletedProcess[bytes]:
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"principal {key.public.openssh()}\n")
    sigfile = tmp_path / "message.sig"
    sigfile.write_text(armored)
    return keygen("-Y", "verify", "-f", signers, "-I", "principal", "-n", namespace, "-s", sigfile,
                  stdin=message)


def keygen_sign(tmp_path: Path, message: bytes, namespace: str, *args: str) -> tuple[Path, str]:
    keyfile = tmp_path / "keyfile"
    if not keyfile.exists():
        assert keygen("-q", "-t", "ed25519", "-N", "", "-f", keyfile).returncode == 0
    (tmp_path / "message").write_bytes(message)
    done = keygen("-Y", "sign", "-f", keyfile, "-n", namespace, *args, tmp_path / "message")
    assert done.returncode == 0, done.stderr
    return keyfile, (tmp_path / "message.sig").read_text()


def body(armored: str) -> bytes:
    return base64.b64decode("".join(armored.strip().splitlines()[1:-1]))


def armor(blob: bytes) -> str:
    return f"-----BEGIN SSH SIGNATURE-----\n{wrap_base64(blob)}\n-----END SSH SIGNATURE-----\n"


def forge(key_blob: bytes = KEY.public.blob(), namespace: bytes = b"git", hash_alg: bytes = b"sha512",
          sig_type: bytes = b"ssh-ed25519", raw: bytes = bytes(64), head: bytes = b"SSHSIG\0\0\0\1") -> str:
    fields = (key_blob, namespace, b"", hash_alg, ssh_string(sig_type) + ssh_string(raw))
    return armor(head + b"".join(ssh_string(f) for f in fields))


def reason(armored: str | bytes, message: bytes = MESSAGE, namespace: str = "git") -> str:
    with pytest.raises(SignatureError) as err:
        sshsig.verify(armored, message, namespace)
    assert err.value.what == "signature"
    return err.value.reason


# --------------------------------------------------------------------------- format


def test_armor_looks_like_ssh_keygen_output() -> None:
    armored = sshsig.sign(KEY, MESSAGE, "git")
    lines = armored.splitlines()
    assert lines[0] == "-----BEGIN SSH SIGNATURE-----"
    assert lines[-1] == "-----END SSH SIGNATURE-----"
    assert armored.endswith("-----\n")
    assert all(len(line) == 70 for line in lines[1:-2]) and 0 < len(lines[-2]) <= 70
    assert body(armored).startswith(b"SSHSIG\0\0\0\1")


def test_sign_is_deterministic_and_parses() -> None:
    armored = sshsig.sign(KEY, MESSAGE, "skillmeat-pack")
    assert armored == sshsig.sign(KEY, MESSAGE, "skillmeat-pack")
    sig = sshsig.parse(armored)
    assert sig.public_key == PublicKey(KEY.public.raw)
    assert (sig.namespace, sig.hash_alg, len(sig.signature)) == ("skillmeat-pack", "sha512", 64)
    assert sshsig.parse(armored.encode()) == sig


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_round_trip(namespace: str) -> None:
    armored = sshsig.sign(KEY, MESSAGE, namespace)
    assert sshsig.verify(armored, MESSAGE, namespace).public_key.raw == KEY.public.raw


def test_sign_digest_matches_sign_and_streams() -> None:
    digest = hashlib.sha512()
    for chunk in (MESSAGE[:10], MESSAGE[10:]):
        digest.update(chunk)
    armored = sshsig.sign_digest(KEY, digest.digest(), "git")
    assert armored == sshsig.sign(KEY, MESSAGE, "git")
    assert sshsig.verify_digest(armored, digest.digest(), "git") == sshsig.parse(armored)


def test_sha256_signatures_verify() -> None:
    armored = sshsig.sign_digest(KEY, hashlib.sha256(MESSAGE).digest(), "git", "sha256")
    assert sshsig.verify(armored, MESSAGE, "git").hash_alg == "sha256"
    assert sshsig.verify_digest(armored, hashlib.sha256(MESSAGE).digest(), "git").hash_alg == "sha256"


def test_verify_digest_refuses_a_digest_of_the_wrong_hash() -> None:
    armored = sshsig.sign(KEY, MESSAGE, "git")
    with pytest.raises(SignatureError) as err:
        sshsig.verify_digest(armored, hashlib.sha256(MESSAGE).digest(), "git")
    assert err.value.reason == "digest is 32 bytes but the signature uses sha512"


def test_sign_digest_refuses_bad_arguments() -> None:
    with pytest.raises(SignatureError, match="unsupported hash 'md5'"):
        sshsig.sign_digest(KEY, hashlib.md5(MESSAGE).digest(), "git", "md5")
    with pytest.raises(SignatureError, match="sha512 digest is 64 bytes, not 32"):
        sshsig.sign_digest(KEY, bytes(32), "git")
    with pytest.raises(SignatureError, match="empty namespace"):
        sshsig.sign(KEY, MESSAGE, "")
    with pytest.raises(SignatureError, match="empty namespace"):
        sshsig.verify(forge(namespace=b""), MESSAGE, "")


# --------------------------------------------------------------------------- interop with ssh-keygen


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_ssh_keygen_verifies_our_signature(tmp_path: Path, namespace: str) -> None:
    armored = sshsig.sign(KEY, MESSAGE, namespace)
    done = keygen_verify(tmp_path, armored, MESSAGE, namespace)
    assert done.returncode == 0, done.stderr
    assert f'Good "{namespace}" signature for principal'.encode() in done.stdout
    other = next(ns for ns in NAMESPACES if ns != namespace)
    assert keygen_verify(tmp_path, armored, MESSAGE, other).returncode != 0
    assert keygen_verify(tmp_path, armored, MESSAGE + b"!", namespace).returncode != 0


def test_ssh_keygen_verifies_sign_digest_of_a_streamed_message(tmp_path: Path) -> None:
    message = os.urandom(1 << 20)
    for alg in ("sha512", "sha256"):
        armored = sshsig.sign_digest(KEY, hashlib.new(alg, message).digest(), "skillmeat-pack", alg)
        done = keygen_verify(tmp_path, armored, message, "skillmeat-pack")
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_we_verify_ssh_keygen_signatures(tmp_path: Path, namespace: str) -> None:
    keyfile, armored = keygen_sign(tmp_path, MESSAGE, namespace)
    sig = sshsig.verify(armored, MESSAGE, namespace)
    assert sig.public_key.raw == PrivateKey.from_openssh(keyfile.read_text()).public.raw
    assert reason(armored, MESSAGE + b"!", namespace) == "bad signature"


def test_we_verify_ssh_keygen_sha256_signatures(tmp_path: Path) -> None:
    _, armored = keygen_sign(tmp_path, MESSAGE, "git", "-O", "hashalg=sha256")
    assert sshsig.verify(armored, MESSAGE, "git").hash_alg == "sha256"


def test_ssh_keygen_rsa_signature_is_refused(tmp_path: Path) -> None:
    keyfile = tmp_path / "keyfile"
    assert keygen("-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", keyfile).returncode == 0
    _, armored = keygen_sign(tmp_path, MESSAGE, "git")
    assert reason(armored) == "unsupported key type 'ssh-rsa'"


# --------------------------------------------------------------------------- refusals


def test_tampered_message() -> None:
    assert reason(sshsig.sign(KEY, MESSAGE, "git"), MESSAGE.replace(b"signed", b"Signed")) == "bad signature"


def test_wrong_namespace() -> None:
    armored = sshsig.sign(KEY, MESSAGE, "git")
    assert reason(armored, namespace="skillmeat-pack") == "wrong namespace 'git' (expected 'skillmeat-pack')"


def test_truncated_armor() -> None:
    armored = sshsig.sign(KEY, MESSAGE, "git")
    assert reason(armored[: len(armored) // 2]).startswith("malformed: no '-----END SSH SIGNATURE-----'")
    assert reason(armored[40:]).startswith("malformed: no '-----BEGIN SSH SIGNATURE-----'")


def test_truncated_body() -> None:
    blob = body(sshsig.sign(KEY, MESSAGE, "git"))
    assert reason(armor(blob[:60])) == "truncated signature data"
    assert reason(armor(blob[:8])) == "truncated signature data"
    assert reason(armor(blob[:-3])) == "truncated signature data"


def test_garbage_base64() -> None:
    assert reason("-----BEGIN SSH SIGNATURE-----\n!!not*base64!!\n-----END SSH SIGNATURE-----\n") \
        == "malformed base64"
    assert reason("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\xe9\n-----END SSH SIGNATURE-----\n") \
        == "malformed base64"
    assert reason(b"-----BEGIN SSH SIGNATURE-----\n\xff\xfe\n-----END SSH SIGNATURE-----\n") \
        == "malformed: not ASCII armor"


def test_bad_magic() -> None:
    blob = body(sshsig.sign(KEY, MESSAGE, "git"))
    assert reason(armor(b"SSHSIX" + blob[6:])) == "malformed: bad magic (not an SSH signature)"


def test_unsupported_version() -> None:
    assert reason(forge(head=b"SSHSIG\0\0\0\2")) == "malformed: unsupported version 2"


def test_unsupported_hash() -> None:
    assert reason(forge(hash_alg=b"md5")) == "unsupported hash 'md5'"


def test_unsupported_signature_type() -> None:
    assert reason(forge(sig_type=b"rsa-sha2-512")) == "unsupported signature type 'rsa-sha2-512'"


def test_short_raw_signature() -> None:
    assert reason(forge(raw=bytes(63))) == "malformed: an Ed25519 signature is 64 bytes, not 63"


def test_trailing_bytes() -> None:
    blob = body(sshsig.sign(KEY, MESSAGE, "git"))
    assert reason(armor(blob + b"\0")) == "malformed: trailing bytes after the signature"


def test_malformed_key_blob() -> None:
    short_key = ssh_string(b"ssh-ed25519") + ssh_string(bytes(31))
    assert reason(forge(key_blob=short_key)).startswith("malformed key: ")


def test_other_keys_signature_with_our_key_swapped_in(tmp_path: Path) -> None:
    armored = sshsig.sign(OTHER, MESSAGE, "git")
    swapped = armor(body(armored).replace(OTHER.public.blob(), KEY.public.blob()))
    assert sshsig.parse(swapped).public_key.raw == KEY.public.raw
    assert reason(swapped) == "bad signature"
    assert keygen_verify(tmp_path, swapped, MESSAGE, "git").returncode != 0


def test_non_empty_reserved_field_is_ignored_like_ssh_keygen(tmp_path: Path) -> None:
    blob = body(sshsig.sign(KEY, MESSAGE, "git"))
    ns = ssh_string(b"git")
    with_reserved = armor(blob.replace(ns + ssh_string(b""), ns + ssh_string(b"future"), 1))
    assert sshsig.verify(with_reserved, MESSAGE, "git").namespace == "git"
    assert keygen_verify(tmp_path, with_reserved, MESSAGE, "git").returncode == 0


# --------------------------------------------------------------------------- properties


@settings(max_examples=200)
@given(message=st.binary(max_size=2048), namespace=st.text(min_size=1, max_size=40))
def test_any_message_and_namespace_round_trip(message: bytes, namespace: str) -> None:
    armored = sshsig.sign(KEY, message, namespace)
    sig = sshsig.verify(armored, message, namespace)
    assert (sig.namespace, sig.public_key.raw) == (namespace, KEY.public.raw)


@settings(max_examples=500)
@given(message=st.binary(max_size=256), data=st.data())
def test_byte_flips_raise_only_signature_error(message: bytes, data: st.DataObject) -> None:
    armored = bytearray(sshsig.sign(KEY, message, "skillmeat-feed").encode())
    for _ in range(data.draw(st.integers(1, 3))):
        armored[data.draw(st.integers(0, len(armored) - 1))] ^= data.draw(st.integers(1, 255))
    try:
        sig = sshsig.verify(bytes(armored), message, "skillmeat-feed")
    except SignatureError:
        return
    # Flips that survive decode to the same signature (whitespace, unused base64 bits).
    assert sig == sshsig.parse(sshsig.sign(KEY, message, "skillmeat-feed"))
