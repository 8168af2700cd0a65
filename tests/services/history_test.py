from __future__ import annotations

from pathlib import Path

import pytest

from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.services.artifacts import Selection, add, remove
from skillmeat.services.history import diff, history, rollback, snapshot, snapshots
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.helpers import git, tree_state


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def subjects(store: CollectionStore) -> list[str]:
    return git("log", "--format=%s", cwd=store.path).splitlines()


def clean(store: CollectionStore) -> bool:
    return git("status", "--porcelain", "--untracked-files=all", cwd=store.path) == ""


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write(tmp_path / "src", {
        "skills/pdf/SKILL.md": "---\nname: pdf\ndescription: PDFs.\n---\nv1\n",
        "commands/ship.md": "---\ndescription: Ship\n---\nShip.\n",
    })


@pytest.fixture
def filled(home: Home, collection: CollectionStore, source: Path) -> CollectionStore:
    add(home, collection, str(source), selection=Selection(all=True))
    return collection


# --- snapshot ---

def test_snapshot_commits_every_change_and_names_it(home: Home, filled: CollectionStore) -> None:
    (filled.path / "skills/pdf/SKILL.md").write_text("---\nname: pdf\ndescription: PDFs.\n---\nv2\n")
    (filled.path / "commands/ship.md").unlink()
    write(filled.path, {"agents/new.md": "---\nname: new\ndescription: d\n---\nx\n"})
    snap = snapshot(home, filled, "Hand edits", name="before-release")
    assert snap.name == "before-release"
    assert snap.changed == ["agents/new.md", "commands/ship.md", "skills/pdf/SKILL.md"]
    assert filled.repo.head() == snap.commit
    assert subjects(filled)[0] == "Hand edits"
    assert clean(filled)
    assert git("rev-parse", "refs/skillmeat/snapshots/before-release", cwd=filled.path).strip() == snap.commit
    assert snapshots(filled) == {"before-release": snap.commit}


def test_snapshot_leaves_files_outside_the_collection_layout_alone(
    home: Home, filled: CollectionStore
) -> None:
    write(filled.path, {"scratch/notes.txt": "mine\n"})
    snap = snapshot(home, filled, name="s1")
    assert snap.changed == []
    assert "scratch/notes.txt" not in git("ls-tree", "-r", "--name-only", "HEAD", cwd=filled.path)


def test_snapshot_without_changes_still_makes_a_named_commit(home: Home, filled: CollectionStore) -> None:
    head = filled.repo.head()
    snap = snapshot(home, filled, name="tag-only")
    assert snap.changed == []
    assert snap.commit != head
    assert git("rev-parse", f"{snap.commit}~1", cwd=filled.path).strip() == head
    assert subjects(filled)[0] == "Snapshot tag-only"


def test_snapshot_default_name_and_bad_names(home: Home, filled: CollectionStore) -> None:
    snap = snapshot(home, filled)
    assert snap.name in snapshots(filled)
    assert snap.name[:8].isdigit()
    with pytest.raises(BadInputError):
        snapshot(home, filled, name="../escape")


# --- history ---

def test_history_lists_commits_newest_first(home: Home, filled: CollectionStore) -> None:
    entries = history(filled)
    assert [c.summary for c in entries] == subjects(filled)
    assert entries[-1].summary == "Initialize SkillMeat collection 'test'"
    assert len(history(filled, limit=1)) == 1


def test_history_of_one_artifact(home: Home, filled: CollectionStore) -> None:
    (filled.path / "skills/pdf/SKILL.md").write_text("---\nname: pdf\ndescription: PDFs.\n---\nv2\n")
    snapshot(home, filled, "Edit pdf", name="a")
    (filled.path / "commands/ship.md").write_text("Ship faster.\n")
    snapshot(home, filled, "Edit ship", name="b")
    assert [c.summary for c in history(filled, "pdf")] == [
        "Edit pdf", f"Add 2 artifacts from {filled_source(filled)}"]
    assert history(filled, "command/ship")[0].summary == "Edit ship"
    with pytest.raises(NotFoundError):
        history(filled, "ghost")


def filled_source(store: CollectionStore) -> str:
    return store.manifest().artifacts["skill/pdf"].upstream.source


# --- diff ---

def test_diff_of_the_work_tree_against_head(home: Home, filled: CollectionStore) -> None:
    assert diff(filled) == ""
    (filled.path / "skills/pdf/SKILL.md").write_text("---\nname: pdf\ndescription: PDFs.\n---\nv2\n")
    (filled.path / "commands/ship.md").write_text("Changed too.\n")
    text = diff(filled)
    assert "-v1\n+v2\n" in text
    assert "commands/ship.md" in text
    only = diff(filled, ["pdf"])
    assert "skills/pdf/SKILL.md" in only
    assert "commands/ship.md" not in only


