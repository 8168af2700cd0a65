from __future__ import annotations

from typing import Any

import pytest

from skillmeat.model import frontmatter, rules
from skillmeat.model.artifact import ArtifactType
from skillmeat.model.diagnostics import Diagnostic

PATH = "skills/my-skill/SKILL.md"


def skill(fields: str, body: str = "Do the thing.\n") -> frontmatter.Frontmatter:
    return frontmatter.parse(f"---\n{fields}---\n{body}".encode(), PATH)


def check_skill(fields: str, level: rules.Level, folder: str = "my-skill",
                body: str = "Do the thing.\n") -> list[Diagnostic]:
    return rules.check_markdown(ArtifactType.SKILL, skill(fields, body), PATH, folder, level)


def found(diags: list[Diagnostic]) -> list[tuple[str, str]]:
    return [(d.level, d.code) for d in diags]


# --- skills: the six spec fields ---

def test_a_spec_clean_skill_has_no_diagnostics_at_either_level() -> None:
    fields = ("name: my-skill\ndescription: Does a thing.\nlicense: MIT\ncompatibility: any\n"
              "metadata:\n  author: me\nallowed-tools: Read Grep\n")
    assert check_skill(fields, "spec") == []
    assert check_skill(fields, "claude-code") == []


@pytest.mark.parametrize("extra", ["model: opus", "argument-hint: '[file]'", "version: 1.0.0",
                                   "disable-model-invocation: true", "when_to_use: often"])
def test_claude_code_fields_are_errors_at_spec_level_and_fine_at_claude_code_level(extra: str) -> None:
    fields = f"name: my-skill\ndescription: Does a thing.\n{extra}\n"
    key = extra.split(":")[0]
    spec = check_skill(fields, "spec")
    assert found(spec) == [("error", "unknown-field")]
    assert spec[0].line == 4
    assert key in spec[0].message
    assert check_skill(fields, "claude-code") == []


def test_unknown_fields_are_warnings_at_claude_code_level_and_errors_at_spec_level() -> None:
    fields = "name: my-skill\ndescription: Does a thing.\nflavour: vanilla\n"
    cc = check_skill(fields, "claude-code")
    assert found(cc) == [("warning", "unknown-field")]
    assert cc[0].line == 4
    assert found(check_skill(fields, "spec")) == [("error", "unknown-field")]


@pytest.mark.parametrize("name", ["a", "1", "my-skill", "a-1-b", "abc123", "a" * 64])
def test_valid_spec_names(name: str) -> None:
    assert check_skill(f"name: '{name}'\ndescription: d\n", "spec", folder=name) == []


@pytest.mark.parametrize("name", ["-a", "a-", "a--b", "My-Skill", "a_b", "a.b", "a b", "a" * 65, "é"])
def test_invalid_spec_names_are_errors_at_spec_level_and_warnings_otherwise(name: str) -> None:
    fields = f"name: '{name}'\ndescription: d\n"
    spec = check_skill(fields, "spec", folder=name)
    assert found(spec) == [("error", "bad-name")]
    assert spec[0].line == 2
    assert found(check_skill(fields, "claude-code", folder=name)) == [("warning", "bad-name")]


@pytest.mark.parametrize("value", ["''", "123", "[a, b]"])
def test_empty_or_non_string_name_is_bad(value: str) -> None:
    assert found(check_skill(f"name: {value}\ndescription: d\n", "spec")) == [("error", "bad-name")]


def test_name_must_equal_the_folder() -> None:
    spec = check_skill("name: other-name\ndescription: d\n", "spec", folder="my-skill")
    assert found(spec) == [("error", "name-mismatch")]
    assert "my-skill" in spec[0].message
    cc = check_skill("name: other-name\ndescription: d\n", "claude-code", folder="my-skill")
    assert found(cc) == [("warning", "name-mismatch")]


def test_missing_name() -> None:
    assert found(check_skill("description: d\n", "spec")) == [("error", "missing-name")]
    assert found(check_skill("description: d\n", "claude-code")) == [("warning", "missing-name")]


