"""The git command line, for the few things where the user's own git set-up must apply:
cloning and fetching sources with their credentials and URL rewrites."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
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


_GIT_URL = re.compile(r"^(git\+|ssh://|git://|[\w.-]+@[\w.-]+:)|\.git/?$")


def is_git_url(url: str) -> bool:
    """A URL only git reads: git+..., ssh://, git://, user@host:path, or ending in .git."""
    return bool(_GIT_URL.search(url))


def check_arg(value: str, what: str, source: str = "") -> str:
    """A URL or ref that came from someone else's file: never let git read it as an option."""
    if value.startswith("-") or any(c in value for c in "\0\n\r"):
        raise SourceError(source or value, f"refusing {what} {value!r} (it would be read as a "
                          "git option)", hint="the source is malformed or hostile")
    return value


def clone(url: str, dest: Path, ref: str = "", label: str = "") -> str:
    """Clone ``url`` at ``ref`` (branch, tag or commit) into ``dest``; return the commit."""
    label = label or url
    check_arg(url, "URL", label)
    if ref:
        check_arg(ref, "ref", label)
    run_git(["clone", "--quiet", "--no-tags", "--", url, str(dest)], source=label)
    if ref:
        try:
            run_git(["checkout", "--quiet", "--detach", ref], cwd=dest, source=label)
        except SourceError:
            run_git(["fetch", "--quiet", "origin", ref], cwd=dest, source=label)
            run_git(["checkout", "--quiet", "--detach", "FETCH_HEAD"], cwd=dest, source=label)
    return run_git(["rev-parse", "HEAD"], cwd=dest, source=label).strip()


def set_config(key: str, value: str, *, repo: Path | None = None) -> None:
    """``git config`` in the user's global config, or in ``repo``'s when given."""
    args = ["-C", str(repo), "config", key, value] if repo else ["config", "--global", key, value]
    try:
        run_git(args, source=f"git config {key}")
    except SourceError as exc:
        raise SkillmeatError(f"git config {key} failed: {exc.message}") from None


@dataclass(frozen=True)
class PushOutcome:
    ref: str
    ok: bool
    summary: str


def push_refs(repo: Path, remote: str, refs: list[str]) -> list[PushOutcome]:
    """``git push --porcelain`` of exactly these refs (no force): one outcome per ref.

    A push of SkillMeat's own refs only (refs/skillmeat/*) runs no pre-push hook
    (``--no-verify``): the hooks that make them must not start again. Any push marks its
    hooks with SKILLMEAT_HOOK_ACTIVE, so SkillMeat's hooks skip it.
    """
    if not refs:
        return []
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", SKILLMEAT_HOOK_ACTIVE="1")
    quiet = ["--no-verify"] if all(r.startswith("refs/skillmeat/") for r in refs) else []
    proc = subprocess.run(["git", "-C", str(repo), "push", "--porcelain", *quiet, remote,
                           *[f"{r}:{r}" for r in refs]],
                          env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    outcomes = []
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] in " +-*=!":
            ref = parts[1].split(":", 1)[-1]
            outcomes.append(PushOutcome(ref, parts[0] != "!", parts[2].strip()))
    if proc.returncode != 0 and not any(not o.ok for o in outcomes):
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
        detail = (fatal or lines or [f"git push exited {proc.returncode}"])[0]
        raise SourceError(remote, detail.removeprefix("fatal: ").removeprefix("error: "))
    hooks = [ln.removeprefix("remote: ").strip() for ln in proc.stderr.splitlines()
             if ln.startswith("remote: ")]
    if hooks:
        outcomes = [PushOutcome(o.ref, o.ok, o.summary + (f" ({hooks[-1]})" if not o.ok else ""))
                    for o in outcomes]
    return outcomes


def fetch_refs(repo: Path, remote: str, src_prefix: str, dst_prefix: str) -> None:
    """Fetch ``src_prefix*`` of the remote into ``dst_prefix*`` (forced: a quarantine)."""
    run_git(["-C", str(repo), "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote,
             f"+{src_prefix}*:{dst_prefix}*"], source=remote)


def merge_file(ours: bytes, base: bytes, theirs: bytes, labels: tuple[str, str, str]) -> tuple[bytes, int]:
    """``git merge-file -p --diff3``: the merged bytes and the number of conflicts (0: clean)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="skillmeat-merge-") as tmp:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(str(path))
        proc = subprocess.run(
            ["git", "merge-file", "-p", "--diff3", "-L", labels[0], "-L", labels[1], "-L", labels[2],
             *paths], capture_output=True, timeout=TIMEOUT, check=False)
    if proc.returncode < 0 or proc.returncode > 127:
        raise SkillmeatError(f"git merge-file failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout, proc.returncode


def config_value(key: str, *, repo: Path | None = None) -> str:
    """A git config value as git resolves it ('' when unset)."""
    args = ["-C", str(repo), "config", key] if repo else ["config", key]
    try:
        return run_git(args, source=f"git config {key}").strip()
    except SourceError:
        return ""
