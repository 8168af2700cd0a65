"""skillmeat-validate: the artifacts the staged files belong to, checked and reported exactly
as `skillmeat validate` does; exit 1 on errors, warnings only with --strict. What export and
deploy refuse (symlinks, bad file names) is an error in both; what would never load (bad
names) is an error in the hook unless `--unloadable warning`."""

from __future__ import annotations

import os
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


def _refused_by_bundles(team: Path, tmp_path: Path) -> list[str]:
    """A skill holding what export and deploy refuse; the lines validate must print."""
    outside = tmp_path / "outside.md"
    outside.write_text("elsewhere\n")
    skill = team / "skills" / "pdf-summary"
    (skill / "notes.md").symlink_to(outside)
    (skill / "ref").symlink_to(team / "skills" / "commit-message")  # a directory, inside the repo
    (skill / "two\nlines.md").write_text("x\n")
    (skill / "back\\slash.md").write_text("x\n")
    (skill / os.fsdecode(b"caf\xe9.md")).write_text("x\n")
    refuse = "bundles, export and deploy refuse this file name (rename it)"
    link = ("is a symlink: bundles, export and deploy take only regular files (replace it with a "
            "copy of its target)")
    return [
        f'"skills/pdf-summary/back\\\\slash.md":1: error: backslash in name: {refuse}',
        f'"skills/pdf-summary/caf\\xe9.md":1: error: the file name is not UTF-8: {refuse}',
        f'"skills/pdf-summary/two\\nlines.md":1: error: forbidden character \'\\n\': {refuse}',
        f"skills/pdf-summary/notes.md:1: error: {link}",
        f"skills/pdf-summary/ref:1: error: {link}",
    ]


def test_what_export_and_deploy_refuse_is_an_error_here_and_in_skillmeat_validate(
        tmp_path: Path, team: Path) -> None:
    expected = _refused_by_bundles(team, tmp_path)
    whole = skillmeat("validate", cwd=team)
    assert whole.code == 1 and "Traceback" not in whole.err, whole
    assert [line for line in whole.out.splitlines() if "pdf-summary" in line] == expected
    ran = hook("validate", "skills/pdf-summary/SKILL.md", cwd=team)
    assert ran.code == 1, ran
    assert ran.out.splitlines() == expected
    assert ran.err.splitlines()[0] == "1 artifact checked: 5 errors, 0 warnings"
    for name in (os.fsencode(team / "skills/pdf-summary/two\nlines.md"),
                 os.fsencode(team / "skills/pdf-summary/notes.md")):
        ran = hook("validate", os.fsdecode(name), cwd=team)  # any of its files stands for it
        assert ran.code == 1 and ran.out.splitlines() == expected, ran


def test_artifacts_that_never_load_fail_the_hook_and_warn_in_skillmeat_validate(team: Path) -> None:
    write(team, "skills/with space/SKILL.md", SKILL.format(name="with-space", description="S."))
    write(team, "skills/ünï/SKILL.md", SKILL.format(name="uni", description="U."))
    write(team, "skills/shouty/SKILL.md", SKILL.format(name="Shouty_Name", description="S."))
    write(team, "skills/renamed/SKILL.md", SKILL.format(name="other", description="R."))
    files = ["skills/with space/SKILL.md", "skills/ünï/SKILL.md", "skills/shouty/SKILL.md",
             "skills/renamed/SKILL.md"]
    never = ("is not a valid artifact name, so this is never deployed (use lowercase letters, "
             "digits and hyphens, as Claude Code does)")
    lines = [
        "skills/renamed/SKILL.md:2: warning: name 'other' differs from its folder 'renamed'",
        "skills/shouty/SKILL.md:2: error: name 'Shouty_Name' must be 1-64 of a-z, 0-9 and single "
        "inner hyphens",
        f"skills/with space/SKILL.md:1: error: 'with space' {never}",
        "skills/with space/SKILL.md:1: warning: belongs to no artifact (check its folder and name)",
        f"skills/ünï/SKILL.md:1: error: 'ünï' {never}",
        "skills/ünï/SKILL.md:1: warning: belongs to no artifact (check its folder and name)",
    ]
    ran = hook("validate", *files, cwd=team)
    assert ran.code == 1, ran
    assert ran.out.splitlines() == lines
    assert ran.err.splitlines()[0] == "2 artifacts checked: 3 errors, 3 warnings"
    relaxed = hook("validate", "--unloadable", "warning", *files, cwd=team)
    assert relaxed.code == 0, relaxed
    assert relaxed.out.splitlines() == [line.replace(": error: ", ": warning: ") for line in lines]
    whole = skillmeat("validate", cwd=team)
    assert whole.code == 0, whole
    assert [line for line in whole.out.splitlines() if line.startswith("skills/")] == relaxed.out.splitlines()
    every = hook("validate", "--all", cwd=team)
    assert every.code == 1 and [line for line in every.out.splitlines()
                                if line.startswith("skills/")] == lines, every
