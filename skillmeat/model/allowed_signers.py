"""Git's allowed-signers format (``ssh-keygen -Y verify -f``), parsed and written.

One line per key: ``principals [options] ssh-ed25519 BASE64 [comment]`` where options
are ``namespaces="a,b"``, ``valid-after="YYYYMMDD[HHMM[SS]]"``, ``valid-before=...``
and ``cert-authority``.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from skillmeat.model.errors import BadInputError
from skillmeat.model.sshkeys import PublicKey

_OPTION = re.compile(r'([A-Za-z-]+)(?:="([^"]*)")?(?:,|$)')
_TIME = re.compile(r"^\d{8}(\d{4}(\d{2})?)?Z?$")


@dataclass(frozen=True)
class AllowedSigner:
    principals: tuple[str, ...]
    key: PublicKey
    namespaces: tuple[str, ...] = ()  # empty: every namespace
    valid_after: str = ""
    valid_before: str = ""

    def matches_principal(self, principal: str) -> bool:
        return any(fnmatch.fnmatchcase(principal, p) for p in self.principals)

    def allows(self, namespace: str, now: datetime.datetime) -> bool:
        if self.namespaces and not any(fnmatch.fnmatchcase(namespace, n) for n in self.namespaces):
            return False
        if self.valid_after and now < parse_time(self.valid_after):
            return False
        return not (self.valid_before and now > parse_time(self.valid_before))

    def format(self) -> str:
        opts = []
        if self.namespaces:
            opts.append(f'namespaces="{",".join(self.namespaces)}"')
        if self.valid_after:
            opts.append(f'valid-after="{self.valid_after}"')
        if self.valid_before:
            opts.append(f'valid-before="{self.valid_before}"')
        parts = [",".join(self.principals)]
        if opts:
            parts.append(",".join(opts))
        parts.append(self.key.openssh())
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "principals": list(self.principals),
            "key": self.key.openssh(),
            "fingerprint": self.key.fingerprint(),
            "namespaces": list(self.namespaces),
            "valid_after": self.valid_after,
            "valid_before": self.valid_before,
        }


def parse_time(text: str) -> datetime.datetime:
    if not _TIME.match(text):
        raise BadInputError(f"bad time '{text}'", hint="use YYYYMMDD[HHMM[SS]]")
    digits = text.rstrip("Z").ljust(14, "0")
    return datetime.datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=datetime.UTC)


def parse_line(line: str, where: str = "allowed_signers") -> AllowedSigner | None:
    """One line; None for blank lines, comments and keys SkillMeat does not use."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    principals, _, rest = text.partition(" ")
    rest = rest.strip()
    options: dict[str, str] = {}
    if rest and not rest.startswith(("ssh-", "ecdsa-", "sk-")):
        opt_text, _, rest = _split_options(rest)
        for m in _OPTION.finditer(opt_text):
            if m.group(1):
                options[m.group(1).lower()] = m.group(2) or ""
    if not rest.startswith("ssh-ed25519 "):
        return None  # another key type: valid for ssh-keygen, never ours
    try:
        key = PublicKey.parse(rest)
    except BadInputError as exc:
        raise BadInputError(f"{where}: {exc.message}", hint="fix or remove that line") from None
    for name in ("valid-after", "valid-before"):
        if options.get(name):
            parse_time(options[name])
    namespaces = tuple(n for n in options.get("namespaces", "").split(",") if n)
    return AllowedSigner(tuple(p for p in principals.split(",") if p), key, namespaces,
                         options.get("valid-after", ""), options.get("valid-before", ""))


def _split_options(text: str) -> tuple[str, str, str]:
    """Split ``opts rest`` where opts may contain quoted spaces."""
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == " " and not quoted:
            return text[:i], " ", text[i + 1:].strip()
    return text, "", ""


def parse(text: str, where: str = "allowed_signers") -> list[AllowedSigner]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        signer = parse_line(line, f"{where}:{n}")
        if signer is not None:
            out.append(signer)
    return out
