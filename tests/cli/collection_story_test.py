"""User stories through the real CLI: comments survive, upstream updates, bad input changes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.runner import ok, skillmeat
from tests.helpers import EXAMPLES, git, tree_state


def _collection_path() -> Path:
    return Path(os.environ["SKILLMEAT_HOME"]) / "collections" / "story"


@pytest.fixture
def story(tmp_path: Path) -> Path:
    ok("collection", "create", "story")
    return _collection_path()


def test_user_comment_survives_add_remove_update(story: Path, upstream_repo: Path) -> None:
    manifest = story / "skillmeat.toml"
    text = manifest.read_text().replace("[collection]", "# team notes: keep this\n[collection]")
    manifest.write_text(text + "# trailing note\n")
    ok("add", f"file://{upstream_repo}", "--all")
    ok("add", str(EXAMPLES), "--name", "review", "--type", "command")
    entry = '[artifacts."command/wave"]'
    lines = manifest.read_text().splitlines()
    lines.insert(lines.index(entry) + 1, "# why we keep wave")
    manifest.write_text("\n".join(lines) + "\n")
    ok("remove", "command/review")
    (upstream_repo / "skills" / "greeter" / "SKILL.md").write_text(
        "---\nname: greeter\ndescription: Greets people warmly.\n---\n\nSay hello twice.\n")
    git("commit", "-qam", "warmer", cwd=upstream_repo)
    ok("update", "--yes")
    final = manifest.read_text()
    for comment in ("# team notes: keep this", "# trailing note", "# why we keep wave"):
        assert comment in final
    assert '[artifacts."command/review"]' not in final
    assert git("status", "--porcelain", cwd=story) == ""


def test_update_from_file_url_shows_the_diff_then_applies(story: Path, upstream_repo: Path) -> None:
    ok("add", f"file://{upstream_repo}", "--all")
    first = json.loads(ok("show", "greeter", "--json").out)
    (upstream_repo / "skills" / "greeter" / "SKILL.md").write_text(
        "---\nname: greeter\ndescription: Greets people politely.\n---\n\nSay hello.\nBow.\n")
    git("commit", "-qam", "bow", cwd=upstream_repo)
    new_commit = git("rev-parse", "HEAD", cwd=upstream_repo).strip()

    preview = skillmeat("update", "greeter")  # no terminal, no --yes: shows, does not apply
    assert preview.code == 0
    assert "+Bow." in preview.out and "--- a/skills/greeter/SKILL.md" in preview.out
    assert "pass --yes" in preview.err
    assert "Bow." not in (story / "skills" / "greeter" / "SKILL.md").read_text()

    applied = ok("update", "greeter", "--yes")
    assert "Updated 1 artifact" in applied.out
    assert "Bow." in (story / "skills" / "greeter" / "SKILL.md").read_text()
    shown = json.loads(ok("show", "greeter", "--json").out)
    assert shown["lock"]["commit"] == new_commit != first["lock"]["commit"]
    assert shown["lock"]["hash"] != first["lock"]["hash"]
    assert ok("update", "--yes").out.strip() == "Everything is up to date"


def _head(path: Path) -> str:
    return git("rev-parse", "HEAD", cwd=path).strip()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("-C", "nope", "list"), 1, "no collection named 'nope'"),
        (("show", "no-such-thing"), 1, "no artifact 'no-such-thing'"),
        (("remove", "no-such-thing"), 1, "no artifact 'no-such-thing'"),
        (("add", "/nonexistent/source", "--all"), 1, "cannot read source /nonexistent/source"),
        (("add", "file:///nonexistent/repo", "--all"), 1, "cannot read source file:///nonexistent"),
        (("add", "github:owner/repo", "--all"), 1, "cannot read source github:owner/repo"),
        (("rollback", "no-such-rev"), 1, "no commit 'no-such-rev'"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    story: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    ok("add", str(EXAMPLES), "--all")
    before, head = tree_state(story), _head(story)
    result = skillmeat(*args)
    assert result.code == code
    assert result.err.count("\n") == 1 and message in result.err, result.err
    assert "Traceback" not in result.err
    assert tree_state(story) == before and _head(story) == head


@pytest.mark.parametrize("command", [("add", str(EXAMPLES), "--all"), ("remove", "review"),
                                     ("update", "--yes"), ("list",)])
def test_malformed_manifest_is_refused_untouched(story: Path, command: tuple[str, ...]) -> None:
    ok("add", str(EXAMPLES), "--name", "review")
    manifest = story / "skillmeat.toml"
    manifest.write_text(manifest.read_text() + "\nbroken = [\n")
    before, head = tree_state(story), _head(story)
    result = skillmeat(*command)
    if command == ("list",):
        assert result.code == 0  # reading the committed index needs no manifest parse
        return
    assert result.code == 2
    assert "skillmeat.toml: invalid TOML" in result.err and result.err.count("\n") == 1
    assert tree_state(story) == before and _head(story) == head


def test_missing_collection_directory(story: Path) -> None:
    import shutil

    shutil.rmtree(story)
    result = skillmeat("list")
    assert result.code == 1
    assert "collection 'story' not found" in result.err
