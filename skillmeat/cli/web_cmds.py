"""``web``: the static catalog — build, dev (live reload), start (serve), doctor, deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from skillmeat.cli.output import emit_json, json_option
from skillmeat.model.errors import BadInputError
from skillmeat.store.home import Home

DEFAULT_SITE = Path("site")
HOST = "127.0.0.1"


@click.group("web", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def web_group() -> None:
    """The static web catalog: build, dev, start, doctor, deploy --gh-pages."""


def _build_options(fn: Any) -> Any:
    for option in reversed([
        click.option("--collection", "collections", multiple=True, metavar="NAME",
                     help="A collection to show (repeat; default: every collection)."),
        click.option("--marketplace", "markets", multiple=True, metavar="NAME",
                     help="A marketplace to show (repeat; default: every marketplace)."),
        click.option("--no-marketplaces", is_flag=True, help="Show no marketplace."),
        click.option("--title", default="", help="The site's title."),
        click.option("--site-url", default="", help="Where the site will be served (for absolute links)."),
        click.option("--key", "key_name", metavar="NAME", help="Sign api/feed.json with this key."),
        click.option("--no-sign", is_flag=True, help="Leave api/feed.json unsigned."),
        click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
                     help="Analytics window."),
    ]):
        fn = option(fn)
    return fn


def _signer(home: Home, key_name: str | None, no_sign: bool) -> Any:
    from skillmeat.cli.keys_cmds import ask_passphrase
    from skillmeat.services import keys

    if no_sign:
        return None
    if key_name is None and not home.keys.list():
        return None
    return keys.signing_key(home, key_name, ask_passphrase())


def _stop_on_sigterm() -> None:
    """SIGTERM ends a build the way Ctrl-C does: temporary directories are removed and the
    previous site stays in place."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _build(home: Home, output: Path, opts: dict[str, Any], *, strict: bool = False,
           project: Path | None = None) -> Any:
    from skillmeat.services import catalog

    _stop_on_sigterm()

    if opts["no_marketplaces"] and opts["markets"]:
        raise BadInputError("--marketplace and --no-marketplaces contradict each other",
                            hint="pass one or the other")
    markets = () if opts["no_marketplaces"] else (opts["markets"] or None)
    return catalog.build(home, output, collections=opts["collections"], markets=markets,
                         title=opts["title"], site_url=opts["site_url"],
                         signer=_signer(home, opts["key_name"], opts["no_sign"]), strict=strict,
                         project=project, days=opts["days"])


@web_group.command("build")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=DEFAULT_SITE,
              show_default=True, help="Where to write the site (replaced whole).")
@_build_options
@click.option("--strict", is_flag=True, help="Fail on any MkDocs warning.")
@click.option("--project", type=click.Path(path_type=Path),
              help="Also keep the generated MkDocs project here (a new or empty directory).")
@json_option
@click.pass_obj
def build_cmd(home: Home, /, output: Path, strict: bool, project: Path | None, as_json: bool,
              **opts: Any) -> None:
    """Build the catalog: pages (MkDocs Material) and the static JSON API beside them."""
    result = _build(home, output, opts, strict=strict, project=project)
    if as_json:
        emit_json(result.to_dict())
        return
    for problem in result.problems:
        click.echo(f"warning: {problem}", err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    signed = (f"signed by {result.signer}" if result.feed_signed
              else "unsigned (no key: `skillmeat keys generate`)")
    click.echo(f"Built the catalog of {result.artifacts} artifact(s) in {result.collections} "
               f"collection(s), {result.pages} page(s), in {result.seconds.get('total', 0):.1f} s")
    click.echo(f"api/feed.json: {signed}")
    click.echo(f"Open {(result.site / 'index.html').as_uri()}")
    click.echo(f"or serve it: skillmeat web start {result.site}")


@web_group.command("start")
@click.argument("site", type=click.Path(path_type=Path), default=DEFAULT_SITE)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.pass_obj
def start_cmd(home: Home, site: Path, port: int) -> None:
    """Serve a built catalog on 127.0.0.1 until Ctrl-C."""
    from skillmeat.services import catalog

    catalog.serve(catalog.site_ready(site.absolute()), HOST, port,
                  lambda url: click.echo(f"Serving {site} at {url} (Ctrl-C to stop)"))


@web_group.command("dev")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Where to build (default: a temporary directory).")
@_build_options
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.pass_obj
def dev_cmd(home: Home, /, output: Path | None, port: int, **opts: Any) -> None:
    """Build, serve on 127.0.0.1, and rebuild and reload the browser when a collection changes."""
    import tempfile

    from skillmeat.services import catalog

    with tempfile.TemporaryDirectory(prefix="skillmeat-web-dev-") as tmp:
        site = output or Path(tmp) / "site"
        opts["no_sign"] = True  # a preview: never ask for a passphrase on every change

        def rebuild() -> None:
            result = _build(home, site, opts)
            click.echo(f"Rebuilt: {result.artifacts} artifact(s) in {result.seconds['total']:.1f} s",
                       err=True)

        rebuild()
        catalog.serve_live(home, site, HOST, port, rebuild, opts["collections"],
                           lambda url: click.echo(f"Serving {site} at {url} with live reload "
                                                  "(Ctrl-C to stop)"))


@web_group.command("doctor")
@json_option
@click.pass_context
def doctor_cmd(ctx: click.Context, as_json: bool) -> None:
    """Check what the catalog (and SkillMeat) needs; each line says how to fix a failure."""
    from skillmeat.services import web_doctor

    checks = web_doctor.run_checks(ctx.obj)
    if as_json:
        emit_json([c.to_dict() for c in checks])
    else:
        for c in checks:
            line = f"{c.level.upper():4}  {c.name}: {c.detail}"
            click.echo(line + (f" -> {c.fix}" if c.fix and c.level != "ok" else ""))
    failed = [c for c in checks if c.level == "fail"]
    if not as_json:
        click.echo(f"{len(failed)} failure(s)" if failed else "All checks passed", err=True)
    if failed:
        ctx.exit(1)


@web_group.command("deploy")
@click.option("--gh-pages", "gh_pages", is_flag=True, required=True,
              help="Commit the site to the gh-pages branch and push it (the only target).")
@click.argument("remote", required=False)
@click.option("--site", type=click.Path(path_type=Path), default=DEFAULT_SITE, show_default=True,
              help="The built catalog to deploy.")
@click.option("--branch", default="gh-pages", show_default=True)
@click.option("--no-push", is_flag=True, help="Only commit to the local branch.")
@click.option("--message", default="", help="Commit message (default: names the build).")
@click.option("--key", "key_name", metavar="NAME", help="Sign the commit with this key.")
@click.pass_obj
def deploy_cmd(home: Home, gh_pages: bool, remote: str | None, site: Path, branch: str,
               no_push: bool, message: str, key_name: str | None) -> None:
    """Commit the built site to the collection's gh-pages branch (pygit2) and push it to REMOTE
    (default: origin). The work tree, HEAD and index are not touched."""
    from skillmeat.services import catalog, ghpages

    store = home.collection()
    site = catalog.site_ready(site.absolute())
    signer = _signer(home, key_name, False) if key_name else None
    result = ghpages.deploy(store.path, site, remote=None if no_push else (remote or "origin"),
                            branch=branch, message=message or f"Deploy the SkillMeat catalog of {store.name}",
                            push=not no_push, signer=signer)
    click.echo(result.summary())
