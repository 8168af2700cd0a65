"""Who is trusted to sign what: allowed signers, revocations and key rotations, merged
from the user's trust and a collection's, and the one verification every caller uses."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from skillmeat.model import sshsig
from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.errors import BadInputError, SignatureError
from skillmeat.model.sshkeys import PrivateKey, PublicKey
from skillmeat.store.trust import Revoked, TrustDir

ROTATION_NAMESPACE = "skillmeat-rotation"
ROTATION_FORMAT = "skillmeat-rotation/1"
MAX_ROTATION_CHAIN = 8


@dataclass(frozen=True)
class Verdict:
    principals: tuple[str, ...]
    fingerprint: str
    namespace: str
    via_rotation: tuple[str, ...] = ()  # fingerprints of the keys rotated from

    @property
    def principal(self) -> str:
        return ",".join(self.principals)

    def to_dict(self) -> dict[str, Any]:
        return {"principals": list(self.principals), "fingerprint": self.fingerprint,
                "namespace": self.namespace, "via_rotation": list(self.via_rotation)}


@dataclass(frozen=True)
class Rotation:
    old: PublicKey
    new: PublicKey
    date: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"old": self.old.fingerprint(), "new": self.new.fingerprint(), "date": self.date}


@dataclass
class TrustSet:
    signers: list[AllowedSigner] = field(default_factory=list)
    revoked: list[Revoked] = field(default_factory=list)
    rotations: list[Rotation] = field(default_factory=list)

    @classmethod
    def load(cls, dirs: Sequence[TrustDir]) -> TrustSet:
        out = cls()
        for d in dirs:
            out.signers += d.signers()
            out.revoked += d.revoked()
            for path, text in d.rotations():
                out.rotations.append(parse_rotation(text, str(path)))
        return out

    def revocation(self, key: PublicKey) -> Revoked | None:
        """The key's revocation, a compromise (not retired) first wherever it is known."""
        found = [r for r in self.revoked if r.key.raw == key.raw]
        return next((r for r in found if not r.retired), found[0] if found else None)


def verify(
    armored: str | bytes, message: bytes, namespace: str, trust: TrustSet,
    now: datetime.datetime | None = None, what: str = "signature", *, historical: bool = False,
) -> Verdict:
    """Signature valid, by a key trusted for ``namespace`` (directly or by rotation), not revoked.

    ``historical``: the signed object is vouched for by a newer signature (an ancestor of a
    verified tip), so a key retired by rotation still counts; a compromised key never does.
    """
    try:
        sig = sshsig.verify(armored, message, namespace)
    except SignatureError as exc:
        raise SignatureError(what, exc.reason, hint=exc.hint) from None
    return check_key(sig.public_key, namespace, trust, now or _now(), what, historical=historical)


def check_key(
    key: PublicKey, namespace: str, trust: TrustSet, now: datetime.datetime, what: str,
    *, historical: bool = False,
) -> Verdict:
    fp = key.fingerprint()
    revoked = trust.revocation(key)
    if revoked is not None and not (historical and revoked.retired):
        raise SignatureError(what, f"signed by revoked key {fp} ({revoked.reason or 'revoked'})",
                             hint="ask the signer to re-sign with their current key")
    rotated = next((r for r in trust.rotations if r.old.raw == key.raw), None)
    if rotated is not None and not historical:
        raise SignatureError(what, f"signed by {fp}, which was rotated to "
                             f"{rotated.new.fingerprint()} ({rotated.date})",
                             hint="ask the signer to re-sign with their new key")
    direct = [s for s in trust.signers if s.key.raw == key.raw]
    allowed = [s for s in direct if s.allows(namespace, now)]
    if allowed:
        principals = tuple(dict.fromkeys(p for s in allowed for p in s.principals))
        return Verdict(principals, fp, namespace)
    if direct:
        raise SignatureError(what, f"key {fp} is not trusted for '{namespace}' now "
                             "(namespaces or validity of its allowed-signers line)",
                             hint="see `skillmeat keys list --trusted`")
    inherited = _via_rotation(key, namespace, trust, now, 0)
    if inherited is not None:
        return inherited
    raise SignatureError(what, f"signed by unknown key {fp}",
                         hint="trust it with `skillmeat keys trust KEY --principal NAME`")


def _via_rotation(
    key: PublicKey, namespace: str, trust: TrustSet, now: datetime.datetime, depth: int
) -> Verdict | None:
    if depth >= MAX_ROTATION_CHAIN:
        return None
    for rot in trust.rotations:
        if rot.new.raw != key.raw:
            continue
        revoked = trust.revocation(rot.old)
        if revoked is not None and not revoked.retired:
            continue  # a compromised key's rotation statements count for nothing
        direct = [s for s in trust.signers if s.key.raw == rot.old.raw and s.allows(namespace, now)]
        if direct:
            principals = tuple(dict.fromkeys(p for s in direct for p in s.principals))
            return Verdict(principals, key.fingerprint(), namespace, (rot.old.fingerprint(),))
        deeper = _via_rotation(rot.old, namespace, trust, now, depth + 1)
        if deeper is not None:
            return Verdict(deeper.principals, key.fingerprint(), namespace,
                           (rot.old.fingerprint(), *deeper.via_rotation))
    return None


def make_rotation(old: PrivateKey, new: PublicKey, now: datetime.datetime | None = None) -> str:
    """A rotation statement: the new key, signed over by the old one."""
    date = (now or _now()).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = f"{ROTATION_FORMAT}\nold {old.public.openssh()}\nnew {new.openssh()}\ndate {date}\n"
    return body + sshsig.sign(old, body.encode(), ROTATION_NAMESPACE)


def parse_rotation(text: str, where: str) -> Rotation:
    head, sep, armor = text.partition("-----BEGIN SSH SIGNATURE-----")
    lines = head.splitlines()
    if not sep or len(lines) != 4 or lines[0] != ROTATION_FORMAT:
        raise BadInputError(f"{where}: not a rotation statement ({ROTATION_FORMAT})")
    fields = dict(ln.split(" ", 1) for ln in lines[1:] if " " in ln)
    try:
        old, new = PublicKey.parse(fields["old"]), PublicKey.parse(fields["new"])
    except KeyError:
        raise BadInputError(f"{where}: rotation statement lacks old/new keys") from None
    sig = sshsig.verify(sep + armor, head.encode(), ROTATION_NAMESPACE)
    if sig.public_key.raw != old.raw:
        raise SignatureError(where, "rotation statement not signed by the old key")
    return Rotation(old, new, fields.get("date", ""), text)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
