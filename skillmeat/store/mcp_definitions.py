"""``mcp/<name>.toml`` in a collection's work tree: read, and rewritten one key at a time.

The files are human-owned (``mcp config edit``): tomlkit changes only the key asked for and
keeps every comment and the order of the rest.
"""

from __future__ import annotations

import json
from typing import Any

from skillmeat.model.artifact import ArtifactId
from skillmeat.model.errors import BadInputError, NotFoundError
from skillmeat.model.mcp import ALIASES
from skillmeat.store.collection import CollectionStore

TEXT_KEYS = ("command", "url", "transport", "description")
KEYS_HINT = "use command, url, transport, description, args, env.NAME or headers.NAME"
KNOWN_KEYS = frozenset({"transport", "type", "command", "args", "env", "url", "headers",
                        "description"})


def read_definition(store: CollectionStore, aid: ArtifactId) -> str | None:
    """The definition's text in the work tree; None when there is none."""
    try:
        return (store.path / aid.relpath).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def edit_key(text: str, key: str, value: str | None, label: str = "definition") -> str:
    """``text`` with ``key`` set to ``value`` (None: removed)."""
    import tomlkit

    doc = tomlkit.parse(text)
    table, dot, sub = key.partition(".")
    if dot and table in ("env", "headers") and sub:
        node = doc.get(table)
        if value is not None:
            if node is None:
                doc[table] = tomlkit.table()
                node = doc[table]
            node[sub] = value
        elif node is None or sub not in node:
            raise NotFoundError(f"{label} has no {key} to unset")
        else:
            del node[sub]
            if not node:
                del doc[table]
    elif key in (*TEXT_KEYS, "args"):
        if value is not None:
            doc[key] = _parse_value(key, value)
        elif key not in doc:
            raise NotFoundError(f"{label} has no {key} to unset")
        else:
            del doc[key]
    else:
        raise BadInputError(f"unknown key '{key}'", hint=KEYS_HINT)
    return tomlkit.dumps(doc)


def _parse_value(key: str, value: str) -> Any:
    if key == "transport":
        return ALIASES.get(value, value)
    if key != "args":
        return value
    try:
        args = json.loads(value)
    except json.JSONDecodeError:
        args = None
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise BadInputError(f"args must be a JSON array of strings, not {value!r}",
                            hint="e.g. '[\"-y\", \"@modelcontextprotocol/server-memory\"]'")
    return args
