"""The registry of projects SkillMeat deploys into (``[projects]`` in config.toml)."""

from __future__ import annotations

from pathlib import Path

from skillmeat.model.errors import NotFoundError
from skillmeat.store.home import Home


def registered(home: Home) -> list[Path]:
    table = home.config.get("projects", {})
    return sorted(Path(p) for p in table) if isinstance(table, dict) else []


def add_project(home: Home, path: Path) -> Path:
    path = path.resolve()
    if not path.is_dir():
        raise NotFoundError(f"no directory {path}")
    if path not in registered(home):
        with home.lock():
            home.config.set_path(["projects", str(path), "profile"], "claude_code")
    return path


def remove_project(home: Home, path: Path) -> Path:
    path = path.resolve()
    if path not in registered(home):
        raise NotFoundError(f"{path} is not a registered project", hint="see `skillmeat project list`")
    with home.lock():
        home.config.unset_path(["projects", str(path)])
    return path
