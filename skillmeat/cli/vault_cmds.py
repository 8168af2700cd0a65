"""``vault``: where a team keeps its bundles (file://, s3://, gs://, any fsspec URL, or git)."""

from __future__ import annotations

import click

from skillmeat.cli.output import emit_json, json_option, table
from skillmeat.model.errors import BadInputError
from skillmeat.store.home import Home


@click.group("vault", context_settings={"help_option_names": ["-h", "--help"]})
def vault_group() -> None:
    """Vaults: add, list, remove, and list the bundles in one (ls)."""


def _options(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInputError(f"bad --option '{pair}'", hint="use --option key=value")
        out[key.strip()] = value
    return out


@vault_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--type", "kind", type=click.Choice(["fsspec", "git"]),
              help="Default: git for git URLs (git+..., ssh://, *.git), else fsspec.")
@click.option("--option", "options", multiple=True, metavar="K=V",
              help="Storage option, e.g. endpoint_url=http://127.0.0.1:9000 (never credentials).")
@click.pass_obj
def add_cmd(home: Home, name: str, url: str, kind: str | None, options: tuple[str, ...]) -> None:
    """Add a vault NAME at URL (credentials come from the environment, never from config)."""
    from skillmeat.services import vaults

    vault = vaults.add(home, name, url, _options(options), kind)
    click.echo(f"Added {vault.kind} vault {vault.name}: {vault.url}")


@vault_group.command("list")
@json_option
@click.pass_obj
def list_cmd(home: Home, as_json: bool) -> None:
    """List the vaults."""
    from skillmeat.services import vaults

    found = vaults.vaults(home)
    if as_json:
        emit_json([v.to_dict() for v in found.values()])
        return
    if not found:
        click.echo("No vaults yet: skillmeat vault add NAME URL")
    table([(v.name, v.kind, v.url) for v in found.values()], ["NAME", "TYPE", "URL"])


@vault_group.command("remove")
@click.argument("name")
@click.pass_obj
def remove_cmd(home: Home, name: str) -> None:
    """Forget a vault (its bundles stay where they are)."""
    from skillmeat.services import vaults

    vault = vaults.remove(home, name)
    click.echo(f"Removed vault {vault.name} ({vault.url}); its content was not touched.")


@vault_group.command("ls")
@click.argument("name")
@json_option
@click.pass_obj
def ls_cmd(home: Home, name: str, as_json: bool) -> None:
    """List the bundles in vault NAME, with the feed's signer."""
    from skillmeat.services import vaults
    from skillmeat.services.refs import trust_for

    vault = vaults.get(home, name)
    store = home.collection_or_none()
    found, verdict, problem = vaults.listings(home, vault, trust_for(home, store))
    if as_json:
        emit_json({"vault": vault.to_dict(), "bundles": [x.to_dict() for x in found],
                   "feed": {"signer": verdict.to_dict() if verdict else None, "problem": problem}})
        return
    if verdict is not None:
        click.echo(f"feed signed by {verdict.principal} ({verdict.fingerprint})")
    elif problem:
        click.echo(f"feed: {problem}")
    table([(x.name, x.version, f"{x.size:,}" if x.size else "-", ", ".join(x.artifacts) or "-")
           for x in found], ["BUNDLE", "VERSION", "SIZE", "ARTIFACTS"])
