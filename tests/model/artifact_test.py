from __future__ import annotations

import pytest

from skillmeat.model.artifact import (
    Artifact,
    ArtifactId,
    ArtifactType,
    check_part,
    ids_from_paths,
    split_ref,
)
from skillmeat.model.errors import BadInputError


def aid(text: str) -> ArtifactId:
    return ArtifactId.parse(text)


# --- ArtifactType ---

@pytest.mark.parametrize(("text", "expected"), [
    ("skill", ArtifactType.SKILL), ("skills", ArtifactType.SKILL), ("Skills", ArtifactType.SKILL),
    ("command", ArtifactType.COMMAND), ("commands", ArtifactType.COMMAND),
    ("agent", ArtifactType.AGENT), ("agents", ArtifactType.AGENT),
    ("hook", ArtifactType.HOOK), ("hooks", ArtifactType.HOOK),
    ("mcp", ArtifactType.MCP), ("MCP", ArtifactType.MCP), (" skill ", ArtifactType.SKILL),
])
def test_type_parse_accepts_singular_and_plural(text: str, expected: ArtifactType) -> None:
    assert ArtifactType.parse(text) is expected


@pytest.mark.parametrize("text", ["", "s", "widget", "skil", "skillz", "plugin", "mcp-server",
                                  "skill/", "skillss", "commandsss"])
def test_type_parse_rejects_junk(text: str) -> None:
    with pytest.raises(BadInputError) as info:
        ArtifactType.parse(text)
    assert info.value.exit_code == 2
    assert "unknown artifact type" in info.value.message
    assert info.value.hint


def test_type_directories() -> None:
    assert [t.directory for t in ArtifactType] == ["skills", "commands", "agents", "hooks", "mcp"]


# --- ArtifactId ---

def test_namespaced_id() -> None:
    a = aid("agent/plugin:name")
    assert a.type is ArtifactType.AGENT
    assert a.name == "plugin:name"
    assert a.namespace == "plugin"
    assert a.base == "name"
    assert str(a) == "agent/plugin:name"
    assert a.relpath == "agents/plugin/name.md"
    assert a.extra_dir is None


def test_plain_id() -> None:
    a = aid("command/review")
    assert (a.namespace, a.base) == ("", "review")
    assert str(a) == "command/review"
    assert a.relpath == "commands/review.md"


@pytest.mark.parametrize(("text", "relpath"), [
    ("skill/pdf", "skills/pdf"),
    ("skill/docs:pdf", "skills/docs/pdf"),
    ("mcp/github", "mcp/github.toml"),
    ("mcp/tools:github", "mcp/tools/github.toml"),
    ("hook/guard", "hooks/guard.toml"),
])
def test_relpaths(text: str, relpath: str) -> None:
    assert aid(text).relpath == relpath


def test_skills_are_directories_without_suffix() -> None:
    a = aid("skill/my-skill")
    assert a.relpath == "skills/my-skill"
    assert not a.relpath.endswith(".md")


def test_hooks_have_an_extra_script_dir() -> None:
    assert aid("hook/guard").extra_dir == "hooks/guard"
    assert aid("hook/sec:guard").extra_dir == "hooks/sec/guard"
    for text in ("skill/a", "command/a", "agent/a", "mcp/a"):
        assert aid(text).extra_dir is None


@pytest.mark.parametrize("text", ["agent/plugin:name", "skill/x", "mcp/a.b_c-d", "hook/n:s"])
def test_parse_and_str_round_trip(text: str) -> None:
    assert str(aid(text)) == text
    assert aid(str(aid(text))) == aid(text)


def test_ids_are_ordered_and_hashable() -> None:
    ids = {aid("skill/b"), aid("skill/a"), aid("command/z"), aid("skill/a")}
    assert len(ids) == 3
    assert sorted(ids)[0] == aid("command/z")


def test_renamed_keeps_the_type() -> None:
    assert aid("agent/p:a").renamed("b") == aid("agent/b")


@pytest.mark.parametrize("text", ["noslash", "widget/x", "skill/", "skill/../etc", "skill/a/b",
                                  "skill/.hidden", "skill/ends.", "skill/a b", "skill/ns:",
                                  "skill/a:b:c d", "command/" + "x" * 129])
def test_bad_ids_are_rejected(text: str) -> None:
    with pytest.raises(BadInputError):
        ArtifactId.parse(text)


