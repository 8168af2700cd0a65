"""Two-way sync between a collection and a project, three-way merged against what was deployed.

``pull`` takes project edits into the collection (one commit, lock updated); ``push``
refreshes the project from the collection. The deployment record moves in the same step:
a failure anywhere leaves collection, lock, project and record as they were.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from skillmeat.model import deployment as states
from skillmeat.model.artifact import ArtifactId, ArtifactType, ids_from_paths
from skillmeat.model.deployment import Deployment
from skillmeat.model.errors import BadInputError, ConflictError
from skillmeat.model.manifest import LOCK_NAME, LockEntry
from skillmeat.services.deploy import Target, artifact_files, placed_hash, record_relpath
from skillmeat.services.hashing import tree_hash
from skillmeat.services.merge import MergeResult, merge_sets
from skillmeat.services.profiles import get_profile
from skillmeat.services.profiles.base import Files
from skillmeat.services.status import status
from skillmeat.store.collection import CollectionStore
from skillmeat.store.deployments import files_under
from skillmeat.store.filechange import FileChange
from skillmeat.store.home import Home
from skillmeat.store.manifest import render_lock

STRATEGIES = ("merge", "ours", "theirs", "fork")
VERBATIM = {"claude_code", "codex", "cursor"}  # profiles that copy files unchanged


@dataclass
class SyncItem:
    artifact: str
    state: str
    action: str  # "take-project", "refresh-project", "merged", "fork", "skip", "conflict"
    detail: str = ""
    conflicts: dict[str, bytes] = field(default_factory=dict)


@dataclass
class SyncResult:
    items: list[SyncItem] = field(default_factory=list)
    commit: str = ""
    dry_run: bool = False

    @property
    def conflicts(self) -> list[SyncItem]:
        return [i for i in self.items if i.action == "conflict"]


def sync(
    home: Home, store: CollectionStore, target: Target, *, direction: str,
    names: Sequence[str] = (), strategy: str = "merge", dry_run: bool = False,
) -> SyncResult:
    if strategy not in STRATEGIES:
        raise BadInputError(f"unknown strategy '{strategy}'", hint=f"use {', '.join(STRATEGIES)}")
    report = status(home, target)
    record = target.record.load()
    wanted = [a for a in report.artifacts if a.state != states.UNTRACKED
              and (not names or _named(a.artifact, names))]
    if names and not wanted:
        raise BadInputError(f"none of {', '.join(names)} is deployed in {target.label}")
    result = SyncResult(dry_run=dry_run)
    with home.lock():
        head = store.repo.head() or ""
        tree = store.tree_at(head)
        groups = ids_from_paths(tree.files())
        plans = [_plan(store, tree, groups, target, record[f"{s.profile}:{s.artifact}"], s.state,
                       direction, strategy) for s in wanted
                 if record[f"{s.profile}:{s.artifact}"].collection == store.name]
        result.items = [p[0] for p in plans]
        if dry_run or result.conflicts:
            return result
        changes = [p for p in plans if p[1] is not None]
        if changes:
            result.commit = _apply(store, target, record, changes, direction)
    return result


def _named(artifact: str, names: Sequence[str]) -> bool:
    aid = ArtifactId.parse(artifact)
    return any(n in (artifact, aid.name, aid.base) for n in names)


Plan = tuple[SyncItem, "Apply | None"]


@dataclass
class Apply:
    dep: Deployment
    aid: ArtifactId
    collection_files: dict[str, bytes | None]  # collection relpaths to write (None: delete)
    project_files: dict[str, bytes | None]  # project relpaths to write (None: delete)
    new_name: str = ""


def _plan(store: CollectionStore, tree: object, groups: dict[ArtifactId, list[str]],
          target: Target, dep: Deployment, state: str, direction: str, strategy: str) -> Plan:
    aid = ArtifactId.parse(dep.artifact)
    item = SyncItem(dep.artifact, state, "skip")
    if state == states.IN_SYNC:
        return item, None
    if state in (states.MISSING, states.REMOVED):
        item.detail = "redeploy or undeploy it" if state == states.MISSING else "undeploy it"
        return item, None
    if direction == "pull" and state == states.OUTDATED:
        item.detail = "nothing to pull (the collection is newer): use --push"
        return item, None
    if direction == "push" and state == states.MODIFIED and strategy != "theirs":
        item.detail = "changed in the project: use --pull, or --strategy theirs to overwrite"
        return item, None
    profile = get_profile(dep.profile)
    base_files = _collection_side(store, aid, dep.commit)
    head_files = _collection_side(store, aid, "HEAD") if aid in groups else {}
    project = _project_side(target, dep)
    if direction == "pull":
        return _plan_pull(item, dep, aid, profile.name, base_files, head_files, project, strategy)
    return _plan_push(item, dep, aid, profile, base_files, head_files, project, strategy)


def _collection_side(store: CollectionStore, aid: ArtifactId, rev: str) -> Files:
    tree = store.tree_at(store.repo.resolve(rev))
    paths = ids_from_paths(tree.files()).get(aid, [])
    return artifact_files(tree, aid, paths)


def _project_side(target: Target, dep: Deployment) -> dict[str, bytes]:
    files = [p for p in dep.paths if p != dep.settings.get("file")]
    return {rel: (target.root / rel).read_bytes() for p in files if (target.root / p).exists()
            for rel in files_under(target.root, p)}


def _to_collection(dep: Deployment, aid: ArtifactId, project: dict[str, bytes]) -> dict[str, bytes]:
    """Project files mapped back to the artifact's paths (verbatim profiles only)."""
    if dep.profile not in VERBATIM or aid.type is ArtifactType.HOOK:
        raise BadInputError(f"cannot pull {aid} from a '{dep.profile}' deployment: its files are "
                            "converted", hint="edit it in the collection, then sync --push")
    root = dep.paths[0]
    rel_root = aid.relpath.rsplit("/", 1)[-1]
    return {rel_root + p[len(root):]: data for p, data in project.items()}


