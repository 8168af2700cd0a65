"""``skillmeat-deploy`` (post-merge, post-checkout): redeploy the team's artifacts and MCP
servers into the projects that follow this collection (``skillmeat project add DIR --follow
NAME``), and take back what the collection no longer holds.

Drift (a deployed file or server changed in the project) is never overwritten: it is
reported, the rest of that project is brought up to date, and the hook exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat.cli.precommit import home, info, parser, run, team_collection
from skillmeat.model.errors import SkillmeatError

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
    p.add_argument("git_args", nargs="*", help=argparse.SUPPRESS)  # git's: PREV NEW FLAG / SQUASH
    args = p.parse_args(argv)
    return run(NAME, lambda: _deploy(args))


def file_checkout(git_args: Sequence[str]) -> bool:
    """A post-checkout of files (``git checkout -- PATH``), not of a branch or commit."""
    kind = os.environ.get("PRE_COMMIT_CHECKOUT_TYPE")
    if kind is None and len(git_args) == 3:
        kind = git_args[2]
    return kind == "0"


def _deploy(args: argparse.Namespace) -> int:
    from skillmeat.services import team_deploy

    if file_checkout(args.git_args):
        info(NAME, "a checkout of files, not of a commit: nothing to deploy")
        return 0
    h = home()
    store = team_deploy.registered_store(h, team_collection(h))
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
        for line in report.drift:
            sys.stderr.write(f"skillmeat-{NAME}: drift: {project}: {line}\n")
        if report.drift:
            code = max(code, 1)
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
