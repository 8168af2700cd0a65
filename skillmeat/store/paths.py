"""SKILLMEAT_HOME and every well-known path in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HomePaths:
    root: Path

    @classmethod
    def from_env(cls) -> HomePaths:
        env = os.environ.get("SKILLMEAT_HOME")
        root = Path(env) if env else Path.home() / ".skillmeat"
        return cls(root.expanduser().absolute())

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def collections(self) -> Path:
        return self.root / "collections"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def trust(self) -> Path:
        return self.root / "trust"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def lock(self) -> Path:
        return self.root / "lock"
