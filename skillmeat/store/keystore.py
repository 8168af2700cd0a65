"""Private keys on disk: ``$SKILLMEAT_HOME/keys/<name>.key`` (mode 0600), optionally
encrypted with a passphrase (argon2id + XSalsa20-Poly1305 via PyNaCl)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import check_part
from skillmeat.model.errors import (
    BadInputError,
    ConflictError,
    NotFoundError,
    SignatureError,
    SkillmeatError,
)
from skillmeat.model.sshkeys import PrivateKey, PublicKey
from skillmeat.store.files import atomic_write

KEY_FORMAT = "skillmeat-key/1"
Passphrase = Callable[[], str]


@dataclass(frozen=True)
class KeyInfo:
    name: str
    public: PublicKey
    encrypted: bool
    path: Path

    @property
    def fingerprint(self) -> str:
        return self.public.fingerprint()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fingerprint": self.fingerprint, "public": self.public.openssh(),
                "encrypted": self.encrypted, "path": str(self.path)}


class KeyStore:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def _path(self, name: str) -> Path:
        return self.dir / f"{check_part(name, 'key name')}.key"

    def list(self) -> list[KeyInfo]:
        if not self.dir.is_dir():
            return []
        return [self.info(p.stem) for p in sorted(self.dir.glob("*.key"))]

    def info(self, name: str) -> KeyInfo:
        path = self._path(name)
        data = self._read(path)
        return KeyInfo(name, PublicKey.parse(data["public"]), data.get("cipher") != "none", path)

    def find(self, ref: str) -> KeyInfo:
        """A key by name or by fingerprint."""
        for info in self.list():
            if ref in (info.name, info.fingerprint):
                return info
        raise NotFoundError(f"no key '{ref}'", hint="see `skillmeat keys list`")

    def save(self, name: str, key: PrivateKey, passphrase: str | None = None) -> KeyInfo:
        path = self._path(name)
        if path.exists():
            raise ConflictError(f"a key named '{name}' already exists", hint="choose another --name")
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        data: dict[str, Any] = {"format": KEY_FORMAT, "public": key.public.openssh()}
        if passphrase:
            data.update(_encrypt(key.seed, passphrase))
        else:
            data.update({"cipher": "none", "seed": _b64(key.seed)})
        atomic_write(path, json.dumps(data, indent=2) + "\n", mode=0o600)
        return self.info(name)

    def load(self, name: str, passphrase: Passphrase) -> PrivateKey:
        path = self._path(name)
        self._read(path)  # not found or not ours: one clear error
        return parse_key_file(path.read_text(encoding="utf-8"), passphrase, str(path))

    def remove(self, name: str) -> Path:
        path = self._path(name)
        if not path.exists():
            raise NotFoundError(f"no key '{name}'", hint="see `skillmeat keys list`")
        path.unlink()
        return path

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError(f"no key '{path.stem}'", hint="see `skillmeat keys list`") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadInputError(f"{path}: not a SkillMeat key file ({exc})") from None
        if (not isinstance(data, dict) or data.get("format") != KEY_FORMAT
                or not isinstance(data.get("public"), str)):
            raise BadInputError(f"{path}: not a SkillMeat key file", hint=f"expected {KEY_FORMAT}")
        return data


def parse_key_file(text: str, passphrase: Passphrase, where: str) -> PrivateKey:
    """An OpenSSH private key or a SkillMeat key file's text."""
    if "BEGIN OPENSSH PRIVATE KEY" in text:
        return PrivateKey.from_openssh(text)
    try:
        data = json.loads(text)
    except ValueError:
        raise BadInputError(
            f"{where}: not an OpenSSH private key nor a SkillMeat key file",
            hint="import an unencrypted OpenSSH Ed25519 key, e.g. ~/.ssh/id_ed25519",
        ) from None
    if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
        raise BadInputError(f"{where}: not a SkillMeat key file")
    public = PublicKey.parse(str(data.get("public", "")))
    if data.get("cipher") == "none":
        seed = _unb64(str(data.get("seed", "")), Path(where))
    else:
        seed = _decrypt(data, passphrase(), Path(where))
    key = PrivateKey(seed, public.comment)
    if key.public.raw != public.raw:
        raise BadInputError(f"{where}: private and public key do not match")
    return key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, where: Path) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BadInputError(f"{where}: damaged key material")
    return raw


def _encrypt(seed: bytes, passphrase: str) -> dict[str, Any]:
    from nacl import pwhash, secret, utils

    salt = utils.random(pwhash.argon2id.SALTBYTES)
    ops, mem = pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE
    key = pwhash.argon2id.kdf(secret.SecretBox.KEY_SIZE, passphrase.encode(), salt,
                              opslimit=ops, memlimit=mem)
    box = secret.SecretBox(key).encrypt(seed)
    return {"cipher": "xsalsa20poly1305", "kdf": "argon2id", "opslimit": ops, "memlimit": mem,
            "salt": _b64(salt), "box": _b64(bytes(box))}


def _decrypt(data: dict[str, Any], passphrase: str, where: Path) -> bytes:
    from nacl import exceptions, pwhash, secret

    try:
        salt = base64.b64decode(data["salt"])
        box = base64.b64decode(data["box"])
        if len(salt) != pwhash.argon2id.SALTBYTES or len(box) < secret.SecretBox.NONCE_SIZE + 16:
            raise ValueError("salt or ciphertext has the wrong length")
        key = pwhash.argon2id.kdf(secret.SecretBox.KEY_SIZE, passphrase.encode(), salt,
                                  opslimit=int(data["opslimit"]), memlimit=int(data["memlimit"]))
        seed: bytes = secret.SecretBox(key).decrypt(box)
    except exceptions.CryptoError:
        raise SignatureError(str(where), "wrong passphrase",
                             hint="set SKILLMEAT_KEY_PASSPHRASE or type it again") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise BadInputError(f"{where}: damaged encrypted key ({exc})") from None
    if len(seed) != 32:
        raise BadInputError(f"{where}: damaged key material")
    return seed


def protect_openssh_file(key_file: Path, passphrase: str) -> None:
    """Encrypt an OpenSSH private key file in place with ``ssh-keygen -p``."""
    exe = shutil.which("ssh-keygen")
    if exe is None:
        key_file.unlink()
        raise SkillmeatError("ssh-keygen is needed to protect the key git will use",
                             hint="install openssh-client, or use an unencrypted key")
    proc = subprocess.run([exe, "-q", "-p", "-P", "", "-N", passphrase, "-f", str(key_file)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        key_file.unlink()
        raise SkillmeatError(f"ssh-keygen could not encrypt {key_file}: {proc.stderr.strip()}")
