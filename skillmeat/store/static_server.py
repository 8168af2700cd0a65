"""Serve a built static site on the loopback interface (``web start``)."""

from __future__ import annotations

import contextlib
import functools
import http.server
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skillmeat.model.errors import SkillmeatError


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def make_server(site: Path, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """A server for ``site`` bound to host:port (port 0: any free port)."""
    handler = functools.partial(_Quiet, directory=str(site))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise SkillmeatError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                             hint="pass another --port (0 picks a free one)") from None


def serve(site: Path, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve until interrupted; ``on_ready`` gets the URL once the socket is listening."""
    server = make_server(site, host, port)
    with server:
        bound = server.server_address[1]
        on_ready(f"http://{host}:{bound}/")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
