"""The lock as the staged files make it: hashes as SkillMeat's own commands compute them
(git's content of the index, read like a commit's tree), upstream fields kept, hand-written
artifacts added, removed ones dropped; a conflicted or unreadable lock rebuilt."""

from __future__ import annotations

import os

import pytest

from skillmeat.model.conflicts import conflict_sides
from skillmeat.model.errors import ConfigError
from skillmeat.model.manifest import LockEntry
from skillmeat.services.artifacts import Selection, add
from skillmeat.services.lockfile import (
    CONFLICTED,
    LockState,
    expected_entries,
    lock_state,
    read_current,
    write_lock,
)
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.tracked import staged_tree
from skillmeat.store.tree import FsTree, GitTree
from tests.helpers import EXAMPLES, git


@pytest.fixture
def store(collection: CollectionStore, home: Home) -> CollectionStore:
    add(home, collection, str(EXAMPLES), selection=Selection(all=True))
    return collection


def _tracked(store: CollectionStore) -> GitTree:
    return staged_tree(store.path, ("skills", "commands", "agents", "hooks", "mcp"))


def test_the_lock_add_writes_is_the_expected_one(store: CollectionStore) -> None:
    lock = store.lock()
    assert len(lock) == 8 and all(e.source and e.hash.startswith("sha256:") for e in lock.values())
    assert expected_entries(_tracked(store), lock) == lock
    assert expected_entries(FsTree(store.path, only=_tracked(store).files()), lock) == lock
    state = lock_state(store, _tracked(store))
    assert state == LockState(store.lock_path.read_text(), stale=False)


def test_changes_are_counted_and_upstreams_kept(store: CollectionStore) -> None:
    before = store.lock()
    (store.path / "skills" / "mine").mkdir()
    (store.path / "skills" / "mine" / "SKILL.md").write_text("---\nname: mine\ndescription: M.\n---\nX.\n")
    script = store.path / "skills" / "pdf-summary" / "scripts" / "extract.py"
    os.chmod(script, script.stat().st_mode ^ 0o111)  # the mode counts in the content hash
    git("add", "-A", cwd=store.path)
    git("rm", "-q", "--cached", "commands/review.md", cwd=store.path)  # untracked now: gone
    state = lock_state(store, _tracked(store))
    assert state.stale and state.added == ("skill/mine",) and state.removed == ("command/review",)
    assert state.changed == ("skill/pdf-summary",)
    assert state.summary() == ("1 added (skill/mine), 1 changed (skill/pdf-summary), "
                               "1 removed (command/review)")
    assert store.lock_path.read_text() != state.text  # nothing written yet
    write_lock(store, state)
    after = store.lock()
    assert after["skill/mine"] == LockEntry(after["skill/mine"].hash)
    pdf_before, pdf_after = before["skill/pdf-summary"], after["skill/pdf-summary"]
    assert pdf_after.hash != pdf_before.hash
    assert (pdf_after.source, pdf_after.path, pdf_after.commit, pdf_after.version) == (
        pdf_before.source, pdf_before.path, pdf_before.commit, pdf_before.version)
    assert not lock_state(store, _tracked(store)).stale


def test_summary_names_at_most_three_ids_per_kind() -> None:
    state = LockState("", True, added=tuple(f"skill/s{i}" for i in range(5)))
    assert state.summary() == "5 added (skill/s0, skill/s1, skill/s2, +2 more), 0 changed, 0 removed"
    assert LockState("", True).summary() == "same entries, not in SkillMeat's layout"


def test_a_reformatted_lock_is_stale_with_the_same_entries(store: CollectionStore) -> None:
    store.lock_path.write_text("# my notes\n" + store.lock_path.read_text())
    state = lock_state(store, _tracked(store))
    assert state.stale and not (state.added or state.changed or state.removed)


def test_a_malformed_manifest_is_refused_first(store: CollectionStore) -> None:
    store.manifest_path.write_text("[collection\n")
    with pytest.raises(ConfigError, match=r"skillmeat\.toml: invalid TOML"):
        lock_state(store, _tracked(store))


