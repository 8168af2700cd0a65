from __future__ import annotations

from pathlib import Path

import pytest

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import AmbiguousError, BadInputError, NotFoundError
from skillmeat.services.artifacts import Selection, add
from skillmeat.services.query import list_artifacts, resolve, search, show_artifact
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home


def ids(*texts: str) -> list[ArtifactId]:
    return [ArtifactId.parse(t) for t in texts]


POOL = ids("skill/pdf", "command/alpha:deploy", "command/beta:deploy", "agent/reviewer",
           "skill/review", "command/review", "mcp/github")


# --- resolve ---

@pytest.mark.parametrize(("ref", "expected"), [
    ("pdf", "skill/pdf"),
    ("skill/pdf", "skill/pdf"),
    ("skills/pdf", "skill/pdf"),
    ("alpha:deploy", "command/alpha:deploy"),
    ("command/beta:deploy", "command/beta:deploy"),
    ("reviewer", "agent/reviewer"),
    ("skill/review", "skill/review"),
    ("github", "mcp/github"),
])
def test_resolve_exact_and_short_names(ref: str, expected: str) -> None:
    assert str(resolve(ref, POOL, "c")) == expected


def test_an_exact_name_wins_over_base_name_matches() -> None:
    pool = ids("skill/deploy", "command/kit:deploy")
    assert str(resolve("deploy", pool, "c")) == "skill/deploy"


def test_ambiguous_short_name_lists_the_candidates() -> None:
    with pytest.raises(AmbiguousError) as info:
        resolve("deploy", POOL, "c")
    assert info.value.candidates == ["command/alpha:deploy", "command/beta:deploy"]
    assert "matches 2 artifacts" in str(info.value)
    assert info.value.exit_code == 2
    assert "type/plugin:name" in (info.value.hint or "")


def test_same_name_in_two_types_is_ambiguous_until_typed() -> None:
    with pytest.raises(AmbiguousError) as info:
        resolve("review", POOL, "c")
    assert info.value.candidates == ["command/review", "skill/review"]
    assert str(resolve("command/review", POOL, "c")) == "command/review"


def test_unknown_name_is_not_found_with_a_did_you_mean_hint() -> None:
    with pytest.raises(NotFoundError) as info:
        resolve("reviewr", POOL, "mine")
    assert "no artifact 'reviewr' in collection 'mine'" in str(info.value)
    assert info.value.hint is not None
    assert "did you mean" in info.value.hint
    assert "reviewer" in info.value.hint


def test_unknown_name_without_a_close_match_points_to_list() -> None:
    with pytest.raises(NotFoundError) as info:
        resolve("zzzzzz", POOL, "mine")
    assert "skillmeat list" in (info.value.hint or "")


def test_a_type_restricts_the_pool() -> None:
    with pytest.raises(NotFoundError):
        resolve("agent/pdf", POOL, "c")
    with pytest.raises(BadInputError):
        resolve("gizmo/pdf", POOL, "c")


def test_a_namespaced_ref_does_not_match_by_base() -> None:
    with pytest.raises(NotFoundError):
        resolve("gamma:deploy", POOL, "c")


# --- a real collection to list, search and show ---

def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def filled(home: Home, collection: CollectionStore, tmp_path: Path) -> CollectionStore:
    src = tmp_path / "src"
    write(src, {
        "skills/pdf/SKILL.md": "---\nname: pdf\ndescription: Extract text and tables.\n"
                               "tags: [documents]\n---\nUse poppler for this.\n",
        "skills/spreadsheet/SKILL.md": "---\nname: spreadsheet\ndescription: Edit xlsx files.\n---\n"
                                       "Convert a pdf to csv first, then pdf again. pdf pdf.\n",
        "commands/pdf-merge.md": "---\ndescription: Merge documents\n---\nMerge them.\n",
        "agents/writer.md": "---\nname: writer\ndescription: Writes prose about tables.\n---\nWrite.\n",
        "mcp/files.toml": "description = \"File server\"\ncommand = \"files-mcp\"\n",
    })
    add(home, collection, str(src), selection=Selection(types=(ArtifactType.SKILL,)), tags=("docs",))
    add(home, collection, str(src), selection=Selection(types=(ArtifactType.COMMAND,)), tags=("docs", "ops"))
    add(home, collection, str(src), selection=Selection(types=(ArtifactType.AGENT,)))
    add(home, collection, str(src), selection=Selection(types=(ArtifactType.MCP,)))
    return collection


def listed(entries: list[dict[str, object]]) -> list[object]:
    return [e["id"] for e in entries]


def test_list_everything_sorted_by_type_and_name(filled: CollectionStore) -> None:
    assert listed(list_artifacts(filled)) == [
        "agent/writer", "command/pdf-merge", "mcp/files", "skill/pdf", "skill/spreadsheet"]