def test_skill_without_frontmatter_fails_spec_but_only_warns_for_claude_code() -> None:
    fm = frontmatter.parse(b"Just instructions.\n", PATH)
    spec = rules.check_markdown(ArtifactType.SKILL, fm, PATH, "my-skill", "spec")
    assert ("error", "missing-name") in found(spec)
    cc = rules.check_markdown(ArtifactType.SKILL, fm, PATH, "my-skill", "claude-code")
    assert all(d.level == "warning" for d in cc)
    assert ("warning", "no-frontmatter") in found(cc)


@pytest.mark.parametrize("length", [1, 1024])
def test_description_lengths_within_bounds(length: int) -> None:
    assert check_skill(f"name: my-skill\ndescription: {'x' * length}\n", "spec") == []


def test_description_over_1024_characters() -> None:
    fields = f"name: my-skill\ndescription: {'x' * 1025}\n"
    spec = check_skill(fields, "spec")
    assert found(spec) == [("error", "long-description")]
    assert spec[0].line == 3
    assert "1025" in spec[0].message
    assert found(check_skill(fields, "claude-code")) == [("warning", "long-description")]


@pytest.mark.parametrize("fields", ["name: my-skill\n", "name: my-skill\ndescription: ''\n",
                                    "name: my-skill\ndescription: '   '\n"])
def test_missing_or_empty_description(fields: str) -> None:
    assert found(check_skill(fields, "spec")) == [("error", "missing-description")]
    assert found(check_skill(fields, "claude-code")) == [("warning", "missing-description")]


def test_non_string_description_is_an_error() -> None:
    assert found(check_skill("name: my-skill\ndescription: [a, b]\n", "claude-code")) == [
        ("error", "bad-description")]


def test_empty_body_is_a_warning() -> None:
    assert found(check_skill("name: my-skill\ndescription: d\n", "spec", body="\n  \n")) == [
        ("warning", "empty-body")]


def test_frontmatter_diagnostics_are_passed_through() -> None:
    fields = "name: my-skill\nargument-hint: [a] | b\ndescription: d\n"
    diags = check_skill(fields, "claude-code")
    assert found(diags) == [("warning", "invalid-yaml")]
    assert diags[0].line == 3


# --- commands and agents ---

def test_command_fields() -> None:
    fm = frontmatter.parse(b"---\ndescription: d\nargument-hint: '[x]'\nmodel: haiku\n---\nGo.\n", "c.md")
    assert rules.check_markdown(ArtifactType.COMMAND, fm, "c.md", "c", "spec") == []
    odd = frontmatter.parse(b"---\ndescription: d\ncolour: red\n---\nGo.\n", "c.md")
    assert found(rules.check_markdown(ArtifactType.COMMAND, odd, "c.md", "c", "claude-code")) == [
        ("warning", "unknown-field")]


def test_command_without_description_is_fine() -> None:
    fm = frontmatter.parse(b"---\nmodel: haiku\n---\nGo.\n", "c.md")
    assert rules.check_markdown(ArtifactType.COMMAND, fm, "c.md", "c", "claude-code") == []


def test_agent_needs_name_and_description() -> None:
    good = frontmatter.parse(b"---\nname: rev\ndescription: Reviews.\ntools: Read\ncolor: red\n---\nx\n",
                             "a.md")
    assert rules.check_markdown(ArtifactType.AGENT, good, "a.md", "rev", "claude-code") == []
    bare = frontmatter.parse(b"---\ntools: Read\n---\nx\n", "a.md")
    assert sorted(found(rules.check_markdown(ArtifactType.AGENT, bare, "a.md", "rev", "claude-code"))) == [
        ("warning", "missing-description"), ("warning", "missing-name")]


# --- hooks ---

def command_hook(event: str = "PreToolUse", **entry: Any) -> dict[str, Any]:
    return {"hooks": {event: [{"matcher": "Bash",
                               "hooks": [{"type": "command", "command": "./check.sh", **entry}]}]}}


