"""``skillmeat-verify FILES...``: committed bundles and feeds verify against the trust
(the user's plus this repository's ``.skillmeat/``); trust files parse, rotations verify.
One line per bad file, ``path: what is wrong (hint: ...)``; exit 1 when any is bad."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat.cli.precommit import home, parser, run, team_collection
from skillmeat.cli.precommit.validate import relative
from skillmeat.model.errors import NotFoundError

if TYPE_CHECKING:
    from skillmeat.services.trust import TrustSet


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("verify", "Verify committed bundles, feeds and trust files.")
    p.add_argument("files", nargs="*", metavar="FILES")
    args = p.parse_args(argv)
    return run("verify", lambda: _verify(args.files))


def _verify(files: list[str]) -> int:
    import datetime

    from skillmeat.services.signed_files import verify_files

    h = home()
    try:
        store = team_collection(h)
        root = store.path
    except NotFoundError:  # any repository: its own .skillmeat/ still counts
        store, root = None, Path.cwd()

    def trust() -> TrustSet:
        from skillmeat.services.refs import trust_for
        from skillmeat.services.trust import TrustSet
        from skillmeat.store.trust import TrustDir

        if store is not None:
            return trust_for(h, store)
        return TrustSet.load([h.trust, TrustDir(root / ".skillmeat", "this repository's trust")])

    rel = [r for r in (relative(f, root) for f in files) if r]
    found = verify_files(root, rel, trust, datetime.datetime.now(datetime.UTC))
    sys.stdout.write("".join(f.format() + "\n" for f in found))
    return 1 if found else 0
