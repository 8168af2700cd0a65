"""``skillmeat-validate [--strict] [--all] [FILES...]``: the artifacts the staged files belong
to, checked like ``skillmeat validate`` (``path:line: level: message``); exit 1 on errors."""

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
    p.add_argument("files", nargs="*", metavar="FILES")
    args = p.parse_args(argv)
    return run("validate", lambda: _validate(args.files, strict=args.strict, whole=args.all))


def _validate(files: list[str], *, strict: bool, whole: bool) -> int:
    from skillmeat.store.tracked import collection_root

    root = collection_root(Path.cwd())
    if whole or not files:
        from skillmeat.services.validation import validate_path

        report = validate_path(root, strict=strict)
    else:
        from skillmeat.services.staged import validate_files
        from skillmeat.store.tracked import work_files

        rel = [r for r in (relative(f, root) for f in files) if r]
        # ownership never crosses a top-level directory: list only those the files are in
        every = work_files(root, (r.split("/", 1)[0] for r in rel if r.split("/", 1)[0] in ARTIFACT_DIRS))
        report = validate_files(root, rel, every, strict=strict)
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
