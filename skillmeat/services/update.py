"""Pulling upstream changes into the collection, with a preview."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from skillmeat.model.artifact import ArtifactId
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME, LockEntry, ManifestEntry
from skillmeat.services.artifacts import (
    artifact_roots,
    open_source,
    upstream_path,
    write_candidates,
)
from skillmeat.services.discover import Candidate, FilePlan
from skillmeat.services.hashing import candidate_hash, tree_hash
from skillmeat.services.query import resolve
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.manifest import render_lock, render_manifest_update
from skillmeat.store.sources import fetch, parse_source
from skillmeat.store.tree import FsTree, Tree


@dataclass
class UpdatePlan:
    id: ArtifactId
    status: str  # "changed", "up-to-date", "pinned", "gone", "modified-locally", "error"
    diff: str = ""
    detail: str = ""
    candidate: Candidate | None = None
    tree: FsTree | None = None
    hash: str = ""
    commit: str = ""


@dataclass
class UpdateResult:
    plans: list[UpdatePlan] = field(default_factory=list)
    applied: list[ArtifactId] = field(default_factory=list)
    commit: str = ""


Confirm = Callable[[list[UpdatePlan]], bool]


def update(
    home: Home,
    store: CollectionStore,
    refs: Sequence[str] = (),
    *,
    confirm: Confirm,
    force: bool = False,
) -> UpdateResult:
    """Fetch each upstream once, diff, and apply what ``confirm`` accepts (one commit)."""
    with home.lock():
        manifest = store.manifest()
        lock = store.lock()
        existing = store.artifacts_in_worktree()
        ids = sorted({resolve(r, existing, store.name) for r in refs}) if refs else sorted(
            a for a in existing if manifest.artifacts.get(str(a), ManifestEntry()).upstream.is_set)
        result = UpdateResult()
        by_source: dict[tuple[str, str], list[ArtifactId]] = {}
        for aid in ids:
            entry = manifest.artifacts.get(str(aid), ManifestEntry())
            if not entry.upstream.is_set:
                result.plans.append(UpdatePlan(aid, "no-upstream", detail="added without a source"))
            elif entry.pin:
                result.plans.append(UpdatePlan(aid, "pinned", detail="pin = true in skillmeat.toml"))
            else:
                by_source.setdefault((entry.upstream.source, entry.upstream.ref), []).append(aid)
        work = store.worktree()
        with contextlib.ExitStack() as stack:
            for (source, ref), aids in sorted(by_source.items()):
                fetched = stack.enter_context(fetch(parse_source(source, ref)))
                tree, found = open_source(fetched, None)
                by_origin = {upstream_path(fetched, c): c for c in found.candidates}
                for aid in aids:
                    upstream = manifest.artifacts[str(aid)].upstream
                    result.plans.append(_plan(aid, upstream.path, by_origin, tree, work,
                                              existing[aid], lock.get(str(aid)), fetched.commit,
                                              force))
            changed = [p for p in result.plans if p.status == "changed"]
            if changed and confirm(result.plans):
                result.commit = _apply(store, changed, lock)
                result.applied = [p.id for p in changed]
        return result


def _plan(
    aid: ArtifactId, path: str, by_origin: dict[str, Candidate], tree: FsTree, work: FsTree,
    files: list[str], locked: LockEntry | None, commit: str, force: bool,
) -> UpdatePlan:
    cand = by_origin.get(path)
    if cand is None or cand.id.type is not aid.type:
        return UpdatePlan(aid, "gone", detail=f"'{path}' is no longer in the source")
    cand = Candidate(aid, cand.origin, _retarget(cand, aid), cand.description, cand.version)
    current = tree_hash(work, aid, files)
    new = candidate_hash(tree, cand)
    if new == current:
        return UpdatePlan(aid, "up-to-date")
    text = _diff(work, files, tree, cand)
    if locked is not None and locked.hash and locked.hash != current and not force:
        return UpdatePlan(aid, "modified-locally", diff=text,
                          detail="changed in the collection since it was added; --force overwrites")
    return UpdatePlan(aid, "changed", text, candidate=cand, tree=tree, hash=new, commit=commit)


def _retarget(cand: Candidate, aid: ArtifactId) -> tuple[FilePlan, ...]:
    """Candidate files written where the collection keeps this artifact (same id)."""
    if cand.id == aid:
        return cand.files
    old, new = cand.id.relpath, aid.relpath
    return tuple(FilePlan(new + f.dest[len(old):], f.src, f.data) for f in cand.files)


def _diff(work: Tree, files: list[str], tree: FsTree, cand: Candidate) -> str:
    old = {p: work.read(p) for p in files}
    new = {f.dest: (f.data if f.data is not None else tree.read(f.src)) for f in cand.files}
    out = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        try:
            a_lines = (a or b"").decode("utf-8").splitlines(keepends=True)
            b_lines = (b or b"").decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            out.append(f"Binary files a/{path} and b/{path} differ\n")
            continue
        out += difflib.unified_diff(a_lines, b_lines,
                                    "/dev/null" if a is None else f"a/{path}",
                                    "/dev/null" if b is None else f"b/{path}")
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n\\ No newline at end of file\n"
    return "".join(out)


def _apply(store: CollectionStore, plans: list[UpdatePlan], lock: dict[str, LockEntry]) -> str:
    with store.change() as txn:
        for plan in plans:
            assert plan.candidate is not None and plan.tree is not None
            for root in artifact_roots(plan.id):
                if (store.path / root).exists():
                    txn.remove(root)
            write_candidates(txn, plan.tree, [plan.candidate])
            prev = lock.get(str(plan.id))
            lock[str(plan.id)] = LockEntry(plan.hash, prev.source if prev else "",
                                           prev.path if prev else "", plan.commit,
                                           plan.candidate.version)
        txn.write(MANIFEST_NAME, render_manifest_update(store.manifest_path))
        txn.write(LOCK_NAME, render_lock(lock))
        names = ", ".join(str(p.id) for p in plans)
        return txn.commit(f"Update {names} from upstream")
