"""Broken: prints a banner on stdout (the JSON-RPC channel), then waits without answering."""

from __future__ import annotations

import sys
import time

from wire import record_pid

if __name__ == "__main__":
    record_pid()
    print("Welcome to Example Server 1.0 - listening on stdio!", flush=True)
    for _line in sys.stdin:
        pass
    time.sleep(600)
