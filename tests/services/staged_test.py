"""Validating the artifacts some files belong to: the same diagnostics `skillmeat validate`
gives those artifacts when it checks the whole collection."""

from __future__ import annotations

from pathlib import Path

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import BadInputError
from skillmeat.model.findings import Finding
from skillmeat.model.rules import UNLOADABLE
from skillmeat.services.staged import owners, validate_files
from skillmeat.services.validation import validate_path
from skillmeat.store.tracked import walk, work_files
from tests.helpers import CORPUS, EXAMPLES

DIRS = ("skills", "commands", "agents", "hooks", "mcp")


def test_files_map_to_their_artifacts_with_all_their_files() -> None:
    every = ["skills/a/SKILL.md", "skills/a/ref/notes.md", "skills/ns/b/SKILL.md",
             "skills/ns/b/x.py", "hooks/h.toml", "hooks/h/run.sh", "commands/ns/c.md",
             "commands/readme.txt", "README.md"]
    picked, loose = owners(["skills/a/ref/notes.md", "hooks/h/run.sh", "skills/ns/b/x.py",
                            "commands/readme.txt", "README.md", "skills/a/SKILL.md"], every)
    assert picked == {
        ArtifactId(ArtifactType.SKILL, "a"): ["skills/a/SKILL.md", "skills/a/ref/notes.md"],
        ArtifactId(ArtifactType.HOOK, "h"): ["hooks/h.toml", "hooks/h/run.sh"],
        ArtifactId(ArtifactType.SKILL, "ns:b"): ["skills/ns/b/SKILL.md", "skills/ns/b/x.py"],
    }
    assert loose == ["commands/readme.txt"]  # README.md is outside the artifact directories


def _top(path: str) -> str:
    return path.lstrip('"').split("/", 1)[0]  # a quoted path: a name shown escaped


def _same_as_validate(root: Path) -> None:
    whole = validate_path(root)
    seen = walk(root, DIRS)
    every = work_files(root, DIRS)
    assert every == seen.every
    part = validate_files(root, every, every, links=seen.links)
    assert part.artifacts == whole.artifacts
    assert [d for d in whole.diagnostics if _top(d.path) in DIRS] == part.diagnostics
    strict = validate_files(root, every, every, strict=True, links=seen.links)
    whole_strict = validate_path(root, strict=True)
    assert {d.level for d in strict.diagnostics} <= {"error"}
    assert [d for d in whole_strict.diagnostics if _top(d.path) in DIRS] == strict.diagnostics


def test_symlinks_and_bad_names_give_what_skillmeat_validate_gives(tmp_path: Path) -> None:
    import os
    import shutil

    root = tmp_path / "coll"
    shutil.copytree(EXAMPLES, root)
    (root / "skillmeat.toml").write_text("[collection]\nname = 'coll'\n")
    skill = root / "skills" / "pdf-summary"
    (skill / "notes.md").symlink_to(tmp_path / "missing.md")  # dangling
    (skill / "ref").symlink_to(root / "commands")
    (root / "commands" / "alias.md").symlink_to(root / "commands" / "review.md")
    (skill / "tab\there.md").write_text("x\n")
    (skill / os.fsdecode(b"\xff.md")).write_text("x\n")
    (root / "skills" / "Ünï").mkdir()
    (root / "skills" / "Ünï" / "SKILL.md").write_text("---\nname: Ünï\ndescription: d\n---\nx\n")
    _same_as_validate(root)
    seen = walk(root, DIRS)
    assert seen.links == ["commands/alias.md", "skills/pdf-summary/notes.md", "skills/pdf-summary/ref"]
    report = validate_files(root, seen.every, seen.every, links=seen.links)
    assert {(d.path, d.code) for d in report.diagnostics if d.level == "error"} == {
        ("commands/alias.md", "symlink"), ("skills/pdf-summary/notes.md", "symlink"),
        ("skills/pdf-summary/ref", "symlink"), ('"skills/pdf-summary/tab\\there.md"', "bad-file-name"),
        ('"skills/pdf-summary/\\xff.md"', "bad-file-name"),
    }
    promoted = validate_files(root, seen.every, seen.every, links=seen.links, promote=UNLOADABLE)
    assert ("skills/Ünï/SKILL.md", "error", "bad-artifact-name") in {
        (d.path, d.level, d.code) for d in promoted.diagnostics}


def test_every_file_gives_what_skillmeat_validate_gives() -> None:
    _same_as_validate(EXAMPLES)


def test_the_corpus_collection_gives_what_skillmeat_validate_gives(home: object) -> None:
    from skillmeat.services.artifacts import Selection, add
    from skillmeat.services.collections import create_collection
    from skillmeat.store.home import Home

    home = Home.from_env()
    store = create_collection(home, "corpus")
    add(home, store, str(CORPUS), selection=Selection(all=True))
    _same_as_validate(store.path)


def test_finding_lines() -> None:
    err = BadInputError("/repo/.skillmeat/revoked:3: public key: malformed", hint="fix it")
    f = Finding.from_error(".skillmeat/revoked", err, "/repo")
    assert f == Finding(".skillmeat/revoked:3", "public key: malformed", "fix it")
    assert f.format() == ".skillmeat/revoked:3: public key: malformed (hint: fix it)"
    other = Finding.from_error("a.json", BadInputError("something\nelse"))
    assert other.format() == "a.json: something else"
