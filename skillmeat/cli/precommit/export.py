"""``skillmeat-export`` (pre-push): build and sign the team's bundle, push its signed ref.

One bundle of every artifact at the commit being pushed (the publishing branch's when the
push has it, else the first pushed branch's; HEAD when run by hand), named after the
collection and versioned by the last commit in that commit's history that changed artifacts
(a README-only push makes no new version); its ref ``refs/skillmeat/bundles/<name>/<version>``
goes to the remote being pushed to, before git sends the branch (a pre-push hook cannot know
whether the remote will accept it). A version already exported (here or there) is not built
or pushed again. A push that itself carries refs/skillmeat/* (``--mirror``) is left alone.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from skillmeat.cli.precommit import (
    active,
    info,
    parser,
    run,
    signing_key,
    start_push,
)

NAME = "export"


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(NAME, "Build and sign the team's bundle of every artifact at the commit being "
               "pushed (HEAD when run by hand) and push its signed ref to the remote being "
               "pushed to, before git sends the branch itself.")
    p.add_argument("--key", help="Signing key (default: your default key).")
    p.add_argument("--name", help="Bundle name (default: the collection's name).")
    p.add_argument("--output", type=Path, metavar="DIR",
                   help="Also write the .skillmeat-pack file into this directory.")
    p.add_argument("--to", metavar="VAULT", help="Also upload the bundle to this vault.")
    p.add_argument("--remote", metavar="NAME_OR_URL",
                   help="Push the ref here (default: the remote being pushed to, if any).")
    p.add_argument("git_args", nargs="*", help=argparse.SUPPRESS)  # git's own: REMOTE URL
    args = p.parse_args(argv)
    return run(NAME, lambda: _export(args))


def _export(args: argparse.Namespace) -> int:
    from skillmeat.services import team_export, vaults

    started = start_push(NAME, args.git_args)
    if started is None:
        return 0
    push, h, store = started
    from skillmeat.cli.precommit.pushing import export_target

    planned = team_export.plan(store, args.name, export_target(push, store.path))
    if not planned.artifacts:
        info(NAME, f"collection '{store.name}' has no artifacts yet: nothing to export")
        return 0
    remote = args.remote or (push.remote_name or push.remote_url if push else None)
    vault = vaults.get(h, args.to) if args.to else None
    key = signing_key(h, args.key)
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
    with active():
        done = team_export.export(h, store, key, remote=remote, output=args.output,
                                  vault=vault, planned=planned)
    label = done.planned.label
    if not done.built and not done.pushed:
        info(NAME, f"bundle {label} already exported ({done.planned.ref})")
    elif done.built:
        info(NAME, f"exported bundle {label}: signed {done.planned.ref} ({done.commit[:12]})"
             + (f", pushed to {remote}" if done.pushed else ""))
    else:
        info(NAME, f"bundle {label} already exported; pushed {done.planned.ref} to {remote}")
    if done.output is not None:
        info(NAME, f"wrote {done.output}")
    if done.vault:
        info(NAME, f"uploaded to vault {args.to}: {done.vault}")
    return 0
