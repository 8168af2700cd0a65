"""Material's built-in search, with the catalog's mkdocs.yml.j2 settings, works in a real
browser both over http (127.0.0.1) and opened straight from disk (file://), and the site asks
for nothing beyond itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from skillmeat.store import mkdocs_site
from tests.browser.chromium import Browser, click, goto, screenshot, search, text, url, visible
from tests.browser.project import TITLE, render_config, write_project


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    assert mkdocs_site.build(write_project(root), root / "site", strict=True) == []
    return root / "site"


def _base(how: str, site: Path, http_site: Callable[[Path], str]) -> str:
    return http_site(site) if how == "http" else site.as_uri() + "/"


@pytest.mark.parametrize("how", ["http", "file"])
def test_home_navigation_and_search(how: str, site: Path, browser: Browser,
                                    http_site: Callable[[Path], str]) -> None:
    report = browser.run(
        _base(how, site, http_site),
        goto("index.html"), text(TITLE), visible("h1"), screenshot("home"),
        click("Collections"), url("collections/team.html"), text("The team collection holds"),
        search("Greeter"),  # a page title
        search("zanzibar", expect="Greeter", open=True),  # a word in the page's body
        url("artifacts/team/skill/greeter.html"), visible("mark"), screenshot("search-result"),
    )
    report.check()
    assert report.final_url.startswith("http://127.0.0.1:" if how == "http" else "file://")
    assert browser.screenshot_path("home").is_file()
    # the search index came from the site itself (the JSON over http; the offline plugin's
    # script from disk)
    index = "search/search_index.json" if how == "http" else "search/search_index.js"
    assert any(r.endswith(index) for r in report.requests), report.requests


@pytest.mark.parametrize("how", ["http", "file"])
def test_search_for_a_missing_word_finds_nothing(how: str, site: Path, browser: Browser,
                                                 http_site: Callable[[Path], str]) -> None:
    report = browser.run(_base(how, site, http_site), goto("index.html"),
                         search("xylophonequartet", expect="Greeter"), timeout_ms=3000)
    assert not report.ok
    assert report.failed_step() == report.steps[-1]
    assert report.console_errors == [] and report.page_errors == []


def test_without_the_vendored_shim_file_search_breaks(tmp_path: Path, browser: Browser) -> None:
    """The control: drop extra.polyfills and Material's offline plugin falls back to
    https://unpkg.com/iframe-worker/shim, which the harness sees leave the machine (and fail)."""
    config = "\n".join(line for line in render_config().splitlines()
                       if "polyfills" not in line and "iframe-worker-shim" not in line)
    mkdocs_site.build(write_project(tmp_path, config=config), tmp_path / "site")
    report = browser.run((tmp_path / "site").as_uri() + "/", goto("index.html"),
                         search("zanzibar", expect="Greeter"), timeout_ms=3000)
    assert not report.ok
    assert report.offsite() == ["https://unpkg.com/iframe-worker/shim"]
    assert any("unpkg.com" in r for r in report.failed_requests)
    with pytest.raises(pytest.fail.Exception, match="request left the site"):
        report.check()
