"""store.mkdocs_site: real in-process MkDocs builds of small projects made from the catalog's
own mkdocs.yml.j2, and the live-reload server over real http on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import queue
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model.errors import BadInputError, ConfigError, SkillmeatError
from skillmeat.store import mkdocs_site
from tests.browser.project import TITLE, write_project

BROKEN = {"mcp.md": "# MCP servers\n\nSee [the missing page](nowhere.md).\n"}
WAIT = 30.0  # the bound of every wait (a guard against hangs, not a speed requirement)


def test_versions_names_every_distribution() -> None:
    v = mkdocs_site.versions()
    assert list(v) == ["mkdocs", "mkdocs-material", "markdown", "jinja2"]
    assert v["mkdocs"].startswith("1.") and v["mkdocs-material"].startswith("9.")
    assert all(v.values())


def test_a_good_project_builds_quietly(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("mkdocs")
    before = (list(logger.handlers), logger.propagate, logger.level)
    site = tmp_path / "site"
    assert mkdocs_site.build(write_project(tmp_path), site, strict=True) == []
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert (list(logger.handlers), logger.propagate, logger.level) == before
    index = (site / "index.html").read_text()
    assert TITLE in index
    assert 'src="assets/javascripts/iframe-worker-shim.js"' in index
    assert "unpkg.com" not in index and "fonts.googleapis.com" not in index
    assert (site / "collections" / "team.html").is_file()  # use_directory_urls: false
    assert (site / "artifacts" / "team" / "skill" / "greeter.html").is_file()
    assert (site / "search" / "search_index.js").read_text().startswith("var __index = ")


def test_warnings_come_back_as_lines(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    warnings = mkdocs_site.build(write_project(tmp_path, pages=BROKEN), tmp_path / "site")
    assert len(warnings) == 1
    assert "mcp.md" in warnings[0] and "nowhere.md" in warnings[0] and "\n" not in warnings[0]
    assert (tmp_path / "site" / "mcp.html").is_file()
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("setup", ["", "import logging; logging.basicConfig(level=logging.INFO)"])
def test_a_build_prints_nothing(tmp_path: Path, setup: str) -> None:
    """In a fresh process (pytest's own log capture hides what a user would see): no banner, no
    INFO lines, no warnings on the terminal; they come back as the return value only."""
    config = write_project(tmp_path, pages=BROKEN)
    code = (f"{setup}\nimport json, sys\nfrom pathlib import Path\n"
            "from skillmeat.store import mkdocs_site\n"
            "w = mkdocs_site.build(Path(sys.argv[1]), Path(sys.argv[2]))\n"
            "print(json.dumps(w))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(config), str(tmp_path / "site")],
                          capture_output=True, text=True, check=True, timeout=WAIT * 4)
    assert proc.stderr == ""
    [line] = proc.stdout.splitlines()
    assert len(json.loads(line)) == 1


def test_strict_mode_turns_a_broken_link_into_an_error(tmp_path: Path) -> None:
    with pytest.raises(BadInputError) as caught:
        mkdocs_site.build(write_project(tmp_path, pages=BROKEN), tmp_path / "site", strict=True)
    msg = str(caught.value)
    assert msg.startswith("catalog build failed in strict mode: 1 warning(s), first: ")
    assert "nowhere.md" in msg and "\n" not in msg
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("config", "expect"), [
    ("site_name: x\ntheme:\n  name: no-such-theme\n", "Unrecognised theme name: 'no-such-theme'"),
    ("site_name: [unclosed\n", "error parsing the configuration file"),
    ("theme: material\n", "Config value 'site_name': Required configuration not provided."),
])
def test_a_bad_config_is_a_one_line_error(tmp_path: Path, config: str, expect: str,
                                          capfd: pytest.CaptureFixture[str]) -> None:
    path = write_project(tmp_path, config=config)
    with pytest.raises(ConfigError) as caught:
        mkdocs_site.build(path, tmp_path / "site")
    msg = str(caught.value)
    assert msg.startswith(f"{path}: ") and expect in msg and "\n" not in msg
    assert capfd.readouterr() == ("", "")
    assert not (tmp_path / "site").exists()


def test_a_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        mkdocs_site.build(tmp_path / "mkdocs.yml", tmp_path / "site")


def test_a_page_mkdocs_cannot_read_is_a_one_line_error(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    (tmp_path / "docs" / "mcp.md").write_bytes(b"# MCP\n\n\xff\xfe not UTF-8\n")
    with pytest.raises(SkillmeatError) as caught:
        mkdocs_site.build(path, tmp_path / "site")
    assert str(caught.value) == "catalog build failed: Encoding error reading file: mcp.md"


# --- live reload ---------------------------------------------------------------------------------


class Served:
    def __init__(self, url: str, rebuilds: queue.Queue[int], thread: threading.Thread,
                 errors: list[BaseException]) -> None:
        self.url, self.rebuilds, self.thread, self.errors = url, rebuilds, thread, errors


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start ``mkdocs_site.serve`` in a thread on a free port; stopped (and joined) at teardown."""
    stops: list[tuple[threading.Event, threading.Thread]] = []

    def start(site: Path, watch: list[Path], port: int = 0) -> Served:
        ready: queue.Queue[str] = queue.Queue()
        rebuilds: queue.Queue[int] = queue.Queue()
        errors: list[BaseException] = []
        count = iter(range(1, 1000))
        stop = threading.Event()

        def run() -> None:
            try:
                mkdocs_site.serve(site, host="127.0.0.1", port=port,
                                  rebuild=lambda: rebuilds.put(next(count)), watch=watch,
                                  on_ready=ready.put, stop=stop)
            except BaseException as exc:
                errors.append(exc)
                ready.put("")

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        stops.append((stop, thread))
        url = ready.get(timeout=WAIT)
        return Served(url, rebuilds, thread, errors)

    yield start
    for stop, thread in stops:
        stop.set()
        thread.join(WAIT)
        assert not thread.is_alive(), "serve() did not return after stop was set"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=WAIT * 3) as resp:
        body: bytes = resp.read()
        return body.decode()


