"""Sign SkillMeat's own commits the way ``git commit -S`` would, when the repository asks for
it (``commit.gpgsign=true`` with ``gpg.format=ssh`` and ``user.signingKey``).

A key file SkillMeat wrote (``skillmeat keys git-setup``: ``<keys>/<name>.openssh`` beside
``<name>.key``) is signed with in-process, its passphrase from $SKILLMEAT_KEY_PASSPHRASE or
the terminal; any other key goes through ``ssh-keygen -Y sign``, as git does. Other signing
formats (openpgp, x509) are left to git: SkillMeat's commits stay unsigned there.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skillmeat.model.errors import BadInputError, ConfigError, SignatureError, SkillmeatError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.store.gitrepo import config_value

PASSPHRASE_ENV = "SKILLMEAT_KEY_PASSPHRASE"
Signer = Callable[[bytes], str]
_TRUE = {"true", "yes", "on", "1"}


def configured_signer(configs: list[Any], workdir: Path) -> Signer | None:
    """The signer git's config asks for (None: commits are not to be signed, or not by us).

    The key is loaded here, before anything is committed: a missing file or an encrypted key
    without a passphrase is one clear error and no commit, never an unsigned commit."""
    if (config_value(configs, "commit.gpgsign") or "false").lower() not in _TRUE:
        return None
    if (config_value(configs, "gpg.format") or "openpgp").lower() != "ssh":
        return None
    where = "git config user.signingKey"
    hint = ("point it at a private key file: `skillmeat keys git-setup --repo .`, or stop "
            "signing here: `git config commit.gpgsign false`")
    value = config_value(configs, "user.signingkey")
    if not value:
        raise ConfigError(where, "commit.gpgsign is true but no signing key is set", hint=hint)
    if value.startswith(("key::", "ssh-")):
        raise ConfigError(where, "a literal public key (signing through ssh-agent) is not "
                          "supported for SkillMeat's commits", hint=hint)
    path = Path(os.path.expanduser(value))
    if not path.is_absolute():
        path = workdir / path
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, f"cannot read the signing key {path}: "
                          f"{getattr(exc, 'strerror', None) or exc}", hint=hint) from None
    key = _own_key(path, text)
    if key is None:
        return _ssh_keygen(path)
    from skillmeat.model import sshsig

    return lambda payload: sshsig.sign(key, payload, "git")


def _own_key(path: Path, text: str) -> PrivateKey | None:
    """The key in-process: an unencrypted OpenSSH Ed25519 file, or SkillMeat's own key that
    an (encrypted) ``<name>.openssh`` copy was made from; None: let ssh-keygen sign."""
    if "BEGIN OPENSSH PRIVATE KEY" in text:
        try:
            return PrivateKey.from_openssh(text)
        except BadInputError:
            pass  # encrypted, or not Ed25519
    if not path.name.endswith(".openssh"):
        return None
    name = path.name[:-len(".openssh")]
    if not (path.parent / f"{name}.key").is_file():
        return None
    from skillmeat.store.keystore import KeyStore

    return KeyStore(path.parent).load(name, _passphrase(path))


def _passphrase(path: Path) -> Callable[[], str]:
    def get() -> str:
        if PASSPHRASE_ENV in os.environ:
            return os.environ[PASSPHRASE_ENV]
        if not sys.stdin.isatty():
            raise BadInputError(f"the signing key {path} (git config user.signingKey) is "
                                "encrypted and there is no terminal to ask for its passphrase; "
                                "nothing was committed",
                                hint=f"set {PASSPHRASE_ENV}, or run on a terminal")
        return getpass.getpass(f"Passphrase for {path}: ")

    return get


def _ssh_keygen(path: Path) -> Signer:
    exe = shutil.which("ssh-keygen")
    if exe is None:
        raise SkillmeatError(f"ssh-keygen is needed to sign with {path} (git config "
                             "user.signingKey)", hint="install openssh-client, or use a key "
                             "made by `skillmeat keys git-setup`")

    def sign(payload: bytes) -> str:
        # no terminal: no prompt either (a new session has no /dev/tty; no askpass window)
        alone = not sys.stdin.isatty()
        env = dict(os.environ, SSH_ASKPASS_REQUIRE="never") if alone else None
        proc = subprocess.run([exe, "-Y", "sign", "-n", "git", "-f", str(path)], input=payload,
                              capture_output=True, check=False, env=env, start_new_session=alone)
        if proc.returncode != 0 or b"BEGIN SSH SIGNATURE" not in proc.stdout:
            why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SignatureError(f"signing key {path}", f"ssh-keygen could not sign "
                                 f"({why[-1] if why else 'exit ' + str(proc.returncode)}); "
                                 "nothing was committed",
                                 hint="check the key with `ssh-keygen -y -f KEY`, or stop "
                                 "signing here: `git config commit.gpgsign false`")
        return proc.stdout.decode("ascii")

    return sign
