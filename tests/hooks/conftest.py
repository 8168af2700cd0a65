"""Fixtures for the hook tests: one pre-commit cache and one try-repo snapshot per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hooks.precommit import snapshot_repo


@pytest.fixture(scope="session")
def pc_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PRE_COMMIT_HOME shared by the session: try-repo's env is installed once."""
    return tmp_path_factory.mktemp("pre-commit") / "cache"


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout as a clean one-commit repository, for `pre-commit try-repo`."""
    return snapshot_repo(tmp_path_factory.mktemp("hook-repo") / "skillmeat")
