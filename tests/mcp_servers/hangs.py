"""Broken: never answers. Ignores SIGTERM and starts a child that ignores it too."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from wire import record_pid

CHILD = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c", CHILD])
    record_pid()
    record_pid(child.pid)
    for _line in sys.stdin:
        pass  # read and ignore every request
    time.sleep(600)  # and stay up after stdin closes
