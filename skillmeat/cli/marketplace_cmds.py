"""``marketplace`` (add, list, remove, refresh, search, show, install, yank) and ``publish``."""

from __future__ import annotations

import click

from skillmeat.cli.output import emit_json, json_option, one_line, plural, table
from skillmeat.model.errors import BadInputError
from skillmeat.store.home import Home

TYPES = click.Choice(["feed", "git", "claude-plugin", "mcp-registry"])


@click.group("marketplace", context_settings={"help_option_names": ["-h", "--help"]})
def marketplace_group() -> None:
    """Marketplaces: signed SkillMeat feeds, git remotes, Claude Code plugin marketplaces."""


def _keys(values: tuple[str, ...]) -> list[str]:
    from skillmeat.services.keys import load_public

    return [load_public(v).openssh() for v in values]


@marketplace_group.command("add")
@click.argument("name")
@click.argument("source")
@click.option("--type", "kind", help="feed, git, claude-plugin or mcp-registry (default: guessed; "
              "third-party brokers add more).")
@click.option("--key", "keys", multiple=True, metavar="KEY",
              help="Pin the feed's signing key (a .pub file or an 'ssh-ed25519 ...' line).")
@click.pass_obj
def add_cmd(home: Home, name: str, source: str, kind: str | None, keys: tuple[str, ...]) -> None:
    """Add marketplace NAME at SOURCE (a URL, path, git remote or github:owner/repo)."""
    from skillmeat.services import marketplaces

    mp, result = marketplaces.add(home, name, source, kind, _keys(keys))
    version = f", feed version {result.version}" if result.version is not None else ""
    click.echo(f"Added {mp.kind} marketplace {mp.name}: {plural(result.listings, 'listing')}"
               f"{version}")


@marketplace_group.command("list")
@json_option
@click.pass_obj
def list_cmd(home: Home, as_json: bool) -> None:
    """List the marketplaces."""
    from skillmeat.services import marketplaces

    found = marketplaces.marketplaces(home)
    if as_json:
        emit_json([m.to_dict() for m in found.values()])
        return
    if not found:
        click.echo("No marketplaces yet: skillmeat marketplace add NAME SOURCE")
    table([(m.name, m.kind, m.source) for m in found.values()], ["NAME", "TYPE", "SOURCE"])


@marketplace_group.command("remove")
@click.argument("name")
@click.pass_obj
def remove_cmd(home: Home, name: str) -> None:
    """Forget a marketplace (its cache and remembered feed version too)."""
    from skillmeat.services import marketplaces

    mp = marketplaces.remove(home, name)
    click.echo(f"Removed marketplace {mp.name} ({mp.source})")


@marketplace_group.command("refresh")
@click.argument("names", nargs=-1)
@json_option
@click.pass_obj
def refresh_cmd(home: Home, names: tuple[str, ...], as_json: bool) -> None:
    """Fetch and verify the marketplaces' indexes (all, or NAMES)."""
    from skillmeat.services import marketplaces

    results = marketplaces.refresh(home, names)
    if as_json:
        emit_json({n: r.__dict__ for n, r in results.items()})
        return
    for name, r in results.items():
        what = "changed" if r.changed else "unchanged"
        click.echo(f"{name}: {what}, {plural(r.listings, 'listing')}, {r.transferred:,} bytes "
                   f"transferred{f', feed version {r.version}' if r.version is not None else ''}")


@marketplace_group.command("search")
@click.argument("query", default="")
@click.option("--type", "type_", help="skill, command, agent, hook, mcp, bundle or plugin.")
@click.option("--tag")
@click.option("--marketplace", "names", multiple=True, help="Only these marketplaces.")
@click.option("--drafts", is_flag=True, help="Include draft listings.")
@click.option("--yanked", is_flag=True, help="Include yanked listings.")
@json_option
@click.pass_obj
def search_cmd(home: Home, query: str, type_: str | None, tag: str | None,
               names: tuple[str, ...], drafts: bool, yanked: bool, as_json: bool) -> None:
    """Search every marketplace's listings (names, descriptions, tags)."""
    from skillmeat.services import marketplaces

    problems: list[str] = []
    index = marketplaces.SearchIndex(marketplaces.listings(home, names, problems=None if names
                                                           else problems))
    for problem in problems:
        click.echo(f"skillmeat: warning: {problem}", err=True)
    found = index.search(query, type_=type_, tag=tag, drafts=drafts, yanked=yanked)
    if as_json:
        emit_json([x.to_dict() for x in found])
        return
    rows = [(f"{x.marketplace}:{x.id}", x.type, x.version or "-",
             ("" if x.verified else "unverified ") + (f"[{x.status}] " if x.status != "published"
                                                      else "") + one_line(x.description, 70))
            for x in found]
    table(rows, ["ID", "TYPE", "VERSION", "DESCRIPTION"])
    if not found:
        click.echo(f"Nothing matches '{query}'.")


