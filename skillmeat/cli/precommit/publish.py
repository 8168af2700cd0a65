"""``skillmeat-publish`` (pre-push): list the team's bundle in a marketplace, re-sign its feed.

Default marketplace: the git remote being pushed to (its ``refs/skillmeat/feed``);
``--marketplace NAME`` picks one you added (a feed on a directory, s3://, gs://, or git).
A marketplace that already lists this version gets nothing new.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

from skillmeat.cli.precommit import (
    Push,
    active,
    home,
    info,
    parser,
    push_skip,
    pushed_by_git,
    repo_root,
    run,
    signing_key,
    team_collection,
)
from skillmeat.model.errors import NotFoundError

NAME = "publish"
_SCP = re.compile(r"^[\w.-]+@[\w.-]+:")


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(NAME, "Publish the team's bundle with its listing and a re-signed feed to the "
               "git remote being pushed to, or to a marketplace you added.")
    p.add_argument("--marketplace", metavar="NAME",
                   help="A marketplace from `skillmeat marketplace add` (default: the remote "
                   "being pushed to, as a git marketplace).")
    p.add_argument("--key", help="Signing key (default: your default key).")
    p.add_argument("--name", help="Bundle name (default: the collection's name).")
    p.add_argument("--remote", metavar="NAME_OR_URL",
                   help="The git remote (default: the one being pushed to).")
    p.add_argument("git_args", nargs="*", help=argparse.SUPPRESS)  # git's own: REMOTE URL
    args = p.parse_args(argv)
    return run(NAME, lambda: _publish(args))


def _publish(args: argparse.Namespace) -> int:
    from skillmeat.services import marketplaces, team_export

    push = pushed_by_git(args.git_args)
    skip = push_skip(push)
    if skip:
        info(NAME, skip)
        return 0
    h = home()
    store = team_collection(h)
    planned = team_export.plan(store, args.name)
    if not planned.artifacts:
        info(NAME, f"collection '{store.name}' has no artifacts yet: nothing to publish")
        return 0
    remote = _remote_url(args.remote, push, store.path)
    if args.marketplace:
        mp = marketplaces.get(h, args.marketplace)
    elif remote:
        mp = marketplaces.Marketplace(store.name, remote, "git")
    else:
        raise NotFoundError("no marketplace to publish to: this is not a push and no "
                            "--marketplace was given", hint="run it from `git push`, or pass "
                            "--remote NAME or --marketplace NAME")
    key = signing_key(h, args.key)
    with active():
        done = team_export.publish(h, store, key, mp, remote=remote, planned=planned)
    where = args.marketplace or (push.remote_name if push and push.remote_name else mp.source)
    if done.changed:
        info(NAME, f"published {done.name}@{done.version} to {where} "
             f"({done.size:,} bytes, sha256 {done.sha256[:16]}...)")
    else:
        info(NAME, f"{done.name}@{done.version} is already published on {where}: nothing to do")
    return 0


def _remote_url(given: str | None, push: Push | None, root: Path) -> str | None:
    """A URL git reads from any directory: the pushed-to remote's (or ``given``, a remote name
    or URL), with a relative path made absolute."""
    from skillmeat.store import gitcli

    url = given or (push.remote_url or push.remote_name if push else None)
    if not url:
        return None
    top = repo_root(root)
    if given and "/" not in given and ":" not in given and not (top / given).exists():
        url = gitcli.config_value(f"remote.{given}.url", repo=top) or given
    if "://" not in url and not _SCP.match(url) and (top / url).exists():
        return str((top / url).resolve())
    return url
