"""``analytics usage|top|trends|cleanup|import``: reports over ``state/events.db``."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from skillmeat.cli.output import emit_json, json_option, plural, progress, table
from skillmeat.model.events import KINDS
from skillmeat.services import analytics
from skillmeat.services.query import list_artifacts
from skillmeat.store.home import Home

F = TypeVar("F", bound=Callable[..., Any])
OTHER_KINDS = tuple(k for k in KINDS if k not in ("invoke", "deploy"))


def report_options(func: F) -> F:
    """``--days N``, ``--json``, ``--csv``: every report takes them (and not both formats)."""

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("as_json") and kwargs.get("as_csv"):
            raise click.UsageError("use either --json or --csv, not both")
        return func(*args, **kwargs)

    wrapped: Any = click.option("--csv", "as_csv", is_flag=True, help="Print CSV (header row first).")(
        checked)
    wrapped = json_option(wrapped)
    wrapped = click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
                           help="Look back N days.")(wrapped)
    return cast(F, wrapped)


@click.group("analytics")
def analytics_group() -> None:
    """Usage analytics: what SkillMeat did (add, deploy, sync, ...) and what Claude Code
    invoked (skills, subagents, slash commands, via `analytics import`)."""


@analytics_group.command("usage")
@report_options
@click.pass_obj
def usage_cmd(home: Home, days: int, as_json: bool, as_csv: bool) -> None:
    """Events per artifact in the last N days."""
    rows = analytics.usage(home, days)
    _emit([r.to_dict() for r in rows], as_json, as_csv, ("artifact", "total", *KINDS, "projects", "last"))
    if not (as_json or as_csv):
        table([(r.artifact, str(r.total), str(r.counts.get("invoke", 0)), str(r.counts.get("deploy", 0)),
                str(sum(r.counts.get(k, 0) for k in OTHER_KINDS)), str(r.projects), _day(r.last))
               for r in rows], ("ARTIFACT", "TOTAL", "INVOKED", "DEPLOYED", "OTHER", "PROJECTS", "LAST"))
        click.echo(f"{plural(len(rows), 'artifact')} with events in the last {plural(days, 'day')}",
                   err=True)


@analytics_group.command("top")
@report_options
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.pass_obj
def top_cmd(home: Home, days: int, as_json: bool, as_csv: bool, limit: int) -> None:
    """The most used artifacts: by invocations, then deploys."""
    rows = analytics.top(home, days, limit)
    _emit([r.to_dict() for r in rows], as_json, as_csv,
          ("rank", "artifact", "invocations", "deploys", "projects", "last"))
    if not (as_json or as_csv):
        table([(str(r.rank), r.artifact, str(r.invocations), str(r.deploys), str(r.projects),
                _day(r.last)) for r in rows],
              ("#", "ARTIFACT", "INVOKED", "DEPLOYED", "PROJECTS", "LAST"))
        if not rows:
            click.echo(f"nothing deployed or invoked in the last {plural(days, 'day')}", err=True)


@analytics_group.command("trends")
@report_options
@click.option("--bucket", type=click.Choice(analytics.BUCKETS), default="day", show_default=True,
              help="Period per row (UTC; a week is labelled by its Monday).")
@click.pass_obj
def trends_cmd(home: Home, days: int, as_json: bool, as_csv: bool, bucket: str) -> None:
    """Invocations, deploys and other changes per day, week or month."""
    rows = analytics.trends(home, days, bucket)
    _emit([r.to_dict() for r in rows], as_json, as_csv,
          ("period", "invocations", "deploys", "changes", "artifacts"))
    if not (as_json or as_csv):
        table([(r.period, str(r.invocations), str(r.deploys), str(r.changes), str(r.artifacts))
               for r in rows], ("PERIOD", "INVOKED", "DEPLOYED", "CHANGES", "ARTIFACTS"))


@analytics_group.command("cleanup")
@report_options
@click.pass_obj
def cleanup_cmd(home: Home, days: int, as_json: bool, as_csv: bool) -> None:
    """Artifacts in the collection never deployed, or not deployed or invoked in N days."""
    store = home.collection()
    ids = [str(e["id"]) for e in list_artifacts(store)]
    rows = analytics.cleanup(home, days, ids, store.name)
    _emit([r.to_dict() for r in rows], as_json, as_csv,
          ("artifact", "reason", "last_deployed", "last_used"))
    if not (as_json or as_csv):
        table([(r.artifact, r.reason, _day(r.last_deployed) or "never", _day(r.last_used) or "never")
               for r in rows], ("ARTIFACT", "REASON", "LAST DEPLOYED", "LAST USED"))
        click.echo(f"{plural(len(rows), 'cleanup candidate')} of {plural(len(ids), 'artifact')} "
                   f"in '{store.name}'", err=True)


@analytics_group.command("import")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="Transcript directory (default: $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects).")
@json_option
@click.pass_obj
def import_cmd(home: Home, root: Path | None, as_json: bool) -> None:
    """Import skill, subagent and slash-command invocations from Claude Code's local transcripts."""
    result = analytics.import_transcripts(home, root, None if as_json else progress("Reading transcripts"))
    if as_json:
        emit_json(result.to_dict())
        return
    if not result.files:
        click.echo(f"no transcripts found under {result.root}", err=True)
    click.echo(f"{plural(result.files, 'transcript file')} under {result.root}")
    click.echo(f"records read:        {result.records}")
    click.echo(f"invocations added:   {result.added}")
    click.echo(f"duplicates skipped:  {result.duplicates}")
    click.echo(f"built-ins skipped:   {result.builtin}")
    click.echo(f"malformed lines:     {result.malformed}")


def _emit(rows: Sequence[dict[str, Any]], as_json: bool, as_csv: bool, header: Sequence[str]) -> None:
    if as_json:
        emit_json(list(rows))
    elif as_csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(header), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buf.getvalue(), nl=False)


def _day(when: float | None) -> str:
    return analytics.iso(when)[:16].replace("T", " ") if when else ""
