"""``skillmeat-validate [--strict] [--all] [--unloadable error|warning] [FILES...]``: the
artifacts the staged files belong to, checked like ``skillmeat validate`` (``path:line:
level: message``); exit 1 on errors.

pre-commit shows nothing of a hook that passes, so a warning there is never read. What
would never load or deploy is therefore an error here by default (``--unloadable error``):
a skill ``name`` Claude Code does not accept, a file shaped like an artifact whose name
SkillMeat cannot use. ``skillmeat validate`` keeps them warnings (it also checks sources,
which ``add`` renames). Symlinks and file names bundles refuse are errors in both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from skillmeat.cli.precommit import parser, run
from skillmeat.model.errors import ValidationFailedError

ARTIFACT_DIRS = ("skills", "commands", "agents", "hooks", "mcp")


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("validate", "Validate the artifacts the given files belong to (default: all).")
    p.add_argument("--strict", action="store_true",
                   help="Agent Skills spec level; warnings count as errors")
    p.add_argument("--all", action="store_true", help="the whole collection, whatever FILES says")
    p.add_argument("--unloadable", choices=("error", "warning"), default="error",
                   help="level of findings about artifacts that would never load or deploy "
                   "(a skill name Claude Code refuses, an artifact path with a bad name); "
                   "default: error")
    p.add_argument("files", nargs="*", metavar="FILES")
    args = p.parse_args(argv)
    return run("validate", lambda: _validate(args.files, strict=args.strict, whole=args.all,
                                             unloadable=args.unloadable == "error"))


def _validate(files: list[str], *, strict: bool, whole: bool, unloadable: bool) -> int:
    from skillmeat.model.rules import UNLOADABLE
    from skillmeat.store.tracked import collection_root

    root = collection_root(Path.cwd())
    promote = UNLOADABLE if unloadable else frozenset()
    if whole or not files:
        from skillmeat.services.validation import validate_path

        report = validate_path(root, strict=strict, promote=promote)
    else:
        from skillmeat.services.staged import validate_files
        from skillmeat.store.tracked import walk

        rel = [r for r in (relative(f, root) for f in files) if r]
        # ownership never crosses a top-level directory: list only those the files are in
        seen = walk(root, (r.split("/", 1)[0] for r in rel if r.split("/", 1)[0] in ARTIFACT_DIRS))
        report = validate_files(root, rel, seen.every, strict=strict, links=seen.links,
                                promote=promote)
    out = "".join(d.format() + "\n" for d in report.diagnostics)
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(f"{_plural(report.artifacts, 'artifact')} checked: "
                     f"{_plural(report.errors, 'error')}, {_plural(report.warnings, 'warning')}\n")
    if report.errors:
        raise ValidationFailedError(f"{_plural(report.errors, 'error')} in {report.root}")
    return 0


def relative(name: str, root: Path) -> str:
    """A path given on the command line (relative to cwd) as a posix path relative to
    ``root``; '' when it is outside."""
    if not os.path.isabs(name) and os.getcwd() == str(root):  # how pre-commit passes them
        rel = os.path.normpath(name)
    else:
        rel = os.path.relpath(os.path.abspath(name), root)
    return "" if rel == ".." or rel.startswith(".." + os.sep) else rel.replace(os.sep, "/")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
