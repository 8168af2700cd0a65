"""Validation rules per artifact type, at two levels.

``spec``: the Agent Skills specification (only its six fields; strict name rules).
``claude-code``: what Claude Code accepts (its extra fields allowed; unknown fields warned).
"""

from __future__ import annotations

from typing import Any, Literal

from skillmeat.model.artifact import SPEC_NAME_RE, ArtifactType
from skillmeat.model.diagnostics import Diagnostic, error, warning
from skillmeat.model.filenames import shown
from skillmeat.model.frontmatter import Frontmatter

Level = Literal["spec", "claude-code"]

SPEC_SKILL_FIELDS = frozenset(
    {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
)
CLAUDE_SKILL_FIELDS = SPEC_SKILL_FIELDS | {
    "argument-hint", "disable-model-invocation", "user-invocable", "model", "effort",
    "context", "agent", "hooks", "paths", "shell", "version", "when_to_use",
}
CLAUDE_COMMAND_FIELDS = CLAUDE_SKILL_FIELDS
CLAUDE_AGENT_FIELDS = frozenset(
    {
        "name", "description", "tools", "disallowedTools", "model", "permissionMode",
        "maxTurns", "skills", "mcpServers", "hooks", "memory", "background", "isolation",
        "color", "effort", "initialPrompt", "version", "license", "metadata",
    }
)
HOOK_EVENTS = frozenset(
    {
        "PreToolUse", "PostToolUse", "PostToolUseFailure", "Notification", "UserPromptSubmit",
        "SessionStart", "SessionEnd", "Stop", "StopFailure", "SubagentStart", "SubagentStop",
        "PreCompact", "PostCompact", "PermissionRequest", "PermissionDenied", "Setup",
        "TeammateIdle", "TaskCreated", "TaskCompleted", "ConfigChange", "CwdChanged",
        "FileChanged", "WorktreeCreate", "WorktreeRemove", "InstructionsLoaded", "Elicitation",
        "ElicitationResult",
    }
)
HOOK_ENTRY_TYPES = frozenset({"command", "prompt", "agent", "http", "mcp_tool"})
MCP_TRANSPORTS = frozenset({"stdio", "http", "streamable-http", "sse", "ws"})
# Findings about artifacts that would never load: a name Claude Code does not accept (its
# skill names are lowercase letters, digits and hyphens, at most 64) or a path SkillMeat
# cannot make an artifact of (never deployed). Warnings for `skillmeat validate`, which also
# checks sources SkillMeat renames on `add`; errors in the commit hook by default.
UNLOADABLE = frozenset({"bad-name", "bad-artifact-name"})
_MAIN_SUFFIX = {"commands": ".md", "agents": ".md", "hooks": ".toml", "mcp": ".toml"}


def artifact_name_of(path: str) -> str | None:
    """The name ``path`` would give an artifact if it is shaped like an artifact's main file
    (``skills/[PLUGIN/]NAME/SKILL.md``, ``commands/[PLUGIN/]NAME.md``, ...), else None."""
    parts = path.split("/")
    if parts[0] == "skills":
        return ":".join(parts[1:-1]) if len(parts) in (3, 4) and parts[-1] == "SKILL.md" else None
    suffix = _MAIN_SUFFIX.get(parts[0])
    if suffix and len(parts) in (2, 3) and parts[-1].endswith(suffix):
        return ":".join([*parts[1:-1], parts[-1][: -len(suffix)]])
    return None


def bad_artifact_name(path: str) -> Diagnostic | None:
    """A file shaped like an artifact's main file whose name no artifact may have."""
    name = artifact_name_of(path)
    if name is None:
        return None
    return warning(path, 1, "bad-artifact-name",
                   f"'{shown(name)}' is not a valid artifact name, so this is never deployed (use "
                   "lowercase letters, digits and hyphens, as Claude Code does)")


def check_markdown(
    type_: ArtifactType, fm: Frontmatter, path: str, stem: str, level: Level
) -> list[Diagnostic]:
    """Rules for a SKILL.md (stem = folder name), command or agent file (stem = file name)."""
    diags = list(fm.diagnostics)
    if type_ is ArtifactType.SKILL:
        diags += _skill(fm, path, stem, level)
    elif type_ is ArtifactType.AGENT:
        diags += _agent(fm, path, stem)
    else:
        diags += _unknown_fields(fm, path, CLAUDE_COMMAND_FIELDS, "a command")
        diags += _description(fm, path, required=False)
    if not fm.body.strip():
        diags.append(warning(path, 1, "empty-body", "no instructions after the frontmatter"))
    return diags


def _skill(fm: Frontmatter, path: str, folder: str, level: Level) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    strict = level == "spec"
    if not fm.present:
        if strict:
            diags.append(error(path, 1, "missing-name", "SKILL.md needs frontmatter with name"))
        return diags
    allowed = SPEC_SKILL_FIELDS if strict else CLAUDE_SKILL_FIELDS
    for key in fm.data:
        if key not in allowed:
            line = fm.line_of(key)
            if strict:
                diags.append(error(path, line, "unknown-field",
                                   f"'{key}' is not an Agent Skills field"))
            elif key not in SPEC_SKILL_FIELDS:
                diags.append(warning(path, line, "unknown-field",
                                     f"'{key}' is not a known skill field"))
    name = fm.data.get("name")
    report = error if strict else warning
    if name is None:
        diags.append(report(path, 1, "missing-name", "skill has no 'name'"))
    elif not isinstance(name, str) or not 1 <= len(name) <= 64 or not SPEC_NAME_RE.match(name):
        diags.append(report(path, fm.line_of("name"), "bad-name",
                            f"name '{name}' must be 1-64 of a-z, 0-9 and single inner hyphens"))
    elif name != folder:
        diags.append(report(path, fm.line_of("name"), "name-mismatch",
                            f"name '{name}' differs from its folder '{folder}'"))
    diags += _description(fm, path, required=True, strict=strict)
    return diags


def _agent(fm: Frontmatter, path: str, stem: str) -> list[Diagnostic]:
    diags = _unknown_fields(fm, path, CLAUDE_AGENT_FIELDS, "an agent")
    if fm.present and "name" not in fm.data:
        diags.append(warning(path, 1, "missing-name", "agent has no 'name'"))
    diags += _description(fm, path, required=True)
    return diags


def _unknown_fields(
    fm: Frontmatter, path: str, allowed: frozenset[str], what: str
) -> list[Diagnostic]:
    return [
        warning(path, fm.line_of(key), "unknown-field", f"'{key}' is not a known field of {what}")
        for key in fm.data
        if key not in allowed
    ]


def _description(
    fm: Frontmatter, path: str, *, required: bool, strict: bool = False
) -> list[Diagnostic]:
    value = fm.data.get("description")
    if value is None or (isinstance(value, str) and not value.strip()):
        if required and fm.present:
            make = error if strict else warning
            return [make(path, 1, "missing-description", "no 'description'")]
        return []
    if not isinstance(value, str):
        return [error(path, fm.line_of("description"), "bad-description",
                      "description must be a string")]
    if len(value) > 1024:
        make = error if strict else warning
        return [make(path, fm.line_of("description"), "long-description",
                     f"description is {len(value)} characters (at most 1024)")]
    return []


def check_hook(data: dict[str, Any], path: str) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    hooks = data.get("hooks")
    if not isinstance(hooks, dict) or not hooks:
        return [error(path, 1, "no-hooks", "a hook definition needs a [hooks] table of events")]
    for event, groups in hooks.items():
        if event not in HOOK_EVENTS:
            diags.append(warning(path, 1, "unknown-event", f"unknown hook event '{event}'"))
        if not isinstance(groups, list):
            diags.append(error(path, 1, "bad-hooks", f"hooks.{event} must be an array of tables"))
            continue
        for i, group in enumerate(groups):
            diags += _hook_group(group, f"hooks.{event}[{i}]", path)
    return diags


def _hook_group(group: Any, where: str, path: str) -> list[Diagnostic]:
    entries = group.get("hooks") if isinstance(group, dict) else None
    if not isinstance(entries, list) or not entries:
        return [error(path, 1, "bad-hooks", f"{where} needs a non-empty 'hooks' array")]
    diags: list[Diagnostic] = []
    for j, entry in enumerate(entries):
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind not in HOOK_ENTRY_TYPES:
            diags.append(error(path, 1, "bad-hook-type", f"{where}.hooks[{j}] has type {kind!r}"))
        elif kind == "command" and not entry.get("command"):
            diags.append(error(path, 1, "bad-hook", f"{where}.hooks[{j}] has no 'command'"))
    return diags


def check_mcp(data: dict[str, Any], path: str) -> list[Diagnostic]:
    transport = data.get("transport", "stdio" if "command" in data else None)
    if transport not in MCP_TRANSPORTS:
        return [error(path, 1, "bad-transport",
                      f"transport {transport!r} is not one of stdio, http (streamable-http), sse, ws")]
    if transport == "stdio":
        if not isinstance(data.get("command"), str) or not data["command"]:
            return [error(path, 1, "no-command", "a stdio server needs a 'command'")]
        args = data.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            return [error(path, 1, "bad-args", "'args' must be an array of strings")]
    elif not isinstance(data.get("url"), str) or not data["url"]:
        return [error(path, 1, "no-url", f"an {transport} server needs a 'url'")]
    for table in ("env", "headers"):
        value = data.get(table, {})
        if not isinstance(value, dict):
            return [error(path, 1, "bad-table", f"'{table}' must be a table of strings")]
    return []
