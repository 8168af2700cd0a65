"""skillmeat.lock as the collection's tracked files make it, for the commit-stage hook.

One entry per artifact: its content hash computed as every SkillMeat command computes it
(``tree_hash`` over the work tree), the upstream fields (source, path, commit, version) kept
from the current entry, new artifacts entered as hand-written (no upstream), removed ones
dropped. Right after ``add``, ``mcp add``, ``import`` or ``update`` the lock is already this.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from skillmeat.model.artifact import ids_from_paths
from skillmeat.model.manifest import LockEntry
from skillmeat.services.hashing import tree_hash
from skillmeat.store.collection import CollectionStore
from skillmeat.store.files import atomic_write
from skillmeat.store.manifest import render_lock
from skillmeat.store.tracked import read_text
from skillmeat.store.tree import FsTree, Tree

SHOWN = 3  # ids named per kind of change in the summary


@dataclass(frozen=True)
class LockState:
    text: str  # the lock as it must be
    stale: bool
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def summary(self) -> str:
        """``1 added (skill/x), 0 changed, 0 removed``."""
        parts = []
        for word, ids in (("added", self.added), ("changed", self.changed),
                          ("removed", self.removed)):
            named = ", ".join(ids[:SHOWN]) + (f", +{len(ids) - SHOWN} more" if len(ids) > SHOWN else "")
            parts.append(f"{len(ids)} {word}" + (f" ({named})" if ids else ""))
        if not (self.added or self.changed or self.removed):
            return "same entries, not in SkillMeat's layout"
        return ", ".join(parts)


def expected_entries(tree: Tree, current: Mapping[str, LockEntry]) -> dict[str, LockEntry]:
    """One entry per artifact in ``tree``: hash computed, upstream fields kept."""
    out = {}
    for aid, paths in ids_from_paths(tree.files()).items():
        key = str(aid)
        digest = tree_hash(tree, aid, paths)
        prev = current.get(key)
        out[key] = dataclasses.replace(prev, hash=digest) if prev else LockEntry(digest)
    return out


def lock_state(store: CollectionStore, files: Sequence[str]) -> LockState:
    """Compare skillmeat.lock with what ``files`` (the tracked files) make it.

    A malformed manifest or lock raises ConfigError (exit 2) before anything is written.
    """
    store.manifest()
    current = store.lock()
    entries = expected_entries(FsTree(store.path, only=list(files)), current)
    text = render_lock(entries)
    old_text = read_text(store.lock_path)
    if old_text == text or (old_text is None and not entries):
        return LockState(text, stale=False)
    return LockState(
        text, stale=True,
        added=tuple(sorted(set(entries) - set(current))),
        changed=tuple(sorted(k for k in entries if k in current and current[k] != entries[k])),
        removed=tuple(sorted(set(current) - set(entries))),
    )


def write_lock(store: CollectionStore, state: LockState) -> None:
    atomic_write(store.lock_path, state.text)

