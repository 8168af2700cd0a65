"""Plain git hooks for teams without the pre-commit framework: install, uninstall, status,
and what ``skillmeat hooks run HOOK`` runs.

Our scripts carry a marker line (``# skillmeat-managed-hook vN``). A hook that is not ours is
never lost: install keeps it as ``<hook>.legacy`` (our script runs it first), uninstall puts
it back. ``run`` turns git's hook arguments and stdin into the environment pre-commit gives
its hooks (``PRE_COMMIT_REMOTE_NAME`` ... ``PRE_COMMIT_CHECKOUT_TYPE``), so the same entry
points serve both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skillmeat.model.errors import BadInputError, ConflictError
from skillmeat.store import githooks as disk

HOOKS = ("pre-push", "post-merge", "post-checkout")
VERSION = 1
MARKER = re.compile(r"^# skillmeat-managed-hook v(\d+)$", re.M)
PYTHON_LINE = re.compile(r"^skillmeat_python=(.*?)  # skillmeat-python:.*$", re.M)
OUR_REFS = "refs/skillmeat/"
REQUIRE_SIGNED = "skillmeat.requireSigned"
MARKETPLACE = "skillmeat.marketplace"


def check_hooks(names: Sequence[str]) -> tuple[str, ...]:
    """The hooks asked for (all of them when none), each one we know."""
    for name in names:
        if name not in HOOKS:
            raise BadInputError(f"unknown hook '{name}'", hint=f"choose from {', '.join(HOOKS)}")
    return tuple(dict.fromkeys(names)) or HOOKS


def render(hook: str, python: str) -> str:
    """Our script for ``hook`` with the interpreter that runs SkillMeat written in."""
    if any(c in python for c in "\n\r\0"):
        raise BadInputError(f"cannot record the interpreter path {python!r} in a hook script",
                            hint="run SkillMeat from an interpreter whose path has no newline")
    text = disk.template(hook)
    line = PYTHON_LINE.search(text)
    if line is None:
        raise RuntimeError(f"the packaged {hook} script has no interpreter line")
    quoted = "'" + python.replace("'", "'\\''") + "'"
    return text[:line.start(1)] + quoted + text[line.end(1):]


def _version(text: str | None) -> int | None:
    match = MARKER.search(text or "")
    return int(match.group(1)) if match else None


def _python(text: str) -> str:
    match = PYTHON_LINE.search(text)
    raw = match.group(1) if match else "''"
    return raw[1:-1].replace("'\\''", "'") if raw.startswith("'") else raw


@dataclass(frozen=True)
class HookStatus:
    hook: str
    path: Path
    state: str  # "ours", "foreign" or "absent"
    version: int | None = None
    up_to_date: bool = False
    python: str = ""  # the recorded interpreter ("" = `skillmeat` on PATH)
    python_missing: bool = False
    legacy: bool = False  # <hook>.legacy exists (chained when executable)

    def to_dict(self) -> dict[str, object]:
        return {"hook": self.hook, "path": str(self.path), "state": self.state,
                "version": self.version, "up_to_date": self.up_to_date, "python": self.python,
                "python_missing": self.python_missing, "legacy": self.legacy}


@dataclass(frozen=True)
class Status:
    hooks_dir: Path
    hooks: tuple[HookStatus, ...]
    require_signed: bool
    marketplace: str

    def to_dict(self) -> dict[str, object]:
        return {"hooks_dir": str(self.hooks_dir), "hooks": [h.to_dict() for h in self.hooks],
                "require_signed": self.require_signed, "marketplace": self.marketplace}


def _hook_status(hooks_dir: Path, hook: str) -> HookStatus:
    current = disk.read_hook(hooks_dir / hook)
    legacy = disk.read_hook(hooks_dir / f"{hook}.legacy").present
    version = _version(current.text)
    if not current.present:
        return HookStatus(hook, current.path, "absent", legacy=legacy)
    if version is None or current.text is None:
        return HookStatus(hook, current.path, "foreign", legacy=legacy)
    python = _python(current.text)
    fresh = current.text == render(hook, python) and current.executable
    missing = bool(python) and not disk.is_executable(Path(python))
    return HookStatus(hook, current.path, "ours", version, fresh, python, missing, legacy)


def status(repo: Path) -> Status:
    """Each hook in git's hooks directory: ours (and whether current), foreign or absent."""
    where = disk.hooks_dir(repo)
    config = disk.read_config(repo)
    return Status(where, tuple(_hook_status(where, h) for h in HOOKS),
                  _truthy(config.get(REQUIRE_SIGNED.lower(), "")), config.get(MARKETPLACE.lower(), ""))


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"true", "yes", "on", "1"}


