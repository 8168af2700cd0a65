"""Broken: complains on stderr and exits before reading anything."""

from __future__ import annotations

import sys

from wire import record_pid

if __name__ == "__main__":
    record_pid()
    print("error: EXAMPLE_API_KEY is not set", file=sys.stderr)
    print("see https://example.invalid/setup", file=sys.stderr)
    sys.exit(3)
