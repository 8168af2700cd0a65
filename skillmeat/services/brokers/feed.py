"""The SkillMeat feed broker: a signed ``feed.json`` over HTTP(S) or any fsspec URL.

``source`` is an http(s) URL of a feed (``.../feed.json``; a URL not ending in ``.json`` is
taken as the directory holding ``feed.json``), or a path or fsspec URL (``file://``,
``s3://``, ``gs://`` ...) of a vault root (its ``feed.json``) or of a feed file itself.

``refresh`` downloads the feed only when it changed (an HTTP conditional GET; for fsspec,
the file's size and etag or mtime), checks it (``feedcheck.check_feed``: signatures, key
set, rollback, freeze) and only then keeps it in the cache and saves the accepted version.
``listings`` checks the cached copy again each run (a feed that has since expired, or a
tampered cache, is refused). ``fetch`` downloads a bundle and checks its size and sha256
against the signed listing before returning it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from skillmeat.model.artifact import check_part
from skillmeat.model.errors import BadInputError, NotFoundError, SignatureError, SkillmeatError
from skillmeat.model.feed import FEED_FILE, MAX_FEED, expires_at
from skillmeat.model.feed import parse as parse_feed
from skillmeat.model.pack import SUFFIX, check_version
from skillmeat.model.sshkeys import PublicKey
from skillmeat.services.brokers.base import (
    STATUSES,
    BrokerContext,
    Fetched,
    MarketListing,
    RefreshResult,
)
from skillmeat.services.bundle import DEFAULT_LIMITS
from skillmeat.services.feedcheck import CheckedFeed, check_feed
from skillmeat.store.feedstate import load_state, save_state
from skillmeat.store.files import atomic_write, sha256_file
from skillmeat.store.vault_errors import redact

STATE_FILE = "feed-state.json"
VERIFIED_FILE = "verified.json"
META_FILE = "meta.json"
BROKER_OPTIONS = frozenset({"keys"})
"""Context options the broker reads itself; the others are storage options (endpoint_url...)."""


def pinned_keys(ctx: BrokerContext, where: str) -> list[PublicKey]:
    """The keys pinned for this marketplace (``options["keys"]``: OpenSSH lines)."""
    out = []
    for line in ctx.options.get("keys", "").splitlines():
        if line.strip():
            try:
                out.append(PublicKey.parse(line.strip()))
            except (BadInputError, ValueError):
                raise BadInputError(f"{where}: pinned key {line.strip()[:40]!r}... is not an SSH "
                                    "public key", hint="pin keys as OpenSSH public key lines") from None
    return out


class SignedFeedBroker:
    """What every broker of a signed SkillMeat feed shares: the check, the cache, the listings.

    Subclasses fetch the feed's bytes (``refresh``), say where a listing's bundle is
    (``bundle_url``) and bring it (``fetch``).
    """

    kind: ClassVar[str] = ""

    def __init__(self, name: str, source: str, ctx: BrokerContext) -> None:
        self.name = name
        self.source = source
        self.ctx = ctx
        self.where = f"marketplace {name}"
        self._listings: list[MarketListing] | None = None

    # -- the cache and the client state --

    @property
    def cached_feed(self) -> Path:
        return self.ctx.cache / FEED_FILE

    @property
    def state_file(self) -> Path:
        return self.ctx.state / STATE_FILE

    def _meta(self) -> dict[str, Any]:
        """What the last refresh learnt about the feed's origin ({} when unknown or stale)."""
        try:
            doc = json.loads((self.ctx.cache / META_FILE).read_text())
        except (OSError, ValueError, UnicodeDecodeError):
            return {}
        if not isinstance(doc, dict) or doc.get("source") != self.source \
                or not self.cached_feed.is_file():
            return {}
        return doc

    def _save_meta(self, **fields: Any) -> None:
        atomic_write(self.ctx.cache / META_FILE,
                     json.dumps({"source": self.source, **fields}, sort_keys=True) + "\n")

    def _cached_bytes(self) -> bytes | None:
        try:
            with self.cached_feed.open("rb") as fh:
                return fh.read(MAX_FEED + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SkillmeatError(f"cannot read {self.cached_feed}: {exc.strerror or exc}") from None

    def check(self, data: bytes) -> CheckedFeed:
        """The feed checked against the trust and the last accepted version."""
        return check_feed(data, where=self.where, trust=self.ctx.trust,
                          state=load_state(self.state_file), now=self.ctx.now,
                          pinned=pinned_keys(self.ctx, self.where))

    def accept(self, data: bytes) -> CheckedFeed:
        """Check a fetched feed; keep it in the cache and save its version (cache first)."""
        known = self._known(data)
        checked = known or self.check(data)
        if self._cached_bytes() != data:
            atomic_write(self.cached_feed, data, sync=False)  # a cache: fetched again if lost
        if not checked.unchanged:
            save_state(self.state_file, checked.state)
        if known is None:
            self._remember(data, checked)
        self._listings = self._map(checked)
        return checked

    @property
    def verified_file(self) -> Path:
        return self.ctx.state / VERIFIED_FILE

    def _remember(self, data: bytes, checked: CheckedFeed) -> None:
        """Record the digest of bytes that passed every check, for the next run's fast path."""
        record = {"sha256": hashlib.sha256(data).hexdigest(), "version": checked.feed.version,
                  "signers": list(checked.signers), "trust": self._trust_digest()}
        with contextlib.suppress(OSError):
            atomic_write(self.verified_file, json.dumps(record, sort_keys=True) + "\n")

    def _trust_digest(self) -> str:
        """What the trust looked like (signers, revocations, rotations, pinned keys): any
        change, a revocation above all, sends the next run through the full check."""
        t = self.ctx.trust
        parts = sorted(f"s {s.key.raw.hex()} {s.principals} {s.namespaces} {s.valid_after} "
                       f"{s.valid_before}" for s in t.signers)
        parts += sorted(f"r {r.key.raw.hex()} {r.reason}" for r in t.revoked)
        parts += sorted(f"o {r.old.raw.hex()} {r.new.raw.hex()}" for r in t.rotations)
        parts.append(self.ctx.options.get("keys", ""))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _known(self, data: bytes) -> CheckedFeed | None:
        """These exact bytes were fully checked before (same digest, still the accepted
        version): parse them without repeating the signature and shape checks — but the
        expiry is checked again, every run."""
        try:
            record = json.loads(self.verified_file.read_bytes())
        except (OSError, ValueError):
            return None
        state = load_state(self.state_file)
        if (not isinstance(record, dict) or state is None
                or record.get("sha256") != hashlib.sha256(data).hexdigest()
                or record.get("version") != state.version
                or record.get("trust") != self._trust_digest()):
            return None
        feed = parse_feed(data, self.where, verified=True)
        if feed.version != state.version:
            return None
        expires = expires_at(feed)
        if expires is None or expires <= self.ctx.now:
            return None  # the full check says why
        signers = tuple(str(s) for s in record.get("signers", []))
        return CheckedFeed(feed, signers, state, True)

    def result(self, checked: CheckedFeed, *, changed: bool, transferred: int,
               detail: str = "") -> RefreshResult:
        return RefreshResult(changed, transferred, len(checked.feed.listings),
                             checked.feed.version, detail)

    # -- listings --

    def refresh(self) -> RefreshResult:
        raise NotImplementedError

    def listings(self) -> list[MarketListing]:
        if self._listings is None:
            data = self._cached_bytes()
            if data is None:
                self.refresh()
            else:
                checked = self._known(data)
                if checked is None:
                    checked = self.check(data)
                    if not checked.unchanged:  # a refresh stopped between cache and state
                        save_state(self.state_file, checked.state)
                    self._remember(data, checked)
                self._listings = self._map(checked)
        assert self._listings is not None
        return list(self._listings)

    def bundle_url(self, entry: dict[str, Any]) -> str:
        raise NotImplementedError

    def _map(self, checked: CheckedFeed) -> list[MarketListing]:
        out = []
        for entry in checked.feed.listings:
            bundle = entry.get("bundle", {})
            publisher = entry.get("publisher", {})
            status = entry.get("status", "published")
            reason = entry.get("reason", "")
            out.append(MarketListing(
                id=str(entry.get("id") or f"{entry.get('name')}@{entry.get('version')}"),
                type=str(entry.get("type", "")), name=str(entry.get("name", "")),
                version=str(entry.get("version", "")),
                description=str(entry.get("description", "")),
                tags=tuple(entry.get("tags", [])),
                publisher=str(publisher.get("name", "")) if isinstance(publisher, dict) else "",
                # an unknown status is never offered as published
                status=status if status in STATUSES else "draft",
                reason=" ".join(reason.split()) if isinstance(reason, str) else "",
                verified=True, bundle_url=self.bundle_url(entry),
                sha256=str(bundle.get("sha256", "")), size=int(bundle.get("size", 0)),
                artifacts=tuple(entry.get("artifacts", [])), marketplace=self.name))
        return out

    # -- fetching --

    def verified(self, listing: MarketListing) -> MarketListing:
        """The listing as the verified feed has it now (a stale or forged one is refused)."""
        found = [x for x in self.listings() if x.id == listing.id]
        if not found:
            raise NotFoundError(f"{self.where} lists no {listing.id}",
                                hint=f"refresh it: skillmeat marketplace refresh {self.name}")
        mine = found[0]
        if (listing.sha256, listing.size, listing.bundle_url, listing.name, listing.version) != (
                mine.sha256, mine.size, mine.bundle_url, mine.name, mine.version):
            raise SignatureError(f"{self.where} {listing.id}",
                                 "listing differs from the marketplace's verified feed",
                                 hint=f"refresh it: skillmeat marketplace refresh {self.name}")
        if mine.size > DEFAULT_LIMITS.max_total:
            raise SkillmeatError(f"{self.where} {mine.id}: bundle of {mine.size} bytes is over the "
                                 f"{DEFAULT_LIMITS.max_total}-byte limit")
        return mine

    def target(self, listing: MarketListing, dest: Path) -> Path:
        check_part(listing.name, "bundle name")
        check_version(listing.version)
        dest.mkdir(parents=True, exist_ok=True)
        return dest / f"{listing.name}-{listing.version}{SUFFIX}"

    def deliver(self, listing: MarketListing, dest: Path, write: Callable[[Path], None]) -> Fetched:
        """``write(tmp)`` the bundle, check it against ``listing``, then move it into place."""
        path = self.target(listing, dest)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
        try:
            write(tmp)
            check_bundle(tmp, listing, f"{self.where} {listing.id}")
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return Fetched("bundle", path, expect=(listing.name, listing.version))


def check_bundle(path: Path, listing: MarketListing, what: str) -> None:
    """Size and sha256 as listed (each only when the listing gives it; a feed always does)."""
    size = path.stat().st_size
    if listing.size and size != listing.size:
        raise SignatureError(what, f"bundle does not match its listing (size {size}, "
                             f"listed {listing.size})",
                             hint="the marketplace is inconsistent or tampered with; nothing was kept")
    if listing.sha256 and sha256_file(path) != listing.sha256:
        raise SignatureError(what, "bundle does not match its listing (sha256 differs)",
                             hint="the marketplace is inconsistent or tampered with; nothing was kept")


def is_http(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


class FeedBroker(SignedFeedBroker):
    """A feed read over HTTP(S) or from a vault on any fsspec filesystem."""

    kind: ClassVar[str] = "feed"

    def __init__(self, name: str, source: str, ctx: BrokerContext) -> None:
        super().__init__(name, source, ctx)
        self.http = is_http(source)
        if self.http:
            parts = urlsplit(source)
            self.feed_url = source if parts.path.endswith(".json") else parts._replace(
                path=parts.path.rstrip("/") + "/" + FEED_FILE).geturl()
            self.root, self.rel = "", ""
        else:
            self.root, self.rel = _split_fs(source)
            self.feed_url = f"{self.root.rstrip('/')}/{self.rel}"
        self._vfs: Any = None

    def fs(self) -> Any:
        if self._vfs is None:
            from skillmeat.store.vaultfs import VaultFS

            options = {k: v for k, v in self.ctx.options.items() if k not in BROKER_OPTIONS}
            self._vfs = VaultFS(self.root, options)
        return self._vfs

    def refresh(self) -> RefreshResult:
        self._listings = None
        return self._refresh(conditional=True)

    def _refresh(self, *, conditional: bool) -> RefreshResult:
        meta = self._meta() if conditional else {}
        old = self._cached_bytes()
        if old is None:
            meta = {}
        data, fields, detail = self._get_http(meta) if self.http else self._get_fs(meta)
        if data is None:
            if old is None:  # cannot happen without validators; be safe all the same
                return self._refresh(conditional=False)
            try:
                checked = self.accept(old)
            except SkillmeatError:  # the cache went bad: fetch the feed again, whole
                return self._refresh(conditional=False)
            self._save_meta(**fields)
            return self.result(checked, changed=False, transferred=0, detail=detail)
        checked = self.accept(data)
        self._save_meta(**fields)
        return self.result(checked, changed=data != old, transferred=len(data))

    def _get_http(self, meta: dict[str, Any]) -> tuple[bytes | None, dict[str, Any], str]:
        from skillmeat.store import httpfetch

        got = httpfetch.get(self.feed_url, cap=MAX_FEED, etag=str(meta.get("etag", "")),
                            modified=str(meta.get("modified", "")))
        fields = {"etag": got.etag, "modified": _settled(got.modified, got.date)}
        if got.status == 304:
            return None, fields, "not modified"
        return got.data, fields, ""

    def _get_fs(self, meta: dict[str, Any]) -> tuple[bytes | None, dict[str, Any], str]:
        fs = self.fs()
        found = fs.stat(self.rel)
        if found is None:
            raise NotFoundError(f"no feed at {redact(self.feed_url)}",
                                hint="check the marketplace's source")
        size, etag = found
        if fs.scheme == "file":
            etag = _local_version(Path(fs.root) / self.rel)
        fields = {"size": size, "etag": etag}
        if etag and meta.get("size") == size and meta.get("etag") == etag:
            return None, fields, "unchanged"
        data = fs.read_bytes(self.rel, MAX_FEED)
        if data is None:
            raise NotFoundError(f"no feed at {redact(self.feed_url)}",
                                hint="check the marketplace's source")
        return data, fields, ""  # a change since the stat only makes the next refresh read again

    def bundle_url(self, entry: dict[str, Any]) -> str:
        url = str(entry.get("bundle", {}).get("url", ""))
        if self.http:
            return urljoin(self.feed_url, url)
        return url

    def fetch(self, listing: MarketListing, dest: Path) -> Fetched:
        mine = self.verified(listing)
        url = mine.bundle_url
        if not mine.sha256:
            raise SignatureError(f"{self.where} {mine.id}", "the listing names no sha256",
                                 hint="ask the marketplace's publisher to publish it again")

        def write(tmp: Path) -> None:
            if is_http(url):
                from skillmeat.store import httpfetch

                httpfetch.download(url, tmp, mine.size, what="bundle")
            elif self.http or "://" in url:
                raise BadInputError(f"{self.where} {mine.id}: bundle URL {redact(url)!r} is "
                                    "neither http(s) nor relative to the vault")
            else:
                from skillmeat.store.vaultfs import check_rel

                self.fs().get_file(check_rel(url), tmp, mine.size)

        return self.deliver(mine, dest, write)


def _settled(modified: str, date: str = "") -> str:
    """A Last-Modified time worth sending back: one at least a second older than the server's
    answer (its Date, else our clock). A server that dates files to the second would answer
    304 to a feed rewritten in that same second."""
    import datetime
    from email.utils import parsedate_to_datetime

    def parse(text: str) -> datetime.datetime | None:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        return when if when.tzinfo is not None else None

    when = parse(modified)
    if when is None:
        return ""
    answered = parse(date) or datetime.datetime.now(datetime.UTC)
    return modified if when <= answered - datetime.timedelta(seconds=1) else ""


def _split_fs(source: str) -> tuple[str, str]:
    """(vault root, path of the feed under it) for an fsspec URL or path."""
    if "://" not in source:
        path = Path(source).expanduser().resolve()
        if path.name.endswith(".json") and not path.is_dir():
            return str(path.parent), path.name
        return str(path), FEED_FILE
    trimmed = source.rstrip("/")
    head, _, tail = trimmed.rpartition("/")
    if tail.endswith(".json") and head and not head.endswith(":/"):
        return head, tail
    return trimmed or source, FEED_FILE


def _local_version(path: Path) -> str:
    """A local file's version for change detection (it is replaced by rename on publish)."""
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"{st.st_ino}-{st.st_mtime_ns}"
