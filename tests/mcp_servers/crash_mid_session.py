"""Broken: completes initialize, then crashes with a traceback on the next message."""

from __future__ import annotations

from wire import messages, not_found, record_pid, reply

if __name__ == "__main__":
    record_pid()
    initialized = False
    for msg in messages():
        if initialized:
            raise RuntimeError("lost the connection to the database")
        if msg.get("method") == "initialize":
            reply(msg, {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                        "serverInfo": {"name": "crashy", "version": "3.1.4"}})
            initialized = True
        elif "id" in msg:
            not_found(msg)
