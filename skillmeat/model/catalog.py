"""What the static catalog shows: plain data gathered once, then rendered into pages and JSON.

Everything here is read-only and already resolved (no stores, no I/O), so the page renderer,
the JSON API writer and the tests all work from the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where each piece lives on the built site (relative to the site root, '/' separated).
API_DIR = "api"
SCHEMA_DIR = "api/schemas"
AGENT_SKILLS_DIR = ".well-known/agent-skills"
CATALOG_FEED_FORMAT = "skillmeat-catalog-feed/1"
CATALOG_FEED_NAMESPACE = "skillmeat-catalog"
# MkDocs builds README.md as its directory's index.md (and drops it when index.md is there
# too), so a page named README or index, in any case, gets a leading '_'. Artifact and
# collection names never start with '_', so the new name is nobody else's.
_INDEX_NAMES = frozenset({"readme", "index"})


def page_name(name: str) -> str:
    """A page's file name (without ``.md``) for an artifact or collection named ``name``."""
    return "_" + name if name.casefold() in _INDEX_NAMES else name


def built(page: str) -> str:
    """The built page (``.html``) MkDocs makes from a docs page or a relative link to one
    (``use_directory_urls: false``)."""
    return page[: -len(".md")] + ".html" if page.endswith(".md") else page


@dataclass(frozen=True)
class CatalogFile:
    path: str  # relative to the artifact's root (SKILL.md, scripts/run.sh, review.md)
    repo_path: str  # path in the collection repository
    size: int
    mode: int  # git mode (0o100644, 0o100755)
    sha256: str


@dataclass(frozen=True)
class Change:
    """One commit of a collection's history, newest first."""

    id: str
    summary: str
    author: str
    time: int  # seconds since the epoch (UTC)


@dataclass
class CatalogArtifact:
    collection: str
    id: str  # TYPE/NAME, NAME may be PLUGIN:BASE
    type: str  # skill, command, agent, hook, mcp
    name: str
    namespace: str
    path: str  # the artifact's path in the collection (skills/x, commands/y.md)
    description: str = ""
    version: str = ""
    tags: list[str] = field(default_factory=list)
    license: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)  # frontmatter fields, as parsed
    body: str = ""  # the main file's text (frontmatter removed) for md types; TOML text otherwise
    files: list[CatalogFile] = field(default_factory=list)
    content_hash: str = ""  # sha256 tree hash (lock / DESIGN §3)
    upstream: dict[str, Any] = field(default_factory=dict)  # manifest entry (source, path, ref, pin)
    source: str = ""  # lock source: a path, a git URL, bundle:NAME@V, market:...
    resolved: str = ""  # lock: resolved commit
    signature: str = "unsigned"  # verified, unverified, unsigned (see Signature below)
    signature_detail: str = ""  # one line: who signed it, or why it is not verified
    last_changed: int = 0  # commit time of the newest commit (0 when unknown)
    # how to get it: {"skillmeat": [shell commands], "claude": [Claude Code /plugin commands]}
    install: dict[str, list[str]] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """Path-safe form of the name: the plugin namespace becomes a directory."""
        return self.name.replace(":", "/")

    def page(self) -> str:
        """This artifact's page, relative to the MkDocs docs dir."""
        folder, _, base = self.slug.rpartition("/")
        slug = f"{folder}/{page_name(base)}" if folder else page_name(base)
        return f"artifacts/{self.collection}/{self.type}/{slug}.md"

    def api_path(self) -> str:
        """This artifact's JSON document, relative to the site root."""
        return f"{API_DIR}/artifacts/{self.type}/{self.slug}.json"


@dataclass
class CatalogCollection:
    name: str
    description: str = ""
    version: str = ""
    license: str = ""
    maintainers: list[str] = field(default_factory=list)
    head: str = ""  # commit id ("" for an empty collection)
    head_signature: str = "unsigned"  # verified, unverified, unsigned
    head_signature_detail: str = ""
    changes: list[Change] = field(default_factory=list)  # recent changes, newest first
    artifacts: list[CatalogArtifact] = field(default_factory=list)  # sorted by id

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.artifacts:
            out[a.type] = out.get(a.type, 0) + 1
        return out

    def page(self) -> str:
        return f"collections/{page_name(self.name)}.md"


@dataclass(frozen=True)
class McpHealth:
    status: str  # healthy, unhealthy, timeout, error... (as `mcp health` reports)
    detail: str = ""
    checked: int = 0  # seconds since the epoch
    latency_ms: float | None = None
    server_name: str = ""
    server_version: str = ""
    protocol: str = ""


@dataclass
class CatalogMcp:
    collection: str
    name: str
    description: str = ""
    transport: str = ""  # stdio, http, sse
    command: str = ""  # the command line (stdio) or the URL (http/sse)
    env: list[str] = field(default_factory=list)  # variable names only, never values
    health: McpHealth | None = None


@dataclass(frozen=True)
class UsagePoint:
    period: str  # a day (YYYY-MM-DD) or week label
    count: int


@dataclass(frozen=True)
class TopArtifact:
    id: str
    count: int
    last_used: int  # seconds since the epoch


@dataclass(frozen=True)
class Cleanup:
    id: str
    reason: str


@dataclass
class Analytics:
    days: int = 30
    usage: list[UsagePoint] = field(default_factory=list)  # oldest first, one per period
    top: list[TopArtifact] = field(default_factory=list)
    cleanup: list[Cleanup] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(p.count for p in self.usage)


@dataclass(frozen=True)
class MarketEntry:
    marketplace: str
    broker: str  # feed, git, claude-plugin, mcp-registry
    name: str
    version: str
    type: str
    description: str = ""
    verified: bool = False
    status: str = "published"
    publisher: str = ""
    artifacts: tuple[str, ...] = ()


@dataclass
class CatalogMarket:
    name: str
    broker: str
    source: str
    verified: bool  # its feed verified against trusted keys
    detail: str = ""  # one line: signer, or why not verified, or why no listings
    entries: list[MarketEntry] = field(default_factory=list)
    feed: bytes | None = None  # the exact signed feed bytes (feed and git brokers only)


@dataclass
class Catalog:
    title: str
    generated: str  # UTC, YYYY-MM-DDTHH:MM:SSZ
    collections: list[CatalogCollection] = field(default_factory=list)
    mcp: list[CatalogMcp] = field(default_factory=list)
    analytics: Analytics = field(default_factory=Analytics)
    markets: list[CatalogMarket] = field(default_factory=list)
    site_url: str = ""  # where the site will be served ("" when unknown: links stay relative)

    def artifacts(self) -> list[CatalogArtifact]:
        return [a for c in self.collections for a in c.artifacts]
