"""One collection on disk: its repository, manifest, lock, files and index cache."""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillmeat.model.artifact import ArtifactId, ids_from_paths
from skillmeat.model.errors import NotFoundError
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME, LockEntry, Manifest
from skillmeat.store import manifest as manifest_io
from skillmeat.store.filechange import FileChange
from skillmeat.store.files import atomic_write
from skillmeat.store.gitrepo import GitRepo
from skillmeat.store.tree import FsTree, GitTree

if TYPE_CHECKING:
    from skillmeat.store.trust import TrustDir

INDEX_VERSION = 3


class CollectionStore:
    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self._repo: GitRepo | None = None

    @classmethod
    def open(cls, name: str, path: Path) -> CollectionStore:
        if not (path / MANIFEST_NAME).is_file():
            raise NotFoundError(
                f"collection '{name}' not found at {path} (no {MANIFEST_NAME})",
                hint="see `skillmeat collection list`",
            )
        return cls(name, path)

    @property
    def repo(self) -> GitRepo:
        if self._repo is None:
            self._repo = GitRepo(self.path)
        return self._repo

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_NAME

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_NAME

    def manifest(self) -> Manifest:
        return manifest_io.load_manifest(self.manifest_path)

    def lock(self) -> dict[str, LockEntry]:
        return manifest_io.load_lock(self.lock_path)

    @property
    def trust(self) -> TrustDir:
        from skillmeat.store.trust import TrustDir

        return TrustDir(self.path / ".skillmeat", f"collection {self.name}")

    def worktree(self) -> FsTree:
        return FsTree(self.path, label=str(self.path))

    def tree_at(self, rev: str) -> GitTree:
        return GitTree(self.repo.repo, self.repo.files_at(rev), f"{self.name}@{rev[:12]}")

    def artifacts_in_worktree(self) -> dict[ArtifactId, list[str]]:
        return ids_from_paths(self.worktree().files())

    @contextlib.contextmanager
    def change(self) -> Iterator[WorktreeChange]:
        """A multi-file change to the work tree that is committed whole or undone whole."""
        txn = WorktreeChange(self)
        try:
            yield txn
        except BaseException:
            txn.undo()
            raise
        txn.done()

    # --- the index cache: what list and search read instead of every file ---

    def _index_path(self) -> Path:
        return Path(self.repo.repo.path) / "skillmeat" / "index.marshal"

    def load_index(self) -> tuple[str, dict[str, Any]] | None:
        try:
            raw = self._index_path().read_bytes()
            data = marshal.loads(raw)
        except (OSError, EOFError, ValueError, TypeError):
            return None
        if not isinstance(data, dict) or data.get("v") != INDEX_VERSION:
            return None
        return data["head"], data["artifacts"]

    def save_index(self, head: str, artifacts: dict[str, Any]) -> None:
        data = {"v": INDEX_VERSION, "head": head, "artifacts": artifacts}
        with contextlib.suppress(OSError):
            atomic_write(self._index_path(), marshal.dumps(data))


class WorktreeChange(FileChange):
    """Files written or removed in a collection's work tree, then one commit."""

    def __init__(self, store: CollectionStore) -> None:
        super().__init__(store.path, Path(store.repo.repo.path) / "skillmeat" / f"txn-{os.getpid()}")
        self.store = store
        self.committed: str | None = None
        self._made: list[tuple[str, str | None]] = []

    def commit(self, message: str, *, allow_empty: bool = False,
               known: dict[str, tuple[str, int]] | None = None) -> str:
        """Commit every touched path; ``known`` files' blobs are already stored (see GitRepo)."""
        parent = self.store.repo.head()
        self.committed = self.store.repo.commit_paths(self.touched, message,
                                                      allow_empty=allow_empty, known=known)
        if self.committed != parent:
            self._made.append((self.committed, parent))
        return self.committed

    def undo(self) -> None:
        """Put the work tree back and take back the commits this change made, newest first."""
        for made, parent in reversed(self._made):
            self.store.repo.uncommit(made, parent)
        super().undo()
