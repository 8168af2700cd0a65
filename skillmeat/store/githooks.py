"""Git's hooks directory on disk: where it is, the hook files in it, the packaged scripts,
the repository's ``skillmeat.*`` config, and the few git queries a pre-push hook needs.

The git command line is used (not pygit2) because the user's own set-up must apply:
``core.hooksPath`` (relative or absolute) and linked worktrees.
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import dataclass
from pathlib import Path

from skillmeat.model.errors import NotFoundError, SourceError
from skillmeat.store.files import atomic_write
from skillmeat.store.gitcli import run_git

HOOK_MODE = 0o755


def hooks_dir(repo: Path) -> Path:
    """The directory git runs hooks from (``git rev-parse --git-path hooks``)."""
    try:
        out = run_git(["rev-parse", "--git-path", "hooks"], cwd=repo, source=str(repo)).strip()
    except SourceError as exc:
        raise NotFoundError(f"{repo} is not in a git repository ({exc.detail})",
                            hint="run it inside a repository, or give one with --repo DIR") from None
    return Path(os.path.abspath(repo / out))


def template(hook: str) -> str:
    """The packaged script of ``hook`` (skillmeat/templates/githooks/<hook>)."""
    ref = importlib.resources.files("skillmeat") / "templates" / "githooks" / hook
    return ref.read_text("utf-8")


@dataclass(frozen=True)
class HookFile:
    path: Path
    text: str | None  # None: absent (or unreadable as text: then ``present`` says so)
    present: bool
    executable: bool


def read_hook(path: Path) -> HookFile:
    if not os.path.lexists(path):
        return HookFile(path, None, False, False)
    try:
        text: str | None = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):  # a dangling link, a directory, a binary
        text = None
    return HookFile(path, text, True, os.access(path, os.X_OK))


def write_hook(path: Path, text: str) -> None:
    atomic_write(path, text, mode=HOOK_MODE)


def move(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` (same directory: bytes, mode and symlinks kept as they are)."""
    os.replace(src, dst)


def remove(path: Path) -> None:
    path.unlink()


def read_config(repo: Path) -> dict[str, str]:
    """The repository's ``skillmeat.*`` git config, keys lower-cased as git prints them."""
    try:
        out = run_git(["config", "--get-regexp", r"^skillmeat\."], cwd=repo, source=str(repo))
    except SourceError:  # exit 1: none set
        return {}
    pairs = (line.partition(" ") for line in out.splitlines())
    return {key.lower(): value for key, _, value in pairs}


def write_config(repo: Path, key: str, value: str) -> None:
    run_git(["config", "--local", key, value], cwd=repo, source=f"git config {key}")


def commit_exists(repo: Path, sha: str) -> bool:
    try:
        run_git(["cat-file", "-e", f"{sha}^{{commit}}"], cwd=repo, source=str(repo))
    except SourceError:
        return False
    return True


def unpushed(repo: Path, sha: str, remote: str) -> list[str]:
    """Commits of ``sha`` no ref of ``remote`` has, oldest first (topological)."""
    return run_git(["rev-list", sha, "--topo-order", "--reverse", "--not", f"--remotes={remote}"],
                   cwd=repo, source=str(repo)).split()


def roots(repo: Path, sha: str) -> set[str]:
    return set(run_git(["rev-list", "--max-parents=0", sha], cwd=repo, source=str(repo)).split())


def parent(repo: Path, sha: str) -> str:
    return run_git(["rev-parse", f"{sha}^"], cwd=repo, source=str(repo)).strip()


def is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