def test_an_empty_namespace_is_rejected_not_aliased_to_the_plain_name() -> None:
    # 'skill/:x' would otherwise be a second id for the files of 'skill/x' (same relpath).
    with pytest.raises(BadInputError):
        ArtifactId(ArtifactType.SKILL, ":x")


def test_check_part_names_what_is_wrong() -> None:
    assert check_part("good-name_1.0") == "good-name_1.0"
    with pytest.raises(BadInputError, match="invalid namespace 'a/b'"):
        check_part("a/b", "namespace")


def test_split_ref() -> None:
    assert split_ref("skills/pdf") == (ArtifactType.SKILL, "pdf")
    assert split_ref("pdf") == (None, "pdf")
    assert split_ref("agent/p:x") == (ArtifactType.AGENT, "p:x")
    with pytest.raises(BadInputError):
        split_ref("gadget/pdf")


def test_artifact_to_dict() -> None:
    art = Artifact(aid("skill/docs:pdf"), "Reads PDFs", ("docs",), "1.0")
    assert art.to_dict() == {
        "id": "skill/docs:pdf", "type": "skill", "name": "docs:pdf", "namespace": "docs",
        "path": "skills/docs/pdf", "description": "Reads PDFs", "tags": ["docs"], "version": "1.0",
    }


# --- ids_from_paths ---

def test_skill_files_group_under_their_skill_including_nested_files() -> None:
    paths = ["skills/a/SKILL.md", "skills/a/ref/notes.md", "skills/a/ref/deep/x.txt",
             "skills/a/scripts/run.py"]
    assert ids_from_paths(paths) == {aid("skill/a"): paths}


def test_a_nested_skill_md_belongs_to_the_outer_skill() -> None:
    paths = ["skills/a/SKILL.md", "skills/a/examples/SKILL.md"]
    assert ids_from_paths(paths) == {aid("skill/a"): paths}


def test_namespaced_skills() -> None:
    paths = ["skills/ns/b/SKILL.md", "skills/ns/b/script.py", "skills/ns/c/SKILL.md"]
    assert ids_from_paths(paths) == {
        aid("skill/ns:b"): ["skills/ns/b/SKILL.md", "skills/ns/b/script.py"],
        aid("skill/ns:c"): ["skills/ns/c/SKILL.md"],
    }


def test_hooks_with_their_script_dirs() -> None:
    paths = ["hooks/h.toml", "hooks/h/run.sh", "hooks/h/lib/x.sh", "hooks/ns/i.toml", "hooks/ns/i/go.sh"]
    assert ids_from_paths(paths) == {
        aid("hook/h"): ["hooks/h.toml", "hooks/h/run.sh", "hooks/h/lib/x.sh"],
        aid("hook/ns:i"): ["hooks/ns/i.toml", "hooks/ns/i/go.sh"],
    }


def test_single_file_types_plain_and_namespaced() -> None:
    paths = ["commands/c.md", "commands/ns/d.md", "agents/g.md", "agents/p/q.md", "mcp/m.toml",
             "mcp/ns/n.toml"]
    assert ids_from_paths(paths) == {
        aid("command/c"): ["commands/c.md"], aid("command/ns:d"): ["commands/ns/d.md"],
        aid("agent/g"): ["agents/g.md"], aid("agent/p:q"): ["agents/p/q.md"],
        aid("mcp/m"): ["mcp/m.toml"], aid("mcp/ns:n"): ["mcp/ns/n.toml"],
    }


@pytest.mark.parametrize("path", [
    "README.md", "skillmeat.toml", "skillmeat.lock", ".gitignore",
    "skills/orphan/readme.md",          # a folder without SKILL.md
    "skills/SKILL.md",                  # no folder
    "skills/a/b/c/SKILL.md",            # too deep
    "commands/notes.txt",               # wrong suffix
    "commands/ns/sub/e.md",             # too deep
    "mcp/readme.md",
    "hooks/lonely/x.sh",                # script dir without a definition
    "hooks/hooks.json",
    "skills/Bad Name/SKILL.md",         # not a valid name
    "agents/.hidden.md",
    "other/x.md",
])
def test_files_belonging_to_nothing_are_left_out(path: str) -> None:
    assert ids_from_paths(["commands/keep.md", path]) == {aid("command/keep"): ["commands/keep.md"]}


def test_empty_input() -> None:
    assert ids_from_paths([]) == {}
