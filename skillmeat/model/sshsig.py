"""The SSH signature format (OpenSSH PROTOCOL.sshsig), Ed25519 keys only.

What ``ssh-keygen -Y sign`` writes and ``ssh-keygen -Y verify`` and ``git verify-commit``
(gpg.format=ssh) check. A valid signature says only that the key in it signed the message:
callers decide whether that key is trusted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from skillmeat.model.errors import BadInputError, SignatureError
from skillmeat.model.sshkeys import (
    KEY_TYPE,
    PrivateKey,
    PublicKey,
    WireError,
    read_strings,
    ssh_string,
    wrap_base64,
)

NAMESPACES = ("git", "skillmeat-pack", "skillmeat-feed")
HASH_SIZES = {"sha512": 64, "sha256": 32}
_HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}
_MAGIC = b"SSHSIG"
_VERSION = (1).to_bytes(4, "big")
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"
_KEY_TYPE_B = KEY_TYPE.encode()
_KEY_BLOB_PREFIX = ssh_string(_KEY_TYPE_B)
# OpenSSH ignores the reserved field when parsing and signs an empty one: so do we.
_RESERVED = ssh_string(b"")
_WHAT = "signature"


@dataclass(frozen=True)
class Signature:
    public_key: PublicKey
    namespace: str
    hash_alg: str
    signature: bytes


def sign(key: PrivateKey, message: bytes, namespace: str) -> str:
    """Sign ``message`` in ``namespace``; return the armored text ``ssh-keygen -Y sign`` writes."""
    return sign_digest(key, hashlib.sha512(message).digest(), namespace)


def sign_digest(key: PrivateKey, digest: bytes, namespace: str, hash_alg: str = "sha512") -> str:
    """Sign a message already hashed with ``hash_alg`` (for callers who stream large messages)."""
    _check_digest(digest, hash_alg)
    ns = _namespace_bytes(namespace)
    raw = key.sign_raw(_signed_data(ns, hash_alg.encode(), digest))
    blob = b"".join((
        _MAGIC, _VERSION, ssh_string(key.public.blob()), ssh_string(ns), _RESERVED,
        ssh_string(hash_alg.encode()), ssh_string(ssh_string(_KEY_TYPE_B) + ssh_string(raw)),
    ))
    return f"{_BEGIN}\n{wrap_base64(blob)}\n{_END}\n"


def parse(armored: str | bytes) -> Signature:
    """Decode armored SSHSIG text; SignatureError on any defect. Checks no cryptography."""
    blob = _dearmor(armored)
    if not blob.startswith(_MAGIC):
        raise SignatureError(_WHAT, "malformed: bad magic (not an SSH signature)")
    if len(blob) < 10:
        raise SignatureError(_WHAT, "truncated signature data")
    if blob[6:10] != _VERSION:
        raise SignatureError(_WHAT, f"malformed: unsupported version {_uint32(blob[6:10])}")
    try:
        (key_blob, ns, _reserved, alg, sig_blob), end = read_strings(blob, 5, 10)
        (sig_type, raw), sig_end = read_strings(sig_blob, 2)
    except WireError:
        raise SignatureError(_WHAT, "truncated signature data") from None
    if end != len(blob) or sig_end != len(sig_blob):
        raise SignatureError(_WHAT, "malformed: trailing bytes after the signature")
    return Signature(_public_key(key_blob), _text(ns, "namespace"), _hash_name(alg), _raw(sig_type, raw))


def verify(armored: str | bytes, message: bytes, namespace: str) -> Signature:
    """The parsed signature if it is valid for ``message`` in ``namespace``; else SignatureError."""
    sig = parse(armored)
    return _verified(sig, _HASHES[sig.hash_alg](message).digest(), namespace)


def verify_digest(armored: str | bytes, digest: bytes, namespace: str) -> Signature:
    """Like verify() with the message already hashed with the signature's hash_alg."""
    sig = parse(armored)
    if len(digest) != HASH_SIZES[sig.hash_alg]:
        raise SignatureError(
            _WHAT, f"digest is {len(digest)} bytes but the signature uses {sig.hash_alg}",
            hint="hash the message with parse(armored).hash_alg")
    return _verified(sig, digest, namespace)


