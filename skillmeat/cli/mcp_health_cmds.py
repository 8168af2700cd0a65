"""``mcp health``: start each server (or connect to it), speak MCP, report; exit 1 if any is not well."""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence
from pathlib import Path

import click

from skillmeat.cli.main import CONTEXT
from skillmeat.cli.output import emit_json, json_option, plural, table
from skillmeat.services.mcp_health import (
    DEFAULT_TIMEOUT,
    SCOPES,
    STATUSES,
    HealthResult,
    check_health,
    load_definitions,
    remember,
)
from skillmeat.store.home import Home


@click.command("health", context_settings=CONTEXT)
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--scope", type=click.Choice(SCOPES), default="collection", show_default=True,
              help="Where the servers are defined: the collection's mcp/*.toml, or one of Claude "
              "Code's scopes (project: .mcp.json; user, local: ~/.claude.json), read only.")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path),
              help="The project for --scope project/local, and where stdio servers run "
              "(default: the current directory).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds each server has to answer.")
@json_option
@click.option("--watch", is_flag=True, help="Check again every --interval seconds until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(min=0.5), default=30.0, show_default=True,
              help="Seconds between checks with --watch.")
@click.pass_context
def health_cmd(ctx: click.Context, names: tuple[str, ...], scope: str, project: Path | None,
               timeout: float, as_json: bool, watch: bool, interval: float) -> None:
    """Start every MCP server (or connect to its URL), speak the protocol, report.

    Servers are checked all at once; each gets --timeout seconds. Exits 1 when any server is
    unhealthy, timed out or could not be started.
    """
    home: Home = ctx.obj
    while True:
        definitions = load_definitions(home, scope, project, names)
        results = check_health(definitions, timeout=timeout, cwd=(project or home.cwd).absolute())
        remember(home, results)
        _render(results, as_json=as_json, watching=watch)
        if not watch:
            break
        time.sleep(interval)
    if any(not r.healthy for r in results):
        ctx.exit(1)


def _render(results: Sequence[HealthResult], *, as_json: bool, watching: bool) -> None:
    if as_json:
        emit_json([r.to_dict() for r in results])
        return
    if watching:
        click.echo(f"-- {datetime.datetime.now().strftime('%H:%M:%S')} --")
    if not results:
        click.echo("no MCP servers to check", err=True)
        return
    table([(r.status, r.name, r.transport, _latency(r), r.protocol_version or "-", _server(r),
            "-" if r.tools is None else str(r.tools), _one_line(r.detail)) for r in results],
          ("STATUS", "NAME", "TRANSPORT", "LATENCY", "PROTOCOL", "SERVER", "TOOLS", "DETAIL"))
    for r in results:
        if r.stderr:
            click.echo(f"\n{r.name} stderr:")
            for line in r.stderr:
                click.echo(f"  {line}")
    counts = [plural(n, s) if s in ("timeout", "error") else f"{n} {s}"
              for s in STATUSES if (n := sum(r.status == s for r in results))]
    click.echo(", ".join(counts), err=True)


def _latency(r: HealthResult) -> str:
    if r.latency_ms is None or r.status == "error":
        return "-"
    return f"{r.latency_ms:.0f} ms" if r.latency_ms < 10_000 else f"{r.latency_ms / 1000:.1f} s"


def _server(r: HealthResult) -> str:
    return f"{r.server_name} {r.server_version}".strip() or "-"


def _one_line(text: str) -> str:
    return " ".join(text.split())
