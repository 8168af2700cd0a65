"""Cursor: ``.cursor/skills/<name>/``, ``.cursor/commands/<name>.md``,
``.cursor/agents/<name>.md`` (``~/.cursor/...`` with ``--user``)."""

from __future__ import annotations

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.services.profiles.base import Files, Placement, UnsupportedError, moved, single_file


class Cursor:
    name = "cursor"
    title = "Cursor"
    sources = (
        "https://cursor.com/docs/context/skills",
        "https://cursor.com/docs/agent/chat/commands",
        "https://cursor.com/docs/context/subagents",
    )

    def place(self, aid: ArtifactId, files: Files) -> Placement:
        if aid.type is ArtifactType.SKILL:
            target = f".cursor/skills/{aid.base}"
            return Placement((target,), moved(files, aid.base, target))
        if aid.type in (ArtifactType.COMMAND, ArtifactType.AGENT):
            target = f".cursor/{aid.type.directory}/{aid.base}.md"
            return Placement((target,), {target: single_file(aid, files)})
        raise UnsupportedError(self.name, aid, "Cursor's hooks and MCP config are not "
                               "Claude Code hook definitions")

    def scan_roots(self) -> dict[ArtifactType, str]:
        return {ArtifactType.SKILL: ".cursor/skills", ArtifactType.COMMAND: ".cursor/commands",
                ArtifactType.AGENT: ".cursor/agents"}


PROFILE = Cursor()
