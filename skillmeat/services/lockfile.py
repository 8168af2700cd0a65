"""skillmeat.lock as the commit makes it, for the commit-stage hook.

One entry per artifact: its content hash computed from git's content of the index (blob
ids and modes, exactly what the commit will hold, hashed as every SkillMeat command hashes
a commit's tree), the upstream fields (source, path, commit, version) kept from the current
entry, new artifacts taken from skillmeat.toml's upstream (or entered as hand-written),
removed ones dropped. Right after ``add``, ``mcp add``, ``import`` or ``update`` the lock is
already this.

A lock that cannot be used as it is gets rebuilt rather than refused: with git's conflict
markers, both sides are read and merged per artifact; unreadable (empty, truncated, not
UTF-8, not TOML), it is rebuilt from skillmeat.toml's upstreams, losing only the resolved
commits and versions. A lock of another format (a newer SkillMeat's) is never overwritten.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from skillmeat.model.artifact import ids_from_paths
from skillmeat.model.conflicts import conflict_sides
from skillmeat.model.errors import ConfigError
from skillmeat.model.manifest import LOCK_FORMAT, MANIFEST_NAME, LockEntry, Manifest
from skillmeat.services.hashing import tree_hash
from skillmeat.store.collection import CollectionStore
from skillmeat.store.files import atomic_write
from skillmeat.store.manifest import parse_lock, parse_toml, render_lock
from skillmeat.store.tracked import read_bytes
from skillmeat.store.tree import Tree

SHOWN = 3  # ids named per kind of change in the summary
CONFLICTED = "it had merge conflicts"


def _named(ids: Sequence[str]) -> str:
    return ", ".join(ids[:SHOWN]) + (f", +{len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


@dataclass(frozen=True)
class LockState:
    text: str  # the lock as it must be
    stale: bool
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    problem: str = ""  # why the lock on disk could not be used as it is
    entries: int = 0
    lost: tuple[str, ...] = ()  # artifacts whose resolved commit and version could not be kept

    def summary(self) -> str:
        """``1 added (skill/x), 0 changed, 0 removed``, or what was done to a broken lock."""
        if self.problem:
            text = (f"{CONFLICTED}; both sides' entries are merged for the staged content "
                    f"({self.entries} artifacts)" if self.problem == CONFLICTED else
                    f"{self.problem}; it is rebuilt from {MANIFEST_NAME}'s upstreams and the "
                    f"staged content ({self.entries} artifacts)")
            if self.lost:
                text += (f"; the resolved commits and versions of {len(self.lost)} "
                         f"({_named(self.lost)}) could not be kept: `skillmeat update` records "
                         "them again when their upstream changes")
            return text
        if not (self.added or self.changed or self.removed):
            return "same entries, not in SkillMeat's layout"
        return ", ".join(f"{len(ids)} {word}" + (f" ({_named(ids)})" if ids else "")
                         for word, ids in (("added", self.added), ("changed", self.changed),
                                           ("removed", self.removed)))


@dataclass(frozen=True)
class Current:
    """The lock on disk: its entries (per side when it has merge conflicts)."""

    sides: tuple[dict[str, LockEntry], ...]
    problem: str = ""

    @property
    def entries(self) -> dict[str, LockEntry]:
        out: dict[str, LockEntry] = {}
        for side in reversed(self.sides):
            out.update(side)
        return out


def expected_entries(tree: Tree, current: Mapping[str, LockEntry],
                     manifest: Manifest | None = None, *,
                     sides: Sequence[Mapping[str, LockEntry]] = ()) -> dict[str, LockEntry]:
    """One entry per artifact in ``tree``: hash computed, upstream fields kept (from the side
    whose hash matches, else any side that has them, else skillmeat.toml's upstream)."""
    out = {}
    for aid, paths in ids_from_paths(tree.files()).items():
        key = str(aid)
        digest = tree_hash(tree, aid, paths)
        found = [s[key] for s in (sides or (current,)) if key in s]
        match = next((e for e in found if e.hash == digest), None)
        prev = match or next((e for e in found if e.source), found[0] if found else None)
        if prev is None or not prev.source:  # a hand-written one, or a damaged entry
            fill = _upstream(key, digest, manifest)
            prev = dataclasses.replace(prev, source=fill.source, path=fill.path) if prev else fill
        out[key] = dataclasses.replace(prev, hash=digest)
    return out


def _upstream(key: str, digest: str, manifest: Manifest | None) -> LockEntry:
    entry = manifest.artifacts.get(key) if manifest else None
    if entry is None or not entry.upstream.is_set:
        return LockEntry(digest)  # hand-written
    return LockEntry(digest, entry.upstream.source, entry.upstream.path)


def read_current(store: CollectionStore) -> Current:
    """The lock on disk, leniently: a broken one gives no entries and says why. A lock of
    another format raises ConfigError (exit 2): never overwritten."""
    raw = read_bytes(store.lock_path)
    if raw is None:
        return Current(({},))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Current(({},), f"it could not be read (not UTF-8 text: {exc.reason} at byte {exc.start})")
    sides = conflict_sides(text)
    if sides is not None:
        parsed = tuple(_parse(side, str(store.lock_path))[0] for side in sides)
        return Current(parsed, CONFLICTED)
    entries, problem = _parse(text, str(store.lock_path))
    return Current((entries,), problem)


def _parse(text: str, where: str) -> tuple[dict[str, LockEntry], str]:
    if not text.strip():
        return {}, "it could not be read (it is empty)"
    try:
        data = parse_toml(text, where)
    except ConfigError as exc:
        return {}, f"it could not be read ({exc.message.removeprefix(where + ': ')})"
    if data.get("format", LOCK_FORMAT) != LOCK_FORMAT:
        return parse_lock(data, where), ""  # raises: another format
    try:
        return parse_lock({**data, "format": LOCK_FORMAT}, where), (
            "" if "format" in data else "it could not be read (no format line: truncated?)")
    except ConfigError as exc:
        return {}, f"it could not be read ({exc.message.removeprefix(where + ': ')})"


def lock_state(store: CollectionStore, tree: Tree) -> LockState:
    """Compare skillmeat.lock with what ``tree`` (the staged artifact files) makes it.

    A malformed manifest, or a lock of another format, raises ConfigError (exit 2) before
    anything is written.
    """
    manifest = store.manifest()
    current = read_current(store)
    old = current.entries
    entries = expected_entries(tree, old, manifest, sides=current.sides)
    text = render_lock(entries)
    if current.problem:
        lost = tuple(sorted(k for k, e in entries.items()
                            if e.source and not (k in old and old[k].source)))
        return LockState(text, True, problem=current.problem, entries=len(entries), lost=lost)
    old_text = read_bytes(store.lock_path)
    if old_text == text.encode("utf-8") or (old_text is None and not entries):
        return LockState(text, stale=False)
    return LockState(
        text, stale=True,
        added=tuple(sorted(set(entries) - set(old))),
        changed=tuple(sorted(k for k in entries if k in old and old[k] != entries[k])),
        removed=tuple(sorted(set(old) - set(entries))),
    )


def write_lock(store: CollectionStore, state: LockState) -> None:
    atomic_write(store.lock_path, state.text)
