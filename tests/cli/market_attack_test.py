"""The attacks a package manager defends against, through the real CLI: each refused with one
line, and nothing installed (the collection's files and history stay as they were)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model import feed as feedmodel
from skillmeat.model import sshsig
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services.feedcheck import sign_feed
from tests.cli.runner import ok, skillmeat
from tests.cli.trust_story_test import User
from tests.helpers import EXAMPLES, git, tree_state

ALICE = PrivateKey(bytes([7]) * 32, "alice@example.com")
MALLORY = PrivateKey(bytes([9]) * 32, "mallory@example.com")
CAROL = PrivateKey(bytes([11]) * 32, "carol@example.com")


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    alice = User("alice", tmp_path / "alice", monkeypatch)
    bob = User("bob", tmp_path / "bob", monkeypatch)
    market = tmp_path / "market"
    (tmp_path / "alice.key").write_text(ALICE.to_openssh())
    (tmp_path / "alice.pub").write_text(ALICE.public.openssh() + "\n")
    with alice:
        ok("collection", "create", "team")
        ok("add", str(EXAMPLES), "--all")
        ok("keys", "import", str(tmp_path / "alice.key"), "--name", "alice")
        ok("keys", "trust", str(tmp_path / "alice.pub"), "--principal", "alice@example.com")
        ok("marketplace", "add", "m", str(market))
        ok("publish", "pdf-summary", "--marketplace", "m", "--version", "1")
        ok("publish", "review", "--marketplace", "m", "--version", "1")
    with bob:
        ok("collection", "create", "mine")
        ok("keys", "trust", str(tmp_path / "alice.pub"), "--principal", "alice@example.com")
        ok("marketplace", "add", "m", str(market))
    return {"bob": bob, "market": market, "mine": bob.base / "skillmeat" / "collections" / "mine"}


def _feed(market: Path) -> feedmodel.Feed:
    return feedmodel.parse((market / "feed.json").read_bytes(), "feed.json")


def _write(market: Path, feed: feedmodel.Feed, *keys: PrivateKey) -> None:
    sign_feed(feed, list(keys))
    (market / "feed.json").write_bytes(feed.to_json())


def _refused(world: dict[str, Any], *args: str, words: tuple[str, ...] = ()) -> None:
    mine: Path = world["mine"]
    before = tree_state(mine), git("rev-parse", "HEAD", cwd=mine)
    with world["bob"]:
        result = skillmeat(*args)
    assert result.code != 0, result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillmeat: error:"), result.err
    for word in words:
        assert word in lines[0], result.err
    assert (tree_state(mine), git("rev-parse", "HEAD", cwd=mine)) == before


def _bumped(market: Path, change: Callable[[feedmodel.Feed], None] | None = None) -> feedmodel.Feed:
    feed = _feed(market)
    feed.version += 1
    if change is not None:
        change(feed)
    return feed


def test_feed_attacks_are_refused(world: dict[str, Any]) -> None:
    market: Path = world["market"]
    good = (market / "feed.json").read_bytes()
    refresh = ("marketplace", "refresh", "m")

    _write(market, _bumped(market), MALLORY)
    _refused(world, *refresh, words=("untrusted",))

    (market / "feed.json").write_bytes(good)
    feed = _feed(market)
    feed.version -= 1
    _write(market, feed, ALICE)
    _refused(world, *refresh, words=("rollback",))

    feed = _feed(market)
    feed.version = json.loads(good)["signed"]["version"]
    feed.listings[0]["description"] = "same version, other content"
    _write(market, feed, ALICE)
    _refused(world, *refresh, words=("same version",))

    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    _write(market, _bumped(market, lambda f: setattr(f, "expires", feedmodel.format_time(past))),
           ALICE)
    _refused(world, *refresh, words=("expired",))

    (market / "feed.json").write_bytes(b'{"signed": "' + b" " * (129 << 20) + b'"}')
    _refused(world, *refresh, words=("limit",))  # oversized: refused before it is parsed

    def two_keys(f: feedmodel.Feed) -> None:
        f.keys, f.threshold = [ALICE.public.openssh(), CAROL.public.openssh()], 2

    (market / "feed.json").write_bytes(good)
    _write(market, _bumped(market, two_keys), ALICE, ALICE)  # the same key twice
    _refused(world, *refresh, words=("threshold",))

    feed = _bumped(market)
    body = feedmodel.canonical(feed.signed())
    feed.signatures = [{"keyid": ALICE.public.fingerprint(),
                        "sig": sshsig.sign(ALICE, body, "skillmeat-pack")}]  # a bundle's namespace
    (market / "feed.json").write_bytes(feed.to_json())
    _refused(world, *refresh)
    (market / "feed.json").write_bytes(good)
    other = _feed(market)
    other.name, other.version = "another-marketplace", other.version + 5
    _write(market, other, ALICE)  # a feed of another marketplace signed by the same key
    _refused(world, *refresh, words=("another marketplace",))

    (market / "feed.json").write_bytes(good)
    with world["bob"]:
        ok(*refresh)


def test_bundle_attacks_are_refused(world: dict[str, Any]) -> None:
    market: Path = world["market"]
    feed = _bumped(market)
    entry = feed.find("review", "1")
    assert entry is not None
    entry["bundle"]["sha256"] = "0" * 64  # the bundle no longer matches its listing
    _write(market, feed, ALICE)
    with world["bob"]:
        ok("marketplace", "refresh", "m")
    _refused(world, "marketplace", "install", "m:review@1", words=("does not match",))

    feed = _bumped(market)
    pdf, review = feed.find("pdf-summary", "1"), feed.find("review", "1")
    assert pdf is not None and review is not None
    review["bundle"] = dict(pdf["bundle"])  # the listing's bundle is another artifact's
    _write(market, feed, ALICE)
    with world["bob"]:
        ok("marketplace", "refresh", "m")
    _refused(world, "marketplace", "install", "m:review@1",
             words=("listed as review@1, but the bundle is pdf-summary@1",))


def test_a_revoked_signer_stops_a_feed_already_verified(world: dict[str, Any], tmp_path: Path) -> None:
    with world["bob"]:
        assert json.loads(ok("marketplace", "search", "pdf", "--json").out)  # verified, remembered
        ok("keys", "revoke", str(tmp_path / "alice.pub"), "--reason", "laptop stolen")
    _refused(world, "marketplace", "install", "m:pdf-summary@1", words=("revoked",))
