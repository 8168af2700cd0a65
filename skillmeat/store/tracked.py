"""What a commit-stage hook sees: git's index (exactly what the commit will hold) and the
work tree's files under the artifact directories (as ``skillmeat validate`` sees them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.model.filenames import not_utf8, shown
from skillmeat.model.manifest import MANIFEST_NAME

if TYPE_CHECKING:
    from skillmeat.store.tree import GitTree

BLOB_MODES = (0o100644, 0o100755, 0o120000)  # gitlinks (submodules) are not content


def collection_root(cwd: Path) -> Path:
    """The collection repository around ``cwd`` (a skillmeat.toml beside a .git), as
    ``Home.enclosing_collection`` finds it, without loading the home (hook start-up time)."""
    for candidate in (cwd, *cwd.parents):
        if (candidate / MANIFEST_NAME).is_file() and (candidate / ".git").exists():
            return candidate
    raise NotFoundError(f"{cwd} is not inside a SkillMeat collection (no {MANIFEST_NAME} beside "
                        "a .git)", hint="run the hook from a collection repository, or make it "
                        "one with `skillmeat init --team`")


def staged_tree(root: Path, tops: Iterable[str]) -> GitTree:
    """The index's files under the top-level directories ``tops``: the blob ids and modes the
    commit will hold (after autocrlf, with git's executable bits, symlinks as links), read
    like a commit's tree. ``$GIT_INDEX_FILE`` is honoured: ``git commit -a`` and ``git commit
    PATHS`` run the hooks on a temporary index.

    A name that is not UTF-8 is refused (BadInputError, exit 2) and so is an artifact file
    with unresolved merge conflicts (ConflictError).
    """
    import pygit2

    from skillmeat.store.tree import GitTree

    repo = pygit2.Repository(str(root))
    env_index = os.environ.get("GIT_INDEX_FILE")
    index = pygit2.Index(str(root / env_index)) if env_index else repo.index
    prefixes = tuple(f"{top}/" for top in tops)
    conflicted = {e.path for c in (index.conflicts or ()) for e in c if e is not None}
    entries: dict[str, tuple[int, str]] = {}
    for entry in index:
        path = entry.path
        if not path.startswith(prefixes):
            continue
        if not_utf8(path):
            raise BadInputError(f"{shown(path)}: the file name is not UTF-8 (in git's index)",
                                hint="rename it with `git mv` to a UTF-8 name: bundles, "
                                "skillmeat.lock and Claude Code need one")
        if path in conflicted:
            raise ConflictError(f"{path} has unresolved merge conflicts",
                                hint=f"resolve them and `git add {path}`, then run the hook again")
        if entry.mode in BLOB_MODES:
            entries[path] = (entry.mode, str(entry.id))
    return GitTree(repo, entries, "the index")


@dataclass
class Walk:
    files: list[str] = field(default_factory=list)  # regular files (posix, relative)
    links: list[str] = field(default_factory=list)  # symlinks, to files or directories (not followed)

    @property
    def every(self) -> list[str]:
        return sorted(self.files + self.links)


def walk(root: Path, tops: Iterable[str]) -> Walk:
    """The work tree's entries under some top-level directories of ``root``, untracked ones
    included as ``skillmeat validate`` sees them; symlinks are listed apart, never followed.
    One scandir walk and no git process: the validate hook's start-up counts."""
    out = Walk()
    cut = len(str(root)) + 1
    stack = [str(root / top) for top in sorted(set(tops))]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            rel = entry.path[cut:].replace(os.sep, "/")
            if entry.is_symlink():
                out.links.append(rel)
            elif entry.is_dir():
                if entry.name != ".git":
                    stack.append(entry.path)
            elif entry.is_file():
                out.files.append(rel)
    out.files.sort()
    out.links.sort()
    return out


def work_files(root: Path, tops: Iterable[str]) -> list[str]:
    """Every entry of ``walk`` (files and symlinks), sorted."""
    return walk(root, tops).every


def read_bytes(path: Path) -> bytes | None:
    """A file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
