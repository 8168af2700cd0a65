"""MkDocs hook: the CLI reference (reference/cli.md), generated at build time so it cannot drift.

It walks the root Click group (``skillmeat.cli.main.cli``, whose lazy sub-commands load
through ``get_command``) and renders one section per command and sub-command: its usage
line, help text and a table of its parameters. Headings are the command paths, so anchors
stay stable: ``skillmeat keys revoke`` -> ``#skillmeat-keys-revoke``. The pre-commit entry
points (``skillmeat-validate`` ...) come from pyproject's ``[project.scripts]`` and
``.pre-commit-hooks.yaml``; their help is what ``--help`` prints. Nothing is written into docs/.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import logging
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

PAGE = "reference/cli.md"
log = logging.getLogger("mkdocs.hooks.cli_reference")
MAIN_SCRIPTS = ("skillmeat", "git-skillmeat")
_CODE = re.compile(r"(`+)(.+?)\1")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = Path(config.config_file_path).parent
    files.append(File.generated(config, PAGE, content=render(root)))
    return files


def render(root: Path) -> str:
    from skillmeat.cli.main import cli

    out = [
        "# CLI reference\n",
        "Generated from the commands themselves each time this guide is built. Every command "
        "also takes `-h`/`--help`, which prints the same. `git skillmeat ARGS` (the "
        "`git-skillmeat` script) runs `skillmeat ARGS`; use `git skillmeat -h` for help, "
        "because git answers `--help` itself. Errors and exit codes: see "
        "[Errors and exit codes](../errors.md) and [Troubleshooting](../troubleshooting.md).\n",
    ]
    commands = list(walk(cli, click.Context(cli, info_name="skillmeat")))
    out.append("| Command | What it does |\n|---|---|")
    out += [f"| [`{ctx.command_path}`](#{anchor(ctx.command_path)}) | "
            f"{cell(cmd.get_short_help_str(limit=120))} |"
            for ctx, cmd in commands if ctx.parent is not None and ctx.parent.parent is None]
    out.append("")
    for ctx, cmd in commands:
        out.append(command_section(ctx, cmd))
    out.append(scripts_section(root))
    return "\n".join(out)


def walk(cmd: click.Command, ctx: click.Context) -> Iterator[tuple[click.Context, click.Command]]:
    """Every visible command under ``cmd`` (itself first), depth first, sub-commands sorted."""
    yield ctx, cmd
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))


def anchor(command_path: str) -> str:
    """The id MkDocs' toc gives the heading ``command_path`` (kept in step with slugify)."""
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", command_path).strip().lower())


def depth(ctx: click.Context) -> int:
    return 0 if ctx.parent is None else 1 + depth(ctx.parent)


def command_section(ctx: click.Context, cmd: click.Command) -> str:
    level = "#" * max(2, depth(ctx) + 1)
    usage = " ".join([ctx.command_path, *cmd.collect_usage_pieces(ctx)])
    parts = [f"{level} {ctx.command_path}\n"]
    if cmd.deprecated:
        parts.append("!!! warning \"Deprecated\"\n    This command is deprecated.\n")
    parts.append(f"```text\nUsage: {usage}\n```\n")
    parts += help_paragraphs(cmd.help or cmd.short_help or "")
    table = params_table(ctx, cmd)
    if table:
        parts.append(table)
    if isinstance(cmd, click.Group):
        rows = [f"- [`{sub_ctx.command_path}`](#{anchor(sub_ctx.command_path)}): "
                f"{text(sub.get_short_help_str(limit=120))}"
                for sub_ctx, sub in list(walk(cmd, ctx))[1:] if sub_ctx.parent is ctx]
        parts.append("Commands:\n\n" + "\n".join(rows) + "\n")
    if cmd.epilog:
        parts += help_paragraphs(cmd.epilog)
    return "\n".join(parts)


def help_paragraphs(raw: str) -> list[str]:
    """Click help as Markdown: ``\\b`` paragraphs stay as written, the others are rewrapped."""
    body = inspect.cleandoc(raw.split("\f")[0])
    out = []
    for para in re.split(r"\n\s*\n", body):
        if para.startswith("\b"):
            out.append("```text\n" + para[1:].strip("\n") + "\n```\n")
        elif para.strip():
            out.append(text(" ".join(para.split())) + "\n")
    return out


def text(s: str) -> str:
    """Plain text as Markdown: code spans kept, HTML and emphasis characters escaped."""
    out, last = [], 0
    for m in _CODE.finditer(s):
        out += [_escape(s[last:m.start()]), m.group(0)]
        last = m.end()
    out.append(_escape(s[last:]))
    return "".join(out)