def test_serve_injects_live_reload_and_rebuilds_on_change(
        tmp_path: Path, serving: Callable[..., Served], capfd: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    mkdocs_site.build(write_project(tmp_path), site)
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "HEAD").write_text("one\n")
    served = serving(site, [watched])
    assert not served.errors
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", served.url)

    page = _get(served.url + "index.html")
    assert TITLE in page
    # the injected script long-polls its own origin (a relative URL), nothing else
    script = page[page.rindex("<script>"):]
    assert 'req.open("GET", "/livereload/" + epoch + "/" + requestId);' in script
    assert "http" not in script and "//" not in script.replace("://", "")
    epoch = int(re.search(r"livereload\((\d+), \d+\);", script)[1])  # type: ignore[index]
    assert served.rebuilds.empty()

    (watched / "HEAD").write_text("two, longer\n")
    (watched / "new-ref").write_text("x\n")
    assert served.rebuilds.get(timeout=WAIT) == 1
    # an open page polling with the old epoch is told to reload (a newer epoch comes back)
    assert int(_get(f"{served.url}livereload/{epoch}/1")) > epoch
    # assets are served as they are (no script injected)
    assert "livereload" not in _get(served.url + "assets/javascripts/iframe-worker-shim.js")
    assert capfd.readouterr().out == ""


def test_a_rebuild_error_is_one_line_and_the_server_keeps_serving(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    mkdocs_site.build(write_project(tmp_path), site)
    watched = tmp_path / "watched"
    watched.mkdir()
    ready: queue.Queue[str] = queue.Queue()
    failed = threading.Event()
    stop = threading.Event()

    def rebuild() -> None:
        failed.set()
        raise SkillmeatError("the collection moved", hint="try again")

    kwargs: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "rebuild": rebuild,
                              "watch": [watched], "on_ready": ready.put, "stop": stop}
    thread = threading.Thread(target=mkdocs_site.serve, args=(site,), kwargs=kwargs, daemon=True)
    thread.start()
    try:
        url = ready.get(timeout=WAIT)
        _get(url + "index.html")  # serving (and so watching)
        (watched / "f").write_text("x")
        assert failed.wait(WAIT)
        assert TITLE in _get(url + "index.html")
    finally:
        stop.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    err = capfd.readouterr().err
    assert "rebuild failed: the collection moved (try again)\n" in err
    assert "Traceback" not in err


def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(SkillmeatError, match=rf"^cannot listen on 127\.0\.0\.1:{port}: "):
            mkdocs_site.serve(tmp_path / "site", host="127.0.0.1", port=port, rebuild=lambda: None,
                              watch=[])


def test_a_missing_watch_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="cannot watch"):
        mkdocs_site.serve(tmp_path, host="127.0.0.1", port=0, rebuild=lambda: None,
                          watch=[tmp_path / "missing"])