def test_the_index_counts_not_the_work_tree(store: CollectionStore) -> None:
    (store.path / "skills" / "wip").mkdir()
    (store.path / "skills" / "wip" / "SKILL.md").write_text("wip\n")  # untracked
    (store.path / "commands" / "review.md").write_text("edited, not staged\n")
    (store.path / "agents" / "code-reviewer.md").unlink()  # deleted, not staged
    tree = _tracked(store)
    assert "skills/wip/SKILL.md" not in tree.files()
    assert {"commands/review.md", "agents/code-reviewer.md"} <= set(tree.files())
    assert not lock_state(store, tree).stale  # the commit would hold what the lock says


def test_conflict_sides() -> None:
    text = "a\n<<<<<<< HEAD\nours\n||||||| base\nold\n=======\ntheirs\n>>>>>>> b1\nz\n"
    assert conflict_sides(text) == ("a\nours\nz\n", "a\ntheirs\nz\n")
    assert conflict_sides("a\n<<<<<<<< not a marker\n") is None
    assert conflict_sides("plain\n") is None


def test_each_artifact_takes_the_side_whose_hash_matches(store: CollectionStore) -> None:
    tree = _tracked(store)
    lock = store.lock()
    aid = "skill/pdf-summary"
    right = lock[aid]
    wrong = LockEntry("sha256:" + "0" * 64, "elsewhere", "x", "c0ffee")
    for sides in (({aid: wrong}, lock), (lock, {aid: wrong})):
        assert expected_entries(tree, {}, sides=sides)[aid] == right
    # no side matches: any side's upstream fields, with the fresh hash
    merged = expected_entries(tree, {}, sides=({aid: LockEntry("sha256:1")}, {aid: wrong}))
    assert merged[aid] == LockEntry(right.hash, "elsewhere", "x", "c0ffee")
    # no side has it: skillmeat.toml's upstream (source, path), the commit is lost
    fresh = expected_entries(tree, {}, store.manifest(), sides=({},))[aid]
    assert fresh == LockEntry(right.hash, right.source, right.path)


def test_a_conflicted_lock_is_read_per_side(store: CollectionStore) -> None:
    text = store.lock_path.read_text()
    head, _, rest = text.partition('[artifacts."skill/pdf-summary"]')
    store.lock_path.write_text(head + "<<<<<<< HEAD\n" + '[artifacts."skill/pdf-summary"]'
                               + rest + "=======\n>>>>>>> b1\n")
    current = read_current(store)
    assert current.problem == CONFLICTED and len(current.sides) == 2
    assert "skill/pdf-summary" in current.sides[0] and "skill/pdf-summary" not in current.sides[1]
    state = lock_state(store, _tracked(store))
    assert state.stale and state.problem == CONFLICTED and not state.lost
    assert state.text == text  # both sides merged: the lock as `add` wrote it


@pytest.mark.parametrize("raw, why", [
    (b"", "it is empty"),
    (b"\xff\xfe# lock\n", "not UTF-8 text"),
    (b'format = "skillmeat-lock/1"\n[artifacts."skill/x"]\nhash = "sha2', "invalid TOML"),
    (b'[artifacts."skill/pdf-summary"]\nhash = "sha256:00"\n', "no format line"),
])
def test_an_unreadable_lock_is_rebuilt_from_the_manifest(store: CollectionStore, raw: bytes,
                                                         why: str) -> None:
    before = store.lock()
    store.lock_path.write_bytes(raw)
    state = lock_state(store, _tracked(store))
    assert state.stale and why in state.problem and state.entries == len(before)
    assert set(state.lost) == {k for k, e in before.items() if e.commit}
    assert store.lock_path.read_bytes() == raw  # nothing written yet
    write_lock(store, state)
    after = store.lock()
    assert {k: (e.hash, e.source, e.path) for k, e in after.items()} == {
        k: (e.hash, e.source, e.path) for k, e in before.items()}
    assert not lock_state(store, _tracked(store)).stale


def test_a_lock_of_another_format_is_never_rebuilt(store: CollectionStore) -> None:
    store.lock_path.write_text('format = "skillmeat-lock/2"\n')
    with pytest.raises(ConfigError, match="format is 'skillmeat-lock/2'"):
        lock_state(store, _tracked(store))
