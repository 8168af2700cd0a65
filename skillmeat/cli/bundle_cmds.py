"""``export``, ``inspect``, ``verify`` and ``import``: signed ``.skillmeat-pack`` bundles."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from skillmeat.cli.output import color_diff, emit_json, json_option, plural, progress, table
from skillmeat.model.errors import BadInputError
from skillmeat.store.home import Home

if TYPE_CHECKING:
    pass

ALLOW_UNSIGNED = click.option("--allow-unsigned", is_flag=True,
                              help="Accept a bundle that is unsigned or signed by a key you do not "
                              "trust (a signature that does not match is still refused).")


@click.command("export")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every artifact in the collection.")
@click.option("--tag", "tags", multiple=True, metavar="T", help="Artifacts with this tag (repeatable).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Bundle file to write (.skillmeat-pack is added when there is no suffix); "
              "a directory with --format claude-marketplace.")
@click.option("--to", "vault_name", metavar="VAULT", help="Upload the bundle to this vault.")
@click.option("--version", "version",
              help="Bundle version (default: <collection version>-<commit time>-g<commit>).")
@click.option("--name", "bundle_name", help="Bundle name (default: the artifact's, or the collection's).")
@click.option("--key", "key_name", default=None, help="Signing key (default: the default key).")
@click.option("--format", "fmt", type=click.Choice(["pack", "claude-marketplace"]), default="pack",
              show_default=True, help="claude-marketplace: a directory Claude Code's "
              "`/plugin marketplace add` reads (-o DIR).")
@json_option
@click.pass_obj
def export_cmd(home: Home, names: tuple[str, ...], all_: bool, tags: tuple[str, ...],
               output: Path | None, vault_name: str | None, version: str | None,
               bundle_name: str | None, key_name: str | None, fmt: str, as_json: bool) -> None:
    """Build a signed, reproducible bundle of artifacts (NAME..., --all or --tag)."""
    from skillmeat.cli.keys_cmds import ask_passphrase
    from skillmeat.services import bundle, keys
    from skillmeat.services import vaults as vaultsvc
    from skillmeat.services.refs import trust_for

    if fmt == "claude-marketplace":
        _export_claude(home, names, all_, tags, output, as_json)
        return
    if not (names or all_ or tags):
        raise BadInputError("nothing to export", hint="name artifacts, or pass --all or --tag T")
    if output is not None and output.is_dir():
        raise BadInputError(f"{output} is a directory", hint="give a file name for the bundle")
    if output is None and vault_name is None:
        raise BadInputError("where to?", hint="pass -o FILE and/or --to VAULT")
    store = home.collection()
    vault = vaultsvc.get(home, vault_name) if vault_name else None
    key = keys.signing_key(home, key_name, ask_passphrase())
    with tempfile.TemporaryDirectory(prefix="skillmeat-export-") as tmp:
        out = output or Path(tmp) / "bundle.skillmeat-pack"
        built = bundle.build(home, store, names, out, key, all_=all_, tags=tags, name=bundle_name,
                             version=version, progress=progress("Bundling"))
        listing = None
        if vault is not None:
            listing = vaultsvc.upload(home, vault, store, built, key, trust_for(home, store))
        if as_json:
            emit_json({**built.to_dict(), "path": str(built.path) if output else None,
                       "vault": listing.to_dict() if listing else None})
            return
        m = built.manifest
        if output is not None:
            click.echo(f"Wrote {built.path} ({m.name} {m.version}, "
                       f"{plural(len(m.artifacts), 'artifact')}, {built.size:,} bytes)")
        click.echo(f"sha256 {built.sha256}")
        click.echo(f"{'Kept' if built.reused else 'Signed'} {built.ref} ({built.commit[:12]})")
        if listing is not None:
            click.echo(f"Uploaded to vault {vault_name}: {listing.location}")


def _export_claude(home: Home, names: tuple[str, ...], all_: bool, tags: tuple[str, ...],
                   output: Path | None, as_json: bool) -> None:
    from skillmeat.services import bundle
    from skillmeat.services.claude_export import export_claude_marketplace

    store = home.collection()
    head = store.repo.head()
    ids = None
    if head is not None and (names or tags) and not all_:
        ids = bundle.select(store, head, names, all_=False, tags=tags)
    done = export_claude_marketplace(store, output or Path("claude-marketplace"), ids=ids)
    if as_json:
        emit_json({"out": str(done.out), "marketplace": done.marketplace, "plugins": done.plugins})
        return
    click.echo(f"Wrote Claude Code marketplace '{done.marketplace}' to {done.out} "
               f"({plural(len(done.plugins), 'plugin')}); add it with: "
               f"claude plugin marketplace add {done.out}")


def _verdict_line(checked: object) -> str:
    from skillmeat.services.bundle import Checked

    assert isinstance(checked, Checked)
    if checked.verdict is not None:
        v = checked.verdict
        return f"good signature by {v.principal} ({v.fingerprint})"
    if checked.signer:
        return f"UNVERIFIED: signed by {checked.signer}: {checked.problem}"
    return "UNSIGNED"


@click.command("inspect")
@click.argument("file", type=click.Path(path_type=Path))
@json_option
@click.pass_obj
def inspect_cmd(home: Home, file: Path, as_json: bool) -> None:
    """Show a bundle's contents, signer and verdict (content is checked too)."""
    from skillmeat.services import bundle
    from skillmeat.services.refs import trust_for

    store = home.collection_or_none()
    checked = bundle.check(file, trust_for(home, store), allow_unsigned=True)
    if as_json:
        emit_json({**checked.to_dict(), "verdict": "verified" if checked.verified else "unverified"})
        return
    m = checked.manifest
    click.echo(f"{m.name} {m.version}  created {m.created}  from {m.source_repo or '?'}@"
               f"{m.source_commit[:12]}")
    click.echo(f"publisher: {m.publisher_name}")
    click.echo(f"signature: {_verdict_line(checked)}")
    click.echo(f"content:   every file listed, present and matching ({m.total_size:,} bytes)")
    rows = [(str(a.id), a.version or "-", str(len(a.files)), a.hash[:19]) for a in m.artifacts]
    table(rows, ["ARTIFACT", "VERSION", "FILES", "HASH"])


