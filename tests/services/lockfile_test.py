"""The lock as the tracked files make it: hashes as SkillMeat's own commands compute them,
upstream fields kept, hand-written artifacts added, removed ones dropped."""

from __future__ import annotations

import os

import pytest

from skillmeat.model.errors import ConfigError
from skillmeat.model.manifest import LockEntry
from skillmeat.services.artifacts import Selection, add
from skillmeat.services.lockfile import LockState, expected_entries, lock_state, write_lock
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.tracked import tracked_files
from skillmeat.store.tree import FsTree
from tests.helpers import EXAMPLES, git


@pytest.fixture
def store(collection: CollectionStore, home: Home) -> CollectionStore:
    add(home, collection, str(EXAMPLES), selection=Selection(all=True))
    return collection


def _tracked(store: CollectionStore) -> list[str]:
    return tracked_files(store.path, "skills", "commands", "agents", "hooks", "mcp")


def test_the_lock_add_writes_is_the_expected_one(store: CollectionStore) -> None:
    lock = store.lock()
    assert len(lock) == 8 and all(e.source and e.hash.startswith("sha256:") for e in lock.values())
    assert expected_entries(FsTree(store.path, only=_tracked(store)), lock) == lock
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


def test_tracked_files_leave_out_untracked_and_missing_ones(store: CollectionStore) -> None:
    (store.path / "skills" / "wip").mkdir()
    (store.path / "skills" / "wip" / "SKILL.md").write_text("wip\n")
    (store.path / "commands" / "review.md").unlink()  # tracked, deleted in the work tree
    files = _tracked(store)
    assert "skills/wip/SKILL.md" not in files and "commands/review.md" not in files
    assert "skills/pdf-summary/scripts/extract.py" in files and files == sorted(files)
