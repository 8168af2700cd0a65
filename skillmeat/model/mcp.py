"""MCP server definitions (``mcp/<name>.toml``) and Claude Code's JSON shape of them."""

from __future__ import annotations

from typing import Any

from skillmeat.model import toml_text


def definition_from_claude(entry: dict[str, Any]) -> str:
    """A ``.mcp.json`` server entry as the text of an ``mcp/<name>.toml`` definition."""
    transport = str(entry.get("type") or ("stdio" if "command" in entry else "http"))
    items: dict[str, Any] = {"transport": transport}
    if entry.get("description"):
        items["description"] = str(entry["description"])
    for key in ("command", "url"):
        if isinstance(entry.get(key), str):
            items[key] = entry[key]
    if isinstance(entry.get("args"), list):
        items["args"] = [str(a) for a in entry["args"]]
    lines = [f"{toml_text.key(k)} = {toml_text.value(v)}" for k, v in items.items()]
    text = "\n".join(lines) + "\n"
    for table in ("env", "headers"):
        value = entry.get(table)
        if isinstance(value, dict) and value:
            text += "\n" + toml_text.table([table], {str(k): str(v) for k, v in value.items()})
    return text
