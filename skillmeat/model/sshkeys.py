"""OpenSSH Ed25519 keys: the .pub line, the wire blob, the openssh-key-v1 private key file.

Pure: text and bytes in, values out. The SSH wire helpers here are shared with ``sshsig``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass, field

from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError

from skillmeat.model.errors import BadInputError

KEY_TYPE = "ssh-ed25519"
_KEY_TYPE_B = KEY_TYPE.encode()
_PEM_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
_PEM_END = "-----END OPENSSH PRIVATE KEY-----"
_PEM_OTHER = re.compile(r"-----BEGIN (RSA|DSA|EC|ENCRYPTED|) ?PRIVATE KEY-----")
_KEY_MAGIC = b"openssh-key-v1\0"
_ONLY_ED25519 = "only Ed25519 keys are supported"
_DECRYPT_HINT = "decrypt it first: ssh-keygen -p -f FILE"
_NEW_KEY_HINT = "make one with: ssh-keygen -t ed25519 -f FILE"
# A key type token as it appears in a .pub or authorized_keys line (after any options).
_PUB_RE = re.compile(r"(?:^|\s)((?:ssh|ecdsa|sk)-[A-Za-z0-9@.-]+)\s+([A-Za-z0-9+/]+=*)(?:\s+(.*))?$")


class WireError(ValueError):
    """SSH wire data that ends early or holds a bad field."""


def ssh_string(data: bytes) -> bytes:
    """Encode ``data`` as an SSH wire string (uint32 length, then the bytes)."""
    return len(data).to_bytes(4, "big") + data


def read_strings(data: bytes, count: int, pos: int = 0) -> tuple[list[bytes], int]:
    """Read ``count`` SSH wire strings from ``data`` at ``pos``; return them and the next offset."""
    out = []
    size = len(data)
    for _ in range(count):
        end = pos + 4
        if end > size:
            raise WireError("truncated")
        end += int.from_bytes(data[pos:end], "big")
        if end > size:
            raise WireError("truncated")
        out.append(data[pos + 4:end])
        pos = end
    return out, pos


def wrap_base64(data: bytes, width: int = 70) -> str:
    """Base64 of ``data`` in lines of ``width`` columns, as ssh-keygen writes armored files."""
    text = base64.b64encode(data).decode("ascii")
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


@dataclass(frozen=True)
class PublicKey:
    raw: bytes
    comment: str = ""

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise BadInputError(f"public key: an Ed25519 key is 32 bytes, not {len(self.raw)}")

    def blob(self) -> bytes:
        """The SSH wire form: string "ssh-ed25519", string raw."""
        return ssh_string(_KEY_TYPE_B) + ssh_string(self.raw)

    def openssh(self) -> str:
        """The .pub / authorized_keys line, without a trailing newline."""
        line = f"{KEY_TYPE} {base64.b64encode(self.blob()).decode('ascii')}"
        return f"{line} {self.comment}" if self.comment else line

    def fingerprint(self) -> str:
        """``SHA256:...`` exactly as ``ssh-keygen -lf`` prints it."""
        digest = base64.b64encode(hashlib.sha256(self.blob()).digest()).decode("ascii")
        return "SHA256:" + digest.rstrip("=")

    def verify_raw(self, signature: bytes, data: bytes) -> bool:
        """True if ``signature`` is this key's raw Ed25519 signature of ``data``."""
        if len(signature) != 64:
            return False
        try:
            crypto_sign_open(signature + data, self.raw)
        except BadSignatureError:
            return False
        return True

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """Read one .pub or authorized_keys line (options before the key are skipped)."""
        line = text.strip()
        match = _PUB_RE.search(line)
        if "\n" in line or not match:
            raise BadInputError(f"not an OpenSSH public key line: {_clip(line)!r}",
                                hint="expected 'ssh-ed25519 AAAA... comment'")
        key_type, b64, comment = match.groups()
        if key_type != KEY_TYPE:
            raise BadInputError(f"public key: {_ONLY_ED25519} (got {key_type})")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise BadInputError(f"public key: malformed base64 in {_clip(line)!r}") from None
        return cls.from_blob(blob, (comment or "").strip())

    @classmethod
    def from_blob(cls, blob: bytes, comment: str = "") -> PublicKey:
        """Decode an SSH wire public key blob; BadInputError unless it is a whole Ed25519 key."""
        try:
            (key_type, raw), end = read_strings(blob, 2)
        except WireError:
            raise BadInputError("public key: truncated key blob") from None
        if key_type != _KEY_TYPE_B:
            raise BadInputError(f"public key: {_ONLY_ED25519} (got {_show(key_type)})")
        if end != len(blob):
            raise BadInputError("public key: trailing bytes after the key blob")
        return cls(raw, comment)


