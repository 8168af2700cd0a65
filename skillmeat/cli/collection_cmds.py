"""``init`` and ``collection create/list/use/remove``."""

from __future__ import annotations

from pathlib import Path

import click

from skillmeat.cli.output import emit_json, json_option, table
from skillmeat.model.errors import BadInputError
from skillmeat.services import collections
from skillmeat.store.home import Home


@click.command("init")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Collection name (default: the directory name).")
@click.option("--team", is_flag=True,
              help="Scaffold a team repository: pre-commit hooks, allowed signers, Pages workflow, README.")
@click.option("--principal", default="", help="With --team: who your key is (default: git user.email).")
@click.option("--hooks-repo", metavar="URL[@REV]",
              help="With --team: use SkillMeat's hook repository instead of the installed hooks.")
@click.pass_obj
def init_cmd(home: Home, path: Path | None, name: str | None, team: bool, principal: str,
             hooks_repo: str | None) -> None:
    """Make PATH (default: the current directory) a collection repository."""
    if team:
        _init_team(home, path or home.cwd, name, principal, hooks_repo)
        return
    if principal or hooks_repo:
        raise BadInputError("--principal and --hooks-repo go with --team",
                            hint="add --team to scaffold a team repository")
    store = collections.init_collection(home, path or home.cwd, name)
    click.echo(f"Initialized collection '{store.name}' in {store.path}")


def _init_team(home: Home, path: Path, name: str | None, principal: str,
               hooks_repo: str | None) -> None:
    from skillmeat.cli.keys_cmds import ask_passphrase
    from skillmeat.services import scaffold

    repo = scaffold.parse_hooks_repo(hooks_repo) if hooks_repo is not None else None
    made = scaffold.scaffold_team(home, path, name, principal=principal, hooks_repo=repo,
                                  passphrase=ask_passphrase())
    signed = (f", signed by {made.key.fingerprint} as {made.principal}" if made.key
              else ", unsigned")
    click.echo(f"Initialized team collection '{made.store.name}' in {made.store.path} "
               f"(commit {made.commit[:12]}{signed})")
    click.echo(f"Made: {', '.join(made.files)}")
    if made.key is None:
        click.echo("No signing key: add one later with `skillmeat keys generate`, then `skillmeat "
                   "keys trust --team default --principal EMAIL` and `skillmeat keys git-setup "
                   "--repo .` in the repository")
    kept = "" if made.guide == scaffold.README else " (your README.md is kept as it was)"
    click.echo("Next: `pre-commit install` (or `skillmeat hooks install`), add a remote and "
               f"`git push -u origin main`; teammates follow {made.guide}{kept}")


@click.group("collection")
def collection_group() -> None:
    """Create, list, select and remove collections."""


@collection_group.command("create")
@click.argument("name")
@click.pass_obj
def create_cmd(home: Home, name: str) -> None:
    """Create a collection under $SKILLMEAT_HOME/collections/NAME."""
    store = collections.create_collection(home, name)
    click.echo(f"Created collection '{store.name}' in {store.path}")


@collection_group.command("list")
@json_option
@click.pass_obj
def list_cmd(home: Home, as_json: bool) -> None:
    """List registered collections (* marks the active one)."""
    infos = collections.list_collections(home)
    if as_json:
        emit_json([i.to_dict() for i in infos])
        return
    if not infos:
        click.echo("No collections yet: run `skillmeat collection create NAME`.", err=True)
    table([("*" if i.active else "", i.name, str(i.path) + ("" if i.exists else " (missing)"))
           for i in infos], ("", "NAME", "PATH"))


@collection_group.command("use")
@click.argument("name")
@click.pass_obj
def use_cmd(home: Home, name: str) -> None:
    """Make NAME the active collection."""
    collections.use_collection(home, name)
    click.echo(f"Active collection: {name}")


@collection_group.command("remove")
@click.argument("name")
@click.option("--delete", is_flag=True, help="Also delete the repository from disk.")
@click.pass_obj
def remove_cmd(home: Home, name: str, delete: bool) -> None:
    """Forget collection NAME (its files stay unless --delete)."""
    path = collections.remove_collection(home, name, delete=delete)
    click.echo(f"Removed collection '{name}'" + (f" and deleted {path}" if delete
                                                 else f" (files kept in {path})"))


@collection_group.command("push")
@click.argument("remote", default="origin")
@click.pass_obj
def push_cmd(home: Home, remote: str) -> None:
    """Push refs/skillmeat/* (signed bundles, feed, snapshots) to REMOTE."""
    from skillmeat.services import travel

    outcomes = travel.push(home, home.collection(), remote)
    for o in outcomes:
        click.echo(f"{o.ref}: {o.summary}")
    if not outcomes:
        click.echo("Nothing to push: no refs under refs/skillmeat/", err=True)


@collection_group.command("pull")
@click.argument("remote", default="origin")
@click.pass_obj
def pull_cmd(home: Home, remote: str) -> None:
    """Fetch refs/skillmeat/* from REMOTE, verifying every new commit before moving a ref."""
    from skillmeat.services import travel

    result = travel.pull(home, home.collection(), remote)
    for name, (old, new) in result.updated.items():
        click.echo(f"{name}: {(old or 'new')[:12]} -> {new[:12]}")
    click.echo(f"{len(result.updated)} ref(s) updated, {len(result.unchanged)} unchanged")