def test_diff_shows_new_artifacts_in_the_work_tree(home: Home, filled: CollectionStore) -> None:
    write(filled.path, {"agents/new.md": "---\nname: new\ndescription: d\n---\nBrand new.\n"})
    assert "+Brand new." in diff(filled)


def test_diff_between_snapshots(home: Home, filled: CollectionStore) -> None:
    snapshot(home, filled, name="one")
    (filled.path / "skills/pdf/SKILL.md").write_text("---\nname: pdf\ndescription: PDFs.\n---\nv2\n")
    snapshot(home, filled, name="two")
    text = diff(filled, old="one", new="two")
    assert "-v1\n+v2\n" in text
    assert diff(filled, old="two", new="two") == ""


# --- rollback ---

def test_rollback_is_a_new_commit_that_restores_the_tree(home: Home, filled: CollectionStore) -> None:
    snapshot(home, filled, name="good")
    good_state = tree_state(filled.path)
    good_tree = git("rev-parse", "HEAD^{tree}", cwd=filled.path)
    remove(home, filled, ["ship"])
    (filled.path / "skills/pdf/SKILL.md").write_text("---\nname: pdf\ndescription: PDFs.\n---\nbroken\n")
    write(filled.path, {"skills/pdf/extra.md": "added later\n"})
    snapshot(home, filled, name="bad")
    history_before = git("log", "--format=%H", cwd=filled.path).split()

    new = rollback(home, filled, "good")

    assert git("log", "--format=%H", cwd=filled.path).split() == [new, *history_before]
    assert git("rev-parse", "HEAD^{tree}", cwd=filled.path) == good_tree
    assert tree_state(filled.path) == good_state
    assert not (filled.path / "skills/pdf/extra.md").exists()
    assert (filled.path / "commands/ship.md").exists()
    assert subjects(filled)[0].startswith("Roll back to ")
    assert clean(filled)
    assert "command/ship" in filled.manifest().artifacts
    assert snapshots(filled)["bad"] in history_before  # nothing rewritten


def test_rollback_to_a_commit_id_and_then_forward_again(home: Home, filled: CollectionStore) -> None:
    first = filled.repo.head()
    assert first is not None
    state_one = tree_state(filled.path)
    remove(home, filled, ["pdf"])
    second = filled.repo.head()
    assert second is not None
    state_two = tree_state(filled.path)
    rollback(home, filled, first[:12])
    assert tree_state(filled.path) == state_one
    rollback(home, filled, second)
    assert tree_state(filled.path) == state_two
    assert len(subjects(filled)) == 5


def test_rollback_to_the_current_tree_makes_no_commit(home: Home, filled: CollectionStore) -> None:
    head = filled.repo.head()
    assert rollback(home, filled, "HEAD") == head
    assert filled.repo.head() == head


def test_rollback_refuses_uncommitted_changes_unless_forced(home: Home, filled: CollectionStore) -> None:
    first = filled.repo.head()
    assert first is not None
    remove(home, filled, ["ship"])
    (filled.path / "skills/pdf/SKILL.md").write_text("uncommitted\n")
    before, head = tree_state(filled.path), filled.repo.head()
    with pytest.raises(ConflictError, match="uncommitted changes") as info:
        rollback(home, filled, first)
    assert "--force" in (info.value.hint or "")
    assert tree_state(filled.path) == before
    assert filled.repo.head() == head
    rollback(home, filled, first, force=True)
    assert (filled.path / "commands/ship.md").exists()
    assert "uncommitted" not in (filled.path / "skills/pdf/SKILL.md").read_text()
    assert clean(filled)


def test_rollback_to_an_unknown_revision(home: Home, filled: CollectionStore) -> None:
    head = filled.repo.head()
    with pytest.raises(NotFoundError):
        rollback(home, filled, "no-such-snapshot")
    assert filled.repo.head() == head


def test_unnamed_snapshots_in_the_same_second_get_distinct_names(home, collection) -> None:  # type: ignore[no-untyped-def]
    from skillmeat.services.history import snapshot, snapshots

    names = {snapshot(home, collection, "one").name, snapshot(home, collection, "two").name,
             snapshot(home, collection, "three").name}
    assert len(names) == 3 and names <= set(snapshots(collection))
