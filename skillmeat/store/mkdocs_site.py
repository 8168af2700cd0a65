"""MkDocs (with mkdocs-material) behind one door: build a generated project, serve it live.

This is the only module that imports ``mkdocs`` or ``material``, and it does so inside its
functions (the CLI starts without them). MkDocs 1.x gets no more releases and Material is in
maintenance mode: a successor (Zensical, ProperDocs) replaces this module, not its callers.

Builds run in-process and quietly: MkDocs' log records (``mkdocs`` and its children) are kept
from the terminal; the warnings come back as strings and every failure is one line as a
``SkillmeatError``, never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from skillmeat.model.errors import BadInputError, ConfigError, SkillmeatError

DISTRIBUTIONS = ("mkdocs", "mkdocs-material", "markdown", "jinja2")
LOGGER = "mkdocs"


def versions() -> dict[str, str]:
    """The installed versions of what builds the site ("" for a missing distribution)."""
    out: dict[str, str] = {}
    for dist in DISTRIBUTIONS:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = ""
    return out


def build(config_file: Path, site_dir: Path, *, strict: bool = False) -> list[str]:
    """Build the MkDocs project ``config_file`` into ``site_dir`` (emptied first) and return
    the warnings MkDocs logged, one line each. ``strict``: a warning fails the build."""
    _quiet_banner()
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    records: list[logging.LogRecord] = []
    loaded = False
    with _mkdocs_logs(records):
        try:
            cfg = load_config(config_file=str(config_file), site_dir=str(site_dir), strict=strict)
            loaded = True
            mkdocs_build(cfg)
        except MkDocsException as exc:  # Abort (a SystemExit), ConfigurationError, BuildError
            _raise_strict(records, strict)
            first_error = next((_one_line(r.getMessage()) for r in records
                                if r.levelno >= logging.ERROR), "")
            detail = first_error or _one_line(str(exc)) or type(exc).__name__
            if not loaded:
                raise ConfigError(str(config_file), detail) from None
            raise SkillmeatError(f"catalog build failed: {detail}") from None
        except OSError as exc:
            raise SkillmeatError(f"catalog build failed: {exc.filename or site_dir}: "
                                 f"{exc.strerror or exc}") from None
        except Exception:
            # MkDocs logs what went wrong (a page it cannot read or render), then re-raises
            logged = next((r for r in records if r.levelno >= logging.ERROR), None)
            if logged is None:
                raise
            raise SkillmeatError(f"catalog build failed: {_one_line(logged.getMessage())}") from None
    _raise_strict(records, strict)
    return [_one_line(r.getMessage()) for r in records if r.levelno < logging.ERROR]


def serve(site_dir: Path, *, host: str, port: int, rebuild: Callable[[], None], watch: list[Path],
          on_ready: Callable[[str], None] | None = None,
          stop: threading.Event | None = None) -> None:
    """Serve ``site_dir`` on host:port (0: any free port) with live reload until Ctrl-C (or
    until ``stop`` is set): a change under any ``watch`` path calls ``rebuild``, then open pages
    reload. ``on_ready`` gets the URL once the socket listens.

    Every HTML page gets a small script that long-polls ``/livereload/...`` on the page's own
    origin (a relative URL): it talks to this server only. A ``SkillmeatError`` from
    ``rebuild`` is one line on stderr; the site being served stays as it was.
    """
    _quiet_banner()
    from mkdocs.livereload import LiveReloadServer

    class Server(LiveReloadServer):
        def server_bind(self) -> None:
            try:
                super().server_bind()
            except OSError as exc:
                raise SkillmeatError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                                     hint="pass another --port (0 picks a free one)") from None

        def server_activate(self) -> None:
            super().server_activate()
            bound = self.server_address[1]
            shown = f"[{host}]" if ":" in host else host
            self.url = f"http://{shown}:{bound}/"
            if on_ready is not None:
                on_ready(self.url)

    def safe_rebuild() -> None:
        try:
            rebuild()
        except SkillmeatError as exc:
            print(f"rebuild failed: {exc}", file=sys.stderr)

    for path in watch:
        if not path.exists():
            raise BadInputError(f"cannot watch {path}: no such file or directory")
    with _mkdocs_logs(None):
        server = Server(builder=safe_rebuild, host=host, port=port, root=str(site_dir))
        for path in watch:
            server.watch(str(path))
        done = threading.Event()
        watcher = None
        if stop is not None:
            watcher = threading.Thread(target=_stop_when, args=(stop, done, server), daemon=True,
                                       name="skillmeat-serve-stop")
            watcher.start()
        try:
            with contextlib.suppress(KeyboardInterrupt):
                server.serve()  # type: ignore[no-untyped-call]
        finally:
            done.set()
            server.shutdown()
            for thread in (server.serve_thread, server.observer, watcher):
                if thread is not None and thread.is_alive() and thread is not threading.current_thread():
                    thread.join()


def _stop_when(stop: threading.Event, done: threading.Event, server: Any) -> None:
    while not done.is_set():
        if stop.wait(0.2):
            server.shutdown()  # serve() then returns from its loop and cleans up
            return


def _quiet_banner() -> None:
    """Material prints an end-of-life banner on import unless this is set."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


def _raise_strict(records: list[logging.LogRecord], strict: bool) -> None:
    warnings = [r for r in records if r.levelno == logging.WARNING]
    if strict and warnings and not any(r.levelno >= logging.ERROR for r in records):
        raise BadInputError(f"catalog build failed in strict mode: {len(warnings)} warning(s), "
                            f"first: {_one_line(warnings[0].getMessage())}")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class _Collect(logging.Handler):
    """Keeps the WARNING+ records logged by one thread (a build's own thread)."""

    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.into = into
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.into.append(record)


@contextlib.contextmanager
def _mkdocs_logs(records: list[logging.LogRecord] | None) -> Iterator[None]:
    """MkDocs' log records stay off the terminal (and, given a list, the warnings and errors
    go into it); the logger is as it was afterwards."""
    logger = logging.getLogger(LOGGER)
    handler: logging.Handler = logging.NullHandler() if records is None else _Collect(records)
    propagate, level = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    if not logger.isEnabledFor(logging.WARNING):
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        logger.setLevel(level)


def add_search_entries(site_dir: Path, entries: list[dict[str, str]]) -> None:
    """Add entries (``location``, ``title``, ``text`` as HTML-escaped text) to the built
    site's search index, in both forms Material reads: ``search_index.json`` (over http) and
    the ``offline`` plugin's ``search_index.js`` (from file://).

    Pages excluded from Material's indexing (``search: exclude``) are indexed this way from
    data already at hand, instead of parsing their rendered HTML again (which is most of a
    large catalog's build time)."""
    import json

    path = site_dir / "search" / "search_index.json"
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SkillmeatError(f"cannot read the search index {path}: {exc}",
                             hint="is the search plugin enabled in mkdocs.yml?") from None
    index["docs"].extend(entries)
    data = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    path.write_text(data, encoding="utf-8")
    script = path.with_name("search_index.js")
    if script.exists():
        script.write_text(f"var __index = {data}", encoding="utf-8")