def _to_project(dep: Deployment, aid: ArtifactId,
                files: dict[str, bytes | None]) -> dict[str, bytes | None]:
    root = dep.paths[0]
    rel_root = aid.relpath.rsplit("/", 1)[-1]
    return {root + p[len(rel_root):]: data for p, data in files.items()}


def _plain(files: Files) -> dict[str, bytes]:
    return {p: data for p, (data, _mode) in files.items()}


def _plan_pull(item: SyncItem, dep: Deployment, aid: ArtifactId, profile: str, base: Files,
               head: Files, project: dict[str, bytes], strategy: str) -> Plan:
    theirs = _to_collection(dep, aid, project)
    ours = _plain(head)
    if item.state == states.MODIFIED or strategy == "theirs":
        merged: dict[str, bytes | None] = {p: theirs.get(p) for p in set(ours) | set(theirs)}
        item.action = "take-project"
        return item, Apply(dep, aid, merged, {})
    if strategy == "ours":
        item.action, item.detail = "skip", "kept the collection's version (--strategy ours)"
        return item, None
    if strategy == "fork":
        item.action = "fork"
        name = f"{aid.name}-{_slug(dep)}"
        return item, Apply(dep, aid, dict(theirs.items()), {}, new_name=name)
    result = merge_sets(_plain(base), ours, theirs, ("collection", "deployed", "project"))
    # both sides end up with the merge: the collection gets it, the project too
    return _merged(item, result, lambda files: Apply(dep, aid, files, _to_project(dep, aid, files)))


def _plan_push(item: SyncItem, dep: Deployment, aid: ArtifactId, profile: object, base: Files,
               head: Files, project: dict[str, bytes], strategy: str) -> Plan:
    place = get_profile(dep.profile).place
    theirs = _plain(place(aid, head).files) if head else {}
    if item.state == states.OUTDATED or strategy == "theirs":
        item.action = "refresh-project"
        return item, Apply(dep, aid, {}, {p: theirs.get(p) for p in set(project) | set(theirs)})
    if strategy == "ours":
        item.action, item.detail = "skip", "kept the project's version (--strategy ours)"
        return item, None
    if strategy == "fork":
        raise BadInputError("--strategy fork applies to --pull (it forks into the collection)")
    base_placed = _plain(place(aid, base).files)
    result = merge_sets(base_placed, project, theirs, ("project", "deployed", "collection"))
    return _merged(item, result, lambda files: Apply(dep, aid, {}, files))


