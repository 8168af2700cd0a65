"""Trust on disk, in the formats git and ssh-keygen read: ``allowed_signers``, ``revoked``
(one public key a line, a ``# revoked DATE: reason`` comment above it) and ``rotations/``.

The user's trust lives in ``$SKILLMEAT_HOME/trust``; a team's in ``<collection>/.skillmeat``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from skillmeat.model import allowed_signers
from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.errors import BadInputError
from skillmeat.model.sshkeys import PublicKey
from skillmeat.store.files import atomic_write

HEADER = "# SkillMeat trust: git's allowed-signers format (gpg.ssh.allowedSignersFile)\n"
REVOKED_HEADER = "# SkillMeat revoked keys: one public key a line (gpg.ssh.revocationFile)\n"


@dataclass(frozen=True)
class Revoked:
    key: PublicKey
    reason: str

    @property
    def retired(self) -> bool:
        """Revoked by a rotation (not a compromise): its rotation statements still count."""
        return self.reason.startswith("rotated")


class TrustDir:
    def __init__(self, directory: Path, label: str) -> None:
        self.dir = directory
        self.label = label

    @property
    def allowed_path(self) -> Path:
        return self.dir / "allowed_signers"

    @property
    def revoked_path(self) -> Path:
        return self.dir / "revoked"

    @property
    def rotations_dir(self) -> Path:
        return self.dir / "rotations"

    def signers(self) -> list[AllowedSigner]:
        if not self.allowed_path.exists():
            return []
        return allowed_signers.parse(_read(self.allowed_path), str(self.allowed_path))

    def add_signer(self, signer: AllowedSigner) -> None:
        """Add a line, replacing any line for the same key and principals."""
        lines = self._lines(self.allowed_path, HEADER)
        kept = [ln for n, ln in enumerate(lines, 1)
                if not _same(ln, signer, f"{self.allowed_path}:{n}")]
        atomic_write(self.allowed_path, "\n".join([*kept, signer.format()]) + "\n")

    def remove_key(self, key: PublicKey, principal: str | None = None) -> int:
        """Drop the key's lines (or only ``principal`` from them); how many lines changed."""
        lines = self._lines(self.allowed_path, HEADER)
        out, changed = [], 0
        for n, ln in enumerate(lines, 1):
            s = allowed_signers.parse_line(ln, f"{self.allowed_path}:{n}")
            if s is None or s.key.raw != key.raw or (principal and principal not in s.principals):
                out.append(ln)
                continue
            changed += 1
            rest = tuple(p for p in s.principals if p != principal) if principal else ()
            if rest:
                out.append(AllowedSigner(rest, s.key, s.namespaces, s.valid_after,
                                         s.valid_before).format())
        if changed:
            atomic_write(self.allowed_path, "\n".join(out) + "\n")
        return changed

    def revoked(self) -> list[Revoked]:
        if not self.revoked_path.exists():
            return []
        out, reason = [], ""
        for n, line in enumerate(_read(self.revoked_path).splitlines(), 1):
            text = line.strip()
            if text.startswith("# revoked"):
                reason = text.partition(": ")[2]
            elif text and not text.startswith("#"):
                try:
                    out.append(Revoked(PublicKey.parse(text), reason))
                except BadInputError as exc:
                    raise BadInputError(f"{self.revoked_path}:{n}: {exc.message}",
                                        hint="fix or remove that line") from None
                reason = ""
        return out

    def revoke(self, key: PublicKey, reason: str) -> bool:
        """Add a revocation; a key only retired by rotation can still be marked compromised."""
        known = [r for r in self.revoked() if r.key.raw == key.raw]
        if known and (reason.startswith("rotated") or not all(r.retired for r in known)):
            return False
        today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
        lines = self._lines(self.revoked_path, REVOKED_HEADER)
        lines += [f"# revoked {today}: {' '.join(reason.split()) or 'no reason given'}",
                  key.openssh()]
        atomic_write(self.revoked_path, "\n".join(lines) + "\n")
        return True

    def rotations(self) -> list[tuple[Path, str]]:
        if not self.rotations_dir.is_dir():
            return []
        return [(p, _read(p)) for p in sorted(self.rotations_dir.glob("*.rotation"))]

    def add_rotation(self, name: str, text: str) -> Path:
        path = self.rotations_dir / f"{name}.rotation"
        atomic_write(path, text)
        return path

    @staticmethod
    def _lines(path: Path, header: str) -> list[str]:
        text = _read(path) if path.exists() else header
        return text.rstrip("\n").split("\n")


def _same(line: str, signer: AllowedSigner, where: str) -> bool:
    s = allowed_signers.parse_line(line, where)
    return s is not None and s.key.raw == signer.key.raw and s.principals == signer.principals


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise BadInputError(f"cannot read {path} ({exc.strerror})",
                            hint="it must be a text file in git's allowed-signers format") from None
