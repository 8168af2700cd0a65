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


KNOWN_OPTIONS = frozenset({"namespaces", "valid-after", "valid-before", "cert-authority"})
OTHER_KEY_TYPES = ("ssh-rsa ", "ssh-dss ", "ecdsa-sha2-", "sk-ecdsa-", "sk-ssh-ed25519")
_NAMESPACE = re.compile(r"^[A-Za-z0-9._*?-]+$")


def parse_line(line: str, where: str = "allowed_signers") -> AllowedSigner | None:
    """One line; None for blank lines, comments and other key types (valid for ssh-keygen,
    never SkillMeat's). Anything ssh-keygen would refuse is refused here too."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    principals, _, rest = text.partition(" ")
    rest = rest.strip()
    options: dict[str, str] = {}
    if rest and not rest.startswith(("ssh-", "ecdsa-", "sk-")):
        opt_text, _, rest = _split_options(rest)
        options = _options(opt_text, where)
    if rest.startswith(OTHER_KEY_TYPES) or "cert-authority" in options:
        return None  # other key types, and CA keys (they sign certificates, not data), are not ours
    if not rest.startswith("ssh-ed25519 "):
        raise BadInputError(f"{where}: not an allowed-signers line (principals [options] key)",
                            hint="fix or remove that line")
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


def _options(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in _split_commas(text):
        name, eq, value = item.partition("=")
        name = name.lower()
        if name not in KNOWN_OPTIONS:
            raise BadInputError(f"{where}: unknown option '{name}'",
                                hint=f"allowed: {', '.join(sorted(KNOWN_OPTIONS))}")
        if eq:
            if len(value) < 2 or value[0] != '"' or value[-1] != '"' or '"' in value[1:-1]:
                raise BadInputError(f"{where}: option {name} needs a \"quoted\" value")
            value = value[1:-1]
        out[name] = value
    for ns in filter(None, out.get("namespaces", "").split(",")):
        check_namespace(ns, where)
    return out


def check_namespace(ns: str, where: str = "namespaces") -> str:
    if not _NAMESPACE.match(ns):
        raise BadInputError(f"{where}: bad namespace '{ns}'",
                            hint="use letters, digits, '.', '_', '-' (and * ? patterns)")
    return ns


def _split_commas(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in parts if p]


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
