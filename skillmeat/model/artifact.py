"""Artifact types, ids and the collection layout rules.

An artifact id is ``<type>/<name>`` where ``name`` is either ``base`` or
``namespace:base`` (the namespace is the Claude Code plugin an artifact came
from, exactly as Claude Code shows plugin artifacts). On disk the namespace is
one directory level: ``agents/<namespace>/<base>.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from skillmeat.model.errors import BadInputError


class ArtifactType(StrEnum):
    SKILL = "skill"
    COMMAND = "command"
    AGENT = "agent"
    HOOK = "hook"
    MCP = "mcp"

    @property
    def directory(self) -> str:
        return _DIRS[self]

    @classmethod
    def parse(cls, text: str) -> ArtifactType:
        key = text.strip().lower()
        key = key if key == "mcp" else key.removesuffix("s")
        for member in cls:
            if member.value == key:
                return member
        raise BadInputError(
            f"unknown artifact type '{text}'", hint="use skill, command, agent, hook or mcp"
        )


_DIRS = {
    ArtifactType.SKILL: "skills",
    ArtifactType.COMMAND: "commands",
    ArtifactType.AGENT: "agents",
    ArtifactType.HOOK: "hooks",
    ArtifactType.MCP: "mcp",
}
TYPE_BY_DIR = {v: k for k, v in _DIRS.items()}
SINGLE_FILE_SUFFIX = {
    ArtifactType.COMMAND: ".md",
    ArtifactType.AGENT: ".md",
    ArtifactType.HOOK: ".toml",
    ArtifactType.MCP: ".toml",
}

# What a stored name part may hold: lenient, since real sources use many styles.
_PART_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# The Agent Skills spec rule for a skill name.
SPEC_NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def check_part(part: str, what: str = "name") -> str:
    if not _PART_RE.match(part) or part.endswith(".") or ".." in part:
        raise BadInputError(
            f"invalid {what} '{part}'",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return part


@dataclass(frozen=True, order=True)
class ArtifactId:
    type: ArtifactType
    name: str

    def __post_init__(self) -> None:
        ns, sep, base = self.name.rpartition(":")
        check_part(base)
        if sep:
            check_part(ns, "namespace")

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0]

    @property
    def base(self) -> str:
        return self.name.rpartition(":")[2]

    @property
    def relpath(self) -> str:
        """Where the artifact lives in a collection (a directory for skills)."""
        parts = [self.type.directory]
        if self.namespace:
            parts.append(self.namespace)
        suffix = SINGLE_FILE_SUFFIX.get(self.type, "")
        parts.append(self.base + suffix)
        return "/".join(parts)

    @property
    def extra_dir(self) -> str | None:
        """A hook's optional script directory beside its definition."""
        if self.type is ArtifactType.HOOK:
            return self.relpath[: -len(".toml")]
        return None

    def renamed(self, name: str) -> ArtifactId:
        return ArtifactId(self.type, name)

    def __str__(self) -> str:
        return f"{self.type.value}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> ArtifactId:
        type_text, sep, name = text.partition("/")
        if not sep:
            raise BadInputError(f"'{text}' is not a full artifact id", hint="use type/name")
        return cls(ArtifactType.parse(type_text), name)


def split_ref(text: str) -> tuple[ArtifactType | None, str]:
    """Split a user's reference ``[type/]name`` into its parts."""
    type_text, sep, name = text.partition("/")
    if sep:
        return ArtifactType.parse(type_text), name
    return None, text


@dataclass(frozen=True)
class Artifact:
    """One artifact as the collection knows it (metadata only; files stay on disk)."""

    id: ArtifactId
    description: str = ""
    tags: tuple[str, ...] = ()
    version: str = ""
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def type(self) -> ArtifactType:
        return self.id.type

    @property
    def name(self) -> str:
        return self.id.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type.value,
            "name": self.name,
            "namespace": self.id.namespace,
            "path": self.id.relpath,
            "description": self.description,
            "tags": list(self.tags),
            "version": self.version,
        }


def ids_from_paths(paths: list[str]) -> dict[ArtifactId, list[str]]:
    """Group a collection's file paths (posix, relative) by the artifact they belong to.

    Paths that belong to no artifact (README, skillmeat.toml, ...) are left out.
    """
    skill_roots: dict[tuple[str, ...], ArtifactId] = {}
    hook_defs: set[str] = set()
    for path in paths:
        parts = path.split("/")
        if parts[0] == "skills" and parts[-1] == "SKILL.md" and len(parts) in (3, 4):
            name = ":".join(parts[1:-1])
            skill_roots[tuple(parts[:-1])] = _safe_id(ArtifactType.SKILL, name)
        elif parts[0] == "hooks" and path.endswith(".toml") and len(parts) in (2, 3):
            hook_defs.add(path[: -len(".toml")])
    out: dict[ArtifactId, list[str]] = {}
    for path in paths:
        aid = _owner(path, skill_roots, hook_defs)
        if aid is not None:
            out.setdefault(aid, []).append(path)
    return {k: v for k, v in out.items() if k is not _INVALID}


_INVALID = object()


def _safe_id(type_: ArtifactType, name: str) -> Any:
    try:
        return ArtifactId(type_, name)
    except BadInputError:
        return _INVALID


def _owner(
    path: str, skill_roots: dict[tuple[str, ...], ArtifactId], hook_defs: set[str]
) -> Any:
    parts = path.split("/")
    top = TYPE_BY_DIR.get(parts[0])
    if top is None or len(parts) < 2:
        return None
    if top is ArtifactType.SKILL:
        for depth in (2, 3):
            root = tuple(parts[:depth])
            if root in skill_roots and len(parts) > depth:
                return skill_roots[root]
        return None
    if top is ArtifactType.HOOK:
        for depth in (2, 3):
            stem = "/".join(parts[:depth])
            if stem.endswith(".toml") and stem[:-5] in hook_defs and depth == len(parts):
                return _safe_id(top, ":".join(p.removesuffix(".toml") for p in parts[1:]))
            if stem in hook_defs and len(parts) > depth:
                return _safe_id(top, ":".join(parts[1:depth]))
        return None
    suffix = SINGLE_FILE_SUFFIX[top]
    if len(parts) in (2, 3) and parts[-1].endswith(suffix):
        return _safe_id(top, ":".join([*parts[1:-1], parts[-1][: -len(suffix)]]))
    return None
