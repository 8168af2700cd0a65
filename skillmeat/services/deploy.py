"""Deploying collection artifacts into projects (or the user's home) through a profile."""

from __future__ import annotations

import json
import os
import posixpath
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import ArtifactId, ids_from_paths
from skillmeat.model.deployment import Deployment
from skillmeat.model.errors import AmbiguousError, ConflictError, NotFoundError
from skillmeat.model.hashing import content_hash
from skillmeat.services.hashing import tree_hash
from skillmeat.services.profiles import get_profile
from skillmeat.services.profiles.base import Files, Placement
from skillmeat.services.query import resolve
from skillmeat.store.collection import CollectionStore
from skillmeat.store.deployments import (
    DeployRecord,
    file_entries,
    files_under,
    read_settings,
    render_settings,
)
from skillmeat.store.filechange import FileChange
from skillmeat.store.home import Home
from skillmeat.store.statcache import StatCache
from skillmeat.store.tree import GitTree


@dataclass(frozen=True)
class Target:
    root: Path
    scope: str  # "project" or "user"
    record: DeployRecord

    @property
    def label(self) -> str:
        return "~ (user)" if self.scope == "user" else str(self.root)

    def backup_dir(self) -> Path:
        return self.root / ".skillmeat" / f"txn-{os.getpid()}"


def target_for(home: Home, project: Path | None = None, user: bool = False) -> Target:
    if user:
        return Target(Path.home(), "user", DeployRecord(home.paths.state / "user-deployed.json"))
    root = (project or home.cwd).resolve()
    return Target(root, "project", DeployRecord(root / ".skillmeat" / "deployed.json"))


def artifact_files(tree: GitTree, aid: ArtifactId, paths: list[str]) -> Files:
    """An artifact's files at a commit, relative to the directory holding it."""
    cut = len(posixpath.dirname(aid.relpath)) + 1
    return {p[cut:]: (tree.read(p), tree.mode(p)) for p in paths}


def placed_hash(root: Path, placement_paths: Sequence[str], hooks: dict[str, Any],
                cache: StatCache | None = None) -> str:
    """Hash of what a deployment put into the target (files, and hook groups if any)."""
    return hash_entries(placed_entries(root, placement_paths, cache), hooks)


def placed_entries(root: Path, placement_paths: Sequence[str],
                   cache: StatCache | None = None) -> list[tuple[str, int, str]]:
    """(path, mode, sha256) of every deployed file present under the placement paths."""
    rels = [f for p in placement_paths for f in files_under(root, p)]
    return file_entries(root, rels, cache)


def hash_entries(entries: list[tuple[str, int, str]], hooks: dict[str, Any]) -> str:
    if hooks:
        blob = json.dumps(hooks, sort_keys=True).encode()
        entries.append(("#hooks", 0o100644, content_hash([("", 0, blob.hex())])))
    return content_hash(entries)


@dataclass
class DeployResult:
    target: Target
    profile: str
    deployed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    planned: dict[str, tuple[str, ...]] = field(default_factory=dict)


def deploy(
    home: Home, store: CollectionStore, refs: Sequence[str], target: Target, profile_name: str,
    *, dry_run: bool = False, force: bool = False,
) -> DeployResult:
    """Write the artifacts into the target; all of them or, on any failure, none."""
    profile = get_profile(profile_name)
    with home.lock():
        head = store.repo.head() or ""
        tree = store.tree_at(head)
        groups = ids_from_paths(tree.files())
        ids = sorted({resolve(r, groups, store.name) for r in refs})
        plans = {aid: profile.place(aid, artifact_files(tree, aid, groups[aid])) for aid in ids}
        record = target.record.load()
        _check_clashes(target, profile.name, plans, record, force)
        result = DeployResult(target, profile.name)
        result.planned = {str(a): p.paths + ((p.settings_file,) if p.hooks else ())
                          for a, p in plans.items()}
        if dry_run:
            return result
        with FileChange.under(target.root, target.backup_dir()) as change:
            for aid, placement in plans.items():
                key = f"{profile.name}:{aid}"
                old = record.get(key)
                digest = tree_hash(tree, aid, groups[aid])
                if old is not None and old.hash == digest and old.deployed_hash == placed_hash(
                        target.root, old.paths, old.settings):
                    result.unchanged.append(str(aid))
                    continue
                if old is not None:
                    _remove(change, target, old)
                _write(change, target, placement)
                record[key] = Deployment(str(aid), profile.name, store.name, str(store.path),
                                         head, digest,
                                         placed_hash(target.root, placement.paths, placement.hooks),
                                         placement.paths + ((placement.settings_file,)
                                                            if placement.hooks else ()),
                                         _settings_note(placement), int(time.time()))
                result.deployed.append(str(aid))
            if result.deployed:
                change.write(record_relpath(target, target.record.path), target.record.render(record))
        return result


