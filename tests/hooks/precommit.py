"""Run the real pre-commit tool: `repo: local` configs and `try-repo` against this repository.

`try-repo` installs SkillMeat into pre-commit's own virtualenv from a snapshot of this
checkout (one commit, made once per session) so every test shares one installed env.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import REPO_ROOT, git

BIN = Path(sys.executable).parent
# Files of this checkout a hook repository needs (what `pip install .` reads).
SNAPSHOT = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "skillmeat")


@dataclass(frozen=True)
class Run:
    code: int
    out: str

    def __str__(self) -> str:
        return f"exit {self.code}\n{self.out}"


def env(pc_home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's isolated environment plus pre-commit's cache, our venv first on PATH."""
    out = dict(os.environ)
    out["PRE_COMMIT_HOME"] = str(pc_home)
    out["PATH"] = f"{BIN}{os.pathsep}{out.get('PATH', '')}"
    out["PIP_NO_BUILD_ISOLATION"] = "0"  # build with the env's setuptools (NOTES: offline)
    out["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    out["PIP_CACHE_DIR"] = str(pc_home.parent / "pip-cache")
    out.pop("PRE_COMMIT", None)
    out.pop("SKILLMEAT_HOOK_ACTIVE", None)
    out.update(extra or {})
    return out


def pre_commit(*args: str, cwd: Path, pc_home: Path, extra: dict[str, str] | None = None,
               stdin: str | None = None) -> Run:
    proc = subprocess.run([str(BIN / "pre-commit"), *args], cwd=cwd, env=env(pc_home, extra),
                          input=stdin, capture_output=True, text=True, check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr)


def snapshot_repo(dest: Path) -> Path:
    """This checkout's package and hook definitions as a one-commit repository."""
    dest.mkdir(parents=True)
    for name in SNAPSHOT:
        src = REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    git("-c", "user.name=SkillMeat", "-c", "user.email=skillmeat@example.com",
        "commit", "-q", "-m", "snapshot for try-repo", cwd=dest)
    return dest


def local_config(hooks: list[str], extra_args: dict[str, list[str]] | None = None) -> str:
    """A `repo: local` .pre-commit-config.yaml for ``hooks``, with the same settings as
    .pre-commit-hooks.yaml but `language: system` (the console scripts on PATH)."""
    import yaml

    defs = {h["id"]: h for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}
    local = []
    for hook_id in hooks:
        h = dict(defs[hook_id])
        h["language"] = "system"
        h["entry"] = str(BIN / h["entry"])
        h.pop("minimum_pre_commit_version", None)
        if extra_args and hook_id in extra_args:
            h["args"] = extra_args[hook_id]
        local.append(h)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}, sort_keys=False)
