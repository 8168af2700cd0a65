"""One collection on disk: its repository, manifest, lock, files and index cache."""

from __future__ import annotations

import contextlib
import marshal
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillmeat.model.artifact import ArtifactId, ids_from_paths
from skillmeat.model.errors import NotFoundError
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME, LockEntry, Manifest
from skillmeat.store import manifest as manifest_io
from skillmeat.store.files import atomic_write, prune_empty_dirs
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


class WorktreeChange:
    """Files written or removed in a collection's work tree, then one commit.

    Every path is backed up before its first change (moved aside inside ``.git``),
    so a failure anywhere puts the work tree back exactly as it was.
    """

    def __init__(self, store: CollectionStore) -> None:
        self.store = store
        self.root = store.path
        self.touched: list[str] = []
        self._backup = Path(store.repo.repo.path) / "skillmeat" / f"txn-{os.getpid()}"
        self._saved: dict[str, int] = {}  # rel -> backup number, or -1 when it did not exist
        self.committed: str | None = None

    def _save(self, rel: str, *, copy: bool = False) -> None:
        if rel in self._saved:
            return
        src = self.root / rel
        number = -1
        if src.exists() or src.is_symlink():
            number = len(self._saved)
            dst = self._backup / str(number)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if copy:
                shutil.copy2(src, dst)
            else:
                os.replace(src, dst)
        self._saved[rel] = number
        self.touched.append(rel)

    def write(self, rel: str, data: bytes | str, *, executable: bool = False) -> None:
        self._save(rel)
        atomic_write(self.root / rel, data, mode=0o755 if executable else 0o644)

    def copy_file(self, src: Path, rel: str) -> None:
        self._save(rel)
        dst = self.root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o755 if os.stat(src).st_mode & 0o111 else 0o644)

    def write_blob(self, rel: str, data: bytes, mode: int) -> None:
        self.write(rel, data, executable=bool(mode & 0o111))

    def remove(self, rel: str) -> None:
        self._save(rel)

    def edit_in_place(self, rel: str) -> Path:
        """A file another store rewrites itself: backed up now, committed and undone with the rest."""
        self._save(rel, copy=True)
        return self.root / rel

    def commit(self, message: str, *, allow_empty: bool = False) -> str:
        self.committed = self.store.repo.commit_paths(self.touched, message,
                                                      allow_empty=allow_empty)
        return self.committed

    def undo(self) -> None:
        for rel in reversed(self.touched):
            path = self.root / rel
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            if self._saved[rel] >= 0:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._backup / str(self._saved[rel]), path)
            else:
                prune_empty_dirs(path.parent, self.root)
        shutil.rmtree(self._backup, ignore_errors=True)

    def done(self) -> None:
        shutil.rmtree(self._backup, ignore_errors=True)
        for rel in self.touched:
            if not (self.root / rel).exists():
                prune_empty_dirs((self.root / rel).parent, self.root)

