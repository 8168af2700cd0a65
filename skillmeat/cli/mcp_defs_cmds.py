"""``mcp add``, ``mcp import`` and ``mcp config show|set|unset|edit``: server definitions."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from skillmeat.cli.main import CONTEXT
from skillmeat.cli.output import emit_json, json_option, plural, record_events
from skillmeat.model.errors import SkillmeatError
from skillmeat.model.mcp import McpServer
from skillmeat.services import mcp_defs
from skillmeat.store.home import Home

REMOTE_TRANSPORTS = click.Choice(["http", "streamable-http", "sse", "ws"])
allow_secret_option = click.option(
    "--allow-literal-secret", "allow_secret", is_flag=True,
    help="Accept a value that looks like a secret written out (it is committed to Git).")


@click.command("add", context_settings=CONTEXT)
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--url", help="The server's URL (http, sse or ws servers).")
@click.option("--transport", type=REMOTE_TRANSPORTS, help="With --url: http (the default), sse, ws.")
@click.option("--env", "env", multiple=True, metavar="K=V", help="Environment of a stdio server "
              "(repeat); write secrets as ${VAR}.")
@click.option("--header", "headers", multiple=True, metavar="K=V", help="HTTP header (repeat).")
@click.option("--description", default="", help="One line on what the server does.")
@click.option("--force", is_flag=True, help="Replace an existing definition of NAME.")
@allow_secret_option
@click.pass_obj
def add_cmd(home: Home, name: str, command: tuple[str, ...], url: str | None,
            transport: str | None, env: tuple[str, ...], headers: tuple[str, ...],
            description: str, force: bool, allow_secret: bool) -> None:
    """Define the MCP server NAME: `NAME -- CMD ARGS...` (stdio) or `NAME --url URL`.

    Secrets are references Claude Code expands, e.g. --env 'GITHUB_TOKEN=${GITHUB_TOKEN}'.
    """
    data = _fields(command, url, transport, env, headers)
    data["description"] = description
    store = home.collection()
    result = mcp_defs.define(home, store, name, data, force=force, allow_secret=allow_secret)
    record_events(home, "add", result.written, store.name)
    planned = result.planned[0]
    if result.unchanged:
        click.echo(f"{planned.id} is already defined like this; nothing to do")
        return
    click.echo(f"Defined {planned.id} ({_summary(planned.server)})")


def _fields(command: tuple[str, ...], url: str | None, transport: str | None,
            env: tuple[str, ...], headers: tuple[str, ...]) -> dict[str, Any]:
    if bool(command) == bool(url):
        raise click.UsageError("give either -- CMD ARGS... (a stdio server) or --url URL")
    if command:
        if transport or headers:
            raise click.UsageError("--transport and --header apply to --url servers")
        return {"transport": "stdio", "command": command[0], "args": list(command[1:]),
                "env": _pairs(env, "--env")}
    if env:
        raise click.UsageError("--env applies to stdio servers (-- CMD ARGS...)")
    return {"transport": transport or "http", "url": url, "headers": _pairs(headers, "--header")}


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint=option)
        out[key.strip()] = value
    return out


def _summary(server: McpServer) -> str:
    if server.transport == "stdio":
        return f"stdio: {shlex.join([server.command, *server.args])}"
    return f"{server.transport}: {server.url}"


@click.command("import", context_settings=CONTEXT)
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--name", "names", multiple=True, help="Only servers matching NAME or a glob (repeat).")
@click.option("--all", "all_", is_flag=True, help="Import every server the source holds.")
@click.option("--as", "rename", default="", metavar="NEW", help="Import the one chosen server as NEW.")
@click.option("--scope", type=click.Choice(["user", "local"]),
              help="~/.claude.json: only top-level (user) or per-project (local) servers.")
@click.option("--project", default="", metavar="PATH",
              help="~/.claude.json: only the servers of this project.")
@click.option("--force", is_flag=True, help="Replace existing definitions that differ.")
@allow_secret_option
@click.option("--dry-run", is_flag=True, help="Show what would be imported.")
@json_option
@click.pass_obj
def import_cmd(home: Home, source: Path, names: tuple[str, ...], all_: bool, rename: str,
               scope: str | None, project: str, force: bool, allow_secret: bool, dry_run: bool,
               as_json: bool) -> None:
    """Import servers from a .mcp.json, ~/.claude.json, Claude Desktop's
    claude_desktop_config.json or an MCP Registry server.json (one commit, all or nothing)."""
    store = home.collection()
    pick = mcp_defs.Pick(names, all_, rename, scope or "", project)
    result = mcp_defs.import_servers(home, store, source.expanduser().absolute(), pick,
                                     force=force, allow_secret=allow_secret, dry_run=dry_run)
    if not dry_run:
        record_events(home, "add", result.written, store.name)
    if as_json:
        emit_json({"source": result.source, "kind": result.kind, "commit": result.commit,
                   "dry_run": dry_run, "imported": [str(a) for a in result.written],
                   "unchanged": [str(a) for a in result.unchanged], "warnings": result.warnings,
                   "servers": [_planned_dict(p) for p in result.planned]})
        return
    for note in result.warnings:
        click.echo(f"warning: {note}", err=True)
    where = f"from {result.source} [{result.kind}]"
    if dry_run:
        click.echo(f"Would import {plural(len(result.planned), 'MCP server')} {where}:")
        for p in result.planned:
            click.echo(f"  {p.id}  <- {p.origin}  ({_summary(p.server)})")
        return
    if result.written:
        line = (f"Imported {plural(len(result.written), 'MCP server')} {where}: "
                + ", ".join(str(a) for a in result.written))
    else:
        line = f"Nothing to import {where}"
    same = len(result.unchanged)
    click.echo(line + (f"; {same} already defined like this" if same else ""))


def _planned_dict(p: mcp_defs.Planned) -> dict[str, Any]:
    return {**mcp_defs.Definition(p.id, p.text, p.server).to_dict(), "origin": p.origin}


@click.group("config", context_settings=CONTEXT)
def config_group() -> None:
    """Show, set, unset or edit one server definition (each change one commit)."""


@config_group.command("show", short_help="Print the definition (TOML, or --json).")
@click.argument("name")
@json_option
@click.pass_obj
def show_cmd(home: Home, name: str, as_json: bool) -> None:
    """Print NAME's definition (TOML as stored, or JSON with Claude Code's entry)."""
    found = mcp_defs.definition(home.collection(), name)
    if as_json:
        emit_json(found.to_dict())
    else:
        click.echo(found.text, nl=False)


@config_group.command("set", short_help="Set one key (one commit).")
@click.argument("name")
@click.argument("key")
@click.argument("value")
@allow_secret_option
@click.pass_obj
def set_cmd(home: Home, name: str, key: str, value: str, allow_secret: bool) -> None:
    """Set KEY: command, url, transport, description, args (a JSON array), env.K, headers.K."""
    store = home.collection()
    _report(home, store.name, mcp_defs.set_value(home, store, name, key, value,
                                                 allow_secret=allow_secret), f"set {key}")


@config_group.command("unset", short_help="Remove one key (one commit).")
@click.argument("name")
@click.argument("key")
@click.pass_obj
def unset_cmd(home: Home, name: str, key: str) -> None:
    """Remove KEY (description, args, env.K, headers.K, ...) from NAME's definition."""
    store = home.collection()
    _report(home, store.name, mcp_defs.unset_value(home, store, name, key), f"unset {key}")


