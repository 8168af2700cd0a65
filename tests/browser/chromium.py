"""Headless Chromium for tests: ``browser.mjs`` (playwright-core) runs a plan, pytest checks it.

A test is a few lines::

    def test_home(browser: Browser, http_site: Callable[[Path], str], built: Path) -> None:
        report = browser.run(http_site(built), goto("index.html"), visible("h1"), screenshot("home"))
        report.check()  # every step passed, no console errors, nothing left 127.0.0.1

The fixtures (``browser``, ``http_site``) are registered by ``tests/browser/conftest.py``.
Chromium comes from the Debian package (``/usr/bin/chromium``, or ``SKILLMEAT_CHROMIUM``),
playwright-core from ``.venv/npm`` (both installed by ``scripts/test``). When one is missing the
browser tests are skipped, except under CI (``CI`` set), where they fail.

Screenshots go to ``$SKILLMEAT_TEST_ARTIFACTS/screenshots`` (default
``<repo>/test-artifacts/screenshots``), named after the test.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.helpers import REPO_ROOT

SCRIPT = Path(__file__).with_name("browser.mjs")
NODE_MODULES = REPO_ROOT / ".venv" / "npm" / "node_modules"
HOST = "127.0.0.1"
STEP_TIMEOUT_MS = 10_000  # the bound of every wait inside a step (not a speed requirement)
LOCAL_SCHEMES = ("data", "blob", "about")

Step = dict[str, Any]


# --- steps -------------------------------------------------------------------------------------


def goto(page: str) -> Step:
    """Open ``page`` (relative to the run's base URL)."""
    return {"goto": page}


def click(link_text: str) -> Step:
    """Click the link with exactly this text and wait for the next page to load."""
    return {"click": link_text}


def search(query: str, expect: str | None = None, *, open: bool = False) -> Step:
    """Type ``query`` into Material's search box; a result holding ``expect`` (default: the
    query) must show. ``open``: then follow that result."""
    return {"search": query, "expect": expect or query, "open": open}


def visible(selector: str) -> Step:
    """A CSS selector that must match a visible element."""
    return {"visible": selector}


def text(content: str) -> Step:
    """Text that must be visible on the page."""
    return {"text": content}


def url(part: str) -> Step:
    """The current URL must contain ``part``."""
    return {"url": part}


def screenshot(name: str) -> Step:
    """A full-page screenshot, saved as ``<test name>-<name>.png`` in the screenshots dir."""
    return {"screenshot": name}


# --- the report --------------------------------------------------------------------------------


@dataclass
class Report:
    base: str
    ok: bool
    steps: list[dict[str, Any]]
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    final_url: str = ""

    def failed_step(self) -> dict[str, Any] | None:
        return next((s for s in self.steps if not s["ok"]), None)

    def offsite(self) -> list[str]:
        """Requests that went anywhere but the site: another origin for an http(s) base, any
        non-file URL for a file:// base (data:, blob: and about: URLs are local)."""
        base = urlsplit(self.base)
        out = []
        for u in self.requests:
            parts = urlsplit(u)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if base.scheme == "file":
                if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                    out.append(u)
            elif (parts.scheme, parts.hostname, parts.port) != (base.scheme, base.hostname, base.port):
                out.append(u)
        return out

    def problems(self) -> list[str]:
        """Everything wrong with the run, one line each (empty: all good)."""
        out = []
        if (bad := self.failed_step()) is not None:
            out.append(f"step {json.dumps(bad['step'])} failed: {bad.get('error', '?')}")
        out += [f"console error: {e}" for e in self.console_errors]
        out += [f"page error: {e}" for e in self.page_errors]
        out += [f"failed request: {r}" for r in self.failed_requests]
        out += [f"request left the site: {r}" for r in self.offsite()]
        return out

    def check(self) -> None:
        """Fail the test unless every step passed with no console or page error, no failed
        request and no request leaving the site."""
        if problems := self.problems():
            pytest.fail(f"browser run on {self.base} (ended at {self.final_url}):\n  "
                        + "\n  ".join(problems), pytrace=False)


# --- running it --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    node: str
    node_modules: Path
    chromium: Path


def chromium_path() -> Path:
    return Path(os.environ.get("SKILLMEAT_CHROMIUM", "/usr/bin/chromium"))


def find_tools() -> Tools | str:
    """The tools, or a line saying what is missing and how to get it."""
    missing = []
    node = shutil.which("node")
    if node is None:
        missing.append("node (Node.js) is not on PATH")
    if not (NODE_MODULES / "playwright-core" / "package.json").is_file():
        missing.append(f"playwright-core is not in {NODE_MODULES}")
    chromium = chromium_path()
    if not (chromium.is_file() and os.access(chromium, os.X_OK)):
        missing.append(f"no Chromium at {chromium}")
    if missing or node is None:
        return "; ".join(missing) + " (scripts/test installs them)"
    return Tools(node, NODE_MODULES, chromium)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def artifacts_dir() -> Path:
    root = os.environ.get("SKILLMEAT_TEST_ARTIFACTS")
    return (Path(root) if root else REPO_ROOT / "test-artifacts") / "screenshots"


class Browser:
    """Runs plans in a fresh headless Chromium (one browser per run)."""

    def __init__(self, tools: Tools, screenshots: Path, prefix: str) -> None:
        self.tools = tools
        self.screenshots = screenshots
        self.prefix = prefix

    def screenshot_path(self, name: str) -> Path:
        return self.screenshots / f"{self.prefix}-{name}.png"

    def run(self, base: str, *steps: Step, timeout_ms: int = STEP_TIMEOUT_MS) -> Report:
        """Run ``steps`` against ``base`` (an http://127.0.0.1 or file:// URL ending in '/');
        the report of what happened (call ``check()`` on it, or look at it)."""
        plan_steps = []
        for step in steps:
            if "screenshot" in step:
                path = self.screenshot_path(step["screenshot"])
                path.parent.mkdir(parents=True, exist_ok=True)
                step = {"screenshot": str(path)}
            plan_steps.append(step)
        plan = {"base": base, "timeout_ms": timeout_ms, "steps": plan_steps}
        env = {**os.environ, "SKILLMEAT_NODE_MODULES": str(self.tools.node_modules),
               "SKILLMEAT_CHROMIUM": str(self.tools.chromium)}
        # A hang guard only: a healthy run ends far sooner.
        limit = 60 + len(steps) * (timeout_ms / 1000) * 3
        try:
            proc = subprocess.run([self.tools.node, str(SCRIPT)], input=json.dumps(plan), text=True,
                                  capture_output=True, env=env, timeout=limit, check=False)
        except subprocess.TimeoutExpired:
            pytest.fail(f"browser.mjs did not finish within {limit:.0f} s", pytrace=False)
        if proc.returncode != 0:
            pytest.fail(f"browser.mjs failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}",
                        pytrace=False)
        data = json.loads(proc.stdout)
        return Report(base=base, **data)


# --- fixtures (registered in conftest.py) ------------------------------------------------------


@functools.cache
def _tools() -> Tools | str:
    return find_tools()


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Browser:
    """A Browser for this test; skips when Chromium/node/playwright-core is missing (fails in CI)."""
    tools = _tools()
    if isinstance(tools, str):
        if in_ci():
            pytest.fail(f"browser tests cannot run: {tools}", pytrace=False)
        pytest.skip(f"browser tests skipped: {tools}")
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    return Browser(tools, artifacts_dir(), prefix)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@contextlib.contextmanager
def serve_dir(root: Path) -> Iterator[str]:
    """Serve ``root`` with Python's http.server on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(root))
    with http.server.ThreadingHTTPServer((HOST, 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://{HOST}:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join()


@pytest.fixture
def http_site() -> Iterator[Callable[[Path], str]]:
    """``http_site(site_dir)`` serves a built site over http on 127.0.0.1 for this test and
    returns its base URL."""
    with contextlib.ExitStack() as stack:
        yield lambda root: stack.enter_context(serve_dir(root))
