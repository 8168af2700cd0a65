"""Versions are commits: snapshot, history, diff, rollback (never rewriting history)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from skillmeat.model.artifact import check_part
from skillmeat.model.errors import ConflictError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services.query import resolve
from skillmeat.services.refs import signed_tree_ref
from skillmeat.store.collection import CollectionStore
from skillmeat.store.gitrepo import CommitInfo
from skillmeat.store.home import Home

SNAPSHOT_PREFIX = "refs/skillmeat/snapshots/"
TRAILER = "Collection-Commit:"
TRACKED = ("skills", "commands", "agents", "hooks", "mcp", "skillmeat.toml", "skillmeat.lock",
           ".skillmeat")


@dataclass(frozen=True)
class Snapshot:
    name: str
    commit: str
    changed: list[str]
    signed: bool = False


def snapshot(
    home: Home, store: CollectionStore, message: str = "", name: str = "",
    key: PrivateKey | None = None,
) -> Snapshot:
    """Commit every change in the work tree and name the commit under refs/skillmeat/snapshots/.

    With a key, the snapshot ref is a signed commit of the same tree (``git verify-commit``
    checks it); without one, the ref points at the collection commit itself.
    """
    chosen = check_part(name, "snapshot name") if name else ""
    with home.lock():
        if not chosen:  # a timestamp, made unique when two snapshots share a second
            stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
            taken = store.repo.refs(SNAPSHOT_PREFIX)
            chosen, n = stamp, 1
            while SNAPSHOT_PREFIX + chosen in taken:
                n += 1
                chosen = f"{stamp}-{n}"
        name = chosen
        ref = SNAPSHOT_PREFIX + name
        if key is None and ref in store.repo.refs(SNAPSHOT_PREFIX):
            raise ConflictError(f"snapshot '{name}' already exists",
                                hint="choose another --name (signed snapshots can be extended)")
        changed = store.repo.dirty_paths(TRACKED)
        msg = message or f"Snapshot {name}"
        commit = store.repo.commit_paths(changed, msg, allow_empty=True)
        if key is None:
            store.repo.set_ref(ref, commit)
        else:
            signed_tree_ref(store, ref, store.repo.tree_id(commit),
                            f"{msg}\n\n{TRAILER} {commit}\n", key)
        return Snapshot(name, commit, changed, signed=key is not None)


def snapshots(store: CollectionStore) -> dict[str, str]:
    """Snapshot name -> the collection commit it names."""
    out = {}
    for ref, target in store.repo.refs(SNAPSHOT_PREFIX).items():
        message = store.repo.repo[target].message
        found = re.search(rf"^{TRAILER} ([0-9a-f]{{40}})$", message, re.M)
        out[ref[len(SNAPSHOT_PREFIX):]] = found.group(1) if found else target
    return out


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
        for rel in dirty:  # --force: what is not committed goes, tracked or not
            path = store.path / rel
            if path.is_file() and rel not in store.repo.files_at("HEAD"):
                path.unlink()
        if store.repo.tree_id(target) == store.repo.tree_id("HEAD") and not dirty:
            return store.repo.head() or target
        short = re.sub(r"[^0-9a-f]", "", target)[:12]
        return store.repo.restore(target, f"Roll back to {short} ({rev})")
