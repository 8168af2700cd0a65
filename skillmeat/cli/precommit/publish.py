"""``skillmeat-publish`` (pre-push): list the team's bundle in a marketplace, re-sign its feed.

Default marketplace: the git remote being pushed to (its ``refs/skillmeat/feed``);
``--marketplace NAME`` picks one you added (a feed on a directory, s3://, gs://, or git).
A marketplace that already lists this version gets nothing new.

Only a push of the publishing branch publishes (git config ``skillmeat.publishBranch``, else
the remote's default branch, else main/master), and it publishes the commit being pushed, not
HEAD. A pre-push hook runs before git sends the branch, and git has no post-push hook: the
listing is in the feed even if the remote then refuses the branch (two concurrent pushes: the
feed lists both versions; that is safe, each bundle is signed and its ref holds its commit).

Teammates publish too: a key listed in the team's ``.skillmeat/allowed_signers`` at the pushed
commit joins the git marketplace's key set with its first feed update. Clients check a feed
against their own trust, so members trust each other's keys (``skillmeat keys trust``).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

from skillmeat.cli.precommit import (
    Push,
    active,
    info,
    parser,
    repo_root,
    run,
    signing_key,
    start_push,
)
from skillmeat.model.errors import NotFoundError

NAME = "publish"
_SCP = re.compile(r"^[\w.-]+@[\w.-]+:")


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(NAME, "Publish the team's bundle of the pushed publishing branch with its listing "
               "and a re-signed feed to the git remote being pushed to, or to a marketplace you "
               "added. It runs before git sends the branch: if the remote then refuses the "
               "branch, the listing stays (signed, its commit kept in the bundle ref).")
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

    started = start_push(NAME, args.git_args)
    if started is None:
        return 0
    push, h, store = started
    from skillmeat.cli.precommit.pushing import publish_target

    at, why = publish_target(push, store.path)
    if at is None and why:
        info(NAME, why)
        return 0
    planned = team_export.plan(store, args.name, at)
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
    ahead = f", ahead of {why} (if the remote refuses it, the listing stays)" if why else ""
    if done.changed:
        info(NAME, f"published {done.name}@{done.version} to {where} "
             f"({done.size:,} bytes, sha256 {done.sha256[:16]}...){ahead}")
    else:
        info(NAME, f"{done.name}@{done.version} is already published on {where}: nothing to do")
    others = team_export.concurrent(store, mp, planned)
    if others:
        info(NAME, f"note: {where} also lists {len(others)} version(s) not in this history "
             f"({', '.join(others[:3])}): a concurrent or refused push; they stay listed "
             "(signed, each commit kept in its bundle ref)")
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
