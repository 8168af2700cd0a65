"""``validate``: ``file:line: level: message`` lines; non-zero exit on errors."""

from __future__ import annotations

from pathlib import Path

import click

from skillmeat.cli.output import diagnostics, emit_json, json_option, plural
from skillmeat.model.artifact import ArtifactType
from skillmeat.model.errors import ValidationFailedError
from skillmeat.services.validation import validate_path
from skillmeat.store.home import Home


@click.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--type", "type_", type=click.Choice(["command", "agent", "hook", "mcp"]),
              help="What PATH is, when it is one file outside a type folder.")
@click.option("--strict", is_flag=True,
              help="Agent Skills spec level: only its six fields, and warnings count as errors.")
@json_option
@click.pass_obj
def validate_cmd(home: Home, path: Path | None, type_: str | None, strict: bool,
                 as_json: bool) -> None:
    """Validate artifacts under PATH (default: the collection) against Claude Code's rules."""
    root = path if path is not None else home.collection().path
    report = validate_path(root, strict=strict,
                           type_=ArtifactType(type_) if type_ else None)
    if as_json:
        emit_json({"root": report.root, "artifacts": report.artifacts, "errors": report.errors,
                   "warnings": report.warnings,
                   "diagnostics": [d.to_dict() for d in report.diagnostics]})
    else:
        diagnostics(report.diagnostics, err=False)
        click.echo(f"{plural(report.artifacts, 'artifact')} checked: "
                   f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}",
                   err=True)
    if report.errors:
        raise ValidationFailedError(f"{plural(report.errors, 'error')} in {report.root}")
