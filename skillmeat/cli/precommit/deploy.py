"""``skillmeat-deploy`` (post-merge, post-checkout, post-rewrite): redeploy the team's
artifacts and MCP servers into the projects that follow this collection (``skillmeat project
add DIR --follow NAME``), and take back what the collection no longer holds.

Drift (a deployed file or server changed in the project) is never overwritten, and artifacts
of the collection that clash are left out: both are reported, the rest of that project is
brought up to date, and the hook exits 1 -- except in post-checkout, whose exit status git
passes on to ``git checkout``, ``git clone`` and ``git worktree add``: there every problem
is reported and the hook exits 0. A clone nobody registered is told how to, and left alone.
While a rebase, ``git am`` or a cherry-pick sequence is under way nothing is deployed (its
commits are not the branch's yet); post-rewrite deploys when a rebase ends, or after
``git commit --amend``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat.cli.precommit import home, info, parser, run, team_collection
from skillmeat.model.errors import NotFoundError, SkillmeatError

if TYPE_CHECKING:
    from skillmeat.services.team_deploy import ProjectReport

NAME = "deploy"


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(NAME, "Redeploy this collection's artifacts and MCP servers into the projects "
               "that follow it.")
    p.add_argument("--project", action="append", type=Path, default=[], metavar="DIR",
                   help="Also deploy into this project (repeatable).")
    p.add_argument("--require-signed", action="store_true",
                   help="Deploy only when HEAD is signed by a key you trust (and not revoked).")
    # git's own arguments: PREV NEW FLAG (post-checkout), SQUASH (post-merge), rebase|amend
    p.add_argument("git_args", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    code = run(NAME, lambda: _deploy(args))
    if code and stage(args.git_args) == CHECKOUT:
        info(NAME, "post-checkout reports problems without failing the checkout (exit 0)")
        return 0
    return code


CHECKOUT, MERGE, REWRITE, MANUAL = "post-checkout", "post-merge", "post-rewrite", "manual"
REWRITES = ("rebase", "amend")


def stage(git_args: Sequence[str]) -> str:
    """Which git hook runs us: pre-commit's environment, else git's own arguments."""
    env = os.environ
    if env.get("PRE_COMMIT_CHECKOUT_TYPE"):
        return CHECKOUT
    if env.get("PRE_COMMIT_REWRITE_COMMAND"):
        return REWRITE
    if env.get("PRE_COMMIT_IS_SQUASH_MERGE"):
        return MERGE
    if len(git_args) == 3:
        return CHECKOUT
    if len(git_args) == 1:
        return REWRITE if git_args[0] in REWRITES else MERGE
    return MANUAL


def rewrite_command(git_args: Sequence[str]) -> str:
    return os.environ.get("PRE_COMMIT_REWRITE_COMMAND") or (git_args[0] if git_args else "")


def file_checkout(git_args: Sequence[str]) -> bool:
    """A post-checkout of files (``git checkout -- PATH``), not of a branch or commit."""
    kind = os.environ.get("PRE_COMMIT_CHECKOUT_TYPE")
    if not kind and len(git_args) == 3:
        kind = git_args[2]
    return kind == "0"


def _deploy(args: argparse.Namespace) -> int:
    from skillmeat.services import team_deploy
    from skillmeat.store.gitrepo import operation_in_progress

    when = stage(args.git_args)
    if when == CHECKOUT and file_checkout(args.git_args):
        info(NAME, "a checkout of files, not of a commit: nothing to deploy")
        return 0
    h = home()
    here = team_collection(h)
    # a rebase ends with post-rewrite "rebase" while its state is still there: deploy then
    busy = None if when == REWRITE and rewrite_command(args.git_args) == "rebase" else \
        operation_in_progress(here.path)
    if busy is not None:
        info(NAME, f"a {busy} is in progress: nothing deployed until it ends "
             "(post-rewrite deploys when a rebase ends)")
        return 0
    try:
        store = team_deploy.registered_store(h, here)
    except NotFoundError:
        info(NAME, f"this clone of collection '{here.name}' is not registered, so no project "
             f"follows it: register it with `skillmeat init . --name {here.name}`, then "
             f"`skillmeat project add DIR --follow {here.name}`")
        return 0
    targets = team_deploy.targets(h, store, args.project)
    if not targets:
        info(NAME, f"no project follows collection '{store.name}': follow it with "
             f"`skillmeat project add DIR --follow {store.name}`")
        return 0
    if args.require_signed:
        verdict = team_deploy.check_signed(h, store)
        info(NAME, f"HEAD is signed by {verdict.principal} ({verdict.fingerprint})")
    code = 0
    for project in targets:
        try:
            report = team_deploy.redeploy(h, store, project)
        except SkillmeatError as exc:  # one project's failure does not stop the others
            sys.stderr.write(f"skillmeat-{NAME}: error: {project}: {exc.message}"
                             + (f" (hint: {exc.hint})" if exc.hint else "") + "\n")
            code = max(code, exc.exit_code)
            continue
        info(NAME, _summary(report))
        for line in report.clashes:
            sys.stderr.write(f"skillmeat-{NAME}: clash: {project}: {line}\n")
        for line in report.drift:
            sys.stderr.write(f"skillmeat-{NAME}: drift: {project}: {line}\n")
        if report.drift or report.clashes:
            code = max(code, 1)
        if report.drift:
            info(NAME, f"{project}: {len(report.drift)} drifted artifact(s) left as they are; see "
                 f"`skillmeat status --project {project}`, resolve with `skillmeat sync`")
    return code


def _summary(r: ProjectReport) -> str:
    parts = []
    if r.deployed:
        parts.append(f"deployed {', '.join(r.deployed)}")
    if r.removed:
        parts.append(f"removed {', '.join(r.removed)}")
    if r.mcp_written:
        parts.append(f".mcp.json: wrote {', '.join(r.mcp_written)}")
    if r.mcp_removed:
        parts.append(f".mcp.json: removed {', '.join(r.mcp_removed)}")
    if r.skipped:
        parts.append(f"skipped {'; '.join(r.skipped)}")
    parts.append(f"{r.unchanged} artifact(s) and {r.mcp_unchanged} MCP server(s) already in sync")
    return f"{r.project}: {'; '.join(parts)}"
