"""``diff``, ``snapshot``, ``history``, ``rollback``."""

from __future__ import annotations

import datetime

import click

from skillmeat.cli.output import color_diff, emit_json, json_option, plural, table
from skillmeat.services import history as hist
from skillmeat.store.home import Home


@click.command("diff")
@click.argument("names", nargs=-1)
@click.option("--from", "old", metavar="REV", help="Compare from this commit (default HEAD).")
@click.option("--to", "new", metavar="REV", help="Compare to this commit (default: work tree).")
@click.pass_obj
def diff_cmd(home: Home, names: tuple[str, ...], old: str | None, new: str | None) -> None:
    """Show changes in the collection (or in the named artifacts)."""
    text = hist.diff(home.collection(), names, old, new)
    if text:
        color_diff(text)
    else:
        click.echo("No changes.", err=True)


@click.command("snapshot")
@click.option("-m", "--message", default="", help="Commit message.")
@click.option("--name", default="", help="Snapshot name (default: a UTC timestamp).")
@click.option("--sign/--no-sign", default=None,
              help="Sign the snapshot ref (default: when you have a signing key).")
@click.option("--key", "key_name", default=None, help="Signing key (default: the default key).")
@click.pass_obj
def snapshot_cmd(home: Home, message: str, name: str, sign: bool | None, key_name: str | None) -> None:
    """Commit every change in the collection and name the commit."""
    from skillmeat.cli.keys_cmds import ask_passphrase
    from skillmeat.services import keys

    if sign is None:
        sign = bool(home.keys.list())
    key = keys.signing_key(home, key_name, ask_passphrase()) if sign else None
    snap = hist.snapshot(home, home.collection(), message, name, key)
    click.echo(f"Snapshot '{snap.name}' at {snap.commit[:10]} "
               f"({plural(len(snap.changed), 'changed path')}"
               f"{', signed' if snap.signed else ''})")


@click.command("history")
@click.argument("name", required=False)
@click.option("-n", "--limit", default=50, show_default=True)
@json_option
@click.pass_obj
def history_cmd(home: Home, name: str | None, limit: int, as_json: bool) -> None:
    """Show the collection's history (or one artifact's)."""
    store = home.collection()
    commits = hist.history(store, name, limit)
    if as_json:
        snaps = hist.snapshots(store)
        emit_json([{**c.to_dict(), "snapshots": sorted(k for k, v in snaps.items() if v == c.id)}
                   for c in commits])
        return
    table([(c.id[:10], _when(c.time), c.summary) for c in commits], ("COMMIT", "DATE", "SUMMARY"))


def _when(ts: int) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M")


@click.command("rollback")
@click.argument("rev")
@click.option("--force", is_flag=True, help="Discard uncommitted changes in the collection.")
@click.pass_obj
def rollback_cmd(home: Home, rev: str, force: bool) -> None:
    """Restore the collection as it was at REV, as a new commit (history is kept)."""
    store = home.collection()
    before = store.repo.head()
    commit = hist.rollback(home, store, rev, force=force)
    if commit == before:
        click.echo(f"Already as at {rev}: nothing to roll back")
    else:
        click.echo(f"Rolled back to {rev}: new commit {commit[:10]}")
