"""File digests cached by (size, mtime, inode), like git's index, so ``status`` rehashes only
what changed. Entries written less than two seconds after a file's mtime are not trusted
(a "racily clean" file could change again within the same timestamp)."""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import time
from pathlib import Path

from skillmeat.store.files import atomic_write, sha256_file

RACY_SECONDS = 2.0


class StatCache:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, tuple[int, int, int, str]] = {}
        self.dirty = False
        if path is not None:
            with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
                data = marshal.loads(path.read_bytes())
                if isinstance(data, dict):
                    self.entries = data

    @classmethod
    def for_root(cls, cache_dir: Path, root: Path) -> StatCache:
        key = hashlib.sha1(str(root).encode()).hexdigest()[:20]
        return cls(cache_dir / "stat" / f"{key}.marshal")

    def digest(self, full: str) -> tuple[int, str]:
        """(git mode, sha256) of a file, from the cache when its stat is unchanged."""
        st = os.stat(full)
        mode = 0o100755 if st.st_mode & 0o111 else 0o100644
        sig = (st.st_size, st.st_mtime_ns, st.st_ino)
        hit = self.entries.get(full)
        if hit is not None and hit[:3] == sig:
            return mode, hit[3]
        digest = sha256_file(Path(full))
        if time.time() - st.st_mtime > RACY_SECONDS:
            self.entries[full] = (*sig, digest)
            self.dirty = True
        return mode, digest

    def save(self) -> None:
        if self.path is not None and self.dirty:
            with contextlib.suppress(OSError):
                atomic_write(self.path, marshal.dumps(self.entries))
            self.dirty = False


class HashCache:
    """Artifact content hashes of one collection, valid for one HEAD commit."""

    def __init__(self, path: Path, head: str) -> None:
        self.path = path
        self.head = head
        self.hashes: dict[str, str | None] = {}
        self.dirty = False
        with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
            data = marshal.loads(path.read_bytes())
            if isinstance(data, dict) and data.get("head") == head:
                self.hashes = data["hashes"]

    def put(self, artifact: str, digest: str | None) -> None:
        self.hashes[artifact] = digest
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            with contextlib.suppress(OSError):
                atomic_write(self.path, marshal.dumps({"head": self.head, "hashes": self.hashes}))
            self.dirty = False
