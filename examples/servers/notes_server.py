"""A tiny MCP server for the demo: keeps notes in memory (stdio, the `mcp` SDK)."""

from __future__ import annotations

from mcp.server import MCPServer

app = MCPServer("demo-notes", version="0.1.0")
NOTES: list[str] = []


@app.tool()
def add_note(text: str) -> int:
    """Remember a note; returns how many there are."""
    NOTES.append(text)
    return len(NOTES)


@app.tool()
def list_notes() -> list[str]:
    """Every note so far."""
    return list(NOTES)


if __name__ == "__main__":
    app.run()