def _escape(s: str) -> str:
    s = s.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([*_\[\]])", r"\\\1", s)


def cell(s: str) -> str:
    return text(s).replace("|", "&#124;")


def params_table(ctx: click.Context, cmd: click.Command) -> str:
    rows = []
    for param in cmd.get_params(ctx):
        if getattr(param, "hidden", False) or param is cmd.get_help_option(ctx):
            continue
        info = param.to_info_dict()
        if isinstance(param, click.Option):
            record = param.get_help_record(ctx)
            name = record[0] if record else ", ".join(param.opts)
        else:
            name = param.make_metavar(ctx)
        about = cell(info.get("help") or "")
        if param.envvar:
            envvars = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
            about += " (env: " + ", ".join(f"`{e}`" for e in envvars) + ")"
        rows.append(f"| `{name}` | {type_of(param, info)} | {default_of(param, info)} | {about} |")
    if not rows:
        return ""
    return "| Parameter | Type | Default | Description |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"


def type_of(param: click.Parameter, info: dict[str, Any]) -> str:
    kind = param.type
    if info.get("is_flag") and not info.get("count"):
        desc = "flag"
    elif info.get("count"):
        desc = "count"
    elif isinstance(kind, click.Choice):
        desc = "one of " + ", ".join(f"`{c}`" for c in kind.choices)
    elif isinstance(kind, click.IntRange | click.FloatRange):
        base = "integer" if isinstance(kind, click.IntRange) else "number"
        desc = f"{base}, {kind._describe_range()}"
    else:
        desc = kind.name
    if info.get("multiple") or param.nargs == -1:
        desc += ", repeatable"
    return cell(desc)


def default_of(param: click.Parameter, info: dict[str, Any]) -> str:
    if param.required:
        return "required"
    value = info.get("default")
    if callable(value):
        return "computed"
    if value is None or value is False or value in ("", (), []):
        return ""
    if value is True:
        return "on"
    if isinstance(value, list | tuple):
        return ", ".join(f"`{v}`" for v in value)
    return f"`{value}`"


def scripts_section(root: Path) -> str:
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    hooks = _hook_ids(root)
    out = ["## Pre-commit hook entry points\n",
           "Each hook of `.pre-commit-hooks.yaml` runs one of these console scripts, which are "
           "installed with SkillMeat and can also be run by hand from a collection repository.\n",
           "| Hook id | Script | Stages | Files |\n|---|---|---|---|"]
    for hook in hooks:
        out.append(f"| `{hook['id']}` | [`{hook['entry']}`](#{anchor(hook['entry'] + ' hook')}) | "
                   f"{', '.join(hook.get('stages', []))} | "
                   f"{'`' + hook['files'] + '`' if 'files' in hook else 'all'} |")
    out.append("")
    for name, target in scripts.items():
        if name in MAIN_SCRIPTS:
            continue
        out.append(f"### `{name}` hook\n")
        about = [h for h in hooks if h.get("entry") == name]
        if about:
            out.append(text(about[0].get("description", "")) + "\n")
        try:
            usage = script_help(name, target)
        except ModuleNotFoundError as exc:
            if exc.name is None or not target.startswith(exc.name):
                raise
            log.info("%s: its module %s is not in this checkout", name, exc.name)
            out.append(f"`{name}` is declared in pyproject.toml, but this build has no `{exc.name}`.\n")
            continue
        out.append("```text\n" + usage.rstrip() + "\n```\n")
    return "\n".join(out)


def _hook_ids(root: Path) -> list[dict[str, Any]]:
    import yaml

    path = root / ".pre-commit-hooks.yaml"
    hooks: list[dict[str, Any]] = yaml.safe_load(path.read_text()) if path.is_file() else []
    return hooks


def script_help(name: str, target: str) -> str:
    """What ``NAME --help`` prints: from the module's ``build_parser()`` when it has one,
    else by calling its entry function with ``--help`` (stdout captured, 100 columns)."""
    module_name, func_name = target.split(":")
    module = importlib.import_module(module_name)
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        if hasattr(module, "build_parser"):
            return str(module.build_parser().format_help())
        buf = io.StringIO()
        code: object = None
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
            try:
                code = getattr(module, func_name)(["--help"])
            except SystemExit as exc:
                code = exc.code
        if code not in (0, None) or not buf.getvalue().strip():
            raise RuntimeError(f"{name} --help exited with {code!r} and printed no help")
        return buf.getvalue()
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
