"""The one interface every marketplace broker implements, and what it returns.

A broker reads one marketplace: ``refresh`` fetches (and, where the marketplace is signed,
verifies) its index into the cache; ``listings`` reads the cached index; ``fetch`` brings one
listing's content to disk, checked against its listing before anyone opens it. Brokers that
can publish also implement ``publish``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from skillmeat.services.trust import TrustSet

STATUSES = ("published", "draft", "yanked")


@dataclass(slots=True)  # not frozen: a 100,000-listing feed maps ~3x faster
class MarketListing:
    """One installable thing a marketplace lists (treat it as read-only)."""

    id: str                      # unique within its marketplace, e.g. "pdf-summary@1.0.0"
    type: str                    # skill | command | agent | hook | mcp | bundle | plugin
    name: str
    version: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    publisher: str = ""
    status: str = "published"    # published | draft | yanked
    reason: str = ""             # why it was yanked
    verified: bool = False       # the marketplace's index was signed by trusted keys
    bundle_url: str = ""         # feed brokers: where the bundle is (relative to the feed)
    sha256: str = ""             # ... and what it must hash to
    size: int = 0
    source: str = ""             # other brokers: their own locator (plugin source, server.json)
    artifacts: tuple[str, ...] = ()  # artifact ids inside, when known
    marketplace: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "name": self.name, "version": self.version,
                "description": self.description, "tags": list(self.tags),
                "publisher": self.publisher, "status": self.status, "reason": self.reason,
                "verified": self.verified, "bundle": {"url": self.bundle_url,
                                                      "sha256": self.sha256, "size": self.size},
                "source": self.source, "artifacts": list(self.artifacts),
                "marketplace": self.marketplace}


@dataclass(frozen=True)
class RefreshResult:
    changed: bool                # the cached index changed
    transferred: int             # bytes downloaded (0 when the index was unchanged)
    listings: int
    version: int | None = None   # the feed version, for signed feeds
    detail: str = ""


@dataclass(frozen=True)
class Fetched:
    """What ``fetch`` brought: a bundle file (verified import) or a directory tree to add from."""

    kind: str                    # "bundle" or "tree"
    path: Path
    expect: tuple[str, str] | None = None   # bundles: the (name, version) the listing promised


@dataclass
class BrokerContext:
    cache: Path                  # this marketplace's cache directory (created on demand)
    state: Path                  # this marketplace's client state directory (last seen versions)
    trust: TrustSet
    now: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC))  # fixed once per run
    options: dict[str, str] = field(default_factory=dict)


class Broker(Protocol):
    kind: ClassVar[str]
    name: str
    source: str

    def refresh(self) -> RefreshResult: ...

    def listings(self) -> list[MarketListing]: ...

    def fetch(self, listing: MarketListing, dest: Path) -> Fetched: ...


class BrokerFactory(Protocol):
    def __call__(self, name: str, source: str, ctx: BrokerContext) -> Broker: ...
