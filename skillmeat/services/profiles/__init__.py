"""Deploy profiles: where each agent looks for skills, commands, agents and hooks.

A profile is a module with a ``PROFILE`` object implementing ``base.Profile``; the dict
below registers them. Paths are relative to the target root: the project directory, or
the user's home with ``--user`` (every agent here uses the same layout under both).
"""

from __future__ import annotations

from skillmeat.model.errors import BadInputError
from skillmeat.services.profiles import claude_code, codex, cursor, gemini
from skillmeat.services.profiles.base import Profile

PROFILES: dict[str, Profile] = {
    p.name: p for p in (claude_code.PROFILE, codex.PROFILE, gemini.PROFILE, cursor.PROFILE)
}


def get_profile(name: str) -> Profile:
    key = name.replace("-", "_")
    if key not in PROFILES:
        raise BadInputError(f"unknown deploy profile '{name}'",
                            hint=f"use one of {', '.join(sorted(PROFILES))}")
    return PROFILES[key]
