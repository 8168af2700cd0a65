"""Creating, listing, selecting and removing collections."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import check_part
from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME
from skillmeat.store.collection import CollectionStore
from skillmeat.store.files import atomic_write
from skillmeat.store.gitrepo import GitRepo
from skillmeat.store.home import Home
from skillmeat.store.manifest import render_lock, render_new_manifest

GITIGNORE = "# SkillMeat\n.DS_Store\n__pycache__/\n"


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    path: Path
    active: bool
    exists: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "active": self.active,
                "exists": self.exists}


def init_collection(home: Home, path: Path, name: str | None = None) -> CollectionStore:
    """Make ``path`` a collection repository (creating it if needed) and register it."""
    path = path.absolute()
    name = check_part(name or path.name, "collection name")
    check_not_nested(home, path)
    known = home.collections()
    if (path / MANIFEST_NAME).exists():
        if home.name_for(path) is not None:
            raise ConflictError(f"{path} is already a collection", hint="use it as it is")
        if name in known:
            raise ConflictError(f"a collection named '{name}' already exists at {known[name]}",
                                hint="pass --name to choose another name")
        with home.lock():
            home.config.register(name, path)  # a collection forgotten earlier: known again
        return CollectionStore.open(name, path)
    if name in known and known[name].resolve() != path.resolve():
        raise ConflictError(f"a collection named '{name}' already exists at {known[name]}",
                            hint="pass --name to choose another name")
    with home.lock():
        repo = GitRepo(path) if (path / ".git").exists() else GitRepo.init(path)
        atomic_write(path / MANIFEST_NAME, render_new_manifest(name))
        atomic_write(path / LOCK_NAME, render_lock({}))
        paths = [MANIFEST_NAME, LOCK_NAME]
        if not (path / ".gitignore").exists():
            atomic_write(path / ".gitignore", GITIGNORE)
            paths.append(".gitignore")
        repo.commit_paths(paths, f"Initialize SkillMeat collection '{name}'")
        home.config.register(name, path)
        if home.config.active() is None:
            home.config.set_active(name)
    return CollectionStore(name, path)


def check_not_nested(home: Home, path: Path) -> None:
    """Refuse a collection inside another collection's work tree (git would embed it)."""
    path = path.resolve()
    for parent in path.parents:
        if (parent / MANIFEST_NAME).is_file() and (parent / ".git").exists():
            name = home.name_for(parent)
            label = f"collection '{name}'" if name else "a collection"
            raise ConflictError(f"{path} is inside {label} at {parent}: nothing was changed",
                                hint="make the new collection outside the other one's directory")


def create_collection(home: Home, name: str) -> CollectionStore:
    check_part(name, "collection name")
    path = home.paths.collections / name
    if path.exists() and not (path / MANIFEST_NAME).is_file():
        raise ConflictError(f"{path} exists and is not a collection", hint="move it away first")
    return init_collection(home, path, name)


def list_collections(home: Home) -> list[CollectionInfo]:
    active = home.config.active()
    return [
        CollectionInfo(name, path, name == active, (path / MANIFEST_NAME).is_file())
        for name, path in sorted(home.collections().items())
    ]


def use_collection(home: Home, name: str) -> None:
    known = home.collections()
    if name not in known:
        raise NotFoundError(f"no collection named '{name}'", hint="see `skillmeat collection list`")
    CollectionStore.open(name, known[name])  # a registered but missing collection is refused
    with home.lock():
        home.config.set_active(name)


def remove_collection(home: Home, name: str, *, delete: bool = False) -> Path:
    known = home.collections()
    if name not in known:
        raise NotFoundError(f"no collection named '{name}'", hint="see `skillmeat collection list`")
    path = known[name]
    with home.lock():
        if delete:
            if not (path / MANIFEST_NAME).is_file():
                raise BadInputError(f"{path} does not look like a collection; not deleting it")
            if path.resolve().parent != home.paths.collections.resolve():
                raise BadInputError(
                    f"{path} was not created by `skillmeat collection create`; not deleting it",
                    hint="remove it without --delete, then delete the directory yourself")
            shutil.rmtree(path)
        home.config.unregister(name)
    return path
