"""Fixtures of the user-guide tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.guide import build_guide


@pytest.fixture(scope="session")
def built_guide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user guide, built once per session (the site directory)."""
    return build_guide(tmp_path_factory.mktemp("guide") / "site")
