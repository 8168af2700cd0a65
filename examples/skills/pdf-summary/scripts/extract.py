#!/usr/bin/env python3
"""Print the text layer of a PDF (placeholder extractor for the example skill)."""

import sys

if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path, "rb") as fh:
            data = fh.read()
        print(data.decode("latin-1", errors="replace"))
