"""The browser harness' fixtures, for every test under tests/browser/."""

from tests.browser.chromium import browser, http_site

__all__ = ["browser", "http_site"]
