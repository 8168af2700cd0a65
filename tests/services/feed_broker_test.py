"""The feed broker over real transports (a directory, ``python -m http.server``, moto S3):
refresh only transfers a changed feed, listings are re-verified from the cache, fetched bundles
are checked against their listing, and rollback, freeze and untrusted signers are refused."""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from skillmeat.model import feed as feedmodel
from skillmeat.model.errors import NotFoundError, SignatureError, SkillmeatError
from skillmeat.model.pack import PackError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services import bundle, vaults
from skillmeat.services.brokers.base import BrokerContext, MarketListing
from skillmeat.services.brokers.feed import FeedBroker
from skillmeat.services.feedcheck import FeedError, sign_feed
from skillmeat.services.importer import import_bundle
from skillmeat.services.trust import TrustSet
from skillmeat.store import httpfetch
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.servers import S3Server, closed_port, free_port, s3_server  # noqa: F401
from tests.services.sharing_fixtures import ALICE, MALLORY, examples_collection, trusting

TRUST = trusting(ALICE)
NOW = datetime.datetime.now(datetime.UTC)


def ctx(tmp: Path, *, trust: TrustSet = TRUST, now: datetime.datetime = NOW,
        options: dict[str, str] | None = None, keys: str = "") -> BrokerContext:
    return BrokerContext(tmp / "cache", tmp / "state", trust, now,
                         {**(options or {}), **({"keys": keys} if keys else {})})


def publish(home: Home, store: CollectionStore, vault: vaults.Vault, tmp: Path, version: str,
            names: tuple[str, ...] = ("pdf-summary",), name: str = "kit",
            key: PrivateKey = ALICE) -> bundle.BuildResult:
    built = bundle.build(home, store, list(names), tmp / f"{name}-{version}.skillmeat-pack", key,
                         name=name, version=version)
    vaults.upload(home, vault, store, built, key, TRUST)
    return built


@pytest.fixture
def market(home: Home, tmp_path: Path) -> tuple[CollectionStore, vaults.Vault, Path]:
    """A directory vault (a feed marketplace) holding kit@1, published by Alice."""
    store = examples_collection(home)
    root = tmp_path / "market"
    vault = vaults.add(home, "market", str(root), {})
    publish(home, store, vault, tmp_path, "1")
    return store, vault, root


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert proc.poll() is None, "http.server exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("http.server did not start")


@pytest.fixture
def serve() -> Iterator[Callable[[Path], str]]:
    """Serve a directory with a real ``python -m http.server`` on 127.0.0.1: its base URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(directory: Path) -> str:
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                                 "127.0.0.1", "--directory", str(directory)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        procs.append(proc)
        _wait_listening(port, proc)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _touch_later(path: Path, seconds: int = 5) -> None:
    """http.server's Last-Modified has one-second resolution: make a rewrite visible."""
    later = time.time() + seconds
    os.utime(path, (later, later))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _flip(path: Path, at: int = 40) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1
    path.write_bytes(bytes(data))


# --- http -----------------------------------------------------------------------------------


