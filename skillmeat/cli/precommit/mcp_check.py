"""``skillmeat-mcp-check FILES...``: ``mcp/<name>.toml`` definitions and ``.mcp.json`` files
have a known transport with its fields and no literal secrets. One line per problem,
``path: server NAME: ...``; exit 1 when there is any."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from skillmeat.cli.precommit import parser, run
from skillmeat.cli.precommit.validate import relative


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("mcp-check", "Check MCP server definitions and .mcp.json files.")
    p.add_argument("files", nargs="*", metavar="FILES")
    args = p.parse_args(argv)
    return run("mcp-check", lambda: _check(args.files))


def _check(files: list[str]) -> int:
    from skillmeat.services.mcp_files import check_files

    root = Path.cwd()
    found = check_files(root, [r for r in (relative(f, root) for f in files) if r])
    sys.stdout.write("".join(f.format() + "\n" for f in found))
    return 1 if found else 0
