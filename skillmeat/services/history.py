"""Versions are commits: snapshot, history, diff, rollback (never rewriting history)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from skillmeat.model.artifact import check_part
from skillmeat.model.errors import ConflictError
from skillmeat.services.query import resolve
from skillmeat.store.collection import CollectionStore
from skillmeat.store.gitrepo import CommitInfo
from skillmeat.store.home import Home

SNAPSHOT_PREFIX = "refs/skillmeat/snapshots/"
TRACKED = ("skills", "commands", "agents", "hooks", "mcp", "skillmeat.toml", "skillmeat.lock",
           ".skillmeat")


@dataclass(frozen=True)
class Snapshot:
    name: str
    commit: str
    changed: list[str]


def snapshot(home: Home, store: CollectionStore, message: str = "", name: str = "") -> Snapshot:
    """Commit every change in the collection's work tree and name the commit."""
    name = check_part(name or time.strftime("%Y%m%d-%H%M%S", time.gmtime()), "snapshot name")
    with home.lock():
        changed = store.repo.dirty_paths(TRACKED)
        msg = message or f"Snapshot {name}"
        commit = store.repo.commit_paths(changed, msg, allow_empty=True)
        store.repo.set_ref(SNAPSHOT_PREFIX + name, commit)
        return Snapshot(name, commit, changed)


def snapshots(store: CollectionStore) -> dict[str, str]:
    return {k[len(SNAPSHOT_PREFIX):]: v for k, v in store.repo.refs(SNAPSHOT_PREFIX).items()}


def history(store: CollectionStore, ref: str | None = None, limit: int = 50) -> list[CommitInfo]:
    path = None
    if ref:
        path = resolve(ref, store.artifacts_in_worktree(), store.name).relpath
    return store.repo.log(limit=limit, path=path)


def _rev(store: CollectionStore, rev: str) -> str:
    return snapshots(store).get(rev, rev)


def diff(
    store: CollectionStore, refs: Sequence[str] = (), old: str | None = None,
    new: str | None = None,
) -> str:
    """Changes between two commits, or from a commit (default HEAD) to the work tree."""
    paths = None
    if refs:
        ids = store.artifacts_in_worktree()
        paths = [resolve(r, ids, store.name).relpath for r in refs]
    base = _rev(store, old) if old else store.repo.head()
    return store.repo.diff(base, _rev(store, new) if new else None, paths)


def rollback(home: Home, store: CollectionStore, rev: str, *, force: bool = False) -> str:
    """A new commit whose tree is the tree of ``rev``."""
    with home.lock():
        target = store.repo.resolve(_rev(store, rev))
        dirty = store.repo.dirty_paths(TRACKED)
        if dirty and not force:
            raise ConflictError(
                f"the collection has uncommitted changes ({', '.join(dirty[:3])}"
                f"{' ...' if len(dirty) > 3 else ''})",
                hint="run `skillmeat snapshot` first, or pass --force to discard them",
            )
        if store.repo.tree_id(target) == store.repo.tree_id("HEAD"):
            return store.repo.head() or target
        short = re.sub(r"[^0-9a-f]", "", target)[:12]
        return store.repo.restore(target, f"Roll back to {short} ({rev})")