@dataclass(frozen=True)
class Change:
    hook: str
    action: str  # installed, updated, up to date; removed, left alone, not installed
    legacy: str = ""  # what happened to <hook>.legacy: "kept" (moved there), "restored", ""


def install(repo: Path, hooks: Sequence[str], python: str, *, require_signed: bool | None = None,
            marketplace: str | None = None) -> tuple[Path, list[Change]]:
    """Write our scripts into git's hooks directory; a foreign hook becomes ``<hook>.legacy``.

    All or nothing: a foreign hook beside an existing ``.legacy`` refuses the whole install.
    """
    where = disk.hooks_dir(repo)
    if marketplace is not None and (not marketplace or marketplace.startswith("-")
                                    or any(c.isspace() for c in marketplace)):
        raise BadInputError(f"bad --marketplace '{marketplace}'",
                            hint="give a marketplace name, as in `skillmeat marketplace list`")
    found = {h: _hook_status(where, h) for h in check_hooks(hooks)}
    stuck = [s for s in found.values() if s.state == "foreign" and s.legacy]
    if stuck:
        names = ", ".join(str(s.path) for s in stuck)
        raise ConflictError(f"{names}: not SkillMeat's, and a .legacy hook is already beside it; "
                            "nothing installed", hint="merge the two into one hook (or remove one), "
                            "then run `skillmeat hooks install` again")
    changes = [_install_one(s, render(h, python), python) for h, s in found.items()]
    if require_signed is not None:
        disk.write_config(repo, REQUIRE_SIGNED, "true" if require_signed else "false")
    if marketplace is not None:
        disk.write_config(repo, MARKETPLACE, marketplace)
    return where, changes


def _install_one(found: HookStatus, script: str, python: str) -> Change:
    if found.state == "ours" and found.up_to_date and found.python == python:
        return Change(found.hook, "up to date")
    kept = ""
    if found.state == "foreign":
        disk.move(found.path, found.path.with_name(f"{found.hook}.legacy"))
        kept = "kept"
    disk.write_hook(found.path, script)
    return Change(found.hook, "updated" if found.state == "ours" else "installed", kept)


def uninstall(repo: Path, hooks: Sequence[str]) -> tuple[Path, list[Change]]:
    """Remove our scripts and put each ``<hook>.legacy`` back; foreign hooks stay as they are."""
    where = disk.hooks_dir(repo)
    changes = []
    for hook in check_hooks(hooks):
        found = _hook_status(where, hook)
        legacy = found.path.with_name(f"{hook}.legacy")
        if found.state == "foreign":
            changes.append(Change(hook, "left alone"))
            continue
        if found.legacy:  # one rename: ours is replaced by the hook it had replaced
            disk.move(legacy, found.path)
        elif found.state == "ours":
            disk.remove(found.path)
        action = "removed" if found.state == "ours" else "not installed"
        changes.append(Change(hook, action, "restored" if found.legacy else ""))
    return where, changes


@dataclass(frozen=True)
class Step:
    entry: str  # skillmeat.cli.precommit.<entry>
    argv: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunPlan:
    """What ``skillmeat hooks run`` does: set ``env`` (pre-commit's names; "" = unset) and run
    ``steps`` in order, stopping at the first failure. No steps: nothing to do (``skipped``)."""

    steps: tuple[Step, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    skipped: str = ""


ENV_NAMES = ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_ORIGIN", "PRE_COMMIT_SOURCE",
             "PRE_COMMIT_LOCAL_BRANCH", "PRE_COMMIT_REMOTE_BRANCH", "PRE_COMMIT_REMOTE_NAME",
             "PRE_COMMIT_REMOTE_URL", "PRE_COMMIT_CHECKOUT_TYPE", "PRE_COMMIT_IS_SQUASH_MERGE")
