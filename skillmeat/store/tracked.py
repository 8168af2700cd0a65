"""The files git tracks in a work tree: what a commit-stage hook sees.

pre-commit stashes unstaged changes before it runs the hooks, so the tracked files of the
work tree hold exactly what is being committed; untracked junk is left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from skillmeat.model.errors import NotFoundError
from skillmeat.model.manifest import MANIFEST_NAME


def collection_root(cwd: Path) -> Path:
    """The collection repository around ``cwd`` (a skillmeat.toml beside a .git), as
    ``Home.enclosing_collection`` finds it, without loading the home (hook start-up time)."""
    for candidate in (cwd, *cwd.parents):
        if (candidate / MANIFEST_NAME).is_file() and (candidate / ".git").exists():
            return candidate
    raise NotFoundError(f"{cwd} is not inside a SkillMeat collection (no {MANIFEST_NAME} beside "
                        "a .git)", hint="run the hook from a collection repository, or make it "
                        "one with `skillmeat init --team`")


def tracked_files(root: Path, *pathspecs: str) -> list[str]:
    """Tracked files under ``root`` (posix, relative, sorted) that exist in the work tree."""
    from skillmeat.store.gitcli import run_git

    out = run_git(["-c", "core.quotePath=false", "ls-files", "-z", "--", *pathspecs],
                  cwd=root, source=str(root))
    return sorted(p for p in out.split("\0") if p and os.path.isfile(root / p))


def work_files(root: Path, tops: Iterable[str]) -> list[str]:
    """The work tree's files under some top-level directories of ``root`` (posix, relative,
    sorted), untracked ones included as ``skillmeat validate`` sees them. One os.walk and no
    git process: the validate hook starts once per batch of files, so its start-up counts."""
    out: list[str] = []
    cut = len(str(root)) + 1
    for top in sorted(set(tops)):
        for directory, dirs, files in os.walk(root / top):
            if ".git" in dirs:
                dirs.remove(".git")
            rel = directory[cut:].replace(os.sep, "/")
            out += [f"{rel}/{name}" for name in files]
    return sorted(out)


def read_text(path: Path) -> str | None:
    """A text file's content, or None when it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
