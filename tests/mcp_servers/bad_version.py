"""Broken: answers initialize with a protocol version no client speaks (and has no discover)."""

from __future__ import annotations

from wire import messages, not_found, record_pid, reply

if __name__ == "__main__":
    record_pid()
    for msg in messages():
        if "id" not in msg:
            continue
        if msg.get("method") == "initialize":
            reply(msg, {"protocolVersion": "1999-01-01", "capabilities": {"tools": {}},
                        "serverInfo": {"name": "bad-version", "version": "0.0.1"}})
        else:
            not_found(msg)
