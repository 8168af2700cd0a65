"""Signing keys: generate, import, export, remove, rotate, and git's signing set-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from skillmeat.model.allowed_signers import AllowedSigner, check_namespace, parse_time
from skillmeat.model.errors import BadInputError, NotFoundError, SignatureError
from skillmeat.model.sshkeys import PrivateKey, PublicKey
from skillmeat.services.trust import make_rotation
from skillmeat.store import gitcli
from skillmeat.store.collection import CollectionStore
from skillmeat.store.files import atomic_write
from skillmeat.store.home import Home
from skillmeat.store.keystore import KeyInfo, parse_key_file, protect_openssh_file
from skillmeat.store.trust import TrustDir

Passphrase = Callable[[], str]
T = TypeVar("T")
DEFAULT_KEY = "keys.default"
NAMESPACES = ("git", "skillmeat-pack", "skillmeat-feed")


def generate(home: Home, name: str, *, comment: str = "", passphrase: str | None = None) -> KeyInfo:
    with home.lock():
        info = home.keys.save(name, PrivateKey.generate(comment or name), passphrase)
        if home.config.get(DEFAULT_KEY) is None:
            home.config.set(DEFAULT_KEY, name)
        return info


def import_key(home: Home, name: str, path: Path, passphrase: Passphrase,
               new_passphrase: str | None = None) -> KeyInfo:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read key file {path}: {exc}") from None
    key = parse_key_file(text, passphrase, str(path))
    with home.lock():
        info = home.keys.save(name, PrivateKey(key.seed, key.comment or name), new_passphrase)
        if home.config.get(DEFAULT_KEY) is None:
            home.config.set(DEFAULT_KEY, name)
        return info


def default_name(home: Home) -> str:
    name = home.config.get(DEFAULT_KEY)
    if isinstance(name, str):
        return name
    keys = home.keys.list()
    if len(keys) == 1:
        return keys[0].name
    raise NotFoundError("no signing key" if not keys else "no default signing key",
                        hint="run `skillmeat keys generate`" if not keys
                        else "set one with `skillmeat keys default NAME`")


def resolve(home: Home, ref: str | None) -> KeyInfo:
    return home.keys.find(ref) if ref else home.keys.info(default_name(home))


def signing_key(home: Home, ref: str | None, passphrase: Passphrase) -> PrivateKey:
    """The key to sign with; a key you revoked or rotated away is refused."""
    info = resolve(home, ref)
    revoked = next((r for r in home.trust.revoked() if r.key.raw == info.public.raw), None)
    if revoked is not None:
        raise SignatureError(f"key '{info.name}'", f"revoked ({revoked.reason})",
                             hint="sign with another key: `skillmeat keys default NAME`")
    return home.keys.load(info.name, passphrase)


def set_default(home: Home, ref: str) -> KeyInfo:
    info = home.keys.find(ref)
    with home.lock():
        home.config.set(DEFAULT_KEY, info.name)
    return info


def remove(home: Home, ref: str) -> KeyInfo:
    info = home.keys.find(ref)
    with home.lock():
        home.keys.remove(info.name)
        if home.config.get(DEFAULT_KEY) == info.name:
            home.config.unset(DEFAULT_KEY)
    return info


def load_public(text_or_path: str) -> PublicKey:
    """A public key given inline (``ssh-ed25519 AAAA...``) or as a file (a ``.pub``)."""
    if text_or_path.startswith("ssh-"):
        return PublicKey.parse(text_or_path)
    path = Path(text_or_path).expanduser()
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read public key {path}: {exc}",
                            hint="pass a .pub file or the 'ssh-ed25519 AAAA...' line") from None
    return PublicKey.parse(text.splitlines()[0] if text else "")


@dataclass(frozen=True)
class TrustRequest:
    key: PublicKey
    principals: tuple[str, ...]
    namespaces: tuple[str, ...] = ()
    valid_after: str = ""
    valid_before: str = ""

    def signer(self) -> AllowedSigner:
        for t in (self.valid_after, self.valid_before):
            if t:
                parse_time(t)
        for ns in self.namespaces:
            check_namespace(ns, "--namespaces")
        if not self.principals or any(not p or " " in p for p in self.principals):
            raise BadInputError("a principal is required (e.g. an email address), without spaces")
        return AllowedSigner(self.principals, self.key, self.namespaces, self.valid_after,
                             self.valid_before)


@dataclass(frozen=True)
class RotationResult:
    old: KeyInfo
    new: KeyInfo
    statement: Path


def rotate(home: Home, ref: str | None, new_name: str, passphrase: Passphrase,
           new_passphrase: str | None = None) -> RotationResult:
    """A new key signed over by the old one; the old one is then revoked (as rotated)."""
    old_info = resolve(home, ref)
    old_key = home.keys.load(old_info.name, passphrase)
    new_key = PrivateKey.generate(old_key.comment or new_name)
    statement = make_rotation(old_key, new_key.public)
    with home.lock():
        new_info = home.keys.save(new_name, new_key, new_passphrase)
        trust = home.trust
        for s in trust.signers():
            if s.key.raw == old_key.public.raw:
                trust.add_signer(AllowedSigner(s.principals, new_key.public, s.namespaces,
                                               s.valid_after, s.valid_before))
        path = trust.add_rotation(new_info.fingerprint.replace("/", "_").replace(":", "-"),
                                  statement)
        trust.revoke(old_key.public, f"rotated to {new_info.fingerprint}")
        if home.config.get(DEFAULT_KEY) in (None, old_info.name):
            home.config.set(DEFAULT_KEY, new_name)
    return RotationResult(old_info, new_info, path)


@dataclass(frozen=True)
class GitSetup:
    key_file: Path
    allowed_signers: Path
    revocation_file: Path
    settings: dict[str, str]


def git_setup(home: Home, ref: str | None, passphrase: Passphrase, *, repo: Path | None = None,
              principal: str = "") -> GitSetup:
    """Make ``git commit -S`` sign with the same key (an OpenSSH copy of it for ssh-keygen).

    Writes the user's global git config, or ``repo``'s own config when given; a repository
    also gets ``commit.gpgsign=true``, so every commit made there (merges of a pull too, and
    SkillMeat's own) is signed.
    """
    info = resolve(home, ref)
    key = home.keys.load(info.name, passphrase)
    key_file = home.paths.keys / f"{info.name}.openssh"
    atomic_write(key_file, key.to_openssh(), mode=0o600)
    atomic_write(key_file.with_suffix(".openssh.pub"), key.public.openssh() + "\n")
    if info.encrypted:
        protect_openssh_file(key_file, passphrase())
    trust = home.trust
    trust.dir.mkdir(parents=True, exist_ok=True)
    principal = principal or gitcli.config_value("user.email", repo=repo)
    if principal and not any(s.key.raw == key.public.raw for s in trust.signers()):
        trust.add_signer(AllowedSigner((principal,), key.public))
    for path, header in ((trust.allowed_path, "# SkillMeat trust\n"),
                         (trust.revoked_path, "# SkillMeat revoked keys\n")):
        if not path.exists():
            atomic_write(path, header)
    settings = {
        "gpg.format": "ssh",
        "user.signingkey": str(key_file),
        "gpg.ssh.allowedSignersFile": str(trust.allowed_path),
        "gpg.ssh.revocationFile": str(trust.revoked_path),
        **({"commit.gpgsign": "true"} if repo is not None else {}),
    }
    for k, v in settings.items():
        gitcli.set_config(k, v, repo=repo)
    return GitSetup(key_file, trust.allowed_path, trust.revoked_path, settings)


def _edit_trust(home: Home, store: CollectionStore | None, message: str,
                edit: Callable[[TrustDir], T]) -> T:
    """Apply ``edit`` to the user's trust, or to a collection's (as one commit)."""
    if store is None:
        with home.lock():
            return edit(home.trust)
    with home.lock(), store.change() as txn:
        for name in ("allowed_signers", "revoked"):
            txn.edit_in_place(f".skillmeat/{name}")
        result = edit(store.trust)
        txn.commit(message)
        return result


def trust_key(home: Home, req: TrustRequest, store: CollectionStore | None = None) -> AllowedSigner:
    signer = req.signer()
    _edit_trust(home, store, f"Trust {signer.key.fingerprint()} as {','.join(signer.principals)}",
                lambda t: t.add_signer(signer))
    return signer


def untrust_key(home: Home, key: PublicKey, principal: str | None = None,
                store: CollectionStore | None = None) -> int:
    removed = _edit_trust(home, store, f"Stop trusting {key.fingerprint()}",
                          lambda t: t.remove_key(key, principal))
    if not removed:
        raise NotFoundError(f"{key.fingerprint()} is not in the allowed signers"
                            + (f" as {principal}" if principal else ""))
    return removed


def revoke_key(home: Home, key: PublicKey, reason: str,
               store: CollectionStore | None = None) -> bool:
    return _edit_trust(home, store, f"Revoke {key.fingerprint()}: {reason}",
                       lambda t: t.revoke(key, reason or "revoked"))


def find_public(home: Home, ref: str, store: CollectionStore | None = None) -> PublicKey:
    """A public key by own key name or fingerprint, a trusted signer's fingerprint, or a
    ``.pub`` file / ``ssh-ed25519 AAAA...`` line."""
    for info in home.keys.list():
        if ref in (info.name, info.fingerprint):
            return info.public
    if ref.startswith("SHA256:"):
        dirs = [home.trust, *([store.trust] if store else [])]
        for d in dirs:
            for s in d.signers():
                if s.key.fingerprint() == ref:
                    return s.key
        raise NotFoundError(f"no key with fingerprint {ref}", hint="see `skillmeat keys list`")
    return load_public(ref)