@click.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@ALLOW_UNSIGNED
@json_option
@click.pass_obj
def verify_cmd(home: Home, file: Path, allow_unsigned: bool, as_json: bool) -> None:
    """Verify a bundle: signature by a trusted key, every file; the exit code is the verdict."""
    from skillmeat.services import bundle
    from skillmeat.services.refs import trust_for

    checked = bundle.check(file, trust_for(home, home.collection_or_none()), allow_unsigned=allow_unsigned)
    if as_json:
        emit_json(checked.to_dict())
        return
    m = checked.manifest
    click.echo(f"{file}: OK: {m.name} {m.version}, {plural(len(m.artifacts), 'artifact')}; "
               f"{_verdict_line(checked)}")


@click.command("import")
@click.argument("source")
@click.option("--strategy", type=click.Choice(["merge", "fork", "skip"]),
              help="For artifacts that differ from ours (default: ask on a terminal, else merge).")
@click.option("--dry-run", is_flag=True, help="Verify and print the plan; change nothing.")
@ALLOW_UNSIGNED
@json_option
@click.pass_obj
def import_cmd(home: Home, source: str, strategy: str | None, dry_run: bool, allow_unsigned: bool,
               as_json: bool) -> None:
    """Import a bundle FILE or VAULT:NAME[@VERSION]: verified first, then all or nothing."""
    from skillmeat.services import importer
    from skillmeat.services import vaults as vaultsvc
    from skillmeat.services.refs import trust_for

    store = home.collection()
    trust = trust_for(home, store)
    interactive = strategy is None and not as_json and sys.stdin.isatty() and sys.stdout.isatty()
    choose = _ask if interactive else None
    with tempfile.TemporaryDirectory(prefix="skillmeat-import-") as tmp:
        path, where, expect = Path(source), source, None
        if not path.exists() and ":" in source and source.partition(":")[0] in vaultsvc.vaults(home):
            vname, bname, version = vaultsvc.parse_spec(source)
            path = Path(tmp) / "bundle.skillmeat-pack"
            listing = vaultsvc.fetch(home, vaultsvc.get(home, vname), bname, version, path, store,
                                     trust, allow_unsigned=allow_unsigned)
            where, expect = f"{vname}:{bname}@{listing.version}", (bname, listing.version)
        elif not path.exists():
            raise BadInputError(f"no bundle file or vault bundle '{source}'",
                                hint="give a .skillmeat-pack path or VAULT:NAME[@VERSION] "
                                "(see `skillmeat vault list`)")
        try:
            result = importer.import_bundle(home, store, path, trust, strategy=strategy,
                                            choose=choose, dry_run=dry_run,
                                            allow_unsigned=allow_unsigned, where=where,
                                            expect=expect)
        except importer.ImportConflict as exc:
            if as_json:
                emit_json({"conflicts": [i.to_dict() for i in exc.items]})
            else:
                for item in exc.items:
                    click.echo(f"conflict: {item.target}: {item.reason}")
                    color_diff(item.diff)
            raise
    _report(result, as_json)
    conflicts = [i for i in result.items if i.action == "conflict"]
    if conflicts:  # a dry run shows the whole plan, then says what would stop the import
        if not as_json:
            for item in conflicts:
                click.echo(f"conflict: {item.target}: {item.reason}")
                color_diff(item.diff)
        raise importer.ImportConflict(conflicts)


def _ask(item: object) -> str:
    from skillmeat.services.importer import PlanItem

    assert isinstance(item, PlanItem)
    click.echo(f"{item.target} differs from the bundle's:")
    color_diff(item.diff)
    answer: str = click.prompt("Keep [m]erge (theirs if ours is unchanged), [f]ork, [s]kip?",
                               type=click.Choice(["m", "f", "s"]), default="m")
    return {"m": "merge", "f": "fork", "s": "skip"}[answer]


def _report(result: object, as_json: bool) -> None:
    from skillmeat.services.importer import ImportResult

    assert isinstance(result, ImportResult)
    if as_json:
        emit_json(result.to_dict())
        return
    m = result.checked.manifest
    click.echo(f"{m.name} {m.version}: {_verdict_line(result.checked)}")
    for item in result.items:
        target = f" -> {item.target}" if item.target != item.source.id else ""
        click.echo(f"  {item.action:<9} {item.source.id}{target}"
                   f"{f'  ({item.reason})' if item.reason else ''}")
    n = len(result.changes)
    if result.dry_run:
        click.echo(f"Dry run: {plural(n, 'artifact')} would change; nothing was written.")
    elif n:
        click.echo(f"Imported {plural(n, 'artifact')} in commit {result.commit[:12]}.")
    else:
        click.echo("Nothing to import: the collection already has this bundle's content.")
