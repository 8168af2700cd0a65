"""Helpers shared by the tests (real git, file-tree snapshots, paths to sample data)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

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
