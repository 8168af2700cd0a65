"""The registry of projects SkillMeat deploys into (``[projects]`` in config.toml).

Each project is a table keyed by its absolute path: ``profile`` (the deploy layout) and
``follow`` (the collections whose changes are redeployed into it after a pull or checkout).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skillmeat.model.errors import ConfigError, NotFoundError
from skillmeat.store.home import Home

DEFAULT_PROFILE = "claude_code"


def _table(home: Home) -> dict[str, Any]:
    table = home.config.data().get("projects", {})
    return table if isinstance(table, dict) else {}


def registered(home: Home) -> list[Path]:
    return sorted(Path(p) for p in _table(home))


def _entry(home: Home, path: Path) -> dict[str, Any]:
    entry = _table(home).get(str(path), {})
    return entry if isinstance(entry, dict) else {}


def following(home: Home, path: Path) -> list[str]:
    """The collections a project follows."""
    follow = _entry(home, path).get("follow", [])
    if not isinstance(follow, list) or not all(isinstance(n, str) for n in follow):
        raise ConfigError(str(home.paths.config), f'projects."{path}".follow must be a list of '
                          "collection names", hint="e.g. follow = [\"team\"]")
    return list(follow)


def profile_of(home: Home, path: Path) -> str:
    profile = _entry(home, path).get("profile", DEFAULT_PROFILE)
    if not isinstance(profile, str):
        raise ConfigError(str(home.paths.config), f'projects."{path}".profile must be a string')
    return profile


def followers(home: Home, collection: str) -> list[Path]:
    """The registered projects that follow ``collection``."""
    return [p for p in registered(home) if collection in following(home, p)]


def add_project(home: Home, path: Path, follow: Sequence[str] = ()) -> Path:
    """Register a project; ``follow`` adds collections it follows (kept when already there)."""
    path = path.resolve()
    if not path.is_dir():
        raise NotFoundError(f"no directory {path}")
    known = home.collections()
    for name in follow:
        if name not in known:
            raise NotFoundError(f"no collection named '{name}' to follow",
                                hint="see `skillmeat collection list`; register a clone of a team "
                                "repository with `skillmeat init DIR --name NAME`")
    with home.lock():
        if path not in registered(home):
            home.config.set_path(["projects", str(path), "profile"], DEFAULT_PROFILE)
        before = following(home, path)
        after = before + [n for n in dict.fromkeys(follow) if n not in before]
        if after != before:
            home.config.set_path(["projects", str(path), "follow"], after)
    return path


def remove_project(home: Home, path: Path) -> Path:
    path = path.resolve()
    if path not in registered(home):
        raise NotFoundError(f"{path} is not a registered project", hint="see `skillmeat project list`")
    with home.lock():
        home.config.unset_path(["projects", str(path)])
    return path
