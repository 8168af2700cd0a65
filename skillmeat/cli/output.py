"""Rendering helpers: JSON, tables, diagnostics, progress. The only place that prints."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from skillmeat.model.diagnostics import Diagnostic
from skillmeat.store.home import Home

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def emit_json(data: Any) -> None:
    """Indented on a terminal; compact (and much faster to write) when piped."""
    indent = 2 if sys.stdout.isatty() else None
    click.echo(json.dumps(data, indent=indent, ensure_ascii=False, default=str))


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> None:
    if not rows:
        return
    width = shutil.get_terminal_size((120, 20)).columns if sys.stdout.isatty() else 10_000
    cols = list(zip(headers, *rows, strict=False))
    widths = [max(len(str(c)) for c in col) for col in cols]
    fixed = sum(widths[:-1]) + 2 * (len(widths) - 1)
    last = max(20, width - fixed)
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)]
        tail = str(row[-1])
        cells.append(tail if len(tail) <= last else tail[: last - 1] + "…")
        click.echo("  ".join(cells).rstrip())


def diagnostics(diags: Iterable[Diagnostic], *, err: bool = True) -> None:
    for d in diags:
        click.echo(d.format(), err=err)


def one_line(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def progress(label: str) -> Callable[[int, int], None] | None:
    """A progress callback (done, total) drawn on stderr, or None when not on a terminal."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{label}: {done}/{total}{end}")
        sys.stderr.flush()

    return report


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def color_diff(text: str) -> None:
    for line in text.splitlines():
        fg = None
        if line.startswith("+") and not line.startswith("+++"):
            fg = "green"
        elif line.startswith("-") and not line.startswith("---"):
            fg = "red"
        elif line.startswith("@@"):
            fg = "cyan"
        click.secho(line, fg=fg)


def record_events(home: Home, kind: str, artifacts: Sequence[object], collection: str,
                  project: str = "") -> None:
    """Usage analytics for a change that already happened (never fails the command)."""
    if not artifacts:
        return
    from skillmeat.services.analytics import record

    record(home, kind, artifacts, collection, project, best_effort=True)
