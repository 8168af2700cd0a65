"""Atomic writes, the process lock, and hashing of files on disk."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillmeat.model.errors import LockedError


def atomic_write(path: Path, data: bytes | str, *, mode: int | None = None,
                 sync: bool = True) -> None:
    """Write a file so a crash leaves the old content or the new, never a mix.

    ``sync=False`` skips the fsync: for caches, which are fetched again if a crash loses them.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def process_lock(path: Path, *, timeout: float = 10.0) -> Iterator[None]:
    """Hold the SkillMeat process lock (a flock on ``path``) for a multi-step change."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise LockedError(
                        f"another skillmeat process holds {path}",
                        hint="wait for it to finish, then retry",
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_mode(path: Path) -> int:
    """The mode git records: 0o100755 for executables, 0o100644 otherwise."""
    return 0o100755 if os.stat(path).st_mode & 0o111 else 0o100644


@contextlib.contextmanager
def staging_dir(prefix: str = "skillmeat-") -> Iterator[Path]:
    """A temporary directory removed on exit, success or failure."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def prune_empty_dirs(directory: Path, stop: Path) -> None:
    """Remove ``directory`` and its parents up to ``stop`` while they are empty."""
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def read_record(path: Path, fmt: str, what: str, hint: str) -> list[Any]:
    """The ``deployments`` list of a versioned JSON record (``[]`` when there is none yet).

    Anything unreadable is one ``ConfigError`` naming the file and saying what to do.
    """
    import json

    from skillmeat.model.errors import ConfigError

    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != fmt:
            raise ValueError(f"format is {data.get('format')!r}, expected {fmt}")
        items = data["deployments"]
        if not isinstance(items, list):
            raise ValueError("'deployments' is not a list")
        return items
    except (OSError, ValueError, KeyError, AttributeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"unreadable {what} ({exc})", hint=hint) from None
