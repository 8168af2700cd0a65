"""The git broker against a real bare remote: a signed ``refs/skillmeat/feed`` holding
feed.json and signed bundle refs; refresh verifies and fast-forwards only, fetch rebuilds the
bundle byte for byte and checks it against its listing."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model import feed as feedmodel
from skillmeat.model.errors import NotFoundError, SignatureError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services import bundle
from skillmeat.services.brokers.base import BrokerContext
from skillmeat.services.brokers.git import FEED_REF, GitBroker
from skillmeat.services.feedcheck import FeedError, sign_feed
from skillmeat.services.refs import signed_update
from skillmeat.services.trust import TrustSet
from skillmeat.store import gitcli
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.helpers import git
from tests.services.sharing_fixtures import ALICE, MALLORY, examples_collection, trusting

TRUST = trusting(ALICE)
NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def ctx(tmp: Path, trust: TrustSet = TRUST) -> BrokerContext:
    return BrokerContext(tmp / "cache", tmp / "state", trust, NOW)


def _entry(built: bundle.BuildResult) -> dict[str, Any]:
    m = built.manifest
    return {"id": f"{m.name}@{m.version}", "type": "skill", "name": m.name, "version": m.version,
            "description": "summaries", "tags": ["pdf"], "artifacts": [str(a.id) for a in m.artifacts],
            "publisher": {"name": "Alice", "key": ALICE.public.openssh()},
            "bundle": {"url": built.ref, "sha256": built.sha256, "size": built.size}}


def _feed(version: int, listings: list[dict[str, Any]], key: PrivateKey = ALICE) -> bytes:
    feed = feedmodel.Feed("g", version, feedmodel.format_time(NOW),
                          feedmodel.format_time(NOW + datetime.timedelta(days=30)), listings)
    sign_feed(feed, [key])
    return feed.to_json()


def _push(store: CollectionStore, remote: Path, *refs: str) -> None:
    outcomes = gitcli.push_refs(store.path, str(remote), list(refs))
    assert all(o.ok for o in outcomes), outcomes


@pytest.fixture
def remote(home: Home, tmp_path: Path) -> tuple[CollectionStore, Path, bundle.BuildResult]:
    """A bare remote where Alice pushed kit@1's bundle ref and a feed listing it."""
    store = examples_collection(home)
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    built = bundle.build(home, store, ["pdf-summary"], tmp_path / "kit.skillmeat-pack", ALICE,
                         name="kit", version="1")
    signed_update(store, "feed", {feedmodel.FEED_FILE: _feed(1, [_entry(built)])}, "Feed 1", ALICE)
    _push(store, bare, FEED_REF, built.ref)
    return store, bare, built


