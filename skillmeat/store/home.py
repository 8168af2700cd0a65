"""The user's SkillMeat home: config, collections, the process lock. Built once per CLI run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat.model.errors import NotFoundError
from skillmeat.model.manifest import MANIFEST_NAME
from skillmeat.store.collection import CollectionStore
from skillmeat.store.config import UserConfig
from skillmeat.store.files import process_lock
from skillmeat.store.paths import HomePaths

if TYPE_CHECKING:
    from skillmeat.store.keystore import KeyStore
    from skillmeat.store.trust import TrustDir


class Home:
    def __init__(self, paths: HomePaths, cwd: Path, selected: str | None = None) -> None:
        self.paths = paths
        self.config = UserConfig(paths.config)
        self.cwd = cwd
        self.selected = selected

    @classmethod
    def from_env(cls, selected: str | None = None) -> Home:
        return cls(HomePaths.from_env(), Path(os.getcwd()), selected)

    @property
    def keys(self) -> KeyStore:
        from skillmeat.store.keystore import KeyStore

        return KeyStore(self.paths.keys)

    @property
    def trust(self) -> TrustDir:
        from skillmeat.store.trust import TrustDir

        return TrustDir(self.paths.trust, "user trust")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with process_lock(self.paths.lock):
            yield

    def collections(self) -> dict[str, Path]:
        """The registered collections (``init`` and ``collection create`` register them)."""
        return self.config.collections()

    def name_for(self, path: Path) -> str | None:
        path = path.resolve()
        for name, where in self.collections().items():
            if where.resolve() == path:
                return name
        return None

    def enclosing_collection(self) -> Path | None:
        for candidate in (self.cwd, *self.cwd.parents):
            if (candidate / MANIFEST_NAME).is_file() and (candidate / ".git").exists():
                return candidate
        return None

    def collection_or_none(self) -> CollectionStore | None:
        """The collection in use, or None when there is none (for commands that only read)."""
        try:
            return self.collection()
        except NotFoundError:
            return None

    def collection(self, name: str | None = None) -> CollectionStore:
        """The collection to work on: named, or the one around cwd, or the active one."""
        name = name or self.selected
        known = self.collections()
        if name:
            if name not in known:
                raise NotFoundError(f"no collection named '{name}'",
                                    hint="see `skillmeat collection list`")
            return CollectionStore.open(name, known[name])
        here = self.enclosing_collection()
        if here is not None:
            return CollectionStore.open(self.name_for(here) or here.name, here)
        active = self.config.active()
        if active and active in known:
            return CollectionStore.open(active, known[active])
        if len(known) == 1:
            (only, path), = known.items()
            return CollectionStore.open(only, path)
        raise NotFoundError(
            "no collection selected" if known else "no collection yet",
            hint="run `skillmeat init`, `skillmeat collection create NAME` "
            "or `skillmeat collection use NAME`",
        )