@marketplace_group.command("show")
@click.argument("ref")
@json_option
@click.pass_obj
def show_cmd(home: Home, ref: str, as_json: bool) -> None:
    """Show one listing: [MARKETPLACE:]ID or NAME[@VERSION]."""
    from skillmeat.services import marketplaces

    x = marketplaces.find(home, ref, drafts=True)
    if as_json:
        emit_json(x.to_dict())
        return
    rows = [("id", f"{x.marketplace}:{x.id}"), ("type", x.type), ("name", x.name),
            ("version", x.version or "-"),
            ("status", x.status + (f" ({x.reason})" if x.reason else "")),
            ("verified", "yes (signed feed)" if x.verified else "NO (unsigned marketplace)"),
            ("publisher", x.publisher or "-"), ("description", one_line(x.description, 200)),
            ("tags", ", ".join(x.tags) or "-"), ("artifacts", ", ".join(x.artifacts) or "-")]
    if x.sha256:
        rows.append(("bundle", f"{x.bundle_url} ({x.size:,} bytes, sha256 {x.sha256[:16]}...)"))
    for key, value in rows:
        click.echo(f"{key:<12} {value}")


@marketplace_group.command("install")
@click.argument("ref")
@click.option("--strategy", type=click.Choice(["merge", "fork", "skip"]))
@click.option("--allow-unverified", is_flag=True, help="Install from an unsigned marketplace.")
@click.option("--allow-yanked", is_flag=True, help="Install a yanked listing.")
@click.option("--drafts", is_flag=True, help="Allow a draft listing.")
@click.option("--dry-run", is_flag=True)
@json_option
@click.pass_obj
def install_cmd(home: Home, ref: str, strategy: str | None, allow_unverified: bool,
                allow_yanked: bool, drafts: bool, dry_run: bool, as_json: bool) -> None:
    """Install a listing into the collection (bundles go through the verified import)."""
    from skillmeat.services import marketplaces

    done = marketplaces.install(home, home.collection(), ref, strategy=strategy,
                                allow_unverified=allow_unverified, allow_yanked=allow_yanked,
                                drafts=drafts, dry_run=dry_run)
    x = done.listing
    if done.how == "bundle":
        changed = len(done.result.changes)
        data = done.result.to_dict()
    else:
        changed = len(done.result.added)
        data = {"added": [str(a) for a in done.result.added],
                "unchanged": [str(a) for a in done.result.unchanged]}
    if as_json:
        emit_json({"listing": x.to_dict(), "how": done.how, "result": data})
        return
    verb = "Would install" if dry_run else "Installed"
    click.echo(f"{verb} {x.marketplace}:{x.id} ({'verified' if x.verified else 'UNVERIFIED'}): "
               f"{plural(changed, 'artifact')} changed")


@marketplace_group.command("yank")
@click.argument("ref")
@click.option("--reason", required=True, help="Shown to everyone who sees the listing.")
@click.option("--marketplace", "market", help="Default: the part before ':' in REF.")
@click.option("--key", "key_name", default=None)
@click.pass_obj
def yank_cmd(home: Home, ref: str, reason: str, market: str | None, key_name: str | None) -> None:
    """Yank NAME@VERSION: still verifiable, never installed by default; the reason is shown."""
    from skillmeat.cli.keys_cmds import ask_passphrase
    from skillmeat.services import keys, marketplaces, publish

    if market is None:
        market, sep, ref = ref.partition(":")
        if not sep:
            raise BadInputError("which marketplace?",
                                hint="use MARKETPLACE:NAME@VERSION or --marketplace")
    name, version = marketplaces.check_ref(ref)
    mp = marketplaces.get(home, market)
    key = keys.signing_key(home, key_name, ask_passphrase())
    publish.yank(home, home.collection_or_none(), mp, name, version, reason, key)
    click.echo(f"Yanked {market}:{name}@{version}: {reason}")


@click.command("publish")
@click.argument("names", nargs=-1)
@click.option("--marketplace", "market", required=True, help="A feed or git marketplace.")
@click.option("--all", "all_", is_flag=True)
@click.option("--tag", "tags", multiple=True)
@click.option("--name", "bundle_name")
@click.option("--version", "version")
@click.option("--draft", is_flag=True, help="List it as a draft: kept out of search and install.")
@click.option("--dry-run", is_flag=True)
@click.option("--key", "key_name", default=None)
@json_option
@click.pass_obj
def publish_cmd(home: Home, names: tuple[str, ...], market: str, all_: bool, tags: tuple[str, ...],
                bundle_name: str | None, version: str | None, draft: bool, dry_run: bool,
                key_name: str | None, as_json: bool) -> None:
    """Build and sign a bundle, upload it, add the listing and re-sign the feed."""
    from skillmeat.cli.keys_cmds import ask_passphrase
    from skillmeat.services import keys, marketplaces, publish

    if not (names or all_ or tags):
        raise BadInputError("nothing to publish", hint="name artifacts, or pass --all or --tag T")
    mp = marketplaces.get(home, market)
    store = home.collection()
    key = keys.signing_key(home, key_name, ask_passphrase())
    result = publish.publish(home, store, mp, names, key, all_=all_, tags=tags,
                             bundle_name=bundle_name, version=version, draft=draft, dry_run=dry_run)
    if as_json:
        emit_json(result.to_dict())
        return
    if result.dry_run:
        click.echo(f"Dry run: would publish {result.name} ({', '.join(result.artifacts)}) to "
                   f"{mp.name} as {result.status}")
        return
    click.echo(f"Published {result.name}@{result.version} to {mp.name} ({result.status}; "
               f"{result.size:,} bytes, sha256 {result.sha256[:16]}...): {result.location}")