def _verified(sig: Signature, digest: bytes, namespace: str) -> Signature:
    if not namespace:
        _namespace_bytes(namespace)
    if sig.namespace != namespace:
        raise SignatureError(_WHAT, f"wrong namespace {sig.namespace!r} (expected {namespace!r})")
    data = _signed_data(sig.namespace.encode(), sig.hash_alg.encode(), digest)
    try:
        crypto_sign_open(sig.signature + data, sig.public_key.raw)
    except BadSignatureError:
        raise SignatureError(_WHAT, "bad signature") from None
    return sig


def _signed_data(ns: bytes, alg: bytes, digest: bytes) -> bytes:
    return b"".join((_MAGIC, ssh_string(ns), _RESERVED, ssh_string(alg), ssh_string(digest)))


def _dearmor(armored: str | bytes) -> bytes:
    try:
        text = armored.decode("ascii") if isinstance(armored, bytes) else armored
    except UnicodeDecodeError:
        raise SignatureError(_WHAT, "malformed: not ASCII armor") from None
    text = text.strip()
    if not text.startswith(_BEGIN):
        raise SignatureError(_WHAT, f"malformed: no '{_BEGIN}' line")
    if not text.endswith(_END):
        raise SignatureError(_WHAT, f"malformed: no '{_END}' line (truncated?)")
    try:
        return base64.b64decode("".join(text[len(_BEGIN):-len(_END)].split()), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(_WHAT, "malformed base64") from None


def _public_key(blob: bytes) -> PublicKey:
    if not blob.startswith(_KEY_BLOB_PREFIX):
        try:
            (key_type,), _ = read_strings(blob, 1)
        except WireError:
            raise SignatureError(_WHAT, "truncated public key") from None
        raise SignatureError(_WHAT, f"unsupported key type {_text(key_type, 'key type')!r}",
                             hint="only Ed25519 keys are supported")
    try:
        return PublicKey.from_blob(blob)
    except BadInputError as exc:
        raise SignatureError(_WHAT, f"malformed key: {exc.message}") from None


def _hash_name(alg: bytes) -> str:
    name = _text(alg, "hash name")
    if name not in HASH_SIZES:
        raise SignatureError(_WHAT, f"unsupported hash {name!r}", hint="sha512 or sha256")
    return name


def _raw(sig_type: bytes, raw: bytes) -> bytes:
    if sig_type != _KEY_TYPE_B:
        raise SignatureError(_WHAT, f"unsupported signature type {_text(sig_type, 'type')!r}")
    if len(raw) != 64:
        raise SignatureError(_WHAT, f"malformed: an Ed25519 signature is 64 bytes, not {len(raw)}")
    return raw


def _text(value: bytes, name: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError(_WHAT, f"malformed: {name} is not UTF-8") from None


def _check_digest(digest: bytes, hash_alg: str) -> None:
    if hash_alg not in HASH_SIZES:
        raise SignatureError(_WHAT, f"unsupported hash {hash_alg!r}", hint="sha512 or sha256")
    if len(digest) != HASH_SIZES[hash_alg]:
        raise SignatureError(_WHAT, f"a {hash_alg} digest is {HASH_SIZES[hash_alg]} bytes, not {len(digest)}")


def _namespace_bytes(namespace: str) -> bytes:
    if not namespace:
        raise SignatureError(_WHAT, "empty namespace", hint=f"use one of {', '.join(NAMESPACES)}")
    try:
        return namespace.encode("utf-8")
    except UnicodeEncodeError:
        raise SignatureError(_WHAT, f"namespace {namespace!r} is not valid text") from None


def _uint32(data: bytes) -> int:
    return int.from_bytes(data, "big")
