"""OpenAI Codex: Agent Skills in ``.agents/skills/<name>/`` (project) and
``~/.agents/skills/<name>/`` (``--user``). Codex has no subagent or hook files to deploy."""

from __future__ import annotations

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.services.profiles.base import Files, Placement, UnsupportedError, moved


class Codex:
    name = "codex"
    title = "OpenAI Codex"
    sources = ("https://developers.openai.com/codex/skills",)

    def place(self, aid: ArtifactId, files: Files) -> Placement:
        if aid.type is ArtifactType.SKILL:
            target = f".agents/skills/{aid.base}"
            return Placement((target,), moved(files, aid.base, target))
        raise UnsupportedError(self.name, aid, "Codex reads Agent Skills only (no commands, "
                               "subagents or hooks from files)")

    def scan_roots(self) -> dict[ArtifactType, str]:
        return {ArtifactType.SKILL: ".agents/skills"}


PROFILE = Codex()
