"""The user's ``$SKILLMEAT_HOME/config.toml``: registered collections and the active one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillmeat.model.errors import ConfigError
from skillmeat.store.files import atomic_write
from skillmeat.store.manifest import read_toml

CONFIG_HEADER = "# SkillMeat user configuration: edit freely, comments are kept.\n"


class UserConfig:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] | None = None

    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = read_toml(self.path) if self.path.exists() else {}
        return self._data

    def collections(self) -> dict[str, Path]:
        table = self.data().get("collections", {})
        if not isinstance(table, dict):
            raise ConfigError(str(self.path), "'collections' must be a table")
        out = {}
        for name, entry in table.items():
            path = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(path, str):
                raise ConfigError(str(self.path), f"collections.{name}.path must be a string")
            out[name] = Path(path)
        return out

    def active(self) -> str | None:
        value = self.data().get("active")
        if value is not None and not isinstance(value, str):
            raise ConfigError(str(self.path), "'active' must be a string")
        return value

    def section(self, name: str) -> dict[str, dict[str, Any]]:
        """``[name.<entry>]`` tables (vaults, marketplaces): each entry must be a table."""
        table = self.data().get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(str(self.path), f"'{name}' must be a table")
        for key, entry in table.items():
            if not isinstance(entry, dict):
                raise ConfigError(str(self.path), f"{name}.{key} must be a table")
        return table

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data()
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def register(self, name: str, path: Path) -> None:
        self._edit(lambda doc, tk: _set_collection(doc, tk, name, path))

    def unregister(self, name: str) -> None:
        def edit(doc: Any, tk: Any) -> None:
            if "collections" in doc and name in doc["collections"]:
                del doc["collections"][name]
            if doc.get("active") == name:
                del doc["active"]

        self._edit(edit)

    def set(self, dotted: str, value: Any) -> None:
        self.set_path(dotted.split("."), value)

    def unset(self, dotted: str) -> None:
        self.unset_path(dotted.split("."))

    def set_path(self, keys: list[str], value: Any) -> None:
        def edit(doc: Any, tk: Any) -> None:
            node = doc
            *parents, last = keys
            for part in parents:
                if part not in node:
                    node[part] = tk.table()
                node = node[part]
            node[last] = value

        self._edit(edit)

    def unset_path(self, keys: list[str]) -> None:
        def edit(doc: Any, tk: Any) -> None:
            node = doc
            *parents, last = keys
            for part in parents:
                if part not in node:
                    return
                node = node[part]
            if last in node:
                del node[last]

        self._edit(edit)

    def set_active(self, name: str) -> None:
        def edit(doc: Any, tk: Any) -> None:
            doc["active"] = name

        self._edit(edit)

    def _edit(self, change: Any) -> None:
        import tomlkit

        text = self.path.read_text(encoding="utf-8") if self.path.exists() else CONFIG_HEADER
        self.data()  # refuse to rewrite a file we cannot read
        doc = tomlkit.parse(text)
        change(doc, tomlkit)
        atomic_write(self.path, tomlkit.dumps(doc))
        self._data = None


def _set_collection(doc: Any, tk: Any, name: str, path: Path) -> None:
    if "collections" not in doc:
        doc["collections"] = tk.table(is_super_table=True)
    table = tk.table()
    table["path"] = str(path)
    doc["collections"][name] = table
