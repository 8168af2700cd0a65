"""``keys``: signing keys, trust, revocation, rotation, git set-up."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from skillmeat.cli.output import emit_json, json_option, table
from skillmeat.model.errors import BadInputError
from skillmeat.services import keys as keysvc
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home

ENV = "SKILLMEAT_KEY_PASSPHRASE"


def ask_passphrase() -> Callable[[], str]:
    """Passphrase for an encrypted key: $SKILLMEAT_KEY_PASSPHRASE, else a prompt."""
    def get() -> str:
        if ENV in os.environ:
            return os.environ[ENV]
        if not sys.stdin.isatty():
            raise BadInputError("the key is encrypted", hint=f"set {ENV} or run on a terminal")
        value: str = click.prompt("Passphrase", hide_input=True)
        return value

    return get


def _new_passphrase(wanted: bool) -> str | None:
    if not wanted:
        return None
    if ENV in os.environ:
        return os.environ[ENV] or None
    if not sys.stdin.isatty():
        raise BadInputError("--passphrase needs a terminal", hint=f"or set {ENV}")
    value: str = click.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
    return value


def _team_store(home: Home, team: bool) -> CollectionStore | None:
    return home.collection() if team else None


team_option = click.option("--team", is_flag=True,
                           help="Change the collection's .skillmeat/ trust (a commit) instead of yours.")


@click.group("keys")
def keys_group() -> None:
    """Signing keys (Ed25519, OpenSSH formats) and whom you trust."""


@keys_group.command("generate")
@click.option("--name", default="default", show_default=True)
@click.option("--comment", default="", help="Key comment (e.g. your email).")
@click.option("--passphrase", is_flag=True, help=f"Encrypt it (prompt, or ${ENV}).")
@click.pass_obj
def generate_cmd(home: Home, name: str, comment: str, passphrase: bool) -> None:
    """Generate a new Ed25519 signing key."""
    info = keysvc.generate(home, name, comment=comment, passphrase=_new_passphrase(passphrase))
    click.echo(f"Generated key '{info.name}' {info.fingerprint}")
    click.echo(info.public.openssh())


@keys_group.command("list")
@click.option("--trusted", is_flag=True, help="List trusted signers and revoked keys instead.")
@json_option
@click.pass_obj
def list_cmd(home: Home, trusted: bool, as_json: bool) -> None:
    """List your keys (or, with --trusted, the keys you trust)."""
    if trusted:
        _list_trusted(home, as_json)
        return
    default = home.config.get(keysvc.DEFAULT_KEY)
    infos = home.keys.list()
    if as_json:
        emit_json([{**i.to_dict(), "default": i.name == default} for i in infos])
        return
    table([("*" if i.name == default else "", i.name, i.fingerprint,
            "encrypted" if i.encrypted else "plain") for i in infos],
          ("", "NAME", "FINGERPRINT", "STORED"))
    if not infos:
        click.echo("No keys yet: run `skillmeat keys generate`.", err=True)


def _list_trusted(home: Home, as_json: bool) -> None:
    store = home.collection() if home.enclosing_collection() or home.selected else None
    dirs = [home.trust, *([store.trust] if store else [])]
    rows = [{"scope": d.label, **s.to_dict()} for d in dirs for s in d.signers()]
    revoked = [{"scope": d.label, "fingerprint": r.key.fingerprint(), "reason": r.reason}
               for d in dirs for r in d.revoked()]
    if as_json:
        emit_json({"trusted": rows, "revoked": revoked})
        return
    table([(r["scope"], ",".join(r["principals"]), r["fingerprint"],
            ",".join(r["namespaces"]) or "*") for r in rows],
          ("SCOPE", "PRINCIPALS", "FINGERPRINT", "NAMESPACES"))
    for r in revoked:
        click.echo(f"revoked ({r['scope']}): {r['fingerprint']} {r['reason']}")


@keys_group.command("show")
@click.argument("name", required=False)
@json_option
@click.pass_obj
def show_cmd(home: Home, name: str | None, as_json: bool) -> None:
    """Show a key (default: the default key)."""
    info = keysvc.resolve(home, name)
    if as_json:
        emit_json(info.to_dict())
        return
    for k, v in info.to_dict().items():
        click.echo(f"{k + ':':13} {v}")


@keys_group.command("export")
@click.argument("name", required=False)
@click.option("--public", "public", is_flag=True, required=True,
              help="Export the public key (the only export there is).")
@click.pass_obj
def export_cmd(home: Home, name: str | None, public: bool) -> None:
    """Print the public key as an OpenSSH line."""
    click.echo(keysvc.resolve(home, name).public.openssh())


@keys_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default="default", show_default=True)
@click.option("--passphrase", is_flag=True, help="Encrypt the imported key.")
@click.pass_obj
def import_cmd(home: Home, path: Path, name: str, passphrase: bool) -> None:
    """Import an unencrypted OpenSSH Ed25519 private key, or a SkillMeat key file."""
    info = keysvc.import_key(home, name, path, ask_passphrase(), _new_passphrase(passphrase))
    click.echo(f"Imported key '{info.name}' {info.fingerprint}")


@keys_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def remove_cmd(home: Home, name: str, yes: bool) -> None:
    """Delete a private key (signatures it made stay verifiable)."""
    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete key '{name}' for good?", abort=True)
    info = keysvc.remove(home, name)
    click.echo(f"Removed key '{info.name}' {info.fingerprint}")


@keys_group.command("default")
@click.argument("name")
@click.pass_obj
def default_cmd(home: Home, name: str) -> None:
    """Make NAME the key SkillMeat signs with."""
    info = keysvc.set_default(home, name)
    click.echo(f"Default key: {info.name} {info.fingerprint}")


@keys_group.command("trust")
@click.argument("key")
@click.option("--principal", "principals", multiple=True, required=True,
              help="Who this key is (e.g. an email); repeat for several.")
@click.option("--namespaces", default="", help="Comma-separated namespaces (default: all).")
@click.option("--valid-after", default="", help="YYYYMMDD[HHMM[SS]]")
@click.option("--valid-before", default="", help="YYYYMMDD[HHMM[SS]]")
@team_option
@click.pass_obj
def trust_cmd(home: Home, key: str, principals: tuple[str, ...], namespaces: str,
              valid_after: str, valid_before: str, team: bool) -> None:
    """Trust KEY (a .pub file or an 'ssh-ed25519 AAAA...' line) for a principal."""
    store = _team_store(home, team)
    req = keysvc.TrustRequest(keysvc.find_public(home, key, store), principals,
                              tuple(n for n in namespaces.split(",") if n), valid_after, valid_before)
    signer = keysvc.trust_key(home, req, store)
    where = f"collection '{store.name}'" if store else "your trust"
    click.echo(f"Trusted {signer.key.fingerprint()} as {','.join(signer.principals)} in {where}")


@keys_group.command("untrust")
@click.argument("key")
@click.option("--principal", default=None, help="Only this principal's line.")
@team_option
@click.pass_obj
def untrust_cmd(home: Home, key: str, principal: str | None, team: bool) -> None:
    """Stop trusting KEY (fingerprint, .pub file or key line)."""
    store = _team_store(home, team)
    pub = keysvc.find_public(home, key, store)
    n = keysvc.untrust_key(home, pub, principal, store)
    click.echo(f"Removed {n} allowed-signers line(s) for {pub.fingerprint()}")


@keys_group.command("revoke")
@click.argument("key")
@click.option("--reason", default="compromised", show_default=True)
@team_option
@click.pass_obj
def revoke_cmd(home: Home, key: str, reason: str, team: bool) -> None:
    """Revoke KEY: nothing it signed verifies any more (git too, via the revocation file)."""
    store = _team_store(home, team)
    pub = keysvc.find_public(home, key, store)
    added = keysvc.revoke_key(home, pub, reason, store)
    click.echo(f"{'Revoked' if added else 'Already revoked'}: {pub.fingerprint()}")


@keys_group.command("rotate")
@click.argument("name", required=False)
@click.option("--new-name", required=True, help="Name of the new key.")
@click.option("--passphrase", is_flag=True, help="Encrypt the new key.")
@click.pass_obj
def rotate_cmd(home: Home, name: str | None, new_name: str, passphrase: bool) -> None:
    """Replace a key: the new one is signed over by the old, which is then revoked."""
    result = keysvc.rotate(home, name, new_name, ask_passphrase(), _new_passphrase(passphrase))
    click.echo(f"Rotated {result.old.fingerprint} -> {result.new.fingerprint}")
    click.echo(f"Rotation statement: {result.statement}")
    click.echo("Share it: copy it into your team collection's .skillmeat/rotations/ and push.")
    click.echo(f"If git signs with the old key: skillmeat keys git-setup {result.new.name}")


@keys_group.command("git-setup")
@click.argument("name", required=False)
@click.option("--principal", default="", help="Also trust the key yourself as this principal.")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path),
              help="Configure this repository only (default: your global git config); it "
              "also sets commit.gpgsign=true there, so every commit in it is signed (merge "
              "commits of a pull and SkillMeat's own commits too).")
@click.pass_obj
def git_setup_cmd(home: Home, name: str | None, principal: str, repo: Path | None) -> None:
    """Configure git so `git commit -S` signs with this key and verifies with your trust."""
    setup = keysvc.git_setup(home, name, ask_passphrase(), repo=repo, principal=principal)
    for k, v in setup.settings.items():
        click.echo(f"git config {'' if repo else '--global '}{k} {v}")
