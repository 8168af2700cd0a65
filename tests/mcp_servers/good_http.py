"""A healthy HTTP server written with the mcp SDK on 127.0.0.1:PORT (argv[1]).

argv[2] picks the transport: ``streamable-http`` (default, at /mcp) or ``sse`` (at /sse).
"""

from __future__ import annotations

import sys

from mcp.server import MCPServer

app = MCPServer("good-http", version="2.0.1")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@app.tool()
def shout(text: str) -> str:
    """Upper-case some text."""
    return text.upper()


if __name__ == "__main__":
    port = int(sys.argv[1])
    if sys.argv[2:] == ["sse"]:
        app.run(transport="sse", host="127.0.0.1", port=port)
    else:
        app.run(transport="streamable-http", host="127.0.0.1", port=port)
