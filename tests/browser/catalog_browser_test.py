"""The catalog `skillmeat web build` makes, in real headless Chromium: served over http by
`skillmeat web start` and opened straight from disk. Home renders, navigation reaches an
artifact page, search finds an artifact by name, the analytics chart shows, no console
errors, no request leaves the machine; a screenshot of each page type is kept."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.chromium import Browser, click, goto, screenshot, search, text, url, visible
from tests.cli.runner import ok

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TITLE = "Team catalog"


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """The examples' catalog with usage (deploys), a health check and a signed marketplace."""
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES), "--all")
    ok("keys", "generate", "--comment", "me@example.com")
    pub = tmp_path / "me.pub"
    pub.write_text(ok("keys", "export", "--public").out)
    ok("keys", "trust", str(pub), "--principal", "me@example.com")
    ok("marketplace", "add", "local", str(tmp_path / "market"), "--type", "feed")
    ok("publish", "pdf-summary", "--marketplace", "local", "--version", "1.0.0")
    ok("marketplace", "refresh", "local")
    project = tmp_path / "project"
    project.mkdir()
    ok("deploy", "pdf-summary", "review", "code-reviewer", "--project", str(project))
    ok("mcp", "add", "notes", "--description", "Demo notes", "--", sys.executable,
       str(EXAMPLES / "servers/notes_server.py"))
    ok("mcp", "health", "notes", "--timeout", "30")
    site = tmp_path / "site"
    ok("web", "build", "-o", str(site), "--title", TITLE)
    return site


@pytest.fixture
def started(catalog: Path) -> Iterator[str]:
    """`skillmeat web start` on a free port of 127.0.0.1: its URL."""
    with subprocess.Popen([sys.executable, "-m", "skillmeat", "web", "start", str(catalog), "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            found = re.search(r"at (http://127\.0\.0\.1:\d+/)", proc.stdout.readline())
            assert found
            yield found.group(1)
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def _walk(browser: Browser, base: str, tag: str) -> None:
    report = browser.run(
        base,
        goto("index.html"), text(TITLE), visible("h2#recent-changes"), screenshot(f"{tag}-home"),
        click("Collections"), url("collections/team.html"), text("pdf-summary"),
        screenshot(f"{tag}-collection"),
        click("pdf-summary"), url("artifacts/team/skill/pdf-summary.html"),
        text("Summarize PDF documents"), text("skillmeat -C team deploy pdf-summary --project ."),
        screenshot(f"{tag}-artifact"),
        click("Analytics"), url("analytics.html"), visible("figure.sm-chart--usage svg"),
        visible("figure.sm-chart--top svg"), screenshot(f"{tag}-analytics"),
        click("MCP servers"), url("mcp.html"), text("demo-notes"), screenshot(f"{tag}-mcp"),
        click("Marketplace"), url("marketplace.html"), visible("h2#local"),
        text("signed feed, verified against your trusted keys"), screenshot(f"{tag}-marketplace"),
        search("code-reviewer", open=True), url("artifacts/team/agent/code-reviewer.html"),
        screenshot(f"{tag}-search-result"),
    )
    report.check()  # no console or page errors, no failed request, nothing left the site
    for name in ("home", "collection", "artifact", "analytics", "mcp", "marketplace"):
        assert browser.screenshot_path(f"{tag}-{name}").is_file()


def test_catalog_over_http(started: str, browser: Browser) -> None:
    _walk(browser, started, "http")


def test_catalog_from_file(catalog: Path, browser: Browser) -> None:
    _walk(browser, catalog.as_uri() + "/", "file")
