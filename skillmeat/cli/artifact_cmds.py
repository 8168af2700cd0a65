"""``add``, ``remove``, ``list``, ``show``, ``search``."""

from __future__ import annotations

import sys
from collections import Counter

import click

from skillmeat.cli.output import (
    diagnostics,
    emit_json,
    json_option,
    one_line,
    plural,
    progress,
    record_events,
    table,
)
from skillmeat.model.artifact import ArtifactType
from skillmeat.services import artifacts, query
from skillmeat.services.discover import Candidate
from skillmeat.store.home import Home

TYPE_CHOICE = click.Choice([t.value for t in ArtifactType])
TYPE_NOUN = {"skill": "skill", "command": "command", "agent": "agent", "hook": "hook",
             "mcp": "MCP server"}


def _types(values: tuple[str, ...]) -> tuple[ArtifactType, ...]:
    return tuple(ArtifactType(v) for v in values)


@click.command("add")
@click.argument("source")
@click.option("--type", "types", multiple=True, type=TYPE_CHOICE, help="Only this type (repeat).")
@click.option("--name", "names", multiple=True, help="Only artifacts matching NAME or a glob.")
@click.option("--all", "all_", is_flag=True, help="Add every artifact found.")
@click.option("--ref", default="", help="Branch, tag or commit of a git source.")
@click.option("--tag", "tags", multiple=True, help="Tag the added artifacts (repeat).")
@click.option("--dry-run", is_flag=True, help="Show what would be added.")
@json_option
@click.pass_obj
def add_cmd(home: Home, source: str, types: tuple[str, ...], names: tuple[str, ...], all_: bool,
            ref: str, tags: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Add artifacts from SOURCE: a path, a git URL or github:owner/repo[/path][@ref]."""
    store = home.collection()
    chooser = _choose if sys.stdin.isatty() and sys.stdout.isatty() else None
    result = artifacts.add(home, store, source, ref=ref, dry_run=dry_run, tags=tags, choose=chooser,
                           selection=artifacts.Selection(_types(types), names, all_),
                           progress=None if as_json else progress("Adding"))
    if not dry_run:
        record_events(home, "add", result.added, store.name)
    if as_json:
        emit_json({"source": result.source, "layout": result.layout, "commit": result.commit,
                   "added": [str(a) for a in result.added],
                   "unchanged": [str(a) for a in result.unchanged],
                   "warnings": [d.to_dict() for d in result.warnings]})
        return
    diagnostics(result.warnings)
    counts = Counter(a.type.value for a in result.added)
    kinds = ", ".join(plural(n, TYPE_NOUN[t]) for t, n in sorted(counts.items()))
    verb = "Would add" if dry_run else "Added"
    summary = f"{verb} {plural(len(result.added), 'artifact')}"
    summary += f" ({kinds})" if kinds else ""
    summary += f" from {result.source} [{result.layout}]"
    if result.unchanged:
        summary += f"; {len(result.unchanged)} already present"
    if result.retagged:
        summary += f" ({len(result.retagged)} newly tagged)"
    summary += f"; {plural(len(result.warnings), 'warning')}"
    if dry_run:
        for aid in result.added:
            click.echo(f"  {aid}")
    click.echo(summary)


def _choose(cands: list[Candidate]) -> list[Candidate]:
    for i, c in enumerate(cands, 1):
        click.echo(f"{i:4}  {c.id}  {one_line(c.description, 60)}")
    answer = click.prompt("Add which? (e.g. 1,3-5 or all)", default="all")
    if answer.strip().lower() == "all":
        return cands
    picked: list[Candidate] = []
    for part in answer.replace(" ", "").split(","):
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise click.BadParameter(f"'{part}' is not a number or range")
        for n in range(int(lo), int(hi or lo) + 1):
            if 1 <= n <= len(cands) and cands[n - 1] not in picked:
                picked.append(cands[n - 1])
    return picked


@click.command("remove")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def remove_cmd(home: Home, names: tuple[str, ...]) -> None:
    """Remove artifacts from the collection (one commit)."""
    store = home.collection()
    removed = artifacts.remove(home, store, names)
    record_events(home, "remove", removed, store.name)
    click.echo(f"Removed {', '.join(str(a) for a in removed)}")


@click.command("list")
@click.option("--type", "types", multiple=True, type=TYPE_CHOICE, help="Only this type (repeat).")
@click.option("--tag", "tags", multiple=True, help="Only artifacts with this tag (repeat).")
@json_option
@click.pass_obj
def list_cmd(home: Home, types: tuple[str, ...], tags: tuple[str, ...], as_json: bool) -> None:
    """List the artifacts in the collection."""
    items = query.list_artifacts(home.collection(), types=_types(types), tags=tags)
    if as_json:
        emit_json(items)
        return
    table([(e["id"], e["version"] or "-", one_line(e["description"], 200)) for e in items],
          ("ID", "VERSION", "DESCRIPTION"))
    click.echo(f"{plural(len(items), 'artifact')}", err=True)


@click.command("show")
@click.argument("name")
@json_option
@click.pass_obj
def show_cmd(home: Home, name: str, as_json: bool) -> None:
    """Show one artifact: metadata, files, upstream, recent history."""
    info = query.show_artifact(home.collection(), name)
    if as_json:
        emit_json(info)
        return
    for key in ("id", "description", "version", "path"):
        click.echo(f"{key + ':':13} {info[key] or '-'}")
    click.echo(f"{'tags:':13} {', '.join(info['tags']) or '-'}")
    up = info["upstream"]
    click.echo(f"{'upstream:':13} " + (f"{up['source']} {up.get('path', '')} "
                                       f"{up.get('ref', '')}".strip() if up else "-"))
    if info["lock"]:
        click.echo(f"{'hash:':13} {info['lock']['hash']}")
        if info["lock"].get("commit"):
            click.echo(f"{'from commit:':13} {info['lock']['commit']}")
    click.echo("files:")
    for f in info["files"]:
        click.echo(f"  {f}")
    click.echo("history:")
    for c in info["history"]:
        click.echo(f"  {c['id'][:10]} {c['summary']}")


@click.command("search")
@click.argument("query_text", metavar="QUERY")
@click.option("--type", "types", multiple=True, type=TYPE_CHOICE, help="Only this type (repeat).")
@click.option("--limit", default=20, show_default=True, help="At most this many results (0: all).")
@json_option
@click.pass_obj
def search_cmd(home: Home, query_text: str, types: tuple[str, ...], limit: int,
               as_json: bool) -> None:
    """Search names, tags, descriptions and content; best matches first."""
    hits = query.search(home.collection(), query_text, types=_types(types), limit=limit)
    if as_json:
        emit_json([h.to_dict() for h in hits])
        return
    table([(f"{h.score:.0f}", h.entry["id"], one_line(h.entry["description"], 200)) for h in hits],
          ("SCORE", "ID", "DESCRIPTION"))
    if not hits:
        click.echo(f"No artifact matches '{query_text}'.", err=True)