@dataclass(frozen=True, repr=False)
class PrivateKey:
    seed: bytes
    comment: str = ""
    _pk: bytes = field(init=False, compare=False)
    _sk: bytes = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise BadInputError(f"private key: an Ed25519 seed is 32 bytes, not {len(self.seed)}")
        pk, sk = crypto_sign_seed_keypair(self.seed)
        object.__setattr__(self, "_pk", pk)
        object.__setattr__(self, "_sk", sk)

    def __repr__(self) -> str:
        return f"PrivateKey({self.public.fingerprint()})"

    @property
    def public(self) -> PublicKey:
        """The matching public key, with this key's comment."""
        return PublicKey(self._pk, self.comment)

    def sign_raw(self, data: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``data``."""
        return crypto_sign(data, self._sk)[:64]

    def to_openssh(self) -> str:
        """The unencrypted openssh-key-v1 PEM text, as ``ssh-keygen -N ""`` writes it."""
        none = ssh_string(b"none")
        body = _KEY_MAGIC + none + none + ssh_string(b"") + (1).to_bytes(4, "big")
        body += ssh_string(self.public.blob()) + ssh_string(self._private_section())
        return f"{_PEM_BEGIN}\n{wrap_base64(body)}\n{_PEM_END}\n"

    def _private_section(self) -> bytes:
        # The check integers only detect a wrong passphrase; derive them so output is stable.
        check = hashlib.sha256(b"skillmeat-checkint" + self.seed).digest()[:4]
        section = check + check + ssh_string(_KEY_TYPE_B) + ssh_string(self._pk)
        section += ssh_string(self.seed + self._pk) + ssh_string(self.comment.encode())
        return section + bytes(range(1, 1 + (-len(section)) % 8))

    @classmethod
    def from_openssh(cls, text: str) -> PrivateKey:
        """Parse an unencrypted OpenSSH Ed25519 private key file's text."""
        body = _pem_body(text)
        try:
            return _parse_key_body(body)
        except WireError:
            raise BadInputError("private key: truncated key data") from None

    @classmethod
    def generate(cls, comment: str = "") -> PrivateKey:
        """A new random key."""
        return cls(os.urandom(32), comment)


def _pem_body(text: str) -> bytes:
    stripped = text.strip()
    other = _PEM_OTHER.search(stripped)
    if other:
        kind = other.group(1) or "PKCS#8"
        raise BadInputError(f"private key: {_ONLY_ED25519} in OpenSSH format (got a {kind} PEM key)",
                            hint=_NEW_KEY_HINT)
    if not stripped.startswith(_PEM_BEGIN) or not stripped.endswith(_PEM_END):
        raise BadInputError("private key: not an OpenSSH private key",
                            hint=f"expected a '{_PEM_BEGIN}' block")
    inner = stripped[len(_PEM_BEGIN):-len(_PEM_END)]
    try:
        return base64.b64decode("".join(inner.split()), validate=True)
    except binascii.Error:
        raise BadInputError("private key: malformed base64") from None


def _parse_key_body(body: bytes) -> PrivateKey:
    if not body.startswith(_KEY_MAGIC):
        raise BadInputError("private key: not an openssh-key-v1 key")
    (cipher, kdf, _opts), pos = read_strings(body, 3, len(_KEY_MAGIC))
    if cipher != b"none" or kdf != b"none":
        raise BadInputError(f"private key: encrypted ({_show(cipher)})", hint=_DECRYPT_HINT)
    if body[pos:pos + 4] != (1).to_bytes(4, "big"):
        raise BadInputError("private key: the file must hold exactly one key")
    (pub_blob, section), end = read_strings(body, 2, pos + 4)
    (key_type,), _ = read_strings(pub_blob, 1)
    if key_type != _KEY_TYPE_B:
        raise BadInputError(f"private key: {_ONLY_ED25519} (got {_show(key_type)})", hint=_NEW_KEY_HINT)
    public = PublicKey.from_blob(pub_blob)
    if end != len(body):
        raise BadInputError("private key: trailing bytes after the key")
    return _parse_private_section(section, public)


def _parse_private_section(section: bytes, public: PublicKey) -> PrivateKey:
    if len(section) < 8 or section[:4] != section[4:8]:
        raise BadInputError("private key: check integers differ (corrupt key)")
    (key_type, pk, secret, comment), end = read_strings(section, 4, 8)
    if key_type != _KEY_TYPE_B:
        raise BadInputError(f"private key: {_ONLY_ED25519} (got {_show(key_type)})")
    if section[end:] != bytes(range(1, 1 + len(section) - end)):
        raise BadInputError("private key: bad padding (corrupt key)")
    if pk != public.raw or len(secret) != 64 or secret[32:] != pk:
        raise BadInputError("private key: public and private halves do not match")
    try:
        key = PrivateKey(secret[:32], comment.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInputError("private key: comment is not UTF-8") from None
    if key.public.raw != pk:
        raise BadInputError("private key: seed does not match the public key")
    return key


def _show(value: bytes) -> str:
    return _clip(value.decode("ascii", "replace"))


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
