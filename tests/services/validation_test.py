from __future__ import annotations

from pathlib import Path

import pytest

from skillmeat.model.errors import BadInputError, SourceError
from skillmeat.services.validation import Report, validate_path

GOOD_SKILL = "---\nname: pdf\ndescription: Reads PDFs.\n---\nUse pdftotext.\n"
GOOD_HOOK = ("[[hooks.PreToolUse]]\nmatcher = 'Bash'\n"
             "[[hooks.PreToolUse.hooks]]\ntype = 'command'\ncommand = 'x'\n")


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def found(report: Report) -> set[tuple[str, int, str, str]]:
    return {(d.path, d.line, d.level, d.code) for d in report.diagnostics}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return make(tmp_path / "coll", {
        "skillmeat.toml": "[collection]\nname = 'coll'\n",
        "skills/pdf/SKILL.md": GOOD_SKILL,
        "skills/pdf/scripts/run.py": "print()\n",
        "commands/ship.md": "---\ndescription: Ship it\nargument-hint: '[env]'\n---\nShip.\n",
        "agents/rev.md": "---\nname: rev\ndescription: Reviews code.\ntools: Read, Grep\n---\nReview.\n",
        "hooks/guard.toml": GOOD_HOOK,
        "mcp/files.toml": "transport = 'stdio'\ncommand = 'files-mcp'\nargs = ['--root', '.']\n",
        "mcp/web.toml": "transport = 'http'\nurl = 'https://mcp.example.com'\n",
    })


def test_a_clean_collection(good: Path) -> None:
    report = validate_path(good)
    assert report.diagnostics == []
    assert report.artifacts == 6
    assert (report.errors, report.warnings) == (0, 0)
    assert report.root == str(good)


def test_a_clean_collection_is_also_clean_in_strict_mode(good: Path) -> None:
    report = validate_path(good, strict=True)
    assert report.diagnostics == []


def test_problems_are_reported_with_file_and_line(good: Path) -> None:
    make(good, {
        "skills/Bad_Name/SKILL.md": "---\nname: Bad_Name\ndescription: d\n---\nx\n",
        "skills/wrong/SKILL.md": "---\nname: other\ndescription: d\nflavour: x\n---\nx\n",
        "commands/hint.md": "---\ndescription: Hint\nargument-hint: [a] | b\n---\nx\n",
        "agents/nameless.md": "---\ndescription: d\n---\nx\n",
        "hooks/broken.toml": "[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ntype = 'shell'\n",
        "hooks/notoml.toml": "this is = = not toml\n",
        "mcp/nourl.toml": "transport = 'sse'\n",
        "skills/orphan/readme.md": "no SKILL.md here\n",
    })
    report = validate_path(good)
    assert found(report) >= {
        ("skills/Bad_Name/SKILL.md", 2, "warning", "bad-name"),
        ("skills/wrong/SKILL.md", 2, "warning", "name-mismatch"),
        ("skills/wrong/SKILL.md", 4, "warning", "unknown-field"),
        ("commands/hint.md", 3, "warning", "invalid-yaml"),
        ("agents/nameless.md", 1, "warning", "missing-name"),
        ("hooks/broken.toml", 1, "error", "bad-hook-type"),
        ("hooks/notoml.toml", 1, "error", "bad-toml"),
        ("mcp/nourl.toml", 1, "error", "no-url"),
        ("skills/orphan/readme.md", 1, "warning", "stray-file"),
    }
    assert report.errors == 3
    assert report.diagnostics == sorted(report.diagnostics)
    assert report.artifacts == 6 + 7


def test_a_broken_manifest_is_an_error(good: Path) -> None:
    (good / "skillmeat.toml").write_text("[collection\n")
    assert ("skillmeat.toml", 1, "error", "bad-manifest") in found(validate_path(good))
    (good / "skillmeat.toml").write_text("[collection]\nversion = '1'\n")
    report = validate_path(good)
    assert ("skillmeat.toml", 1, "error", "bad-manifest") in found(report)


def test_strict_applies_the_spec_and_turns_warnings_into_errors(good: Path) -> None:
    make(good, {
        "skills/extra/SKILL.md": "---\nname: extra\ndescription: d\nmodel: opus\n---\nx\n",
        "commands/empty.md": "---\ndescription: nothing below\n---\n",
    })
    relaxed = validate_path(good)
    assert found(relaxed) == {("commands/empty.md", 1, "warning", "empty-body")}
    strict = validate_path(good, strict=True)
    assert found(strict) == {
        ("commands/empty.md", 1, "error", "empty-body"),
        ("skills/extra/SKILL.md", 4, "error", "unknown-field"),
    }
    assert (strict.errors, strict.warnings) == (2, 0)


def test_a_single_skill_directory(tmp_path: Path) -> None:
    skill = make(tmp_path / "pdf", {"SKILL.md": GOOD_SKILL})
    report = validate_path(skill)
    assert report.artifacts == 1
    assert report.diagnostics == []
    (skill / "SKILL.md").write_text("---\nname: pdf\n---\nx\n")
    report = validate_path(skill, strict=True)
    assert found(report) == {("SKILL.md", 1, "error", "missing-description")}


def test_a_skill_md_file_is_validated_as_its_folder(tmp_path: Path) -> None:
    skill = make(tmp_path / "pdf", {"SKILL.md": "---\nname: other\ndescription: d\n---\nx\n"})
    report = validate_path(skill / "SKILL.md", strict=True)
    assert report.artifacts == 1
    assert found(report) == {("SKILL.md", 2, "error", "name-mismatch")}


def test_a_single_command_file(tmp_path: Path) -> None:
    path = make(tmp_path / "commands", {"ship.md": "---\ndescription: d\nargument-hint: [x] | y\n---\nGo.\n"})
    report = validate_path(path / "ship.md")
    assert report.artifacts == 1
    assert report.root == str(path)
    assert found(report) == {("ship.md", 3, "warning", "invalid-yaml")}
    assert report.errors == 0
    strict = validate_path(path / "ship.md", strict=True)
    assert found(strict) == {("ship.md", 3, "error", "invalid-yaml")}


def test_a_single_hook_and_mcp_file(tmp_path: Path) -> None:
    hooks = make(tmp_path / "hooks", {"h.toml": "[hooks]\n"})
    assert found(validate_path(hooks / "h.toml")) == {("h.toml", 1, "error", "no-hooks")}
    mcp = make(tmp_path / "mcp", {"m.toml": "transport = 'stdio'\n"})
    assert found(validate_path(mcp / "m.toml")) == {("m.toml", 1, "error", "no-command")}


def test_a_single_file_of_unknown_kind(tmp_path: Path) -> None:
    path = make(tmp_path / "misc", {"notes.md": "x\n"})
    with pytest.raises(BadInputError, match="cannot tell"):
        validate_path(path / "notes.md")


def test_a_plugin_tree_with_generated_hook_and_mcp_definitions(tmp_path: Path) -> None:
    plugin = make(tmp_path / "plug", {
        ".claude-plugin/plugin.json": '{"name": "kit"}',
        "hooks/hooks.json": '{"hooks": {"Stop": [{"hooks": [{"type": "command"}]}]}}',
        ".mcp.json": '{"mcpServers": {"web": {"type": "http"}}}',
        "commands/go.md": "---\ndescription: Go\n---\nGo.\n",
    })
    report = validate_path(plugin)
    assert report.artifacts == 2  # the server without a url is not an artifact: an error says so
    assert {(d.level, d.code) for d in report.diagnostics} == {("error", "bad-hook"), ("error", "bad-mcp")}


def test_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        validate_path(tmp_path / "nope")
