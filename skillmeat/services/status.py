"""Drift between a collection and the projects it was deployed into."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model import deployment as states
from skillmeat.model.artifact import ArtifactId, ArtifactType, ids_from_paths
from skillmeat.model.deployment import ArtifactStatus, Deployment
from skillmeat.model.errors import SkillmeatError
from skillmeat.services.deploy import Target, hash_entries, placed_entries
from skillmeat.services.hashing import tree_hash
from skillmeat.services.profiles import get_profile
from skillmeat.store.deployments import read_settings, scan
from skillmeat.store.gitrepo import read_head_fast
from skillmeat.store.home import Home
from skillmeat.store.statcache import HashCache, StatCache


@dataclass
class TargetStatus:
    target: Target
    artifacts: list[ArtifactStatus] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return any(a.drifted for a in self.artifacts)

    def to_dict(self) -> dict[str, Any]:
        return {"target": str(self.target.root), "scope": self.target.scope,
                "drifted": self.drifted, "artifacts": [a.to_dict() for a in self.artifacts]}


class _Collections:
    """Each collection's HEAD tree and artifact hashes, computed once per status run."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self._cache: dict[str, tuple[Any, dict[ArtifactId, list[str]]] | None] = {}
        self._hashes: dict[tuple[str, str], str | None] = {}
        self._saved: dict[str, HashCache] = {}

    def hash_of(self, name: str, artifact: str) -> str | None:
        key = (name, artifact)
        if key not in self._hashes:
            saved = self._saved_for(name)
            if saved is not None and artifact in saved.hashes:
                self._hashes[key] = saved.hashes[artifact]
            else:
                self._hashes[key] = self._hash_of(name, artifact)
                if saved is not None:
                    saved.put(artifact, self._hashes[key])
        return self._hashes[key]

    def _saved_for(self, name: str) -> HashCache | None:
        """Artifact hashes cached per collection HEAD: no libgit2 load while HEAD is unchanged."""
        if name not in self._saved:
            known = self.home.collections()
            head = read_head_fast(known[name]) if name in known else None
            if head is None:
                return None
            self._saved[name] = HashCache(self.home.paths.cache / "hashes" / f"{name}.marshal", head)
        return self._saved[name]

    def save(self) -> None:
        for cache in self._saved.values():
            cache.save()

    def _hash_of(self, name: str, artifact: str) -> str | None:
        if name not in self._cache:
            try:
                store = self.home.collection(name)
                head = store.repo.head()
                tree = store.tree_at(head) if head else None
                self._cache[name] = (tree, ids_from_paths(tree.files())) if tree else None
            except SkillmeatError:
                self._cache[name] = None
        found = self._cache[name]
        aid = ArtifactId.parse(artifact)
        if found is None or aid not in found[1]:
            return None
        return tree_hash(found[0], aid, found[1][aid])


def status(home: Home, target: Target, collections: _Collections | None = None) -> TargetStatus:
    collections = collections or _Collections(home)
    record = target.record.load()
    out = TargetStatus(target)
    cache = StatCache.for_root(home.paths.cache, target.root)
    for key in sorted(record):
        out.artifacts.append(_state(target, record[key], collections, cache))
    cache.save()
    out.artifacts += _untracked(target, record.values())
    return out


def _state(target: Target, dep: Deployment, collections: _Collections,
           cache: StatCache) -> ArtifactStatus:
    def make(state: str, detail: str = "") -> ArtifactStatus:
        return ArtifactStatus(dep.artifact, dep.profile, state, detail, dep.paths)

    now = placed_now(target, dep, cache)
    if now is None:
        settings = dep.settings.get("file")
        if settings and (target.root / str(settings)).exists():
            return make(states.MODIFIED, f"its hook entries in {settings} were changed or removed")
        return make(states.MISSING, "deleted from the project")
    collection_hash = collections.hash_of(dep.collection, dep.artifact)
    if collection_hash is None:
        return make(states.REMOVED, f"no longer in collection '{dep.collection}'")
    project_changed = now != dep.deployed_hash
    collection_changed = collection_hash != dep.hash
    if project_changed and collection_changed:
        return make(states.CONFLICT, "changed in the project and in the collection")
    if project_changed:
        return make(states.MODIFIED)
    if collection_changed:
        return make(states.OUTDATED, f"collection '{dep.collection}' has a newer version")
    return make(states.IN_SYNC)


def placed_now(target: Target, dep: Deployment, cache: StatCache | None = None) -> str | None:
    """The hash of what the project holds of a deployment now (None: nothing of it is left);
    it differs from ``dep.deployed_hash`` when the files were changed in the project."""
    hooks = _present_hooks(target.root, dep)
    files = [p for p in dep.paths if p != dep.settings.get("file")]
    entries = placed_entries(target.root, files, cache)
    if not entries and not _any_hook(hooks):
        return None
    return hash_entries(entries, hooks)


def _present_hooks(root: Path, dep: Deployment) -> dict[str, Any]:
    """Those of our hook groups still present, verbatim, in the settings file."""
    recorded = dep.settings.get("hooks", {})
    if not recorded:
        return {}
    settings = read_settings(root / str(dep.settings["file"]))
    table = settings.get("hooks", {}) if isinstance(settings.get("hooks"), dict) else {}
    present = {}
    for event, groups in recorded.items():
        kept = [g for g in groups if g in table.get(event, [])]
        if kept:
            present[event] = kept
    return present


def _any_hook(hooks: dict[str, Any]) -> bool:
    return any(hooks.values())


def _untracked(target: Target, deployments: Iterable[Deployment]) -> list[ArtifactStatus]:
    deps = list(deployments)
    owned = {p for d in deps for p in d.paths}
    profiles = sorted({d.profile for d in deps} or {"claude_code"})
    out = []
    for name in profiles:
        for type_, rel in get_profile(name).scan_roots().items():
            suffix = None if type_ is ArtifactType.SKILL else (
                ".toml" if rel.endswith("commands") and name == "gemini" else ".md")
            for path in scan(target.root, rel, suffix):
                if path in owned:
                    continue
                base = path.rsplit("/", 1)[-1].rsplit(".", 1)[0] if suffix else \
                    path.rsplit("/", 1)[-1]
                out.append(ArtifactStatus(f"{type_.value}/{base}", name, states.UNTRACKED,
                                          "not deployed by SkillMeat", (path,)))
    return out


def status_all(home: Home, targets: Iterable[Target]) -> list[TargetStatus]:
    collections = _Collections(home)
    out = [status(home, t, collections) for t in targets]
    collections.save()
    return out
