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
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n"
    )