def _merged(item: SyncItem, result: MergeResult, make: object) -> Plan:
    if not result.clean:
        item.action, item.conflicts = "conflict", result.conflicts
        item.detail = f"{len(result.conflicts)} file(s) changed on both sides; nothing written"
        return item, None
    item.action = "merged"
    return item, make(result.files)  # type: ignore[operator]


def _slug(dep: Deployment) -> str:
    return "fork-" + dep.deployed_hash.removeprefix("sha256:")[:8]


def _apply(store: CollectionStore, target: Target, record: dict[str, Deployment],
           changes: list[Plan], direction: str) -> str:
    lock = store.lock()
    plans = [p for _item, p in changes if p is not None]
    with store.change() as txn, FileChange.under(target.root, target.backup_dir()) as proj:
        for plan in plans:
            _write(store, target, txn, proj, plan)
        work = store.worktree()
        groups = ids_from_paths(work.files())
        digests = {}
        for plan in plans:
            aid = plan.aid.renamed(plan.new_name) if plan.new_name else plan.aid
            digests[plan.dep.key] = tree_hash(work, aid, groups.get(aid, []))
            if plan.collection_files:
                prev = lock.get(str(aid))
                lock[str(aid)] = LockEntry(digests[plan.dep.key], *(
                    (prev.source, prev.path, prev.commit, prev.version) if prev else ()))
        commit = ""
        if any(p.collection_files for p in plans):
            txn.write(LOCK_NAME, render_lock(lock))
            commit = txn.commit(_message(changes, target))
        head = commit or store.repo.head() or ""
        for plan in plans:
            if not plan.new_name:  # a fork leaves the deployment pointing at the original
                _refresh(target, record, plan.dep, head, digests[plan.dep.key])
        proj.write(record_relpath(target, target.record.path), target.record.render(record))
        return commit


def _write(store: CollectionStore, target: Target, txn: FileChange, proj: FileChange,
           plan: Apply) -> None:
    aid = plan.aid.renamed(plan.new_name) if plan.new_name else plan.aid
    parent = aid.relpath.rsplit("/", 1)[0]
    for rel, data in plan.collection_files.items():
        dest = f"{parent}/{_rename(rel, plan.aid, aid)}"
        if data is None:
            if (store.path / dest).exists():
                txn.remove(dest)
        else:
            txn.write(dest, data)
    for rel, data in plan.project_files.items():
        if data is None:
            if (target.root / rel).exists():
                proj.remove(rel)
        else:
            proj.write(rel, data)


def _rename(rel: str, old: ArtifactId, new: ArtifactId) -> str:
    old_name = old.relpath.rsplit("/", 1)[-1]
    new_name = new.relpath.rsplit("/", 1)[-1]
    return new_name + rel[len(old_name):] if rel.startswith(old_name) else rel


def _refresh(target: Target, record: dict[str, Deployment], dep: Deployment, head: str,
             digest: str) -> None:
    files = [p for p in dep.paths if p != dep.settings.get("file")]
    placed = placed_hash(target.root, files, dep.settings.get("hooks", {}))
    record[dep.key] = Deployment(dep.artifact, dep.profile, dep.collection, dep.collection_path,
                                 head, digest, placed, dep.paths, dep.settings, int(time.time()))


def _message(changes: list[Plan], target: Target) -> str:
    names = ", ".join(p[0].artifact for p in changes if p[1] and p[1].collection_files)
    return f"Sync from {target.label}: {names}"


def conflict_error(result: SyncResult) -> ConflictError:
    names = ", ".join(i.artifact for i in result.conflicts)
    return ConflictError(f"sync stopped: conflicts in {names}; nothing was written",
                         hint="resolve by hand, or choose --strategy ours|theirs|fork")
