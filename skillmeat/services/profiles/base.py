"""What a deploy profile is, and the placements it returns."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any, Protocol

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import BadInputError

Files = dict[str, tuple[bytes, int]]  # path relative to the artifact's parent -> (data, git mode)


@dataclass(frozen=True)
class Placement:
    """What deploying one artifact writes: files under ``paths``, and/or hook groups."""

    paths: tuple[str, ...]
    files: Files
    settings_file: str = ""
    hooks: dict[str, list[Any]] = field(default_factory=dict)


class Profile(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def sources(self) -> tuple[str, ...]:  # where the layout is documented
        ...

    def place(self, aid: ArtifactId, files: Files) -> Placement: ...

    def scan_roots(self) -> dict[ArtifactType, str]: ...


class UnsupportedError(BadInputError):
    def __init__(self, profile: str, aid: ArtifactId, why: str = "") -> None:
        super().__init__(f"profile '{profile}' cannot deploy {aid}: "
                         f"{why or f'{profile} has no place for {aid.type.value}s'}",
                         hint="pick another --profile, or leave this artifact out")


def moved(files: Files, old_root: str, new_root: str) -> Files:
    """Files re-rooted: ``<old_root>/x`` -> ``<new_root>/x`` (``old_root`` may be a file)."""
    out: Files = {}
    for path, item in files.items():
        if path == old_root:
            out[new_root] = item
        elif path.startswith(old_root + "/"):
            out[new_root + path[len(old_root):]] = item
    return out


def hook_groups(aid: ArtifactId, files: Files) -> dict[str, list[Any]]:
    """The ``hooks`` table of a hook definition, as Claude Code's settings shape."""
    raw = files.get(f"{aid.base}.toml", (b"", 0))[0]
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadInputError(f"{aid.relpath}: invalid TOML ({exc})",
                            hint="run `skillmeat validate`") from None
    hooks = data.get("hooks")
    if not isinstance(hooks, dict) or not all(isinstance(v, list) for v in hooks.values()):
        raise BadInputError(f"{aid.relpath}: no [hooks] table of events",
                            hint="run `skillmeat validate`")
    return hooks


def single_file(aid: ArtifactId, files: Files) -> tuple[bytes, int]:
    name = aid.relpath.rsplit("/", 1)[-1]
    if name not in files:
        raise BadInputError(f"{aid} has no file {name} in the collection")
    return files[name]
