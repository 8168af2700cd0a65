"""Probes of the machine SkillMeat runs on (tools on PATH, installed packages, writable
directories), for ``web doctor``. Each answers without raising."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ToolRun:
    path: str | None  # None: not on PATH
    code: int = 0
    output: str = ""  # stdout, else stderr, stripped


def which(name: str) -> str | None:
    return shutil.which(name)


def run_tool(name: str, *args: str, timeout: float = 10) -> ToolRun:
    """``name`` found on PATH and run with ``args`` (its exit code and first output)."""
    path = shutil.which(name)
    if path is None:
        return ToolRun(None)
    try:
        proc = subprocess.run([path, *args], capture_output=True, text=True, timeout=timeout,
                              check=False, env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))
    except (OSError, subprocess.SubprocessError) as exc:
        return ToolRun(path, -1, str(exc))
    return ToolRun(path, proc.returncode, (proc.stdout.strip() or proc.stderr.strip()))


def dist_version(name: str) -> str | None:
    """The installed version of a distribution (None when it is not installed)."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def pygit2_versions() -> tuple[str, str, list[str]] | str:
    """(pygit2 version, libgit2 version, libgit2 features), or why pygit2 cannot be imported."""
    try:
        import pygit2
    except ImportError as exc:  # also a libgit2 that does not load
        return str(exc)
    flags = int(pygit2.features)
    features = [name.lower() for name in ("THREADS", "HTTPS", "SSH")
                if flags & int(getattr(pygit2.enums.Feature, name, 0))]
    version = getattr(pygit2, "__version__", "?")
    return str(version), str(pygit2.LIBGIT2_VERSION), features


def writable(directory: Path) -> str | None:
    """None when a file can be created (and removed) in ``directory`` or, when it does not
    exist yet, in the nearest existing parent (where it would be created); else why not."""
    target = directory
    while not target.exists():
        if target.parent == target:
            return f"no existing parent of {directory}"
        target = target.parent
    if not target.is_dir():
        return f"{target} is not a directory"
    try:
        fd, name = tempfile.mkstemp(prefix=".skillmeat-doctor-", dir=target)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return f"cannot write in {target} ({exc.strerror or exc})"
    return None
