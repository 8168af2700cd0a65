"""Helpers shared by the tests (real git, file-tree snapshots, paths to sample data)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "wshobson-agents"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def tree_state(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (outside .git) with its bytes: for nothing-changed checks."""
    out = {}
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            full = Path(root) / name
            out[str(full.relative_to(path))] = full.read_bytes()
    return out


def isolate_env(mp: pytest.MonkeyPatch, base: Path) -> None:
    """Point HOME, SKILLMEAT_HOME, XDG_CONFIG_HOME and git's config into ``base``."""
    home = base / "user"
    home.mkdir(parents=True, exist_ok=True)
    mp.setenv("HOME", str(home))
    mp.setenv("SKILLMEAT_HOME", str(base / "skillmeat"))
    mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "SKILLMEAT_KEY_PASSPHRASE",
                "SKILLMEAT_COLLECTION"):
        mp.delenv(var, raising=False)
    _point_libgit2_at(mp, home)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n"
    )


def _point_libgit2_at(mp: pytest.MonkeyPatch, home: Path) -> None:
    """libgit2 reads HOME once, at import: aim its config search paths at the test home."""
    import pygit2

    paths = _SearchPaths(pygit2.settings.search_path)
    for level in (pygit2.enums.ConfigLevel.GLOBAL, pygit2.enums.ConfigLevel.XDG,
                  pygit2.enums.ConfigLevel.SYSTEM):
        mp.setitem(paths, level, str(home))  # type: ignore[arg-type]


class _SearchPaths:
    """pygit2's search_path with the mapping methods monkeypatch.setitem needs."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def get(self, level: int, default: object = None) -> object:
        return self.inner[level]  # type: ignore[index]

    def __getitem__(self, level: int) -> object:
        return self.inner[level]  # type: ignore[index]

    def __setitem__(self, level: int, value: str) -> None:
        self.inner[level] = value  # type: ignore[index]

    def __delitem__(self, level: int) -> None:
        raise KeyError(level)


def claude_cli() -> Path:
    """Claude Code's CLI from npm, installed by scripts/test into .venv/npm."""
    exe = REPO_ROOT / ".venv" / "npm" / "node_modules" / ".bin" / "claude"
    assert exe.exists(), "run scripts/test (it installs @anthropic-ai/claude-code into .venv/npm)"
    return exe