def test_http_refresh_listings_304_and_fetch(market, serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, _vault, root = market
    old = time.time() - 10  # a Last-Modified of this very second would not be trusted for a 304
    os.utime(root / "feed.json", (old, old))
    base = serve(root)
    broker = FeedBroker("m", f"{base}/feed.json", ctx(tmp_path))
    first = broker.refresh()
    assert (first.changed, first.listings, first.version) == (True, 1, 1) and first.transferred > 0
    [listing] = broker.listings()
    packed = root / "bundles" / "kit" / "1.skillmeat-pack"
    assert (listing.id, listing.name, listing.version, listing.type) == ("kit@1", "kit", "1", "skill")
    assert listing.verified and listing.status == "published" and listing.marketplace == "m"
    assert listing.bundle_url == f"{base}/bundles/kit/1.skillmeat-pack"
    assert (listing.sha256, listing.size) == (_sha(packed), packed.stat().st_size)
    assert listing.artifacts == ("skill/pdf-summary",)

    again = FeedBroker("m", f"{base}/feed.json", ctx(tmp_path)).refresh()
    assert (again.changed, again.transferred, again.listings) == (False, 0, 1)

    fetched = broker.fetch(listing, tmp_path / "dl")
    assert fetched.kind == "bundle" and fetched.expect == ("kit", "1")
    assert fetched.path == tmp_path / "dl" / "kit-1.skillmeat-pack"
    assert fetched.path.read_bytes() == packed.read_bytes()
    assert bundle.check(fetched.path, TRUST).verified

    # a directory URL means its feed.json; the listing's bundle resolves against it
    other = FeedBroker("d", base + "/", ctx(tmp_path / "d"))
    assert other.refresh().listings == 1
    assert other.listings()[0].bundle_url == listing.bundle_url


def test_http_tampered_bundle_is_refused(market, serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, _vault, root = market
    broker = FeedBroker("m", serve(root) + "/feed.json", ctx(tmp_path))
    [listing] = broker.listings()  # no cache yet: refreshes first
    _flip(root / "bundles" / "kit" / "1.skillmeat-pack")
    dest = tmp_path / "dl"
    with pytest.raises(SignatureError, match="bundle does not match its listing") as info:
        broker.fetch(listing, dest)
    assert "\n" not in str(info.value)
    assert list(dest.iterdir()) == []  # nothing returned, nothing left behind
    # a bundle grown beyond its listed size is cut off while it streams
    with (root / "bundles" / "kit" / "1.skillmeat-pack").open("ab") as fh:
        fh.write(b"x" * 100)
    with pytest.raises(SkillmeatError, match="limit"):
        broker.fetch(listing, dest)
    assert list(dest.iterdir()) == []


def test_http_rollback_is_refused(market, serve, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, vault, root = market
    base = serve(root)
    old = (root / "feed.json").read_bytes()
    publish(home, store, vault, tmp_path, "2")
    broker = FeedBroker("m", f"{base}/feed.json", ctx(tmp_path))
    assert broker.refresh().version == 2
    (root / "feed.json").write_bytes(old)  # the attacker serves the older, validly signed feed
    _touch_later(root / "feed.json")
    fresh = FeedBroker("m", f"{base}/feed.json", ctx(tmp_path))
    with pytest.raises(FeedError, match="rollback: version 1 is older than 2"):
        fresh.refresh()
    # the cache still holds version 2, and it is what is listed
    assert sorted(x.version for x in FeedBroker("m", base, ctx(tmp_path)).listings()) == ["1", "2"]


def test_http_failures_are_one_line(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty"
    empty.mkdir()
    base = serve(empty)
    with pytest.raises(NotFoundError, match="no feed at") as info:
        FeedBroker("m", f"{base}/feed.json", ctx(tmp_path)).refresh()
    assert "\n" not in str(info.value)
    with pytest.raises(SkillmeatError, match="connection refused"):
        FeedBroker("m", f"http://127.0.0.1:{closed_port()}/feed.json", ctx(tmp_path)).refresh()
    (empty / "feed.json").write_bytes(b"x" * 2000)
    with pytest.raises(SkillmeatError, match="larger than the 1000-byte limit"):
        httpfetch.get(f"{base}/feed.json", cap=1000)
    with pytest.raises(SkillmeatError, match="not an http"):
        httpfetch.get("file:///etc/passwd", cap=1000)


# --- files and S3 -------------------------------------------------------------------------


def test_directory_source_skips_an_unchanged_feed(market, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, vault, root = market
    broker = FeedBroker("m", str(root), ctx(tmp_path))
    assert broker.refresh().transferred > 0
    again = FeedBroker("m", str(root), ctx(tmp_path)).refresh()
    assert (again.changed, again.transferred) == (False, 0)
    publish(home, store, vault, tmp_path, "2", ("review",))
    broker = FeedBroker("m", (root / "feed.json").as_uri(), ctx(tmp_path))  # the feed file's URL
    moved = broker.refresh()
    assert moved.changed and moved.version == 2 and moved.listings == 2
    newest = next(x for x in broker.listings() if x.version == "2")
    assert newest.bundle_url == "bundles/kit/2.skillmeat-pack"  # relative to the vault root
    assert newest.artifacts == ("command/review",)
    fetched = broker.fetch(newest, tmp_path / "dl")
    assert _sha(fetched.path) == newest.sha256 and fetched.expect == ("kit", "2")


def test_directory_tampered_bundle_is_refused(market, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, _vault, root = market
    broker = FeedBroker("m", root.as_uri(), ctx(tmp_path))
    [listing] = broker.listings()
    _flip(root / "bundles" / "kit" / "1.skillmeat-pack")
    with pytest.raises(SignatureError, match="bundle does not match its listing"):
        broker.fetch(listing, tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []


def test_a_forged_listing_is_not_fetched(market, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, _vault, root = market
    broker = FeedBroker("m", str(root), ctx(tmp_path))
    [listing] = broker.listings()
    packed = root / "bundles" / "kit" / "1.skillmeat-pack"
    _flip(packed)
    # a caller handing in a listing with the tampered file's hash gets nothing either
    forged = MarketListing(listing.id, listing.type, listing.name, listing.version,
                           sha256=_sha(packed), size=listing.size, bundle_url=listing.bundle_url)
    with pytest.raises(SignatureError, match="differs from the marketplace's verified feed"):
        broker.fetch(forged, tmp_path / "dl")
    with pytest.raises(NotFoundError, match="lists no other@1"):
        broker.fetch(MarketListing("other@1", "skill", "other", "1"), tmp_path / "dl")


def test_s3_refresh_listings_and_fetch(home: Home, tmp_path: Path, s3_server: S3Server) -> None:  # noqa: F811
    store = examples_collection(home)
    options = {"endpoint_url": s3_server.endpoint}
    vault = vaults.add(home, "s3", "s3://vault/team", options)
    built = publish(home, store, vault, tmp_path, "1")
    broker = FeedBroker("m", "s3://vault/team", ctx(tmp_path, options=options))
    first = broker.refresh()
    assert first.changed and first.transferred > 0 and first.version == 1
    again = FeedBroker("m", "s3://vault/team", ctx(tmp_path, options=options)).refresh()
    assert (again.changed, again.transferred) == (False, 0)
    [listing] = broker.listings()
    assert listing.bundle_url == "bundles/kit/1.skillmeat-pack" and listing.sha256 == built.sha256
    fetched = broker.fetch(listing, tmp_path / "dl")
    assert _sha(fetched.path) == built.sha256
    # the feed file's own URL works as well
    direct = FeedBroker("f", "s3://vault/team/feed.json", ctx(tmp_path / "f", options=options))
    assert direct.refresh().listings == 1


# --- attacks and re-verification ----------------------------------------------------------


def test_expired_feed_is_refused_even_from_the_cache(market, serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, _vault, root = market
    url = serve(root) + "/feed.json"
    FeedBroker("m", url, ctx(tmp_path)).refresh()
    later = NOW + datetime.timedelta(days=400)
    with pytest.raises(FeedError, match="expired"):
        FeedBroker("m", url, ctx(tmp_path, now=later)).listings()  # cached copy, re-checked
    with pytest.raises(FeedError, match="expired"):
        FeedBroker("m", url, ctx(tmp_path, now=later)).refresh()  # 304: still re-checked
    with pytest.raises(FeedError, match="expired"):
        FeedBroker("m", str(root), ctx(tmp_path / "fresh", now=later)).refresh()


def test_untrusted_signer_is_refused_and_nothing_is_kept(market, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, _vault, root = market
    with pytest.raises(FeedError, match="untrusted key"):
        FeedBroker("m", str(root), ctx(tmp_path, trust=trusting(MALLORY))).refresh()
    assert not (tmp_path / "cache" / "feed.json").exists()
    assert not (tmp_path / "state").exists()
    # a key pinned for the marketplace is trusted for its feed without a trust entry
    pinned = FeedBroker("m", str(root), ctx(tmp_path, trust=TrustSet(),
                                            keys=ALICE.public.openssh() + "\n"))
    assert pinned.refresh().listings == 1
    with pytest.raises(FeedError, match="untrusted key"):
        FeedBroker("m", str(root), ctx(tmp_path / "p", trust=TRUST,
                                       keys=MALLORY.public.openssh())).refresh()


def test_a_tampered_cache_is_caught(market, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, _vault, root = market
    FeedBroker("m", str(root), ctx(tmp_path)).refresh()
    cached = tmp_path / "cache" / "feed.json"
    tampered = cached.read_bytes().replace(b'"description":""', b'"description":"evil"')
    assert tampered != cached.read_bytes()
    cached.write_bytes(tampered)
    with pytest.raises(FeedError):
        FeedBroker("m", str(root), ctx(tmp_path)).listings()
    # a refresh that finds the origin unchanged fetches it whole again and heals the cache
    healed = FeedBroker("m", str(root), ctx(tmp_path))
    assert healed.refresh().listings == 1 and healed.listings()[0].description == ""


def test_bundle_of_another_name_is_caught_by_the_importers_expect(  # type: ignore[no-untyped-def]
        market, home: Home, tmp_path: Path) -> None:
    store, _vault, root = market
    # a feed whose listing kit@9 points at the (correctly hashed) bundle of kit@1
    packed = root / "bundles" / "kit" / "1.skillmeat-pack"
    feed = feedmodel.parse((root / "feed.json").read_bytes(), "feed")
    entry = dict(feed.listings[0], id="kit@9", version="9")
    feed.listings = [entry]
    feed.version += 1
    sign_feed(feed, [ALICE])
    (root / "feed.json").write_bytes(feed.to_json())
    broker = FeedBroker("m", str(root), ctx(tmp_path))
    [listing] = broker.listings()
    fetched = broker.fetch(listing, tmp_path / "dl")
    assert _sha(fetched.path) == _sha(packed) and fetched.expect == ("kit", "9")
    with pytest.raises(PackError, match="listed as kit@9"):
        import_bundle(home, store, fetched.path, TRUST, expect=fetched.expect, dry_run=True)


def test_statuses_and_a_missing_feed(market, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, _vault, root = market
    feed = feedmodel.parse((root / "feed.json").read_bytes(), "feed")
    feed.listings[0].update(status="yanked", reason="leaks tokens")
    feed.listings.append(dict(feed.listings[0], id="kit@0", version="0", status="draft", reason=""))
    feed.version += 1
    sign_feed(feed, [ALICE])
    (root / "feed.json").write_bytes(feed.to_json())
    shown = {x.id: x for x in FeedBroker("m", str(root), ctx(tmp_path)).listings()}
    assert (shown["kit@1"].status, shown["kit@1"].reason) == ("yanked", "leaks tokens")
    assert shown["kit@0"].status == "draft"
    shutil.rmtree(root)
    with pytest.raises(NotFoundError, match="no feed at"):
        FeedBroker("m", str(root), ctx(tmp_path / "other")).refresh()
