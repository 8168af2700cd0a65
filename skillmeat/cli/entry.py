"""Console-script entry points. Kept tiny: ``--version`` answers before click is imported."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None, prog_name: str = "skillmeat") -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        from skillmeat import __version__

        sys.stdout.write(f"{prog_name} {__version__}\n")
        return 0
    from skillmeat.cli.main import run

    return run(args, prog_name)


def git_main(argv: list[str] | None = None) -> int:
    """``git skillmeat ...``: git runs ``git-skillmeat`` from PATH (``-h`` for help)."""
    return main(argv, prog_name="git skillmeat")


if __name__ == "__main__":
    sys.exit(main())
