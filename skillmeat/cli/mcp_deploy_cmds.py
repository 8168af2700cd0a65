"""``mcp deploy``, ``mcp undeploy``, ``mcp rollback`` and ``mcp list``."""

from __future__ import annotations

from pathlib import Path

import click

from skillmeat.cli.output import color_diff, emit_json, json_option, record_events, table
from skillmeat.model.errors import NotFoundError
from skillmeat.services import mcp_deploy as svc
from skillmeat.services.mcp_status import ServerView, list_servers
from skillmeat.services.mcp_targets import PRECEDENCE, SCOPES, McpTarget, target_for, tilde
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home

scope_option = click.option("--scope", type=click.Choice(SCOPES), required=True,
                            help="project: .mcp.json; user: ~/.claude.json; local: this project in "
                            "~/.claude.json; desktop: Claude Desktop's config.")
project_option = click.option("--project", type=click.Path(file_okay=False, path_type=Path),
                              help="Project for the project and local scopes (default: the current "
                              "directory).")
dry_run_option = click.option("--dry-run", is_flag=True, help="Print the diff, write nothing.")


@click.command("deploy")
@click.argument("names", nargs=-1, required=True)
@scope_option
@project_option
@dry_run_option
@click.option("--force", is_flag=True, help="Replace a same-named server SkillMeat did not write "
              "(or that was edited since).")
@click.pass_obj
def deploy_cmd(home: Home, names: tuple[str, ...], scope: str, project: Path | None, dry_run: bool,
               force: bool) -> None:
    """Write MCP servers from the collection into Claude Code's config: diff, backup, write."""
    target = target_for(home, scope, project)
    store = home.collection()
    change = svc.deploy(home, store, names, target, dry_run=dry_run, force=force, show=color_diff)
    _report(change, "deployed", "to", dry_run)
    if change.changed:
        record_events(home, "deploy", change.artifacts, store.name, _project(target))


@click.command("undeploy")
@click.argument("names", nargs=-1, required=True)
@scope_option
@project_option
@dry_run_option
@click.option("--force", is_flag=True, help="Remove SkillMeat's entries even if edited since.")
@click.pass_obj
def undeploy_cmd(home: Home, names: tuple[str, ...], scope: str, project: Path | None,
                 dry_run: bool, force: bool) -> None:
    """Remove servers SkillMeat wrote (never the user's own): diff, backup, write."""
    target = target_for(home, scope, project)
    change = svc.undeploy(home, names, target, dry_run=dry_run, force=force, show=color_diff)
    _report(change, "undeployed", "from", dry_run)
    if change.changed:
        record_events(home, "undeploy", change.artifacts, "", _project(target))


@click.command("rollback")
@click.option("--target", "scope", type=click.Choice(SCOPES),
              help="The file of this scope (default: the file SkillMeat changed last).")
@project_option
@click.option("--to", "to", metavar="BACKUP", help="A backup id from --list (default: as before "
              "the last change; each further rollback steps one change back).")
@click.option("--list", "list_", is_flag=True, help="List the backups instead.")
@dry_run_option
@json_option
@click.pass_obj
def rollback_cmd(home: Home, scope: str | None, project: Path | None, to: str | None, list_: bool,
                 dry_run: bool, as_json: bool) -> None:
    """Restore an MCP config file from a backup (the current state is backed up first)."""
    scope = scope or ("project" if project else None)
    target = target_for(home, scope, project) if scope else None
    if list_:
        _list_backups(home, target, as_json)
        return
    change = svc.rollback(home, target, to, dry_run=dry_run, show=color_diff)
    if dry_run:
        click.echo(f"dry run: {change.label} not restored from backup {change.restored}")
    elif not change.changed:
        click.echo(f"no change: {change.label} already is as backup {change.restored} holds it")
    else:
        _backed_up(change)
        click.echo(f"restored {change.label} from backup {change.restored}")


@click.command("list")
@project_option
@json_option
@click.pass_obj
def list_cmd(home: Home, project: Path | None, as_json: bool) -> None:
    """Defined vs deployed per scope, and the definition Claude Code will use."""
    views = list_servers(home, _collection_if_any(home), project)
    if as_json:
        emit_json([v.to_dict() for v in views])
        return
    scopes = (*PRECEDENCE, "desktop")
    table([(v.name, v.artifact or "-", *(_cell(v, s) for s in scopes),
            _cell(v, v.effective, used=True) if v.effective else "-") for v in views],
          ("SERVER", "DEFINED", *(s.upper() for s in scopes), "CLAUDE CODE USES"))
    if not views:
        click.echo("no MCP servers defined or deployed")


def _cell(view: ServerView, scope: str, *, used: bool = False) -> str:
    """A scope's state (or, for the used one, its name), noting a project server's approval."""
    found = view.scopes.get(scope)
    if found is None:
        return "-"
    text = scope if used else found.state
    return f"{text} ({found.approval})" if found.approval not in ("", "approved") else text


def _report(change: svc.McpChange, verb: str, where: str, dry_run: bool) -> None:
    done = change.written + change.removed
    if dry_run:
        click.echo(f"dry run: nothing written to {change.label}" if change.diff
                   else f"no change: {change.label} already is as it would be")
        return
    for name in change.gone:
        click.echo(f"{name} was already gone from {change.label}; forgotten")
    if not change.changed:
        if change.unchanged:
            click.echo(f"no change: {', '.join(change.unchanged)} already in {change.label}")
        return
    _backed_up(change)
    click.echo(f"{verb} {', '.join(done)} {where} {change.label}"
               + (f" ({', '.join(change.unchanged)} unchanged)" if change.unchanged else ""))


def _backed_up(change: svc.McpChange) -> None:
    if change.backup is not None:
        click.echo(f"backed up {tilde(change.file)} to {tilde(change.backup)}")
    else:
        click.echo(f"{tilde(change.file)} did not exist; a rollback removes it again")


def _list_backups(home: Home, target: McpTarget | None, as_json: bool) -> None:
    sets = svc.backup_sets(home, target)
    if as_json:
        emit_json([{"file": str(s.file), "slug": s.slug,
                    "backups": [{k: v for k, v in b.to_dict().items() if k != "record"}
                                for b in reversed(s.backups)]} for s in sets])
        return
    for s in sets:
        click.secho(tilde(s.file), bold=True)
        table([(b.id, b.action, ", ".join(b.servers) or "-",
                f"{b.size} bytes" if b.existed else "(no file)") for b in reversed(s.backups)],
              ("BACKUP", "BEFORE", "SERVERS", "CONTENT"))
    if not sets:
        click.echo("no MCP config backups yet")


def _project(target: McpTarget) -> str:
    return str(target.project) if target.project else ""


def _collection_if_any(home: Home) -> CollectionStore | None:
    """The collection, or None when there is none yet (servers then show as not defined)."""
    try:
        return home.collection()
    except NotFoundError:
        if home.selected:
            raise
        return None
