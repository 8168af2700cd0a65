"""Team collection repositories for the hook tests, built with SkillMeat's own CLI, and the
hook entry points run as the console scripts pre-commit runs."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.cli.runner import ok
from tests.helpers import EXAMPLES, git

BIN = Path(sys.executable).parent
ARTIFACT_DIRS = ("skills", "commands", "agents", "hooks", "mcp")


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\nstdout: {self.out}\nstderr: {self.err}"


def hook(name: str, *args: str, cwd: Path) -> Ran:
    """Run ``skillmeat-<name>`` (the installed console script) in ``cwd``."""
    proc = subprocess.run([str(BIN / f"skillmeat-{name}"), *args], cwd=cwd, capture_output=True,
                          text=True, check=False)
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def team_repo(base: Path, name: str = "team") -> Path:
    """``skillmeat init`` + ``skillmeat add examples --all``: a collection SkillMeat maintains
    (8 artifacts: skills, commands, an agent, a hook, MCP servers), everything committed."""
    repo = base / name
    ok("init", str(repo))
    ok("add", str(EXAMPLES), "--all", cwd=repo)
    return repo


def write(repo: Path, rel: str, text: str | bytes, *, stage: bool = True) -> Path:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    if stage:
        git("add", rel, cwd=repo)
    return path


def artifact_files(repo: Path) -> list[str]:
    """What pre-commit passes ``skillmeat-validate`` with --all-files."""
    return git("ls-files", *ARTIFACT_DIRS, cwd=repo).split()


def commit(repo: Path, message: str = "change") -> None:
    git("commit", "-q", "--no-verify", "-m", message, cwd=repo)


SKILL = "---\nname: {name}\ndescription: {description}\n---\n\nDo the {name} thing.\n"
