"""``skillmeat-catalog``: rebuild the static web catalog of the collection being committed to.

The same site as ``skillmeat web build --collection <this> -o DIR`` (marketplaces only when
asked), and it works on a checkout that is not registered as a collection.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from skillmeat.cli.precommit import home, info, parser, run, team_collection

NAME = "catalog"


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(NAME, "Rebuild the static catalog of this collection.")
    p.add_argument("--output", "-o", type=Path, default=Path("site"), metavar="DIR",
                   help="Where to write the site (replaced whole; default: site).")
    p.add_argument("--site-url", default="", help="Where the site will be served.")
    p.add_argument("--no-sign", action="store_true", help="Leave api/feed.json unsigned.")
    p.add_argument("--key", help="Sign api/feed.json with this key (default: your default key).")
    p.add_argument("--marketplace", action="append", default=[], metavar="NAME",
                   help="Also show this marketplace (repeatable).")
    p.add_argument("files", nargs="*", help=argparse.SUPPRESS)  # pre-commit may pass some
    args = p.parse_args(argv)
    return run(NAME, lambda: _catalog(args))


def _catalog(args: argparse.Namespace) -> int:
    from skillmeat.cli.precommit import signing_key
    from skillmeat.services import catalog

    h = home()
    store = team_collection(h)
    signer = None
    if not args.no_sign and (args.key or h.keys.list()):
        signer = signing_key(h, args.key)
    result = catalog.build(h, args.output, markets=list(args.marketplace), site_url=args.site_url,
                           signer=signer, opened=[store])
    for problem in result.problems:
        info(NAME, f"warning: {problem}")
    info(NAME, f"built the catalog of '{store.name}' ({result.artifacts} artifact(s), "
         f"{result.pages} page(s)) in {result.site}; open {(result.site / 'index.html').as_uri()}")
    return 0
