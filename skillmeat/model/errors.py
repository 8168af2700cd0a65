"""The error hierarchy. Only the CLI turns these into exit codes and one-line messages."""

from __future__ import annotations


class SkillmeatError(Exception):
    """A user-facing failure: one line of what/where, an optional hint of what to do."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class BadInputError(SkillmeatError):
    """Malformed input the user gave or owns (a file, an argument): exit 2."""

    exit_code = 2


class ConfigError(BadInputError):
    """A config, manifest or lock file that cannot be read."""

    def __init__(self, path: str, detail: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {detail}", hint=hint)
        self.path = path


class NotFoundError(SkillmeatError):
    """A collection, artifact or ref that does not exist."""


class AmbiguousError(BadInputError):
    """A short name that matches more than one artifact."""

    def __init__(self, name: str, candidates: list[str]) -> None:
        shown = ", ".join(candidates[:8]) + (" ..." if len(candidates) > 8 else "")
        super().__init__(
            f"'{name}' matches {len(candidates)} artifacts: {shown}",
            hint="use the full id, e.g. type/plugin:name",
        )
        self.candidates = candidates


class SourceError(SkillmeatError):
    """A source that cannot be fetched or read."""

    def __init__(self, source: str, detail: str, *, hint: str | None = None) -> None:
        super().__init__(f"cannot read source {source}: {detail}", hint=hint)
        self.source = source
        self.detail = detail


class ConflictError(SkillmeatError):
    """A change that would overwrite something: nothing was written."""


class LockedError(SkillmeatError):
    """Another SkillMeat process holds the lock."""


class ValidationFailedError(SkillmeatError):
    """Validation found errors (the diagnostics were already reported)."""


class SignatureError(SkillmeatError):
    """A signature, key or signed object that does not verify: nothing was changed."""

    def __init__(self, what: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"{what}: {reason}", hint=hint)
        self.what = what
        self.reason = reason
