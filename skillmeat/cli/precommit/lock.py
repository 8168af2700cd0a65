"""``skillmeat-lock [--check]``: skillmeat.lock must match the collection as staged (git's
index: what the commit will hold, not the work tree).

Stale: rewritten atomically, one summary line, exit 1 (pre-commit's "files were modified"
convention: ``git add skillmeat.lock`` and commit again); with ``--check`` nothing is written.
A lock with merge conflicts, or unreadable, counts as stale and is rebuilt the same way.
Up to date: silent, exit 0.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from skillmeat.cli.precommit import home, parser, run, team_collection

ARTIFACT_DIRS = ("skills", "commands", "agents", "hooks", "mcp")


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("lock", "Check that skillmeat.lock matches the artifacts; rewrite it when stale.")
    p.add_argument("--check", action="store_true", help="only report a stale lock, never write it")
    p.add_argument("files", nargs="*", metavar="FILES", help="ignored: the whole collection counts")
    args = p.parse_args(argv)
    return run("lock", lambda: _lock(check=args.check))


def _lock(*, check: bool) -> int:
    from skillmeat.model.manifest import LOCK_NAME
    from skillmeat.services.lockfile import lock_state, write_lock
    from skillmeat.store.tracked import staged_tree

    store = team_collection(home())
    state = lock_state(store, staged_tree(store.path, ARTIFACT_DIRS))
    if not state.stale:
        return 0
    if check:
        sys.stdout.write(f"{LOCK_NAME} is stale: {state.summary()} (hint: run `skillmeat-lock` "
                         f"or `pre-commit run skillmeat-lock` to rewrite it)\n")
        return 1
    write_lock(store, state)
    sys.stdout.write(f"{LOCK_NAME} was stale: {state.summary()}; it is rewritten: "
                     f"git add {LOCK_NAME}\n")
    return 1