def test_refresh_listings_and_fetch(remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, bare, built = remote
    broker = GitBroker("g", str(bare), ctx(tmp_path))
    first = broker.refresh()
    assert first.changed and first.version == 1 and first.listings == 1 and first.transferred > 0
    [listing] = broker.listings()
    assert (listing.id, listing.bundle_url, listing.sha256, listing.size) == (
        "kit@1", "refs/skillmeat/bundles/kit/1", built.sha256, built.size)
    assert listing.verified and listing.tags == ("pdf",) and listing.publisher == "Alice"
    again = GitBroker("g", bare.as_uri(), ctx(tmp_path)).refresh()
    assert (again.changed, again.transferred, again.listings) == (False, 0, 1)
    fetched = broker.fetch(listing, tmp_path / "dl")
    assert fetched.kind == "bundle" and fetched.expect == ("kit", "1")
    assert fetched.path.name == "kit-1.skillmeat-pack"
    assert fetched.path.read_bytes() == built.path.read_bytes()  # rebuilt byte for byte
    assert bundle.check(fetched.path, TRUST).verified


def test_feed_ref_fast_forwards_only(remote, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, bare, built = remote
    broker = GitBroker("g", str(bare), ctx(tmp_path))
    broker.refresh()
    signed_update(store, "feed", {feedmodel.FEED_FILE: _feed(2, [_entry(built)])}, "Feed 2", ALICE)
    _push(store, bare, FEED_REF)
    assert GitBroker("g", str(bare), ctx(tmp_path)).refresh().version == 2
    # history rewritten: a new root commit with a higher version, force-pushed
    git("update-ref", "-d", FEED_REF, cwd=store.path)
    signed_update(store, "feed", {feedmodel.FEED_FILE: _feed(3, [_entry(built)])}, "Forged", ALICE)
    git("push", "-q", "--force", str(bare), f"{FEED_REF}:{FEED_REF}", cwd=store.path)
    with pytest.raises(SignatureError, match="history rewritten") as info:
        GitBroker("g", str(bare), ctx(tmp_path)).refresh()
    assert "\n" not in str(info.value)
    assert GitBroker("g", str(bare), ctx(tmp_path)).listings()[0].id == "kit@1"  # still version 2
    assert (tmp_path / "state" / "feed-state.json").read_text().count('"version": 2') == 1


def test_feed_commits_must_be_signed_by_a_trusted_key(remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, bare, built = remote
    GitBroker("g", str(bare), ctx(tmp_path)).refresh()
    # a feed validly signed by Alice, but committed by Mallory
    signed_update(store, "feed", {feedmodel.FEED_FILE: _feed(2, [_entry(built)])}, "Feed 2", MALLORY)
    _push(store, bare, FEED_REF)
    with pytest.raises(SignatureError, match="unknown key"):
        GitBroker("g", str(bare), ctx(tmp_path)).refresh()
    # and a first use by someone who trusts nobody refuses the whole history
    with pytest.raises(SignatureError):
        GitBroker("g", str(bare), ctx(tmp_path / "other", TrustSet())).refresh()
    assert not (tmp_path / "other" / "state").exists()


def test_rollback_inside_a_signed_fast_forward_is_refused(remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, bare, built = remote
    signed_update(store, "feed", {feedmodel.FEED_FILE: _feed(5, [_entry(built)])}, "Feed 5", ALICE)
    _push(store, bare, FEED_REF)
    GitBroker("g", str(bare), ctx(tmp_path)).refresh()
    signed_update(store, "feed", {feedmodel.FEED_FILE: _feed(4, [_entry(built)])}, "Feed 4", ALICE)
    _push(store, bare, FEED_REF)
    with pytest.raises(FeedError, match="rollback"):
        GitBroker("g", str(bare), ctx(tmp_path)).refresh()


def test_fetch_checks_the_bundle_against_its_listing(remote, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, bare, built = remote
    entry = _entry(built)
    entry["bundle"]["sha256"] = hashlib.sha256(b"something else").hexdigest()
    signed_update(store, "feed", {feedmodel.FEED_FILE: _feed(2, [entry])}, "Feed 2", ALICE)
    _push(store, bare, FEED_REF)
    broker = GitBroker("g", str(bare), ctx(tmp_path))
    [listing] = broker.listings()
    with pytest.raises(SignatureError, match="bundle does not match its listing"):
        broker.fetch(listing, tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []
    # a listing whose bundle ref the remote does not have
    other = bundle.build(home, store, ["review"], tmp_path / "o.skillmeat-pack", ALICE,
                         name="other", version="1")
    signed_update(store, "feed", {feedmodel.FEED_FILE: _feed(3, [entry, _entry(other)])}, "3", ALICE)
    _push(store, bare, FEED_REF)
    broker = GitBroker("g", str(bare), ctx(tmp_path))
    broker.refresh()
    missing = next(x for x in broker.listings() if x.name == "other")
    with pytest.raises(NotFoundError, match="has no refs/skillmeat/bundles/other/1"):
        broker.fetch(missing, tmp_path / "dl")


def test_a_remote_without_a_feed(tmp_path: Path) -> None:
    bare = tmp_path / "empty.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    with pytest.raises(NotFoundError, match="has no refs/skillmeat/feed"):
        GitBroker("g", str(bare), ctx(tmp_path)).refresh()