@config_group.command("edit", short_help="Edit in $VISUAL/$EDITOR; commit if valid.")
@click.argument("name")
@allow_secret_option
@click.pass_obj
def edit_cmd(home: Home, name: str, allow_secret: bool) -> None:
    """Open NAME's definition in $VISUAL or $EDITOR; commit it if it is valid and changed."""
    store = home.collection()
    found = mcp_defs.definition(store, name)
    try:
        text = click.edit(found.text, extension=".toml", require_save=False)
    except click.ClickException as exc:
        raise SkillmeatError(f"{exc.message}; nothing was written",
                             hint="check $VISUAL or $EDITOR") from None
    if text is None or text in (found.text, found.text + "\n"):
        click.echo(f"{found.id}: unchanged")
        return
    change = mcp_defs.replace_text(home, store, str(found.id), found.text, text,
                                   allow_secret=allow_secret)
    _report(home, store.name, change, "edited")


def _report(home: Home, collection: str, change: mcp_defs.Change, what: str) -> None:
    for note in change.warnings:
        click.echo(f"warning: {note}", err=True)
    if not change.commit:
        click.echo(f"{change.id}: unchanged")
        return
    record_events(home, "update", [change.id], collection)
    click.echo(f"{change.id}: {what} (commit {change.commit[:10]})")
