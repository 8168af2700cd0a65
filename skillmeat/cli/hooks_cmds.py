"""``skillmeat hooks install|uninstall|status|run``: plain git hooks for teams that do not use
the pre-commit framework. ``run`` is what the installed scripts call."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import click

from skillmeat.cli.output import emit_json, json_option
from skillmeat.cli.precommit import ACTIVE_ENV, guarded
from skillmeat.services import githook_run
from skillmeat.services import githooks as svc

repo_option = click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
                           default=".", show_default=True, help="The git repository (or a directory in it).")
hook_option = click.option("--hook", "hooks", multiple=True, type=click.Choice(svc.HOOKS),
                           help="Only this hook (repeatable; default: all four).")


@click.group("hooks")
def hooks_group() -> None:
    """Plain git hooks (pre-push, post-merge, post-checkout, post-rewrite) for teams without
    pre-commit.

    pre-push checks the lock and the artifacts, then exports and publishes the team's signed
    bundle and feed; post-merge, post-checkout and post-rewrite (after a rebase or an amend)
    redeploy the collection into the projects that follow it. A hook already there is kept as
    <hook>.legacy and runs first. Use these or pre-commit's, not both.
    """


@hooks_group.command("install")
@repo_option
@hook_option
@click.option("--require-signed/--no-require-signed", default=None,
              help="Deploy only signed commits after a pull (git config skillmeat.requireSigned; "
              "unset: yes when .skillmeat/allowed_signers lists a key).")
@click.option("--marketplace", metavar="NAME", help="Publish to this marketplace on push "
              "(git config skillmeat.marketplace; `git config --unset` it to stop).")
@click.option("--shared-hooks-dir", is_flag=True, help="Install even though git's hooks "
              "directory is outside this repository (a global core.hooksPath): the hooks then "
              "run in every repository using it, and do nothing in those that are not collections.")
def install_cmd(repo: Path, hooks: tuple[str, ...], require_signed: bool | None,
                marketplace: str | None, shared_hooks_dir: bool) -> None:
    """Install SkillMeat's git hooks into the repository's hooks directory (core.hooksPath too)."""
    where, changes = svc.install(repo, hooks, sys.executable, require_signed=require_signed,
                                 marketplace=marketplace, shared_ok=shared_hooks_dir)
    click.echo(f"Hooks directory: {where}")
    for change in changes:
        kept = (f"; the hook that was there is kept as {change.hook}.legacy and runs first"
                if change.legacy == "kept" else "")
        click.echo(f"{change.hook}: {change.action}{kept}")
    if require_signed is not None:
        click.echo(f"{svc.REQUIRE_SIGNED} = {str(require_signed).lower()}")
    if marketplace is not None:
        click.echo(f"{svc.MARKETPLACE} = {marketplace}")


@hooks_group.command("uninstall")
@repo_option
@hook_option
def uninstall_cmd(repo: Path, hooks: tuple[str, ...]) -> None:
    """Remove SkillMeat's git hooks; put back the hooks they replaced (<hook>.legacy)."""
    where, changes = svc.uninstall(repo, hooks)
    click.echo(f"Hooks directory: {where}")
    for change in changes:
        if change.action == "left alone":
            click.echo(f"{change.hook}: not SkillMeat's, left alone")
        elif change.legacy == "restored":
            click.echo(f"{change.hook}: {change.action}; {change.hook}.legacy put back as {change.hook}")
        else:
            click.echo(f"{change.hook}: {change.action}")


@hooks_group.command("status")
@repo_option
@json_option
def status_cmd(repo: Path, as_json: bool) -> None:
    """Show each hook: SkillMeat's (version, up to date or stale), foreign, or absent."""
    state = svc.status(repo)
    if as_json:
        emit_json(state.to_dict())
        return
    shared = " (outside this repository: shared with others)" if state.shared else ""
    click.echo(f"Hooks directory: {state.hooks_dir}{shared}")
    for hook in state.hooks:
        click.echo(f"{hook.hook:<14} {_describe(hook)}")
    click.echo(f"require signed: {_signing(state.signing)}; "
               f"marketplace: {state.marketplace or '(none)'}")


def _signing(s: svc.Signing) -> str:
    if s.why == "git config":
        return f"{'yes' if s.required else 'no'} (git config {svc.REQUIRE_SIGNED})"
    if s.required:
        return (f"yes (.skillmeat/allowed_signers lists {s.keys} key(s); "
                "`skillmeat hooks install --no-require-signed` to turn off)")
    return "no (no key in .skillmeat/allowed_signers)"


def _describe(hook: svc.HookStatus) -> str:
    legacy = f"; chains {hook.hook}.legacy (it runs first)" if hook.legacy else ""
    if hook.pre_commit:
        legacy = (f"; chains {hook.hook}.legacy, pre-commit's, which fails there (run "
                  "`skillmeat hooks uninstall`, then `pre-commit uninstall`)")
    if hook.state == "absent":
        return "absent" + (f" ({hook.hook}.legacy is there, not chained)" if hook.legacy else "")
    if hook.state == "foreign" and hook.pre_commit:
        return ("pre-commit's (`pre-commit install`; the team's .pre-commit-config.yaml runs "
                "SkillMeat's hooks: install refuses it)")
    if hook.state == "foreign":
        return ("foreign (not SkillMeat's; `skillmeat hooks install` keeps it as "
                f"{hook.hook}.legacy)" if not hook.legacy else
                f"foreign, and {hook.hook}.legacy beside it (install refuses: merge them first)")
    fresh = "up to date" if hook.up_to_date else "stale (run `skillmeat hooks install`)"
    python = hook.python or "skillmeat on PATH"
    if hook.python_missing:
        python += " (missing: run `skillmeat hooks install`)"
    return f"SkillMeat v{hook.version}, {fresh}; interpreter {python}{legacy}"


@hooks_group.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("hook", type=click.Choice(svc.HOOKS))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run_cmd(hook: str, args: tuple[str, ...]) -> None:
    """Run what git's HOOK does (the installed scripts call this with git's ARGS and stdin).

    Nothing, silently, outside a SkillMeat collection (a shared hooks directory)."""
    if not githook_run.in_collection(Path.cwd()):
        return
    if guarded():  # SkillMeat's own git commands use --no-verify: the user or CI set it
        click.echo(f"skillmeat hooks: skipped ({ACTIVE_ENV} is set)", err=True)
        return
    stdin = sys.stdin.read() if hook == "pre-push" and not sys.stdin.isatty() else ""
    plan = githook_run.plan_run(Path.cwd(), hook, args, stdin)
    # Not active() around the steps: they skip when it is set ("inside SkillMeat's own push")
    # and set it themselves around the refs they push, as they do under pre-commit.
    with _environ(plan.env):
        for step in plan.steps:
            code = _call(step)
            if code:
                click.echo(f"skillmeat hooks: {hook} stopped at {step.entry} (exit {code})", err=True)
                raise click.exceptions.Exit(code)


def _call(step: githook_run.Step) -> int:
    """One entry point, in this process: ``skillmeat.cli.precommit.<entry>.main(argv)``."""
    module = importlib.import_module(f"skillmeat.cli.precommit.{step.entry}")
    try:
        return int(module.main(list(step.argv)) or 0)
    except SystemExit as exc:  # argparse's --help and usage errors
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        sys.stdout.flush()


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set (or, for "", unset) these variables for the steps; put the old ones back after."""
    before = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value:
                os.environ[key] = value
            else:
                os.environ.pop(key, None)
        yield
    finally:
        for key, old in before.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
