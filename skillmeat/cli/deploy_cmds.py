"""``deploy``, ``undeploy``, ``status`` and ``project``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from skillmeat.cli.output import emit_json, json_option, plural, record_events, table
from skillmeat.services import deploy as deploysvc
from skillmeat.services import projects
from skillmeat.services.profiles import PROFILES
from skillmeat.store.home import Home

PROFILE_CHOICE = click.Choice(sorted(PROFILES))
project_option = click.option("--project", type=click.Path(file_okay=False, path_type=Path),
                              help="Project directory (default: the current directory).")
user_option = click.option("--user", is_flag=True, help="The user level (~/.claude/...) instead.")
profile_option = click.option("--profile", type=PROFILE_CHOICE, default="claude_code",
                              show_default=True, help="Which agent's layout to write.")


class _DeployCommand(click.Command):
    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        if args[:1] == ["mcp"]:  # `deploy mcp NAME... --scope S` is `mcp deploy NAME... --scope S`
            from skillmeat.cli.mcp_deploy_cmds import deploy_cmd as mcp_deploy

            return mcp_deploy.make_context(info_name, args[1:], parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


@click.command("deploy", cls=_DeployCommand)
@click.argument("names", nargs=-1, required=True)
@project_option
@user_option
@profile_option
@click.option("--dry-run", is_flag=True, help="Show what would be written.")
@click.option("--force", is_flag=True, help="Overwrite files SkillMeat did not deploy.")
@click.pass_obj
def deploy_cmd(home: Home, names: tuple[str, ...], project: Path | None, user: bool, profile: str,
               dry_run: bool, force: bool) -> None:
    """Deploy artifacts into a project (or your user level); `deploy mcp ...` is `mcp deploy`."""
    target = deploysvc.target_for(home, project, user)
    store = home.collection()
    result = deploysvc.deploy(home, store, names, target, profile, dry_run=dry_run, force=force)
    if dry_run:
        for aid, paths in result.planned.items():
            click.echo(f"would deploy {aid} -> {', '.join(paths)}")
        return
    if target.scope == "project":
        projects.add_project(home, target.root)
    record_events(home, "deploy", result.deployed, store.name, str(target.root))
    for aid in result.deployed:
        click.echo(f"deployed {aid} -> {', '.join(result.planned[aid])}")
    click.echo(f"{plural(len(result.deployed), 'artifact')} deployed to {target.label} "
               f"({profile}); {len(result.unchanged)} already in sync")


@click.command("undeploy")
@click.argument("names", nargs=-1, required=True)
@project_option
@user_option
@click.option("--profile", type=PROFILE_CHOICE, default=None, help="Only this profile's deployment.")
@click.pass_obj
def undeploy_cmd(home: Home, names: tuple[str, ...], project: Path | None, user: bool,
                 profile: str | None) -> None:
    """Remove deployed artifacts from a project (only what SkillMeat wrote)."""
    target = deploysvc.target_for(home, project, user)
    removed = deploysvc.undeploy(home, names, target, profile)
    record_events(home, "undeploy", removed, "", str(target.root))
    click.echo(f"undeployed {', '.join(removed)} from {target.label}")


@click.command("status")
@project_option
@user_option
@click.option("--all", "all_", is_flag=True, help="Every registered project.")
@json_option
@click.pass_context
def status_cmd(ctx: click.Context, project: Path | None, user: bool, all_: bool,
               as_json: bool) -> None:
    """Drift per deployed artifact; exit 1 when anything drifted."""
    from skillmeat.services.status import status_all

    home: Home = ctx.obj
    if all_:
        targets = [deploysvc.target_for(home, p) for p in projects.registered(home)]
    else:
        targets = [deploysvc.target_for(home, project, user)]
    results = status_all(home, targets)
    if as_json:
        emit_json([r.to_dict() for r in results])
    else:
        for r in results:
            click.secho(f"{r.target.label}", bold=True)
            table([(a.state, a.artifact, a.profile, a.detail) for a in r.artifacts],
                  ("STATE", "ARTIFACT", "PROFILE", "DETAIL"))
            if not r.artifacts:
                click.echo("  nothing deployed")
    if any(r.drifted for r in results):
        ctx.exit(1)


@click.group("project")
def project_group() -> None:
    """The projects SkillMeat deploys into."""


@project_group.command("add")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--follow", "follow", multiple=True, metavar="COLLECTION",
              help="Redeploy this collection into the project after each pull or checkout of it "
              "(its skillmeat-deploy hook; repeatable).")
@click.pass_obj
def project_add_cmd(home: Home, path: Path, follow: tuple[str, ...]) -> None:
    """Register a project (deploy registers projects too)."""
    added = projects.add_project(home, path, follow)
    shown = projects.following(home, added)
    click.echo(f"Registered {added}" + (f" (follows {', '.join(shown)})" if shown else ""))


@project_group.command("list")
@json_option
@click.pass_obj
def project_list_cmd(home: Home, as_json: bool) -> None:
    """List registered projects (and the collections each follows)."""
    paths = projects.registered(home)
    if as_json:
        emit_json([{"path": str(p), "exists": p.is_dir(), "profile": projects.profile_of(home, p),
                    "follow": projects.following(home, p)} for p in paths])
        return
    for p in paths:
        follow = projects.following(home, p)
        click.echo(f"{p}{'' if p.is_dir() else '  (missing)'}"
                   + (f"  follows {', '.join(follow)}" if follow else ""))


@project_group.command("remove")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_obj
def project_remove_cmd(home: Home, path: Path) -> None:
    """Forget a project (its files are not touched)."""
    click.echo(f"Forgot {projects.remove_project(home, path)}")


@click.command("sync")
@click.argument("names", nargs=-1)
@project_option
@user_option
@click.option("--all", "all_", is_flag=True, help="Every registered project.")
@click.option("--pull", "direction", flag_value="pull", help="Take project edits into the collection.")
@click.option("--push", "direction", flag_value="push", help="Refresh projects from the collection.")
@click.option("--strategy", type=click.Choice(["merge", "ours", "theirs", "fork"]), default="merge",
              show_default=True, help="When both sides changed.")
@click.option("--dry-run", is_flag=True, help="Print the plan only.")
@click.pass_obj
def sync_cmd(home: Home, names: tuple[str, ...], project: Path | None, user: bool, all_: bool,
             direction: str | None, strategy: str, dry_run: bool) -> None:
    """Sync both ways, three-way merged against what was deployed."""
    from skillmeat.services.sync import conflict_error, sync

    if direction is None:
        raise click.UsageError("say which way: --pull or --push")
    store = home.collection()
    targets = ([deploysvc.target_for(home, p) for p in projects.registered(home)] if all_
               else [deploysvc.target_for(home, project, user)])
    stopped = None
    for target in targets:
        result = sync(home, store, target, direction=direction, names=names, strategy=strategy,
                      dry_run=dry_run)
        click.secho(f"{target.label} ({direction}{', dry run' if dry_run else ''})", bold=True)
        for item in result.items:
            click.echo(f"  {item.action:16} {item.artifact} [{item.state}]"
                       + (f" {item.detail}" if item.detail else ""))
            for path, text in item.conflicts.items():
                click.secho(f"  --- conflict in {path}", fg="red")
                click.echo(text.decode("utf-8", errors="replace"))
        if result.commit:
            click.echo(f"  collection commit {result.commit[:10]}")
        if not dry_run:
            moved = [i.artifact for i in result.items if i.action not in ("skip", "conflict")]
            record_events(home, "sync", moved, store.name, str(target.root))
        stopped = stopped or (result if result.conflicts else None)
    if stopped is not None:
        raise conflict_error(stopped)
