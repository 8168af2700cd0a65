"""The last MCP health check of each server (``$SKILLMEAT_HOME/state/mcp-health.json``).

``mcp health`` writes it; the static catalog shows it. Keyed by where the server is defined
(``<collection>:mcp/<name>.toml``, or a Claude Code file), so two collections' servers of the
same name keep their own results. A damaged file is treated as no record (it is a cache of
what was seen, rebuilt by the next check), never as an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from skillmeat.store.files import atomic_write

FILE_NAME = "mcp-health.json"
_MAX = 8 << 20


def load(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX + 1)
        doc = json.loads(data) if len(data) <= _MAX else None
    except (OSError, ValueError):
        return {}
    servers = doc.get("servers") if isinstance(doc, dict) else None
    if not isinstance(servers, dict):
        return {}
    return {k: v for k, v in servers.items() if isinstance(k, str) and isinstance(v, dict)}


def save(path: Path, results: dict[str, dict[str, Any]]) -> None:
    """Merge these results (by source) into the record, atomically."""
    servers = load(path)
    servers.update(results)
    doc = {"format": "skillmeat-mcp-health/1", "servers": servers}
    atomic_write(path, json.dumps(doc, indent=1, sort_keys=True) + "\n", sync=False)
