"""The CLI reference (reference/cli.md) is generated from the Click tree when the guide builds.

Every command path of the real tree has its section, under a stable anchor, with its usage
line and options; a command added to the tree at test time shows up in the next build; the
pre-commit entry points are documented with what their --help prints.
"""

from __future__ import annotations

import html
import importlib.util
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import click

from skillmeat.cli.main import cli
from tests.docs.guide import build_guide, load_hook
from tests.helpers import REPO_ROOT


def command_paths(cmd: click.Command, ctx: click.Context) -> Iterator[tuple[str, click.Command]]:
    yield ctx.command_path, cmd
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None, f"{ctx.command_path} lists {name} but cannot load it"
            if not sub.hidden:
                yield from command_paths(sub, click.Context(sub, info_name=name, parent=ctx))


def section(page: str, anchor: str) -> str:
    """The built HTML from the heading with ``id=anchor`` to the next heading."""
    m = re.search(rf'<h([1-6]) id="{re.escape(anchor)}">(.*?)(?=<h[1-6] |\Z)', page, re.S)
    assert m, f"no heading #{anchor} in the CLI reference"
    return m.group(0)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def test_every_command_of_the_click_tree_has_its_section(built_guide: Path) -> None:
    page = (built_guide / "reference" / "cli.html").read_text()
    paths = list(command_paths(cli, click.Context(cli, info_name="skillmeat")))
    assert len(paths) > 60  # the whole tree, groups and sub-commands
    for path, cmd in paths:
        body = text(section(page, path.replace(" ", "-")))
        assert body.startswith(path), body[:80]
        ctx = click.Context(cmd, info_name=path)
        assert f"Usage: {path} {' '.join(cmd.collect_usage_pieces(ctx))}" in body
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.opts[-1] in body, f"{path}: {param.opts} not documented"
    assert text(section(page, "skillmeat-keys-revoke")).count("compromised") >= 1  # a default


def test_the_hook_entry_points_are_documented_with_their_help(built_guide: Path) -> None:
    page = (built_guide / "reference" / "cli.html").read_text()
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    hooks = {name: target for name, target in scripts.items() if name.startswith("skillmeat-")}
    assert hooks
    for name, target in hooks.items():
        body = text(section(page, f"{name}-hook"))
        module = target.split(":")[0]
        if importlib.util.find_spec(module) is None:  # declared, but not written yet
            assert "this build has no" in body, name
            continue
        assert f"usage: {name}" in body, body[:200]
        assert "-h, --help" in body


def test_a_command_added_to_the_tree_appears_in_the_next_build(tmp_path: Path) -> None:
    (tmp_path / "probe_cmds.py").write_text('''
import click

@click.group()
def probe():
    """Probe group added by a test."""

@probe.command("deeper")
@click.argument("target")
@click.option("--mode", type=click.Choice(["fast", "thorough"]), default="thorough",
              show_default=True, help="How hard to <probe> the *target*.")
@click.option("--count", type=click.IntRange(1, 9), default=3, help="Times to probe.")
def deeper(target, mode, count):
    """Probe TARGET more deeply | carefully."""
''')
    prelude = ("import skillmeat.cli.main as m\n"
               "m.COMMANDS['zz-probe'] = ('probe_cmds:probe', 'Probe group added by a test.')")
    site = build_guide(tmp_path / "site", pythonpath=tmp_path, prelude=prelude)
    page = (site / "reference" / "cli.html").read_text()
    group = text(section(page, "skillmeat-zz-probe"))
    assert "Usage: skillmeat zz-probe [OPTIONS] COMMAND [ARGS]..." in group
    assert "skillmeat zz-probe deeper: Probe TARGET more deeply | carefully." in group
    deeper = section(page, "skillmeat-zz-probe-deeper")
    assert deeper.startswith("<h3")  # one level below its group
    body = text(deeper)
    assert "Usage: skillmeat zz-probe deeper [OPTIONS] TARGET" in body
    assert "How hard to <probe> the *target*." in body  # escaped, not eaten as HTML or emphasis
    assert "one of fast, thorough" in body and "thorough" in body
    assert "integer, 1<=x<=9" in body
    assert 'href="#skillmeat-zz-probe"' in page  # in the index of top-level commands


def test_anchors_are_the_command_paths_slugified() -> None:
    hook = load_hook("cli_reference")
    assert hook.anchor("skillmeat keys revoke") == "skillmeat-keys-revoke"
    assert hook.anchor("skillmeat verify-ref") == "skillmeat-verify-ref"
    assert hook.anchor("skillmeat-validate hook") == "skillmeat-validate-hook"


def test_nothing_is_written_into_docs() -> None:
    assert not (REPO_ROOT / "docs" / "reference" / "cli.md").exists()
