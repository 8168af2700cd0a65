"""Import a bundle into a collection: stage, verify everything, then apply per artifact.

Per artifact that differs from ours: ``merge`` takes theirs when ours is unchanged since the
version the lock recorded (the common version), keeps ours when theirs *is* that version,
and otherwise stops with the diff; ``fork`` imports theirs beside ours as
``<name>-fork-<hash>``; ``skip`` keeps ours. The whole import is one commit or nothing.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import ArtifactId, ArtifactType, ids_from_paths
from skillmeat.model.errors import BadInputError, ConflictError
from skillmeat.model.hashing import content_hash
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME, LockEntry, ManifestEntry
from skillmeat.model.pack import ARTIFACTS, Limits, PackArtifact, PackError, member_prefix
from skillmeat.services.bundle import DEFAULT_LIMITS, Checked, check
from skillmeat.services.hashing import tree_hash
from skillmeat.services.trust import TrustSet
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.manifest import render_lock, render_manifest_update

STRATEGIES = ("merge", "fork", "skip")
Chooser = Callable[["PlanItem"], str]
MAX_DIFF_BYTES = 1 << 20


@dataclass
class PlanItem:
    source: PackArtifact
    action: str          # add, update, fork, unchanged, kept, skip, conflict
    target: ArtifactId
    diff: str = ""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": str(self.source.id), "action": self.action, "target": str(self.target),
                "reason": self.reason, **({"diff": self.diff} if self.diff else {})}


@dataclass
class ImportResult:
    checked: Checked
    items: list[PlanItem] = field(default_factory=list)
    commit: str = ""
    dry_run: bool = False

    @property
    def changes(self) -> list[PlanItem]:
        return [i for i in self.items if i.action in ("add", "update", "fork")]

    def to_dict(self) -> dict[str, Any]:
        return {"bundle": self.checked.to_dict(), "dry_run": self.dry_run, "commit": self.commit,
                "items": [i.to_dict() for i in self.items]}


class ImportConflict(ConflictError):
    def __init__(self, items: list[PlanItem]) -> None:
        ids = ", ".join(str(i.target) for i in items[:3]) + (" ..." if len(items) > 3 else "")
        super().__init__(f"{len(items)} artifact(s) changed on both sides: {ids}",
                         hint="nothing was imported; choose --strategy fork or skip, or reconcile "
                              "and import again")
        self.items = items


def import_bundle(
    home: Home, store: CollectionStore, path: Path, trust: TrustSet, *,
    strategy: str | None = None, choose: Chooser | None = None, dry_run: bool = False,
    allow_unsigned: bool = False, limits: Limits = DEFAULT_LIMITS, where: str | None = None,
    expect: tuple[str, str] | None = None,
) -> ImportResult:
    """Verify ``path`` completely, plan each artifact, apply the plan as one commit.

    ``expect``: the (name, version) a vault listed for this bundle; anything else is refused.
    """
    if strategy is not None and strategy not in STRATEGIES:
        raise BadInputError(f"unknown strategy '{strategy}'", hint="use merge, fork or skip")
    with home.lock():
        store.manifest()  # a malformed manifest stops us before anything is read or written
        lock = store.lock()
        work_git = Path(store.repo.repo.path) / "skillmeat"
        work_git.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix="import-", dir=work_git))
        try:
            checked = check(path, trust, allow_unsigned=allow_unsigned, limits=limits,
                            extract_to=stage, where=where,
                            objects=None if dry_run else store.repo.loose_objects())
            m = checked.manifest
            if expect is not None and expect != (m.name, m.version):
                raise PackError(where or str(path), f"listed as {expect[0]}@{expect[1]}, but the "
                                f"bundle is {m.name}@{m.version}",
                                hint="the vault is inconsistent or tampered with; nothing was imported")
            result = ImportResult(checked, dry_run=dry_run)
            result.items = _plan(store, checked, stage, lock, strategy, choose)
            conflicts = [i for i in result.items if i.action == "conflict"]
            if conflicts and not dry_run:
                raise ImportConflict(conflicts)
            _check_layout(store, stage, result.changes)
            if result.changes and not dry_run:
                result.commit = _apply(store, checked, stage, lock, result.changes)
            return result
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _plan(store: CollectionStore, checked: Checked, stage: Path, lock: dict[str, LockEntry],
          strategy: str | None, choose: Chooser | None) -> list[PlanItem]:
    existing = store.artifacts_in_worktree()
    work = store.worktree()
    items = []
    for art in checked.manifest.artifacts:
        aid = art.id
        if aid not in existing:
            items.append(PlanItem(art, "add", aid))
            continue
        ours = tree_hash(work, aid, existing[aid])
        if ours == art.hash:
            items.append(PlanItem(art, "unchanged", aid, reason="same content"))
            continue
        fork = fork_id(art)
        if fork in existing and tree_hash(work, fork, existing[fork]) == _fork_hash(art, stage, fork):
            items.append(PlanItem(art, "unchanged", fork, reason="already imported as a fork"))
            continue
        item = PlanItem(art, "conflict", aid, diff=_diff(store, existing[aid], art, stage))
        chosen = strategy or (choose(item) if choose is not None else "merge")
        if chosen not in STRATEGIES:
            raise BadInputError(f"unknown strategy '{chosen}'", hint="use merge, fork or skip")
        items.append(_decide(item, chosen, ours, lock.get(str(aid)), fork))
    return items


def _decide(item: PlanItem, chosen: str, ours: str, base: LockEntry | None,
            fork: ArtifactId) -> PlanItem:
    if chosen == "skip":
        return PlanItem(item.source, "skip", item.target, reason="kept ours (--strategy skip)")
    if chosen == "fork":
        return PlanItem(item.source, "fork", fork, reason=f"theirs beside ours as {fork}")
    if base is not None and base.hash == ours:
        return PlanItem(item.source, "update", item.target, reason="ours unchanged since "
                        f"{base.source or 'it was recorded'}: taking theirs")
    if base is not None and base.hash == item.source.hash:
        return PlanItem(item.source, "kept", item.target,
                        reason="theirs is the version we started from: keeping our changes")
    item.reason = "changed here since the common version, and changed in the bundle"
    return item


def fork_id(art: PackArtifact) -> ArtifactId:
    suffix = f"-fork-{art.hash.removeprefix('sha256:')[:8]}"
    aid = art.id
    base = aid.base[: 128 - len(suffix)] + suffix
    return aid.renamed(f"{aid.namespace}:{base}" if aid.namespace else base)


def _target_rel(member: str, art: PackArtifact, target: ArtifactId) -> str:
    rel = member[len(ARTIFACTS):]
    if target == art.id:
        return rel
    old, new = art.id, target
    for a, b in ((old.relpath, new.relpath), (old.extra_dir, new.extra_dir)):
        if a and b and (rel == a or rel.startswith(a + "/")):
            return b + rel[len(a):]
    return rel


_NAME_LINE = re.compile(rb"^(name:[ \t]*)(.*)$", re.M)


def _fork_content(art: PackArtifact, member: str, data: bytes, target: ArtifactId) -> bytes:
    """Theirs under the fork's name: the frontmatter ``name`` follows the new name."""
    primary = {ArtifactType.SKILL: f"{ARTIFACTS}{art.id.relpath}/SKILL.md",
               ArtifactType.AGENT: ARTIFACTS + art.id.relpath}.get(art.type)
    if member != primary or not data.startswith(b"---"):
        return data
    end = data.find(b"\n---", 3)
    if end < 0:
        return data
    head = _NAME_LINE.sub(lambda m: m.group(1) + target.base.encode(), data[:end], count=1)
    return head + data[end:]


