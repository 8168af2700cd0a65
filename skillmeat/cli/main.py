"""The root command group, lazy sub-command loading, and the one error handler."""

from __future__ import annotations

import datetime
import importlib
import os
import sys
import traceback
from typing import Any

import click

from skillmeat import __version__
from skillmeat.model.errors import SkillmeatError
from skillmeat.store.home import Home
from skillmeat.store.paths import HomePaths

# command name -> ("module:attribute", one-line help); modules load only when their command runs,
# and `skillmeat -h` lists commands from this table without importing them.
COMMANDS = {
    "init": ("skillmeat.cli.collection_cmds:init_cmd", "Make a directory a collection repository."),
    "collection": ("skillmeat.cli.collection_cmds:collection_group",
                   "Create, list, select, remove, push and pull collections."),
    "add": ("skillmeat.cli.artifact_cmds:add_cmd", "Add artifacts from a path, git URL or github:..."),
    "remove": ("skillmeat.cli.artifact_cmds:remove_cmd", "Remove artifacts from the collection."),
    "list": ("skillmeat.cli.artifact_cmds:list_cmd", "List the artifacts in the collection."),
    "show": ("skillmeat.cli.artifact_cmds:show_cmd", "Show one artifact."),
    "search": ("skillmeat.cli.artifact_cmds:search_cmd", "Search names, tags, descriptions, content."),
    "update": ("skillmeat.cli.update_cmd:update_cmd", "Update artifacts from their upstreams."),
    "diff": ("skillmeat.cli.history_cmds:diff_cmd", "Show changes in the collection."),
    "snapshot": ("skillmeat.cli.history_cmds:snapshot_cmd", "Commit every change and name it."),
    "history": ("skillmeat.cli.history_cmds:history_cmd", "Show the collection's history."),
    "rollback": ("skillmeat.cli.history_cmds:rollback_cmd", "Restore an earlier state as a new commit."),
    "validate": ("skillmeat.cli.validate_cmd:validate_cmd", "Validate artifacts (file:line: level: ...)."),
    "deploy": ("skillmeat.cli.deploy_cmds:deploy_cmd", "Deploy artifacts into a project."),
    "undeploy": ("skillmeat.cli.deploy_cmds:undeploy_cmd", "Remove deployed artifacts."),
    "status": ("skillmeat.cli.deploy_cmds:status_cmd", "Drift between collection and projects."),
    "project": ("skillmeat.cli.deploy_cmds:project_group", "Register, list, forget projects."),
    "sync": ("skillmeat.cli.deploy_cmds:sync_cmd", "Sync edits both ways, three-way merged."),
    "mcp": ("skillmeat.cli.mcp_cmds:mcp_group", "MCP servers: define, deploy, roll back, health."),
    "export": ("skillmeat.cli.bundle_cmds:export_cmd", "Build a signed .skillmeat-pack bundle."),
    "inspect": ("skillmeat.cli.bundle_cmds:inspect_cmd", "Show a bundle's contents, signer, verdict."),
    "verify": ("skillmeat.cli.bundle_cmds:verify_cmd", "Verify a bundle (the exit code is the verdict)."),
    "import": ("skillmeat.cli.bundle_cmds:import_cmd", "Import a bundle (merge, fork or skip; all or none)."),
    "marketplace": ("skillmeat.cli.marketplace_cmds:marketplace_group",
                    "Marketplaces: add, refresh, search, show, install, yank."),
    "publish": ("skillmeat.cli.marketplace_cmds:publish_cmd", "Publish a signed bundle to a marketplace."),
    "vault": ("skillmeat.cli.vault_cmds:vault_group", "Vaults of bundles: file://, s3://, gs://, git."),
    "keys": ("skillmeat.cli.keys_cmds:keys_group", "Signing keys, trust, revocation, rotation."),
    "verify-ref": ("skillmeat.cli.refs_cmds:verify_ref_cmd", "Verify every commit of a signed ref."),
    "log": ("skillmeat.cli.refs_cmds:log_cmd", "Show a signed ref with signer and status."),
    "analytics": ("skillmeat.cli.analytics_cmds:analytics_group",
                  "Usage analytics: usage, top, trends, cleanup, import."),
    "web": ("skillmeat.cli.web_cmds:web_group",
            "The static web catalog: build, dev, start, doctor, deploy --gh-pages."),
    "hooks": ("skillmeat.cli.hooks_cmds:hooks_group",
              "Plain git hooks (pre-push, post-merge, post-checkout, post-rewrite): install, status, run."),
    "duplicates": ("skillmeat.cli.duplicates_cmd:duplicates_cmd",
                   "Find near-duplicate artifacts and explain each pair."),
}
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, attr = self.lazy[cmd_name][0].split(":")
            cmd: click.Command = getattr(importlib.import_module(module), attr)
            return cmd
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in self.list_commands(ctx) if name in self.lazy]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="skillmeat")
@click.option("-C", "--collection", metavar="NAME", help="Collection to use (default: the one "
              "around the current directory, else the active one).")
@click.pass_context
def cli(ctx: click.Context, collection: str | None) -> None:
    """SkillMeat: keep Claude Code skills, commands, agents, hooks and MCP servers in a
    Git-native collection.

    Artifacts are named TYPE/NAME; artifacts from a Claude Code plugin are named
    TYPE/PLUGIN:NAME. Any unambiguous part (NAME, PLUGIN:NAME) works too.
    """
    ctx.obj = Home.from_env(selected=collection)


def run(argv: list[str], prog_name: str = "skillmeat") -> int:
    """Run the CLI: user errors get one line, unexpected ones a log file, Ctrl-C 130."""
    try:
        rv = cli.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except SkillmeatError as exc:
        _fail(exc.message, exc.hint)
        return exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("interrupted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except BrokenPipeError:
        sys.stderr.close()
        return 1
    except Exception as exc:  # anything else is a bug: keep the traceback, say where
        log = _write_log(exc)
        _fail(f"unexpected {type(exc).__name__}: {exc}",
              f"details in {log}" if log else "and no log could be written")
        return 3
    return rv if isinstance(rv, int) else 0


def _fail(message: str, hint: str | None) -> None:
    line = " ".join(message.split())
    if hint:
        line += f" (hint: {' '.join(hint.split())})"
    click.echo(f"skillmeat: error: {line}", err=True)


def _write_log(exc: BaseException) -> str | None:
    logs = HomePaths.from_env().logs
    try:
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / "skillmeat.log"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.datetime.now(datetime.UTC).isoformat()} "
                     f"skillmeat {__version__} pid {os.getpid()}\n")
            fh.write("".join(traceback.format_exception(exc)))
        return str(path)
    except OSError:
        return None
