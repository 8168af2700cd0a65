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
from skillmeat.model.manifest import MANIFEST_NAME
from skillmeat.store.files import atomic_write
from skillmeat.store.gitcli import run_git

HOOK_MODE = 0o755
TEAM_SIGNERS = ".skillmeat/allowed_signers"


def hooks_dir(repo: Path) -> Path:
    """The directory git runs hooks from (``git rev-parse --git-path hooks``)."""
    return place(repo).hooks


@dataclass(frozen=True)
class Place:
    hooks: Path  # where git runs hooks from (core.hooksPath, or <git dir>/hooks)
    git_dir: Path  # the common git directory (linked worktrees share it)
    work_tree: Path | None  # None: a bare repository

    @property
    def shared(self) -> bool:
        """The hooks directory lies outside this repository (a global core.hooksPath, say)."""
        inside = [self.git_dir, *([self.work_tree] if self.work_tree else [])]
        hooks = self.hooks.resolve()
        return not any(hooks.is_relative_to(d.resolve()) for d in inside)


def place(repo: Path) -> Place:
    try:
        out = run_git(["rev-parse", "--path-format=absolute", "--git-path", "hooks",
                       "--git-common-dir"], cwd=repo, source=str(repo)).splitlines()
    except SourceError as exc:
        raise NotFoundError(f"{repo} is not in a git repository ({exc.detail})",
                            hint="run it inside a repository, or give one with --repo DIR") from None
    return Place(Path(os.path.abspath(out[0])), Path(out[1]), work_tree(repo))


def work_tree(repo: Path) -> Path | None:
    """The top of the work tree around ``repo`` (None: bare, or not in a repository)."""
    try:
        return Path(run_git(["rev-parse", "--show-toplevel"], cwd=repo, source=str(repo)).strip())
    except SourceError:
        return None


def hooks_path_origin(repo: Path) -> str:
    """Where core.hooksPath is set (``file:/home/u/.gitconfig``; "" when it is not)."""
    try:
        out = run_git(["config", "--show-origin", "--get", "core.hooksPath"], cwd=repo, source=str(repo))
    except SourceError:
        return ""
    return out.partition("\t")[0]


def make_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def team_signers(repo: Path, rev: str = "") -> str | None:
    """The text of ``.skillmeat/allowed_signers``: in the work tree, or at commit ``rev``
    (None: no such file)."""
    if rev:
        try:
            return run_git(["show", f"{rev}:{TEAM_SIGNERS}"], cwd=repo, source=str(repo))
        except SourceError:
            return None
    top = work_tree(repo)
    try:
        return (top / TEAM_SIGNERS).read_text("utf-8") if top else None
    except (OSError, UnicodeDecodeError):
        return None


def is_collection(repo: Path) -> bool:
    """``repo`` is in a SkillMeat collection: a skillmeat.toml at the top of its work tree."""
    top = work_tree(repo)
    return top is not None and (top / MANIFEST_NAME).is_file()


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
