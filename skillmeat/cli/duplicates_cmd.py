"""``duplicates``: near-duplicate artifacts, each pair with why it was paired."""

from __future__ import annotations

from pathlib import Path

import click

from skillmeat.cli.output import emit_json, json_option, plural
from skillmeat.model.artifact import ArtifactType
from skillmeat.model.similarity import Explanation
from skillmeat.services import duplicates
from skillmeat.services.duplicates import DuplicateReport, Pair, Side
from skillmeat.store.home import Home

LABELS = {"exact": "exact", "same-body": "same body", "near": "near"}


@click.command("duplicates")
@click.option("--threshold", default=0.8, show_default=True,
              type=click.FloatRange(0, 1, min_open=True),
              help="Least similarity to report (Jaccard index of the bodies' word 4-grams).")
@click.option("--type", "types", multiple=True, type=click.Choice([t.value for t in ArtifactType]),
              help="Only this type (repeat).")
@click.option("--project", "projects", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Compare the collection with this project's .claude files instead (repeat).")
@json_option
@click.pass_obj
def duplicates_cmd(home: Home, threshold: float, types: tuple[str, ...],
                   projects: tuple[Path, ...], as_json: bool) -> None:
    """Find near-duplicate artifacts of the same type and explain each pair."""
    store = home.collection()
    kinds = tuple(ArtifactType(t) for t in types)
    if projects:
        report = duplicates.find_across_projects(store, projects, threshold, kinds)
    else:
        report = duplicates.find_in_collection(store, threshold, kinds)
    if as_json:
        emit_json(report.to_dict())
    else:
        _render(report)


def _render(report: DuplicateReport) -> None:
    if not report.pairs:
        click.echo(f"No near-duplicates above {report.threshold:.2f}.")
        return
    for pair in report.pairs:
        _render_pair(pair)
    click.echo(f"{plural(len(report.pairs), 'pair')} at {report.threshold:.2f} or above among "
               f"{plural(report.compared, 'artifact')}", err=True)


def _render_pair(pair: Pair) -> None:
    e = pair.explanation
    click.echo(f"{e.score:.2f}  {LABELS[e.kind]:9}  {_name(pair.a)}  ~  {_name(pair.b)}")
    if e.kind == "exact":
        click.echo(f"      identical files, {plural(e.lines[0], 'line')}")
        return
    longer = f"{e.longer} is longer" if e.longer else "same length"
    click.echo(f"      lines {e.lines[0]} / {e.lines[1]}, words {e.words[0]} / {e.words[1]} "
               f"({longer}), {e.shared_lines} lines shared")
    click.echo(f"      {_difference(e)}")
    click.echo(f"      {_fields(e)}")


def _name(side: Side) -> str:
    return side.id if side.origin == "collection" else str(Path(side.place) / side.path)


def _difference(e: Explanation) -> str:
    if e.kind == "same-body" or e.first_difference is None:
        return "bodies identical once case, spacing and punctuation are set aside"
    line_a, line_b = e.first_difference
    if line_a is None:
        return f"a ends where b goes on, at b's line {line_b}"
    if line_b is None:
        return f"b ends where a goes on, at a's line {line_a}"
    return f"first difference: line {line_a} of a, line {line_b} of b"


def _fields(e: Explanation) -> str:
    if not e.same_fields and not e.different_fields:
        return "no frontmatter"
    same = ", ".join(e.same_fields) or "-"
    different = ", ".join(e.different_fields) or "-"
    return f"frontmatter same: {same}; different: {different}"
