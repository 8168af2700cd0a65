"""What a file check reports: one line per problem, ``path: what is wrong (hint: what to do)``."""

from __future__ import annotations

from dataclasses import dataclass

from skillmeat.model.errors import SkillmeatError


@dataclass(frozen=True, order=True)
class Finding:
    path: str  # relative to the repository; may end in ``:LINE``
    message: str
    hint: str = ""

    def format(self) -> str:
        text = " ".join(f"{self.path}: {self.message}".split())
        return f"{text} (hint: {self.hint})" if self.hint else text

    @classmethod
    def from_error(cls, path: str, exc: SkillmeatError, root: str = "") -> Finding:
        """The error's line under ``path``. Absolute paths under ``root`` are shown relative,
        and a location the message starts with (``path`` or ``path:LINE``) is not repeated."""
        message = exc.message.replace(f"{root.rstrip('/')}/", "") if root else exc.message
        head, sep, rest = message.partition(": ")
        if sep and (head == path or head.startswith(path + ":")):
            return cls(head, rest, exc.hint or "")
        return cls(path, message, exc.hint or "")
