"""Artifact files inside a project's ``.claude`` directory, read for comparison.

Claude Code reads skills from ``.claude/skills/<name>/SKILL.md`` and commands and agents
from any ``.md`` under ``.claude/commands/`` and ``.claude/agents/`` (a sub-directory is
a namespace: ``commands/git/commit.md`` is ``/git:commit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skillmeat.model.artifact import ArtifactType
from skillmeat.model.errors import NotFoundError
from skillmeat.store.tree import FsTree

CLAUDE_DIR = ".claude"


@dataclass(frozen=True)
class ProjectFile:
    project: Path
    rel: str  # from the project root, e.g. ".claude/agents/reviewer.md"
    type: ArtifactType
    name: str  # "reviewer", or "git:commit" for a file in a sub-directory
    data: bytes

    @property
    def id(self) -> str:
        return f"{self.type.value}/{self.name}"


def classify(rel: str) -> tuple[ArtifactType, str] | None:
    """The type and name of an artifact file at ``rel`` (relative to ``.claude``), if it is one."""
    parts = rel.split("/")
    if parts[0] == "skills" and len(parts) == 3 and parts[2] == "SKILL.md":
        return ArtifactType.SKILL, parts[1]
    if parts[0] in ("commands", "agents") and len(parts) >= 2 and parts[-1].endswith(".md"):
        kind = ArtifactType.COMMAND if parts[0] == "commands" else ArtifactType.AGENT
        return kind, ":".join([*parts[1:-1], parts[-1][: -len(".md")]])
    return None


def project_artifact_files(project: Path) -> list[ProjectFile]:
    """Every skill, command and agent file under ``project/.claude``, sorted by path."""
    if not project.is_dir():
        raise NotFoundError(f"no project directory {project}", hint="pass an existing directory")
    root = project / CLAUDE_DIR
    if not root.is_dir():
        return []
    tree = FsTree(root)
    out = []
    for rel in tree.files():
        found = classify(rel)
        if found is not None:
            out.append(ProjectFile(project, f"{CLAUDE_DIR}/{rel}", found[0], found[1], tree.read(rel)))
    return out