def test_a_valid_hook() -> None:
    assert rules.check_hook(command_hook(), "hooks/h.toml") == []
    data = {"description": "d", "hooks": {
        "Stop": [{"hooks": [{"type": "prompt", "prompt": "sum up"}]}],
        "SessionStart": [{"hooks": [{"type": "http", "url": "http://x"}]}],
    }}
    assert rules.check_hook(data, "hooks/h.toml") == []


@pytest.mark.parametrize("data", [{}, {"hooks": {}}, {"hooks": "PreToolUse"}, {"hooks": []}])
def test_hook_without_events_is_an_error(data: dict[str, Any]) -> None:
    diags = rules.check_hook(data, "hooks/h.toml")
    assert found(diags) == [("error", "no-hooks")]
    assert diags[0].path == "hooks/h.toml"


def test_unknown_hook_event_is_a_warning() -> None:
    assert found(rules.check_hook(command_hook("BeforeEverything"), "h.toml")) == [
        ("warning", "unknown-event")]


def test_hook_event_must_hold_an_array() -> None:
    assert found(rules.check_hook({"hooks": {"Stop": {"hooks": []}}}, "h.toml")) == [
        ("error", "bad-hooks")]


@pytest.mark.parametrize("group", [{}, {"hooks": []}, {"hooks": "x"}, "not a table"])
def test_hook_group_needs_non_empty_hooks(group: Any) -> None:
    assert found(rules.check_hook({"hooks": {"Stop": [group]}}, "h.toml")) == [("error", "bad-hooks")]


def test_hook_entry_type_must_be_known() -> None:
    diags = rules.check_hook(command_hook(type="shell"), "h.toml")
    assert found(diags) == [("error", "bad-hook-type")]
    assert "hooks.PreToolUse[0].hooks[0]" in diags[0].message


def test_command_hook_needs_a_command() -> None:
    assert found(rules.check_hook(command_hook(command=""), "h.toml")) == [("error", "bad-hook")]


# --- MCP servers ---

@pytest.mark.parametrize("data", [
    {"transport": "stdio", "command": "npx", "args": ["-y", "server"]},
    {"command": "uvx"},
    {"transport": "http", "url": "https://mcp.example.com/mcp"},
    {"transport": "sse", "url": "https://mcp.example.com/sse", "headers": {"A": "${TOKEN}"}},
    {"transport": "ws", "url": "wss://mcp.example.com"},
    {"transport": "stdio", "command": "srv", "env": {"KEY": "${KEY}"}},
])
def test_valid_mcp_servers(data: dict[str, Any]) -> None:
    assert rules.check_mcp(data, "mcp/s.toml") == []


@pytest.mark.parametrize(("data", "code"), [
    ({"transport": "stdio"}, "no-command"),
    ({"transport": "stdio", "command": ""}, "no-command"),
    ({"transport": "stdio", "command": ["npx"]}, "no-command"),
    ({"transport": "stdio", "url": "https://x"}, "no-command"),
    ({"transport": "http"}, "no-url"),
    ({"transport": "http", "command": "npx"}, "no-url"),
    ({"transport": "sse", "url": ""}, "no-url"),
    ({"transport": "ws"}, "no-url"),
    ({"transport": "carrier-pigeon", "url": "x"}, "bad-transport"),
    ({}, "bad-transport"),
    ({"url": "https://x"}, "bad-transport"),
    ({"command": "x", "args": "--flag"}, "bad-args"),
    ({"command": "x", "args": [1, 2]}, "bad-args"),
    ({"command": "x", "env": ["A=1"]}, "bad-table"),
    ({"transport": "http", "url": "https://x", "headers": "A: b"}, "bad-table"),
])
def test_invalid_mcp_servers(data: dict[str, Any], code: str) -> None:
    diags = rules.check_mcp(data, "mcp/s.toml")
    assert found(diags) == [("error", code)]
    assert diags[0].path == "mcp/s.toml"
