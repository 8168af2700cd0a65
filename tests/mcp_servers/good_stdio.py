"""A healthy stdio server written with the mcp SDK: two tools, both protocol generations.

$MCP_TEST_START_DELAY (optional): seconds to sleep before serving, like a slow starter.
"""

from __future__ import annotations

import os
import time

from mcp.server import MCPServer
from wire import record_pid

app = MCPServer("good-stdio", version="1.2.3")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@app.tool()
def greet(name: str) -> str:
    """Greet someone by name."""
    return f"{os.environ.get('GREETING', 'hello')}, {name}"


if __name__ == "__main__":
    record_pid()
    time.sleep(float(os.environ.get("MCP_TEST_START_DELAY", "0")))
    app.run()
