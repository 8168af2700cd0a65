"""Read-only views of a file tree: a directory on disk, or a commit in a repository.

Discovery and indexing walk either through the same small interface.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Protocol


class Tree(Protocol):
    label: str

    def files(self) -> list[str]: ...

    def read(self, path: str) -> bytes: ...

    def mode(self, path: str) -> int: ...

    def digest(self, path: str) -> str: ...


class FsTree:
    """A directory on disk. Symlinks are followed only when they stay inside the root."""

    def __init__(self, root: Path, label: str | None = None, only: list[str] | None = None) -> None:
        self.root = root.resolve()
        self.label = label or str(root)
        self._files: list[str] | None = sorted(only) if only is not None else None
        self.skipped: list[str] = []

    def files(self) -> list[str]:
        if self._files is None:
            self._files = sorted(self._scan())
        return self._files

    def _scan(self) -> list[str]:
        out: list[str] = []
        stack = [self.root]
        while stack:
            directory = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                self.skipped.append(str(directory))
                continue
            for entry in entries:
                if entry.name == ".git":
                    continue
                rel = os.path.relpath(entry.path, self.root).replace(os.sep, "/")
                if entry.is_symlink() and not self._inside(Path(entry.path)):
                    self.skipped.append(rel)
                elif entry.is_dir():
                    stack.append(Path(entry.path))
                elif entry.is_file():
                    out.append(rel)
                else:
                    self.skipped.append(rel)
        return out

    def _inside(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.root)
        except OSError:
            return False

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()

    def mode(self, path: str) -> int:
        st = os.stat(self.root / path)
        return 0o100755 if st.st_mode & stat.S_IXUSR else 0o100644

    def digest(self, path: str) -> str:
        from skillmeat.store.files import sha256_file  # not at import: hook start-up time

        return sha256_file(self.root / path)


class GitTree:
    """The files of one commit, read through pygit2 without a work tree."""

    def __init__(self, repo: object, entries: dict[str, tuple[int, str]], label: str) -> None:
        self._repo = repo
        self._entries = entries
        self.label = label

    def files(self) -> list[str]:
        return sorted(self._entries)

    def read(self, path: str) -> bytes:
        data: bytes = self._repo[self._entries[path][1]].data  # type: ignore[index]
        return data

    def mode(self, path: str) -> int:
        return self._entries[path][0]

    def digest(self, path: str) -> str:
        return hashlib.sha256(self.read(path)).hexdigest()

    def oid(self, path: str) -> str:
        return self._entries[path][1]