def _fork_hash(art: PackArtifact, stage: Path, target: ArtifactId) -> str:
    cut = len(member_prefix(target)) - len(ARTIFACTS)
    entries = []
    for f in art.files:
        data = _fork_content(art, f.path, (stage / f.path).read_bytes(), target)
        entries.append((_target_rel(f.path, art, target)[cut:], f.mode,
                        hashlib.sha256(data).hexdigest()))
    return content_hash(entries)


def _diff(store: CollectionStore, ours: list[str], art: PackArtifact, stage: Path) -> str:
    theirs = {_target_rel(f.path, art, art.id): stage / f.path for f in art.files}
    out: list[str] = []
    for rel in sorted(set(ours) | set(theirs)):
        sides = [p for p in (store.path / rel if rel in ours else None, theirs.get(rel)) if p]
        if sum(p.stat().st_size for p in sides) > MAX_DIFF_BYTES:
            out.append(f"Large files ours/{rel} and theirs/{rel} may differ (not shown)\n")
            continue
        a = (store.path / rel).read_bytes() if rel in ours else b""
        b = theirs[rel].read_bytes() if rel in theirs else b""
        if a == b:
            continue
        if b"\0" in a[:8192] or b"\0" in b[:8192]:
            out.append(f"Binary files ours/{rel} and theirs/{rel} differ\n")
            continue
        out.extend(difflib.unified_diff(
            a.decode("utf-8", "replace").splitlines(keepends=True),
            b.decode("utf-8", "replace").splitlines(keepends=True),
            f"ours/{rel}" if rel in ours else "/dev/null",
            f"theirs/{rel}" if rel in theirs else "/dev/null"))
        if out and not out[-1].endswith("\n"):
            out.append("\n")
    return "".join(out)


