"""Wiring of the root command: version, help, git entry, the error handler's exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from skillmeat import __version__
from skillmeat.cli import main as cli_main
from tests.cli.runner import skillmeat


def test_version_answers_without_loading_click() -> None:
    code = ("import sys; from skillmeat.cli.entry import main; main(['--version']); "
            "print('click' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [f"skillmeat {__version__}", "False"]


def test_help_lists_every_command_with_short_flag() -> None:
    result = skillmeat("-h")
    assert result.code == 0
    for name in cli_main.COMMANDS:
        assert f"  {name} " in result.out


def test_every_lazy_command_loads() -> None:
    ctx = click.Context(cli_main.cli)
    for name in cli_main.COMMANDS:
        assert cli_main.cli.get_command(ctx, name) is not None, name


def test_unknown_command_is_a_usage_error() -> None:
    result = skillmeat("frobnicate")
    assert result.code == 2
    assert "No such command" in result.err
    assert "Traceback" not in result.err


def test_user_error_is_one_line_with_hint() -> None:
    result = skillmeat("-C", "missing", "list")
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert result.err.startswith("skillmeat: error: no collection named 'missing'")
    assert "hint:" in result.err


def test_unexpected_error_exits_3_and_logs_traceback(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @click.command("boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setitem(cli_main.COMMANDS, "boom", ("tests.cli.main_test:_BOOM", "boom"))
    monkeypatch.setattr(sys.modules[__name__], "_BOOM", boom, raising=False)
    assert cli_main.run(["boom"]) == 3
    err = capsys.readouterr().err
    assert "unexpected RuntimeError: kaboom" in err
    log = isolated_home / "skillmeat" / "logs" / "skillmeat.log"
    assert "Traceback" in log.read_text() and str(log) in err


def test_keyboard_interrupt_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @click.command("slow")
    def slow() -> None:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli_main.COMMANDS, "slow", ("tests.cli.main_test:_SLOW", "slow"))
    monkeypatch.setattr(sys.modules[__name__], "_SLOW", slow, raising=False)
    assert cli_main.run(["slow"]) == 130


def test_git_skillmeat_runs_like_skillmeat(tmp_path: Path) -> None:
    exe = shutil.which("git-skillmeat", path=str(Path(sys.executable).parent))
    assert exe, "the git-skillmeat console script is installed beside the interpreter"
    env_path = f"{Path(exe).parent}:/usr/bin:/bin"
    proc = subprocess.run(["git", "skillmeat", "-h"], capture_output=True, text=True,
                          env={"PATH": env_path, "HOME": str(tmp_path)}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: git skillmeat")
    proc = subprocess.run(["git", "skillmeat", "--version"], capture_output=True, text=True,
                          env={"PATH": env_path, "HOME": str(tmp_path)}, check=False)
    assert proc.stdout.strip() == f"git skillmeat {__version__}"