ARG_COUNTS = {"pre-push": 2, "post-merge": 1, "post-checkout": 3}


def plan_run(repo: Path, hook: str, args: Sequence[str], stdin: str = "") -> RunPlan:
    """What git's ``hook`` (called with ``args`` and, for pre-push, ``stdin``) runs."""
    check_hooks([hook])
    if len(args) != ARG_COUNTS[hook]:
        raise BadInputError(f"{hook} takes {ARG_COUNTS[hook]} argument(s) from git, got {len(args)}",
                            hint="this command is run by the installed git hooks")
    config = disk.read_config(repo)
    env = dict.fromkeys(ENV_NAMES, "")
    if hook == "pre-push":
        return _plan_push(repo, args[0], args[1], stdin, env, config.get(MARKETPLACE.lower(), ""))
    deploy = Step("deploy", ("--require-signed",) if _truthy(config.get(REQUIRE_SIGNED.lower(), "")) else ())
    if hook == "post-merge":
        env["PRE_COMMIT_IS_SQUASH_MERGE"] = args[0]
        return RunPlan((deploy,), env)
    if args[2] == "0":
        return RunPlan(skipped="a file checkout, not a branch: nothing to deploy")
    env.update(_refs(args[0], args[1]), PRE_COMMIT_CHECKOUT_TYPE=args[2])
    return RunPlan((deploy,), env)


def _refs(from_ref: str, to_ref: str) -> dict[str, str]:
    return {"PRE_COMMIT_FROM_REF": from_ref, "PRE_COMMIT_TO_REF": to_ref,
            "PRE_COMMIT_ORIGIN": from_ref, "PRE_COMMIT_SOURCE": to_ref}


def _zero(sha: str) -> bool:
    return set(sha) == {"0"}


def _plan_push(repo: Path, remote: str, url: str, stdin: str, env: dict[str, str],
               marketplace: str) -> RunPlan:
    lines = [parts for parts in (ln.rsplit(maxsplit=3) for ln in stdin.splitlines()) if len(parts) == 4]
    # Our own refs and deletions publish nothing: only a pushed branch (or tag) does.
    wanted = [p for p in lines if not _zero(p[1]) and not p[2].startswith(OUR_REFS)]
    if not wanted:
        return RunPlan(skipped="only SkillMeat refs or deletions pushed" if lines else "nothing pushed")
    # As pre-commit does: the first ref with commits the remote lacks says what is pushed.
    for local_ref, local_sha, remote_ref, remote_sha in wanted:
        span = _push_span(repo, remote, local_sha, remote_sha)
        if span is None:
            continue
        env.update(span, PRE_COMMIT_REMOTE_NAME=remote, PRE_COMMIT_REMOTE_URL=url,
                   PRE_COMMIT_LOCAL_BRANCH=local_ref, PRE_COMMIT_REMOTE_BRANCH=remote_ref)
        publish = ("--marketplace", marketplace) if marketplace else ()
        return RunPlan((Step("lock", ("--check",)), Step("validate", ("--all",)), Step("export"),
                        Step("publish", publish)), env)
    return RunPlan(skipped="the remote has every pushed commit")


def _push_span(repo: Path, remote: str, local_sha: str, remote_sha: str) -> dict[str, str] | None:
    """FROM/TO refs of a pushed ref ({} = its whole history; None = nothing new)."""
    if not _zero(remote_sha) and disk.commit_exists(repo, remote_sha):
        return _refs(remote_sha, local_sha)
    new = disk.unpushed(repo, local_sha, remote)
    if not new:
        return None
    if new[0] in disk.roots(repo, local_sha):
        return {}
    return _refs(disk.parent(repo, new[0]), local_sha)
