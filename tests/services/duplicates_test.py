from __future__ import annotations

from pathlib import Path

import pytest

from skillmeat.model.artifact import ArtifactType
from skillmeat.model.errors import NotFoundError
from skillmeat.model.similarity import jaccard, shingle_set
from skillmeat.services.artifacts import Selection, add
from skillmeat.services.duplicates import DuplicateReport, find_across_projects, find_in_collection
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.helpers import EXAMPLES

BODY = "".join(f"Step {i}: read the {w} module, check its tests, then report what the {w} code does.\n"
               for i, w in enumerate(("parser", "lexer", "cache", "router", "store", "queue", "auth", "cli")))
AGENT = f"---\nname: auditor\ndescription: Audits modules.\nmodel: sonnet\n---\n\n{BODY}"
NEAR = AGENT.replace("name: auditor", "name: auditor-two").replace(
    "the cache module", "the memoization and caching layer").replace("Audits modules.", "Audits code.")


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def stocked(home: Home, collection: CollectionStore, tmp_path: Path) -> CollectionStore:
    """The examples plus an exact copy, a same-body copy and a near-copy of an agent."""
    add(home, collection, str(EXAMPLES), selection=Selection(all=True))
    reviewer = (EXAMPLES / "agents" / "code-reviewer.md").read_text()
    src = write(tmp_path / "src", {
        "agents/auditor.md": AGENT,
        "agents/auditor-copy.md": AGENT,
        "agents/auditor-two.md": NEAR,
        "agents/reviewer-again.md": reviewer.replace("name: code-reviewer", "name: reviewer-again"),
        "commands/auditor.md": AGENT,  # same text, other type: never compared with the agents
    })
    add(home, collection, str(src), selection=Selection(all=True))
    return collection


def ids(report: DuplicateReport) -> list[tuple[str, str, str]]:
    return [(p.a.id, p.b.id, p.explanation.kind) for p in report.pairs]


def test_empty_collection_has_no_pairs(collection: CollectionStore) -> None:
    report = find_in_collection(collection)
    assert report.pairs == () and report.compared == 0
    assert report.to_dict() == {"threshold": 0.8, "compared": 0, "pairs": []}


def test_the_examples_have_no_duplicates(home: Home, collection: CollectionStore) -> None:
    add(home, collection, str(EXAMPLES), selection=Selection(all=True))
    report = find_in_collection(collection)
    assert report.compared == 8 and report.pairs == ()


def test_exact_same_body_and_near_copies_of_one_type(stocked: CollectionStore) -> None:
    report = find_in_collection(stocked)
    assert ids(report) == [
        ("agent/auditor", "agent/auditor-copy", "exact"),
        ("agent/code-reviewer", "agent/reviewer-again", "same-body"),
        ("agent/auditor", "agent/auditor-two", "near"),
        ("agent/auditor-copy", "agent/auditor-two", "near"),
    ]


def test_a_near_pair_is_scored_exactly_and_explained(stocked: CollectionStore) -> None:
    pair = find_in_collection(stocked).pairs[2]
    body_of = AGENT.split("---\n", 2)[2], NEAR.split("---\n", 2)[2]
    e = pair.explanation
    assert e.score == jaccard(shingle_set(body_of[0]), shingle_set(body_of[1]))
    assert (pair.a.path, pair.b.path) == ("agents/auditor.md", "agents/auditor-two.md")
    assert (pair.a.origin, pair.a.place) == ("collection", "test")
    assert e.first_difference == (9, 9)  # "the cache module": the third body line
    assert e.longer == "b" and e.shared_lines == 7
    assert e.same_fields == ("model",) and e.different_fields == ("description", "name")
    assert pair.to_dict()["a"] == {"id": "agent/auditor", "origin": "collection", "place": "test",
                                   "path": "agents/auditor.md"}


def test_threshold_and_type_filter(stocked: CollectionStore) -> None:
    score = find_in_collection(stocked).pairs[2].score
    assert 0.8 < score < 0.95
    assert [k for *_, k in ids(find_in_collection(stocked, threshold=0.95))] == ["exact", "same-body"]
    assert ids(find_in_collection(stocked, types=(ArtifactType.COMMAND,))) == []
    assert find_in_collection(stocked, types=(ArtifactType.COMMAND,)).compared == 3


def test_a_skill_is_read_from_its_skill_md(home: Home, collection: CollectionStore,
                                           tmp_path: Path) -> None:
    skill = (EXAMPLES / "skills" / "commit-message" / "SKILL.md").read_text()
    src = write(tmp_path / "src", {"skills/commit-message/SKILL.md": skill,
                                   "skills/commits/SKILL.md": skill.replace("commit-message", "commits")})
    add(home, collection, str(src), selection=Selection(all=True))
    (pair,) = find_in_collection(collection).pairs
    assert (pair.a.path, pair.b.path) == ("skills/commit-message/SKILL.md", "skills/commits/SKILL.md")
    assert pair.explanation.kind == "same-body"


# --- across projects ---

@pytest.fixture
def project(tmp_path: Path) -> Path:
    review = (EXAMPLES / "commands" / "review.md").read_text()
    return write(tmp_path / "proj", {
        ".claude/agents/auditor.md": NEAR,
        ".claude/commands/git/review.md": review,
        ".claude/skills/notes/SKILL.md": "---\nname: notes\n---\nTake notes.\n",
        ".claude/skills/notes/extra.md": BODY,  # not an artifact file
        ".claude/settings.json": "{}",
    })


def test_projects_are_compared_with_the_collection_only(stocked: CollectionStore,
                                                        project: Path) -> None:
    report = find_across_projects(stocked, [project])
    assert ids(report) == [
        ("agent/auditor-two", "agent/auditor", "exact"),
        ("command/review", "command/git:review", "exact"),
        ("agent/auditor", "agent/auditor", "near"),
        ("agent/auditor-copy", "agent/auditor", "near"),
    ]  # not the collection's own pairs
    assert report.compared == 13 + 3
    near = report.pairs[2]
    assert (near.b.origin, near.b.place, near.b.path) == ("project", str(project.resolve()),
                                                          ".claude/agents/auditor.md")


def test_the_same_file_in_two_projects_is_a_pair(stocked: CollectionStore, project: Path,
                                                 tmp_path: Path) -> None:
    other = write(tmp_path / "other", {".claude/skills/notes/SKILL.md": "---\nname: notes\n---\n"
                                                                        "Take notes.\n"})
    report = find_across_projects(stocked, [project, other, project], types=(ArtifactType.SKILL,))
    (pair,) = report.pairs
    assert (pair.a.place, pair.b.place) == (str(other.resolve()), str(project.resolve()))
    assert pair.explanation.kind == "exact"


def test_a_project_without_claude_files_and_a_missing_one(stocked: CollectionStore,
                                                          tmp_path: Path) -> None:
    (tmp_path / "bare").mkdir()
    assert find_across_projects(stocked, [tmp_path / "bare"]).pairs == ()
    with pytest.raises(NotFoundError):
        find_across_projects(stocked, [tmp_path / "missing"])
