"""What ``skillmeat hooks run HOOK`` runs: git's hook arguments and stdin turned into the
environment pre-commit gives its hooks (``PRE_COMMIT_REMOTE_NAME`` ... ``PRE_COMMIT_CHECKOUT_TYPE``,
``PRE_COMMIT_REWRITE_COMMAND``) and the entry points to call, so the same entry points serve
both the plain hooks and pre-commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skillmeat.model.errors import BadInputError
from skillmeat.services.githooks import MARKETPLACE, OUR_REFS, check_hooks, require_signed
from skillmeat.store import githooks as disk


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
             "PRE_COMMIT_REMOTE_URL", "PRE_COMMIT_CHECKOUT_TYPE", "PRE_COMMIT_IS_SQUASH_MERGE",
             "PRE_COMMIT_REWRITE_COMMAND")
ARG_COUNTS = {"pre-push": 2, "post-merge": 1, "post-checkout": 3, "post-rewrite": 1}
REWRITE_COMMANDS = ("amend", "rebase")


def in_collection(repo: Path) -> bool:
    """Our hooks have work here: ``repo`` is a SkillMeat collection's checkout (a shared hooks
    directory also runs them in every other repository)."""
    return disk.is_collection(repo)


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
    if hook == "post-checkout" and args[2] == "0":
        return RunPlan(skipped="a file checkout, not a branch: nothing to deploy")
    before = args[0] if hook == "post-checkout" else "ORIG_HEAD"
    signed = require_signed(repo, config, before).required
    deploy = Step("deploy", ("--require-signed",) if signed else ())
    if hook == "post-merge":
        env["PRE_COMMIT_IS_SQUASH_MERGE"] = args[0]
    elif hook == "post-rewrite":
        if args[0] not in REWRITE_COMMANDS:
            raise BadInputError(f"post-rewrite: unknown rewrite command '{args[0]}'",
                                hint=f"git passes one of {', '.join(REWRITE_COMMANDS)}")
        env["PRE_COMMIT_REWRITE_COMMAND"] = args[0]
    else:
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
