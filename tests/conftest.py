"""Shared fixtures: every test runs in an isolated home with its own git config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from skillmeat.store.home import Home
from tests.helpers import git, isolate_env


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME, SKILLMEAT_HOME, XDG_CONFIG_HOME and git's config all point into a temp dir."""
    base = tmp_path_factory.mktemp("home")
    isolate_env(monkeypatch, base)
    return base


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """A Home rooted in the isolated SKILLMEAT_HOME, with cwd in a scratch directory."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return Home.from_env()


@pytest.fixture
def collection(home: Home):  # type: ignore[no-untyped-def]
    from skillmeat.services.collections import create_collection

    return create_collection(home, "test")


@pytest.fixture
def upstream_repo(tmp_path: Path) -> Iterator[Path]:
    """A real git repository holding a small skills/ tree, to add from by file:// URL."""
    repo = tmp_path / "upstream"
    (repo / "skills" / "greeter").mkdir(parents=True)
    (repo / "skills" / "greeter" / "SKILL.md").write_text(
        "---\nname: greeter\ndescription: Greets people politely.\n---\n\nSay hello.\n")
    (repo / "commands").mkdir()
    (repo / "commands" / "wave.md").write_text("---\ndescription: Wave at someone\n---\nWave.\n")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)
    yield repo