def _settings_note(placement: Placement) -> dict[str, Any]:
    return {"file": placement.settings_file, "hooks": placement.hooks} if placement.hooks else {}


def record_relpath(target: Target, path: Path) -> str:
    """A path relative to the target root (absolute when it lies outside it)."""
    try:
        return path.relative_to(target.root).as_posix()
    except ValueError:
        return os.path.relpath(path, target.root)


def clashes(plans: dict[ArtifactId, Placement]) -> list[tuple[str, list[ArtifactId]]]:
    """The paths more than one of the planned artifacts would be deployed to, with those
    artifacts (in plan order), sorted by path."""
    by_path: dict[str, list[ArtifactId]] = {}
    for aid, placement in plans.items():
        for path in placement.paths:
            by_path.setdefault(path, []).append(aid)
    return sorted((path, ids) for path, ids in by_path.items() if len(ids) > 1)


def _check_clashes(target: Target, profile: str, plans: dict[ArtifactId, Placement],
                   record: dict[str, Deployment], force: bool) -> None:
    owners: dict[str, str] = {}
    for dep in record.values():
        for p in dep.paths:
            owners[p] = dep.key
    found = clashes(plans)
    if found:
        path, (first, second, *_) = found[0]
        raise ConflictError(f"{second} and {first} would both be deployed to {path}",
                            hint="deploy one of them, or use another profile")
    for aid, placement in plans.items():
        for path in placement.paths:
            owner = owners.get(path)
            if owner not in (None, f"{profile}:{aid}"):
                raise ConflictError(f"{path} in {target.label} already holds {owner}",
                                    hint=f"undeploy {owner.split(':', 1)[1]} first")
            if owner is None and (target.root / path).exists() and not force:
                raise ConflictError(f"{path} already exists in {target.label} and was not "
                                    "deployed by SkillMeat", hint="move it away, or pass --force")


def _write(change: FileChange, target: Target, placement: Placement) -> None:
    for path in placement.paths:
        if (target.root / path).exists():
            change.remove(path)
    for rel, (data, mode) in sorted(placement.files.items()):
        change.write_blob(rel, data, mode)
    if placement.hooks:
        settings = read_settings(change.edit_in_place(placement.settings_file))
        merge_hooks(settings, placement.hooks)
        change.write(placement.settings_file, render_settings(settings))


def merge_hooks(settings: dict[str, Any], hooks: dict[str, list[Any]]) -> None:
    """Add our hook groups to ``settings["hooks"]``, keeping every other key and entry."""
    table = settings.setdefault("hooks", {})
    for event, groups in hooks.items():
        existing = table.setdefault(event, [])
        for group in groups:
            if group not in existing:
                existing.append(group)


def unmerge_hooks(settings: dict[str, Any], hooks: dict[str, list[Any]]) -> None:
    """Remove exactly our hook groups; events left empty by us go too."""
    table = settings.get("hooks")
    if not isinstance(table, dict):
        return
    for event, groups in hooks.items():
        existing = table.get(event)
        if not isinstance(existing, list):
            continue
        for group in groups:
            if group in existing:
                existing.remove(group)
        if not existing:
            del table[event]
    if not table:
        del settings["hooks"]


def _remove(change: FileChange, target: Target, dep: Deployment) -> None:
    hooks = dep.settings.get("hooks", {})
    for path in dep.paths:
        if hooks and path == dep.settings.get("file"):
            continue
        if (target.root / path).exists():
            change.remove(path)
    if hooks:
        rel = str(dep.settings["file"])
        full = change.edit_in_place(rel)
        if full.exists():
            settings = read_settings(full)
            unmerge_hooks(settings, hooks)
            change.write(rel, render_settings(settings))


def undeploy(home: Home, refs: Sequence[str], target: Target,
             profile_name: str | None = None) -> list[str]:
    """Remove deployed artifacts (only what SkillMeat wrote) and their record entries."""
    with home.lock():
        record = target.record.load()
        chosen = _match(record, refs, profile_name, target)
        with FileChange.under(target.root, target.backup_dir()) as change:
            for key in chosen:
                _remove(change, target, record.pop(key))
            change.write(record_relpath(target, target.record.path), target.record.render(record))
        return [k.split(":", 1)[1] for k in chosen]


def _match(record: dict[str, Deployment], refs: Sequence[str], profile: str | None,
           target: Target) -> list[str]:
    out = []
    for ref in refs:
        keys = [k for k, d in record.items() if (profile is None or d.profile == profile)
                and _ref_matches(d.artifact, ref)]
        if not keys:
            raise NotFoundError(f"'{ref}' is not deployed in {target.label}",
                                hint="see `skillmeat status`")
        if len(keys) > 1:
            raise AmbiguousError(ref, keys)
        out.append(keys[0])
    return sorted(set(out))


def _ref_matches(artifact: str, ref: str) -> bool:
    aid = ArtifactId.parse(artifact)
    return ref in (artifact, aid.name, aid.base)
