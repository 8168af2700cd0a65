"""Validating the artifacts some files belong to: the same diagnostics `skillmeat validate`
gives those artifacts when it checks the whole collection."""

from __future__ import annotations

from pathlib import Path

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import BadInputError
from skillmeat.model.findings import Finding
from skillmeat.services.staged import owners, validate_files
from skillmeat.services.validation import validate_path
from skillmeat.store.tracked import work_files
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


def _same_as_validate(root: Path) -> None:
    whole = validate_path(root)
    every = work_files(root, DIRS)
    part = validate_files(root, every, every)
    assert part.artifacts == whole.artifacts
    assert [d for d in whole.diagnostics if d.path.split("/", 1)[0] in DIRS] == part.diagnostics
    strict, whole_strict = validate_files(root, every, every, strict=True), validate_path(root, strict=True)
    assert {d.level for d in strict.diagnostics} <= {"error"}
    assert [d for d in whole_strict.diagnostics if d.path.split("/", 1)[0] in DIRS] == strict.diagnostics


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
