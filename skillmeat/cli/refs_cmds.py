"""``verify-ref`` and ``log``: signed refs with their signer and status."""

from __future__ import annotations

import click

from skillmeat.cli.output import emit_json, json_option
from skillmeat.model.errors import SignatureError
from skillmeat.services import refs as refsvc
from skillmeat.store.home import Home


@click.command("verify-ref")
@click.argument("ref")
@json_option
@click.pass_obj
def verify_ref_cmd(home: Home, ref: str, as_json: bool) -> None:
    """Check every commit of REF (e.g. refs/skillmeat/feed or just 'feed') is signed by a trusted key."""
    store = home.collection()
    entries = refsvc.verify_ref(store, refsvc.trust_for(home, store), ref)
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    tip = entries[0]
    assert tip.verdict is not None
    click.echo(f"{refsvc.full_ref(ref)}: {len(entries)} commit(s), all good; tip {tip.commit.id[:12]} "
               f"signed by {tip.verdict.principal} ({tip.verdict.fingerprint})")


@click.command("log")
@click.argument("ref", required=False)
@click.option("-n", "--limit", default=20, show_default=True)
@click.option("--list", "list_refs", is_flag=True, help="List the refs under refs/skillmeat/.")
@json_option
@click.pass_obj
def log_cmd(home: Home, ref: str | None, limit: int, list_refs: bool, as_json: bool) -> None:
    """Show a signed ref's commits with signer and status (or list the refs)."""
    store = home.collection()
    if list_refs or ref is None:
        refs = refsvc.list_refs(store)
        if as_json:
            emit_json(refs)
        for name, oid in refs.items():
            if not as_json:
                click.echo(f"{oid[:12]}  {name}")
        return
    entries = refsvc.log_ref(store, refsvc.trust_for(home, store), ref, limit)
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    for e in entries:
        if e.verdict is not None:
            status = click.style("good", fg="green") + f" {e.verdict.principal} {e.verdict.fingerprint}"
            if e.verdict.via_rotation:
                status += f" (rotated from {', '.join(e.verdict.via_rotation)})"
        else:
            status = click.style("BAD", fg="red") + f" {e.problem}"
        click.echo(f"{e.commit.id[:12]}  {status}  {e.commit.summary}")
    bad = sum(not e.ok for e in entries)
    if bad:
        raise SignatureError(refsvc.full_ref(ref), f"{bad} commit(s) do not verify (BAD above)")