def _check_layout(store: CollectionStore, stage: Path, changes: list[PlanItem]) -> None:
    """After the import every artifact must own exactly its files: no bundle artifact may land
    inside another's directory (``skills/a/b/`` is ``a``'s), and nothing may be in the way."""
    if not changes:
        return
    existing = store.artifacts_in_worktree()
    after = set(store.worktree().files())
    expected: dict[ArtifactId, set[str]] = {}
    for item in changes:
        art, target = item.source, item.target
        if item.action == "update":
            after -= set(existing.get(target, []))
        expected[target] = {_target_rel(f.path, art, target) for f in art.files}
        after |= expected[target]
        for rel in expected[target]:
            _check_way(store, rel, target)
    owners = ids_from_paths(sorted(after))
    owner_of = {p: aid for aid, paths in owners.items() for p in paths}
    for target, rels in expected.items():
        for rel in sorted(rels):
            if owner_of.get(rel) != target:
                other = owner_of.get(rel)
                raise ConflictError(f"importing {target} would write {rel}, which "
                                    f"{'belongs to ' + str(other) if other else 'no artifact owns'}",
                                    hint="nothing was imported: the bundle's layout clashes with "
                                    "this collection")
    for aid, paths in existing.items():
        if aid not in expected and set(owners.get(aid, [])) != set(paths):
            raise ConflictError(f"the import would change which files belong to {aid}",
                                hint="nothing was imported: the bundle's layout clashes with this "
                                "collection")


def _check_way(store: CollectionStore, rel: str, target: ArtifactId) -> None:
    path = store.path
    for part in rel.split("/")[:-1]:
        path = path / part
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise ConflictError(f"importing {target}: {path.relative_to(store.path)} is in the way "
                                "(a file or symlink where a directory must go)",
                                hint="move it away, then import again")
    final = store.path / rel
    if final.is_symlink() or final.is_dir():
        raise ConflictError(f"importing {target}: {rel} is a directory or symlink",
                            hint="move it away, then import again")


def _apply(store: CollectionStore, checked: Checked, stage: Path, lock: dict[str, LockEntry],
           changes: list[PlanItem]) -> str:
    m = checked.manifest
    source = f"bundle:{m.name}@{m.version}"
    existing = store.artifacts_in_worktree()
    known = store.manifest().artifacts
    fresh: dict[str, ManifestEntry] = {}
    stored: dict[str, tuple[str, int]] = {}  # files whose blob the check already stored
    with store.change() as txn:
        for item in changes:
            art, target = item.source, item.target
            rels = {f.path: _target_rel(f.path, art, target) for f in art.files}
            for old in existing.get(target, []):
                if old not in rels.values():
                    txn.remove(old)
            cut = len(member_prefix(target)) - len(ARTIFACTS)
            entries = []
            for f in art.files:
                src = stage / f.path
                if item.action == "fork":
                    data = _fork_content(art, f.path, src.read_bytes(), target)
                    txn.write(rels[f.path], data, executable=f.mode == 0o100755)
                    entries.append((rels[f.path][cut:], f.mode, hashlib.sha256(data).hexdigest()))
                else:
                    txn.move_in(src, rels[f.path])
                    entries.append((rels[f.path][cut:], f.mode, f.sha256))
                    if f.path in checked.blobs:
                        stored[rels[f.path]] = (checked.blobs[f.path], f.mode)
            lock[str(target)] = LockEntry(content_hash(entries), source, str(art.id),
                                          m.source_commit, art.version)
            if str(target) not in known:
                fresh[str(target)] = ManifestEntry()
        if fresh:
            txn.write(MANIFEST_NAME, render_manifest_update(store.manifest_path, add=fresh))
        txn.write(LOCK_NAME, render_lock(lock))
        signer = checked.verdict.principal if checked.verdict else "unverified"
        lines = "\n".join(f"- {i.action} {i.target}" for i in changes)
        return txn.commit(f"Import {m.name} {m.version} ({signer})\n\n{lines}\n", known=stored)
