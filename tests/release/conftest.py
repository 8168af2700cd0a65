"""Session fixtures for the release tests: one clean copy, one build, one venv per artifact."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.release.dists import Dists, Source, User, Venv, build, install, source_copy, user_env


@pytest.fixture(scope="session")
def release_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("release")


@pytest.fixture(scope="session")
def pip_cache(release_tmp: Path) -> Path:
    """One pip cache for the session: the second venv reuses the first one's downloads."""
    return release_tmp / "pip-cache"


@pytest.fixture(scope="session")
def source(release_tmp: Path) -> Source:
    return source_copy(release_tmp / "src" / "skillmeat")


@pytest.fixture(scope="session")
def dists(source: Source, release_tmp: Path, pip_cache: Path) -> Dists:
    return build(source.root, release_tmp / "dist", user_env(release_tmp / "build-env", pip_cache))


@pytest.fixture(scope="session")
def wheel_venv(dists: Dists, release_tmp: Path, pip_cache: Path) -> Venv:
    return install(dists.wheel, release_tmp / "venv-wheel",
                   user_env(release_tmp / "install-wheel", pip_cache))


@pytest.fixture(scope="session")
def sdist_venv(dists: Dists, release_tmp: Path, pip_cache: Path) -> Venv:
    return install(dists.sdist, release_tmp / "venv-sdist",
                   user_env(release_tmp / "install-sdist", pip_cache))


def new_user(venv: Venv, tmp_path: Path, pip_cache: Path) -> User:
    base = tmp_path / venv.path.name
    work = base / "work"
    work.mkdir(parents=True)
    return User(venv, work, user_env(base, pip_cache, venv))


@pytest.fixture
def wheel_user(wheel_venv: Venv, tmp_path: Path, pip_cache: Path) -> User:
    """A new user of the installed wheel: own HOME and SKILLMEAT_HOME, cwd outside the checkout."""
    return new_user(wheel_venv, tmp_path, pip_cache)


@pytest.fixture
def sdist_user(sdist_venv: Venv, tmp_path: Path, pip_cache: Path) -> User:
    return new_user(sdist_venv, tmp_path, pip_cache)
