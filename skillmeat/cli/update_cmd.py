"""``update``: fetch upstreams, show the diff, apply on confirmation."""

from __future__ import annotations

import sys

import click

from skillmeat.cli.output import color_diff, emit_json, json_option, plural, record_events
from skillmeat.model.errors import SkillmeatError
from skillmeat.services.update import UpdatePlan, update
from skillmeat.store.home import Home


@click.command("update")
@click.argument("names", nargs=-1)
@click.option("-y", "--yes", is_flag=True, help="Apply without asking.")
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
@click.option("--force", is_flag=True, help="Overwrite artifacts changed in the collection.")
@json_option
@click.pass_obj
def update_cmd(home: Home, names: tuple[str, ...], yes: bool, dry_run: bool, force: bool,
               as_json: bool) -> None:
    """Update artifacts (default: all with an upstream) from where they came from."""
    def confirm(plans: list[UpdatePlan]) -> bool:
        if not as_json:
            for plan in plans:
                if plan.status == "changed":
                    click.secho(f"== {plan.id} ({plan.status})", bold=True)
                    color_diff(plan.diff)
        if dry_run:
            return False
        if yes:
            return True
        if not sys.stdin.isatty():
            click.echo("Not applied: pass --yes to apply without a terminal.", err=True)
            return False
        return click.confirm("Apply these changes?", default=False)

    store = home.collection()
    result = update(home, store, names, confirm=confirm, force=force)
    record_events(home, "update", result.applied, store.name)
    if as_json:
        emit_json({"commit": result.commit, "applied": [str(a) for a in result.applied],
                   "plans": [{"id": str(p.id), "status": p.status, "detail": p.detail,
                              "diff": p.diff} for p in result.plans]})
        return
    attention = [p for p in result.plans if p.status not in ("changed", "up-to-date")]
    for plan in attention:
        if plan.diff:
            click.secho(f"== {plan.id} ({plan.status}, not applied)", bold=True)
            color_diff(plan.diff)
        click.echo(f"{plan.id}: {plan.status}" + (f" ({plan.detail})" if plan.detail else ""),
                   err=True)
    changed = sum(p.status == "changed" for p in result.plans)
    if result.applied:
        click.echo(f"Updated {plural(len(result.applied), 'artifact')} ({result.commit[:10]})")
    elif changed:
        click.echo(f"{plural(changed, 'artifact')} can be updated; nothing applied")
    elif attention:
        raise SkillmeatError(f"nothing updated: {plural(len(attention), 'artifact')} "
                             f"{'needs' if len(attention) == 1 else 'need'} attention (see above)")
    else:
        click.echo("Everything is up to date")
