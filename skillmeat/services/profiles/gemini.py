"""Gemini CLI: Agent Skills in ``.gemini/skills/<name>/``; commands converted to Gemini's
TOML custom commands in ``.gemini/commands/<name>.toml`` (``~/.gemini/...`` with ``--user``)."""

from __future__ import annotations

from skillmeat.model import frontmatter, toml_text
from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.services.profiles.base import Files, Placement, UnsupportedError, moved, single_file


class Gemini:
    name = "gemini"
    title = "Gemini CLI"
    sources = (
        "https://geminicli.com/docs/cli/skills",
        "https://geminicli.com/docs/cli/custom-commands",
    )

    def place(self, aid: ArtifactId, files: Files) -> Placement:
        if aid.type is ArtifactType.SKILL:
            target = f".gemini/skills/{aid.base}"
            return Placement((target,), moved(files, aid.base, target))
        if aid.type is ArtifactType.COMMAND:
            target = f".gemini/commands/{aid.base}.toml"
            data, _mode = single_file(aid, files)
            return Placement((target,), {target: (command_toml(data, aid.relpath), 0o100644)})
        raise UnsupportedError(self.name, aid, "Gemini CLI takes skills and commands only")

    def scan_roots(self) -> dict[ArtifactType, str]:
        return {ArtifactType.SKILL: ".gemini/skills", ArtifactType.COMMAND: ".gemini/commands"}


def command_toml(markdown: bytes, path: str) -> bytes:
    """A Claude Code command as a Gemini custom command: description + prompt ({{args}})."""
    fm = frontmatter.parse(markdown, path)
    prompt = fm.body.strip().replace("$ARGUMENTS", "{{args}}")
    items = {"description": fm.text("description"), "prompt": prompt}
    return "".join(f"{k} = {toml_text.value(v)}\n" for k, v in items.items() if v).encode()


PROFILE = Gemini()
