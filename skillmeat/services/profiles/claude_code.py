"""Claude Code: ``.claude/skills/<name>/``, ``.claude/commands/<name>.md``,
``.claude/agents/<name>.md``, hooks merged into ``.claude/settings.json`` (``~/.claude/``
with ``--user``)."""

from __future__ import annotations

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.services.profiles.base import (
    Files,
    Placement,
    UnsupportedError,
    hook_groups,
    moved,
    single_file,
)


class ClaudeCode:
    name = "claude_code"
    title = "Claude Code"
    sources = (
        "https://code.claude.com/docs/en/skills",
        "https://code.claude.com/docs/en/slash-commands",
        "https://code.claude.com/docs/en/sub-agents",
        "https://code.claude.com/docs/en/hooks",
    )

    def place(self, aid: ArtifactId, files: Files) -> Placement:
        base = aid.base
        if aid.type is ArtifactType.SKILL:
            target = f".claude/skills/{base}"
            return Placement((target,), moved(files, base, target))
        if aid.type in (ArtifactType.COMMAND, ArtifactType.AGENT):
            target = f".claude/{aid.type.directory}/{base}.md"
            return Placement((target,), {target: single_file(aid, files)})
        if aid.type is ArtifactType.HOOK:
            scripts = moved(files, base, f".claude/hooks/{base}")
            return Placement(tuple(sorted({f".claude/hooks/{base}"} if scripts else set())),
                             scripts, ".claude/settings.json", hook_groups(aid, files))
        raise UnsupportedError(self.name, aid, "MCP servers go into Claude Code's MCP config "
                               "(.mcp.json / ~/.claude.json), which file profiles do not write")

    def scan_roots(self) -> dict[ArtifactType, str]:
        return {ArtifactType.SKILL: ".claude/skills", ArtifactType.COMMAND: ".claude/commands",
                ArtifactType.AGENT: ".claude/agents"}


PROFILE = ClaudeCode()
