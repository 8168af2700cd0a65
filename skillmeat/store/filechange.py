"""A multi-file change under one root that is undone whole if anything fails."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from skillmeat.store.files import atomic_write, prune_empty_dirs


class FileChange:
    """Files written or removed under ``root``, each backed up before its first change
    (moved aside into ``backup``, on the same filesystem), so ``undo`` restores exactly
    what was there."""

    def __init__(self, root: Path, backup: Path) -> None:
        self.root = root
        self.touched: list[str] = []
        self._backup = backup
        self._saved: dict[str, int] = {}  # rel -> backup number, or -1 when it did not exist

    @classmethod
    @contextlib.contextmanager
    def under(cls, root: Path, backup: Path) -> Iterator[FileChange]:
        change = cls(root, backup)
        try:
            yield change
        except BaseException:
            change.undo()
            raise
        change.done()

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
        mode = 0o755 if executable else 0o644
        if self._saved[rel] >= 0:
            atomic_write(self.root / rel, data, mode=mode)
            return
        # A new file: nothing to protect, and undo removes it, so write it plainly (like cp).
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.chmod(path, mode)

    def copy_file(self, src: Path, rel: str) -> None:
        self._save(rel)
        dst = self.root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o755 if os.stat(src).st_mode & 0o111 else 0o644)

    def move_in(self, src: Path, rel: str) -> None:
        """Move a file we own (staged on the same file system) into place, keeping its mode."""
        self._save(rel)
        dst = self.root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dst)
        except OSError:  # another file system: copy instead
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o755 if os.stat(src).st_mode & 0o111 else 0o644)

    def write_blob(self, rel: str, data: bytes, mode: int) -> None:
        """Write ``data`` with git's ``mode`` (executable or not)."""
        self.write(rel, data, executable=bool(mode & 0o111))

    def remove(self, rel: str) -> None:
        self._save(rel)

    def edit_in_place(self, rel: str) -> Path:
        """A file rewritten by other code: backed up now, undone with the rest."""
        self._save(rel, copy=True)
        return self.root / rel

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
        prune_empty_dirs(self._backup.parent, self.root)

    def done(self) -> None:
        shutil.rmtree(self._backup, ignore_errors=True)
        prune_empty_dirs(self._backup.parent, self.root)
        for rel in self.touched:
            if not (self.root / rel).exists():
                prune_empty_dirs((self.root / rel).parent, self.root)
