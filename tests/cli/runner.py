"""Run the real CLI in a subprocess, the way a user (or git) runs it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def skillmeat(*args: str, cwd: Path | None = None, stdin: str | None = None) -> Result:
    proc = subprocess.run([sys.executable, "-m", "skillmeat", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def ok(*args: str, cwd: Path | None = None) -> Result:
    result = skillmeat(*args, cwd=cwd)
    assert result.code == 0, f"skillmeat {' '.join(args)} failed: {result.err}"
    return result
