"""Adding and removing artifacts: every change one commit, manifest and lock with it."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.diagnostics import Diagnostic, warning
from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME, LockEntry, ManifestEntry, Upstream
from skillmeat.services.discover import Candidate, Discovery, discover, discover_file
from skillmeat.services.hashing import candidate_hash, tree_hash
from skillmeat.services.query import resolve
from skillmeat.store.collection import CollectionStore, WorktreeChange
from skillmeat.store.home import Home
from skillmeat.store.manifest import render_lock, render_manifest_update
from skillmeat.store.sources import Fetched, fetch, parse_source
from skillmeat.store.tree import FsTree

Chooser = Callable[[list[Candidate]], list[Candidate]]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Selection:
    types: tuple[ArtifactType, ...] = ()
    names: tuple[str, ...] = ()
    all: bool = False

    @property
    def narrows(self) -> bool:
        return bool(self.types or self.names)


@dataclass
class AddResult:
    source: str
    layout: str
    added: list[ArtifactId] = field(default_factory=list)
    unchanged: list[ArtifactId] = field(default_factory=list)
    retagged: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    commit: str = ""


def open_source(fetched: Fetched, force_type: ArtifactType | None) -> tuple[FsTree, Discovery]:
    """The tree of a fetched source and what it holds."""
    root = fetched.root
    if root.is_file():
        tree = FsTree(root.parent, only=[root.name])
        return tree, discover_file(tree, root.name, force_type, str(root.parent))
    tree = FsTree(root)
    return tree, discover(tree, _root_name(fetched), force_type=force_type)


def _root_name(fetched: Fetched) -> str:
    spec = fetched.spec
    if spec.subpath:
        return spec.subpath.rstrip("/").rsplit("/", 1)[-1]
    if spec.kind == "git":
        return spec.location.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    return fetched.root.name


def select(cands: list[Candidate], sel: Selection, choose: Chooser | None) -> list[Candidate]:
    picked = [c for c in cands if not sel.types or c.id.type in sel.types]
    if sel.names:
        picked = [c for c in picked if any(_name_matches(c.id, n) for n in sel.names)]
        missing = [n for n in sel.names if not any(_name_matches(c.id, n) for c in cands)]
        if missing:
            raise NotFoundError(f"no artifact matching {', '.join(missing)} in the source",
                                hint="list them with `skillmeat add SOURCE --dry-run --all`")
    if sel.all or sel.narrows or len(picked) <= 1:
        return picked
    if choose is None:
        raise BadInputError(
            f"the source holds {len(picked)} artifacts",
            hint="pick with --name, --type or --all",
        )
    return choose(picked)


def _name_matches(aid: ArtifactId, pattern: str) -> bool:
    return any(fnmatch.fnmatchcase(x, pattern) for x in (str(aid), aid.name, aid.base))


def add(
    home: Home,
    store: CollectionStore,
    source: str,
    *,
    ref: str = "",
    selection: Selection = Selection(),
    tags: Sequence[str] = (),
    dry_run: bool = False,
    choose: Chooser | None = None,
    progress: Progress | None = None,
) -> AddResult:
    """Copy artifacts from a source into the collection, recording their upstream."""
    spec = parse_source(source, ref)
    force = selection.types[0] if len(selection.types) == 1 else None
    with home.lock(), fetch(spec) as fetched:
        manifest = store.manifest()  # a malformed manifest stops us before anything is written
        lock = store.lock()
        tree, found = open_source(fetched, force)
        result = AddResult(spec.text, found.layout, warnings=list(found.notes))
        result.warnings += [warning(p, 1, "skipped", "skipped: a symlink leading outside the "
                                    "source, or not a regular file") for p in tree.skipped]
        picked = select(found.candidates, selection, choose)
        if not picked:
            why = f" ({found.notes[0].message})" if found.notes else ""
            raise NotFoundError(f"no artifacts found in {spec.text}{why}",
                                hint="point at a skill, a .claude/ directory or a marketplace")
        existing = store.artifacts_in_worktree()
        work = store.worktree()
        new: list[tuple[Candidate, str]] = []
        for cand in picked:
            digest = candidate_hash(tree, cand)
            if cand.id in existing:
                if tree_hash(work, cand.id, existing[cand.id]) != digest:
                    raise ConflictError(f"{cand.id} is already in the collection with other content",
                                        hint="use `skillmeat update` or remove it first")
                result.unchanged.append(cand.id)
                continue
            new.append((cand, digest))
            result.warnings += _one_per_file(cand.diagnostics)
        result.added = [c.id for c, _ in new]
        retag = {str(a): manifest.artifacts.get(str(a), ManifestEntry()) for a in result.unchanged}
        retag = {k: ManifestEntry(e.upstream, e.pin, tuple(dict.fromkeys([*e.tags, *tags])))
                 for k, e in retag.items() if not set(tags) <= set(e.tags)}
        result.retagged = sorted(retag)
        if (new or retag) and not dry_run:
            with store.change() as txn:
                write_candidates(txn, tree, [c for c, _ in new], progress)
                entries = dict(retag)
                for cand, _ in new:
                    old = manifest.artifacts.get(str(cand.id), ManifestEntry())
                    upstream = Upstream(spec.text, upstream_path(fetched, cand), spec.ref)
                    merged = tuple(dict.fromkeys([*old.tags, *tags]))
                    entries[str(cand.id)] = ManifestEntry(upstream, old.pin, merged)
                known = {k: v for k, v in entries.items() if k in manifest.artifacts}
                fresh = {k: v for k, v in entries.items() if k not in manifest.artifacts}
                txn.write(MANIFEST_NAME, render_manifest_update(store.manifest_path, add=fresh,
                                                                replace=known))
                for cand, digest in new:
                    lock[str(cand.id)] = LockEntry(digest, spec.text, upstream_path(fetched, cand),
                                                   fetched.commit, cand.version)
                txn.write(LOCK_NAME, render_lock(lock))
                result.commit = txn.commit(_add_message(new, retag, spec.text, tags))
        return result


def _add_message(new: list[tuple[Candidate, str]], retag: dict[str, ManifestEntry], source: str,
                 tags: Sequence[str]) -> str:
    if not new:
        return f"Tag {len(retag)} artifact(s) {', '.join(tags)}\n\n" + "\n".join(
            f"- {a}" for a in retag)
    noun = "artifact" if len(new) == 1 else "artifacts"
    return f"Add {len(new)} {noun} from {source}\n\n" + "\n".join(f"- {c.id}" for c, _ in new)


def _one_per_file(diags: Sequence[Diagnostic]) -> list[Diagnostic]:
    seen: dict[str, Diagnostic] = {}
    for d in diags:
        if d.path not in seen or (d.level == "error" and seen[d.path].level != "error"):
            seen[d.path] = d
    return list(seen.values())


def write_candidates(
    txn: WorktreeChange, tree: FsTree, cands: list[Candidate], progress: Progress | None = None
) -> None:
    for i, cand in enumerate(cands, 1):
        if progress is not None:
            progress(i, len(cands))
        for f in cand.files:
            if f.data is not None:
                txn.write(f.dest, f.data)
            else:
                txn.copy_file(tree.path(f.src), f.dest)


def upstream_path(fetched: Fetched, cand: Candidate) -> str:
    sub = fetched.spec.subpath
    origin = "" if cand.origin == "." else cand.origin
    if fetched.root.is_file():
        return ""
    return "/".join(p for p in (sub, origin) if p)


def remove(home: Home, store: CollectionStore, refs: Sequence[str]) -> list[ArtifactId]:
    with home.lock():
        store.manifest()
        lock = store.lock()
        existing = store.artifacts_in_worktree()
        ids = sorted({resolve(r, existing, store.name) for r in refs})
        with store.change() as txn:
            for aid in ids:
                for path in artifact_roots(aid):
                    if (store.path / path).exists():
                        txn.remove(path)
                lock.pop(str(aid), None)
            txn.write(MANIFEST_NAME, render_manifest_update(
                store.manifest_path, remove={str(a) for a in ids}))
            txn.write(LOCK_NAME, render_lock(lock))
            txn.commit(f"Remove {', '.join(str(a) for a in ids)}")
        return ids


def artifact_roots(aid: ArtifactId) -> list[str]:
    return [aid.relpath] + ([aid.extra_dir] if aid.extra_dir else [])
