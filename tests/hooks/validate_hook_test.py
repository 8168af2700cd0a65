"""skillmeat-validate: the artifacts the staged files belong to, checked and reported exactly
as `skillmeat validate` does; exit 1 on errors, warnings only with --strict."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.runner import skillmeat
from tests.helpers import tree_state
from tests.hooks.teamrepo import SKILL, artifact_files, hook, team_repo, write


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return team_repo(tmp_path)


def test_a_good_collection_passes_with_the_output_of_skillmeat_validate(team: Path) -> None:
    whole = skillmeat("validate", cwd=team)
    assert whole.code == 0, whole.err
    for args in (artifact_files(team), [], ["--all"]):
        ran = hook("validate", *args, cwd=team)
        assert ran.code == 0, ran
        assert ran.out == whole.out  # the one warning of examples/commands/deploy-check.md
        assert "deploy-check.md:3: warning: invalid YAML frontmatter" in ran.out
        assert ran.err == "8 artifacts checked: 0 errors, 1 warning\n"


def test_a_file_deep_in_a_skill_validates_that_whole_skill(team: Path) -> None:
    write(team, "skills/pdf-summary/SKILL.md",
          "---\nname: pdf-summary\ndescription: [not, a, string]\n---\n\nSummarise.\n")
    before = tree_state(team)
    ran = hook("validate", "skills/pdf-summary/scripts/extract.py", cwd=team)
    assert ran.code == 1, ran
    assert ran.out == "skills/pdf-summary/SKILL.md:3: error: description must be a string\n"
    assert ran.err.splitlines() == [
        "1 artifact checked: 1 error, 0 warnings",
        f"skillmeat-validate: error: 1 error in {team}",
    ]
    assert tree_state(team) == before
    # the other skill alone is fine, and so is a command
    assert hook("validate", "skills/commit-message/SKILL.md", "commands/review.md", cwd=team).code == 0


def test_plugin_namespaced_artifacts_are_found_from_any_of_their_files(team: Path) -> None:
    write(team, "skills/acme/helper/SKILL.md", SKILL.format(name="assistant", description="Helps."))
    write(team, "skills/acme/helper/reference/notes.md", "Notes.\n")
    write(team, "agents/acme/scout.md", "---\nname: scout\ndescription: 3\nmodel: 7\n---\nLook.\n")
    ran = hook("validate", "skills/acme/helper/reference/notes.md", cwd=team)
    assert ran.code == 0, ran
    assert ran.out == ("skills/acme/helper/SKILL.md:2: warning: name 'assistant' differs from "
                       "its folder 'helper'\n")
    assert ran.err == "1 artifact checked: 0 errors, 1 warning\n"
    ran = hook("validate", "agents/acme/scout.md", cwd=team)
    assert ran.code == 1, ran
    assert ran.out == "agents/acme/scout.md:3: error: description must be a string\n"


def test_hooks_and_mcp_definitions_are_validated_too(team: Path) -> None:
    write(team, "hooks/broken.toml", "description = 'no hooks table'\n")
    write(team, "mcp/pigeon.toml", "transport = 'carrier-pigeon'\n")
    ran = hook("validate", "hooks/broken.toml", "mcp/pigeon.toml", cwd=team)
    assert ran.code == 1, ran
    assert ran.out.splitlines() == [
        "hooks/broken.toml:1: error: a hook definition needs a [hooks] table of events",
        "mcp/pigeon.toml:1: error: transport 'carrier-pigeon' is not one of stdio, http "
        "(streamable-http), sse, ws",
    ]


def test_stray_files_warn_like_skillmeat_validate_and_fail_only_when_strict(team: Path) -> None:
    write(team, "commands/notes.txt", "not a command\n")
    whole = skillmeat("validate", cwd=team).out.splitlines()
    ran = hook("validate", "commands/notes.txt", cwd=team)
    assert ran.code == 0, ran
    assert ran.out.splitlines() == [line for line in whole if line.startswith("commands/notes.txt")]
    assert len(ran.out.splitlines()) == 2 and "belongs to no artifact" in ran.out
    strict = hook("validate", "--strict", "commands/notes.txt", cwd=team)
    assert strict.code == 1, strict
    assert strict.out == ran.out.replace(": warning: ", ": error: ")


def test_strict_is_the_agent_skills_spec_level(team: Path) -> None:
    write(team, "skills/loose/SKILL.md",
          "---\nname: loose\ndescription: Loose.\nmodel: opus\n---\n\nBody.\n")
    assert hook("validate", "skills/loose/SKILL.md", cwd=team).code == 0
    ran = hook("validate", "--strict", "skills/loose/SKILL.md", cwd=team)
    assert ran.code == 1, ran
    assert ran.out == "skills/loose/SKILL.md:4: error: 'model' is not an Agent Skills field\n"


def test_paths_are_taken_relative_to_the_working_directory(team: Path) -> None:
    write(team, "skills/pdf-summary/SKILL.md", "---\nname: pdf-summary\ndescription: [x]\n---\nA.\n")
    ran = hook("validate", "pdf-summary/scripts/extract.py", cwd=team / "skills")
    assert ran.code == 1 and "skills/pdf-summary/SKILL.md:3: error:" in ran.out, ran


def test_outside_a_collection_and_bad_usage_are_one_line(tmp_path: Path, team: Path) -> None:
    ran = hook("validate", "skills/x/SKILL.md", cwd=tmp_path)
    assert ran.code == 1 and ran.out == "", ran
    assert ran.err.count("\n") == 1 and ran.err.startswith("skillmeat-validate: error: ")
    assert "not inside a SkillMeat collection" in ran.err and "Traceback" not in ran.err
    bad = hook("validate", "--bogus", cwd=team)
    assert bad.code == 2 and bad.err.count("\n") == 1, bad
    assert bad.err.startswith("skillmeat-validate: error: unrecognized arguments: --bogus")
