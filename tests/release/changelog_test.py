"""CHANGELOG.md: Keep a Changelog shape, its newest release is the package's version, and
what a user installs (console scripts, pre-commit hooks) is in it."""

from __future__ import annotations

import datetime
import re

import yaml

from skillmeat import __version__
from tests.helpers import REPO_ROOT
from tests.release.dists import console_scripts

TEXT = (REPO_ROOT / "CHANGELOG.md").read_text()
RELEASE = re.compile(r"^## \[(\d+)\.(\d+)\.(\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)
SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
# The only links: the two conventions the file follows (there is no public repository yet).
LINKS = {"https://keepachangelog.com/en/1.1.0/", "https://semver.org/spec/v2.0.0.html"}


def releases() -> list[tuple[tuple[int, int, int], datetime.date, str]]:
    """(version, date, body) per released version, newest first as written."""
    found = list(RELEASE.finditer(TEXT))
    out = []
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(TEXT)
        version = (int(m[1]), int(m[2]), int(m[3]))
        out.append((version, datetime.date.fromisoformat(m[4]), TEXT[m.end():end]))
    return out


def test_the_newest_release_is_the_package_version() -> None:
    assert TEXT.startswith("# Changelog\n")
    first = RELEASE.search(TEXT)
    assert first and 0 <= TEXT.find("\n## [Unreleased]\n") < first.start(), "Unreleased comes first"
    newest = releases()[0][0]
    assert ".".join(map(str, newest)) == __version__


def test_releases_go_back_in_time_with_known_sections() -> None:
    found = releases()
    assert len(found) >= 3
    versions = [v for v, _, _ in found]
    dates = [d for _, d, _ in found]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    assert dates == sorted(dates, reverse=True)
    for version, _, body in found:
        headings = re.findall(r"^### (.+)$", body, re.M)
        assert headings and set(headings) <= SECTIONS, (version, headings)
        assert "### Added" in body or "### Fixed" in body or "### Security" in body, version


def test_no_link_leads_anywhere_but_the_conventions() -> None:
    urls = set(re.findall(r"https?://[^\s)>\]]+", TEXT))
    assert urls == LINKS
    assert not re.search(r"^\[[^\]]+\]:\s", TEXT, re.M), "no link references (no repository URL)"


def test_every_console_script_and_hook_is_in_the_changelog() -> None:
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    names = set(console_scripts()) | {h["id"] for h in hooks}
    assert not {n for n in names if f"`{n}`" not in TEXT}
