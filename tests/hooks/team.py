"""A team collection repository with SkillMeat's hooks installed through the real pre-commit,
and real `git push` / `git pull` / `git checkout` runs that start them."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.cli.runner import ok
from tests.cli.trust_story_test import User
from tests.helpers import EXAMPLES, git
from tests.hooks.precommit import BIN, Run, env, local_config, pre_commit


def config(hooks: list[str], extra_args: dict[str, list[str]] | None = None,
           entries: dict[str, str] | None = None) -> str:
    """``local_config`` with every hook verbose (its lines shown even when it passes) and
    ``entries`` replacing some hooks' commands."""
    doc = yaml.safe_load(local_config(hooks, extra_args))
    for hook in doc["repos"][0]["hooks"]:
        hook["verbose"] = True
        if entries and hook["id"] in entries:
            hook["entry"] = entries[hook["id"]]
    return str(yaml.safe_dump(doc, sort_keys=False))


def run_git(*args: str, cwd: Path, pc_home: Path, extra: dict[str, str] | None = None) -> Run:
    """git itself, so that the hooks pre-commit installed run (our venv first on PATH)."""
    proc = subprocess.run(["git", *args], cwd=cwd, env=env(pc_home, extra), capture_output=True,
                          text=True, timeout=600, check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr)


def remote_refs(remote: Path, pattern: str = "refs/skillmeat/*") -> dict[str, str]:
    out = git("ls-remote", str(remote), pattern, cwd=remote)
    return {ref: oid for oid, ref in (ln.split("\t") for ln in out.splitlines())}


def hook_lines(out: str, name: str) -> list[str]:
    return [ln.strip() for ln in out.splitlines() if ln.strip().startswith(f"skillmeat-{name}:")]


@dataclass
class Team:
    user: User
    repo: Path
    remote: Path
    pub: str


def make_team(user: User, work: Path, remote: Path, config_text: str, pc_home: Path,
              hook_types: tuple[str, ...] = ("pre-push",)) -> Team:
    """Alice's team repository: the examples, her key (trusted by herself), the pre-commit
    config committed, hooks installed; ``remote`` is a bare repository named origin."""
    if not remote.exists():
        git("init", "-q", "--bare", str(remote), cwd=remote.parent)
    with user:
        repo = work / "team"
        repo.mkdir(parents=True)
        ok("init", str(repo), "--name", "team")
        git("remote", "add", "origin", str(remote), cwd=repo)
        ok("add", str(EXAMPLES), "--all", cwd=repo)
        ok("keys", "generate", "--comment", f"{user.name}@example.com")
        pub = ok("keys", "export", "--public").out.strip()
        ok("keys", "trust", pub, "--principal", f"{user.name}@example.com")
        commit_config(repo, config_text)
        install(repo, pc_home, hook_types)
    return Team(user, repo, remote, pub)


def commit_config(repo: Path, text: str) -> None:
    (repo / ".pre-commit-config.yaml").write_text(text)
    git("add", ".pre-commit-config.yaml", cwd=repo)
    git("commit", "-q", "-m", "pre-commit config", cwd=repo)


def install(repo: Path, pc_home: Path, hook_types: tuple[str, ...]) -> None:
    types = [a for t in hook_types for a in ("--hook-type", t)]
    result = pre_commit("install", *types, cwd=repo, pc_home=pc_home)
    assert result.code == 0, result


def hook_script(path: Path, log: Path, hook: str) -> str:
    """A wrapper that logs each run of ``skillmeat-<hook>`` (and whether it runs inside our own
    push) before running it: to count how often git starts it."""
    path.write_text(
        "#!/bin/sh\n"
        f"echo \"start {hook} active=${{SKILLMEAT_HOOK_ACTIVE:-}} "
        f"branch=${{PRE_COMMIT_REMOTE_BRANCH:-}}\" >> '{log}'\n"
        f"'{BIN / ('skillmeat-' + hook)}' \"$@\" >> '{log}' 2>&1\n"
        "rc=$?\n"
        f"echo \"end {hook} rc=$rc\" >> '{log}'\n"
        "exit $rc\n")
    path.chmod(0o755)
    return str(path)
