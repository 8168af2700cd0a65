from __future__ import annotations

from pathlib import Path

import pytest

from skillmeat.model.artifact import ArtifactType
from skillmeat.model.errors import NotFoundError
from skillmeat.store.project_files import classify, project_artifact_files


@pytest.mark.parametrize(("rel", "expected"), [
    ("skills/pdf/SKILL.md", (ArtifactType.SKILL, "pdf")),
    ("skills/pdf/reference.md", None),
    ("skills/team/pdf/SKILL.md", None),
    ("commands/review.md", (ArtifactType.COMMAND, "review")),
    ("commands/git/commit.md", (ArtifactType.COMMAND, "git:commit")),
    ("agents/a/b/c.md", (ArtifactType.AGENT, "a:b:c")),
    ("agents/notes.txt", None),
    ("settings.json", None),
])
def test_classify(rel: str, expected: tuple[ArtifactType, str] | None) -> None:
    assert classify(rel) == expected


def test_reads_every_artifact_file_under_dot_claude(tmp_path: Path) -> None:
    for rel in (".claude/agents/x.md", ".claude/commands/ops/deploy.md", ".claude/skills/s/SKILL.md",
                ".claude/hooks/h.sh", "agents/outside.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    found = project_artifact_files(tmp_path)
    assert [(f.id, f.rel, f.data) for f in found] == [
        ("agent/x", ".claude/agents/x.md", b".claude/agents/x.md"),
        ("command/ops:deploy", ".claude/commands/ops/deploy.md", b".claude/commands/ops/deploy.md"),
        ("skill/s", ".claude/skills/s/SKILL.md", b".claude/skills/s/SKILL.md"),
    ]
    assert found[0].project == tmp_path


def test_no_dot_claude_is_no_files_and_no_directory_is_an_error(tmp_path: Path) -> None:
    assert project_artifact_files(tmp_path) == []
    with pytest.raises(NotFoundError):
        project_artifact_files(tmp_path / "missing")