def test_list_entries_carry_metadata(filled: CollectionStore) -> None:
    entry = next(e for e in list_artifacts(filled) if e["id"] == "skill/pdf")
    assert entry == {"id": "skill/pdf", "type": "skill", "name": "pdf", "namespace": "",
                     "path": "skills/pdf", "description": "Extract text and tables.",
                     "tags": ["docs", "documents"], "version": ""}
    mcp = next(e for e in list_artifacts(filled) if e["id"] == "mcp/files")
    assert mcp["description"] == "File server"


def test_list_filters_by_type(filled: CollectionStore) -> None:
    assert listed(list_artifacts(filled, types=(ArtifactType.SKILL,))) == ["skill/pdf", "skill/spreadsheet"]
    assert listed(list_artifacts(filled, types=(ArtifactType.AGENT, ArtifactType.MCP))) == [
        "agent/writer", "mcp/files"]


def test_list_filters_by_tag_requiring_all_tags(filled: CollectionStore) -> None:
    assert listed(list_artifacts(filled, tags=("docs",))) == [
        "command/pdf-merge", "skill/pdf", "skill/spreadsheet"]
    assert listed(list_artifacts(filled, tags=("docs", "ops"))) == ["command/pdf-merge"]
    assert listed(list_artifacts(filled, tags=("documents",))) == ["skill/pdf"]  # from frontmatter
    assert list_artifacts(filled, tags=("nope",)) == []
    assert listed(list_artifacts(filled, types=(ArtifactType.SKILL,), tags=("docs",))) == [
        "skill/pdf", "skill/spreadsheet"]


def test_list_of_an_empty_collection(collection: CollectionStore) -> None:
    assert list_artifacts(collection) == []
    assert search(collection, "anything") == []


def test_list_reflects_commits_not_the_cached_index(filled: CollectionStore) -> None:
    assert len(list_artifacts(filled)) == 5
    with filled.change() as txn:
        txn.write("skills/pdf/SKILL.md", "---\nname: pdf\ndescription: Now different.\n---\nx\n")
        txn.remove("agents/writer.md")
        txn.commit("Edit")
    entries = {e["id"]: e for e in list_artifacts(filled)}
    assert "agent/writer" not in entries
    assert entries["skill/pdf"]["description"] == "Now different."


def test_search_ranks_name_matches_over_content_matches(filled: CollectionStore) -> None:
    hits = search(filled, "pdf")
    order = [h.entry["id"] for h in hits]
    assert order[0] == "skill/pdf"
    assert order.index("command/pdf-merge") < order.index("skill/spreadsheet")
    assert set(order) == {"skill/pdf", "command/pdf-merge", "skill/spreadsheet"}
    assert hits[0].where == ("name",)
    assert hits[-1].where == ("content",)
    assert hits[0].score > hits[1].score > hits[-1].score


def test_search_requires_every_word(filled: CollectionStore) -> None:
    assert [h.entry["id"] for h in search(filled, "pdf merge")] == ["command/pdf-merge"]
    assert search(filled, "pdf nonexistentword") == []
    both = {h.entry["id"] for h in search(filled, "tables")}
    assert both == {"skill/pdf", "agent/writer"}
    assert [h.entry["id"] for h in search(filled, "tables prose")] == ["agent/writer"]


def test_search_matches_tags_description_and_is_case_insensitive(filled: CollectionStore) -> None:
    ops = search(filled, "OPS")
    assert [(h.entry["id"], h.where) for h in ops] == [("command/pdf-merge", ("tags",))]
    assert [h.entry["id"] for h in search(filled, "Poppler")] == ["skill/pdf"]
    desc = search(filled, "xlsx")
    assert [(h.entry["id"], h.where) for h in desc] == [("skill/spreadsheet", ("description",))]


def test_search_by_type_and_limit(filled: CollectionStore) -> None:
    assert [h.entry["id"] for h in search(filled, "pdf", types=(ArtifactType.COMMAND,))] == [
        "command/pdf-merge"]
    assert len(search(filled, "pdf", limit=1)) == 1
    assert search(filled, "   ") == []
    hit = search(filled, "pdf")[0].to_dict()
    assert hit["id"] == "skill/pdf" and hit["matched"] == ["name"] and "text" not in hit


def test_show_artifact(filled: CollectionStore) -> None:
    shown = show_artifact(filled, "pdf")
    assert shown["id"] == "skill/pdf"
    assert shown["files"] == ["skills/pdf/SKILL.md"]
    assert shown["upstream"]["tags"] == ["docs"]
    assert shown["lock"]["hash"].startswith("sha256:")
    assert [c["summary"] for c in shown["history"]] == [h.summary for h in filled.repo.log(path="skills/pdf")]
    assert len(shown["history"]) == 1
    with pytest.raises(NotFoundError):
        show_artifact(filled, "nothing-like-it")
