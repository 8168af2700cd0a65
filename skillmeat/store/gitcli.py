"""The git command line, for the few things where the user's own git set-up must apply:
cloning and fetching sources with their credentials and URL rewrites."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from skillmeat.model.errors import SkillmeatError, SourceError

TIMEOUT = 300


def run_git(args: list[str], *, cwd: Path | None = None, source: str = "") -> str:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=TIMEOUT, check=False,
        )
    except FileNotFoundError:
        raise SkillmeatError("git is not installed", hint="install git and retry") from None
    except subprocess.TimeoutExpired:
        raise SourceError(source or " ".join(args), f"git {args[0]} timed out") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.strip().splitlines() if ln.strip()]
        fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
        detail = (fatal or lines or [f"git {args[0]} exited {proc.returncode}"])[0]
        detail = detail.removeprefix("fatal: ").removeprefix("error: ")
        raise SourceError(source or " ".join(args), detail)
    return proc.stdout


def clone(url: str, dest: Path, ref: str = "", label: str = "") -> str:
    """Clone ``url`` at ``ref`` (branch, tag or commit) into ``dest``; return the commit."""
    label = label or url
    run_git(["clone", "--quiet", "--no-tags", url, str(dest)], source=label)
    if ref:
        try:
            run_git(["checkout", "--quiet", "--detach", ref], cwd=dest, source=label)
        except SourceError:
            run_git(["fetch", "--quiet", "origin", ref], cwd=dest, source=label)
            run_git(["checkout", "--quiet", "--detach", "FETCH_HEAD"], cwd=dest, source=label)
    return run_git(["rev-parse", "HEAD"], cwd=dest, source=label).strip()
