"""Marketplaces: registered in the user's config, read through brokers, searched, installed.

Installing goes through the verified paths only: a bundle from a feed is checked against its
listing (sha256, size) and then imported like any bundle (its name and version must be the
listing's); an unsigned marketplace's listing (a Claude Code plugin, an MCP Registry entry)
is installed only with ``allow_unverified``.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import check_part
from skillmeat.model.errors import (
    AmbiguousError,
    BadInputError,
    ConfigError,
    ConflictError,
    NotFoundError,
    SignatureError,
    SkillmeatError,
)
from skillmeat.services.brokers import registry
from skillmeat.services.brokers.base import Broker, BrokerContext, MarketListing, RefreshResult
from skillmeat.services.refs import trust_for
from skillmeat.store import gitcli
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home


@dataclass(frozen=True)
class Marketplace:
    name: str
    source: str
    kind: str
    keys: tuple[str, ...] = ()   # pinned feed keys (OpenSSH lines), when given at add time

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "type": self.kind, "keys": list(self.keys)}


def marketplaces(home: Home) -> dict[str, Marketplace]:
    where = str(home.paths.config)
    out = {}
    for name, entry in home.config.section("marketplaces").items():
        if not isinstance(entry.get("source"), str):
            raise ConfigError(where, f"marketplaces.{name}.source must be a string")
        keys = entry.get("keys", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError(where, f"marketplaces.{name}.keys must be a list of strings")
        out[name] = Marketplace(name, entry["source"], str(entry.get("type") or
                                                           registry.detect_kind(entry["source"])),
                                tuple(keys))
    return out


def get(home: Home, name: str) -> Marketplace:
    found = marketplaces(home).get(name)
    if found is None:
        raise NotFoundError(f"no marketplace '{name}'",
                            hint="see `skillmeat marketplace list`, or `skillmeat marketplace add`")
    return found


def _absolute(source: str) -> str:
    if "://" in source or source.startswith("github:") or gitcli.is_git_url(source):
        return source
    return str(Path(source).expanduser().resolve())


def context(home: Home, mp: Marketplace, now: datetime.datetime | None = None,
            store: CollectionStore | None = None) -> BrokerContext:
    return BrokerContext(cache=home.paths.cache / "marketplaces" / mp.name,
                         state=home.paths.state / "feeds" / mp.name,
                         trust=trust_for(home, store),
                         now=now or datetime.datetime.now(datetime.UTC),
                         options={"keys": "\n".join(mp.keys)} if mp.keys else {})


def broker(home: Home, mp: Marketplace, now: datetime.datetime | None = None,
           store: CollectionStore | None = None) -> Broker:
    return registry.make(mp.kind, mp.name, mp.source, context(home, mp, now, store))


def add(home: Home, name: str, source: str, kind: str | None = None, keys: Sequence[str] = (),
        now: datetime.datetime | None = None) -> tuple[Marketplace, RefreshResult]:
    """Register a marketplace after a first successful (verified) refresh."""
    check_part(name, "marketplace name")
    source = _absolute(source)
    kind = kind or registry.detect_kind(source)
    mp = Marketplace(name, source, kind, tuple(keys))
    with home.lock():
        if name in marketplaces(home):
            raise ConflictError(f"marketplace '{name}' already exists",
                                hint=f"remove it first: skillmeat marketplace remove {name}")
        _forget(home, name)
        try:
            result = _empty(mp) or broker(home, mp, now).refresh()
        except BaseException:
            _forget(home, name)
            raise
        entry: dict[str, Any] = {"source": source, "type": kind}
        if keys:
            entry["keys"] = list(keys)
        home.config.set_path(["marketplaces", name], entry)
    return mp, result


def _empty(mp: Marketplace) -> RefreshResult | None:
    """A feed or git marketplace nobody has published to yet (so there is nothing to verify)."""
    from skillmeat.model.feed import FEED_FILE

    if mp.kind == "feed" and not mp.source.startswith(("http://", "https://")):
        from skillmeat.store.vaultfs import VaultFS

        if mp.source.endswith(".json"):  # a feed file by name: it must be there
            root, _, file = mp.source.rpartition("/")
            if VaultFS(root).stat(file) is None:
                raise NotFoundError(f"no feed at {mp.source}",
                                    hint="give the vault's directory, or the path of its feed")
            return None
        if VaultFS(mp.source).stat(FEED_FILE) is None:
            return RefreshResult(False, 0, 0, None, "empty: nothing published yet")
    if mp.kind == "git":
        from skillmeat.store import gitcli

        url = mp.source.removeprefix("git+")
        if not gitcli.run_git(["ls-remote", url, "refs/skillmeat/feed"], source=url).strip():
            return RefreshResult(False, 0, 0, None, "empty: nothing published yet")
    return None


def _forget(home: Home, name: str) -> None:
    for path in (home.paths.cache / "marketplaces" / name, home.paths.state / "feeds" / name):
        shutil.rmtree(path, ignore_errors=True)


def remove(home: Home, name: str) -> Marketplace:
    with home.lock():
        mp = get(home, name)
        home.config.unset_path(["marketplaces", name])
        _forget(home, name)
    return mp


def refresh(home: Home, names: Sequence[str] = (), now: datetime.datetime | None = None
            ) -> dict[str, RefreshResult]:
    chosen = [get(home, n) for n in names] if names else list(marketplaces(home).values())
    with home.lock():
        return {mp.name: _empty(mp) or broker(home, mp, now).refresh() for mp in chosen}


def listings(home: Home, names: Sequence[str] = (), now: datetime.datetime | None = None,
             problems: list[str] | None = None) -> list[MarketListing]:
    """Every listing of the named marketplaces (default: all). With ``problems``, a
    marketplace that fails is skipped and its one-line error collected there instead."""
    chosen = [get(home, n) for n in names] if names else list(marketplaces(home).values())
    out: list[MarketListing] = []
    for mp in chosen:
        try:
            if mp.kind in ("feed", "git") and _empty(mp) is not None:
                continue
            out += broker(home, mp, now).listings()
        except SkillmeatError as exc:
            if problems is None:
                raise
            problems.append(f"marketplace {mp.name} skipped: {exc}")
    return out


@dataclass
class SearchIndex:
    """Listings with a lower-cased haystack each, built once, scanned per query."""

    items: list[MarketListing]
    hay: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.hay = [" ".join((x.id, x.name, x.description, " ".join(x.tags))).lower()
                    for x in self.items]

    def search(self, query: str, *, type_: str | None = None, tag: str | None = None,
               drafts: bool = False, yanked: bool = False) -> list[MarketListing]:
        words = query.lower().split()
        out = []
        for item, hay in zip(self.items, self.hay, strict=True):
            if item.status == "draft" and not drafts:
                continue
            if item.status == "yanked" and not yanked:
                continue
            if type_ and item.type != type_:
                continue
            if tag and tag not in item.tags:
                continue
            if all(w in hay for w in words):
                out.append(item)
        return out


def find(home: Home, ref: str, now: datetime.datetime | None = None, *,
         drafts: bool = False) -> MarketListing:
    """``[MARKETPLACE:]ID`` (an id, or a name with an optional ``@VERSION``) to one listing.

    A bare name means the newest published version; verified listings win over unverified
    ones, and a name found in several marketplaces must be qualified (``MARKETPLACE:``).
    """
    from skillmeat.model.feed import version_key

    market, sep, rest = ref.partition(":")
    names: Sequence[str] = ()
    if sep and market in marketplaces(home):
        names, ref = (market,), rest
    problems: list[str] = []
    pool = listings(home, names, now, None if names else problems)
    found = [x for x in pool if x.id == ref]
    if not found:
        name, _, version = ref.partition("@")
        found = [x for x in pool if x.name == name and (not version or x.version == version)]
        if not version and found:
            live = [x for x in found if x.status == "published" or (drafts and x.status == "draft")]
            found = live or [x for x in found if x.status == "yanked"] or found
    found = [x for x in found if x.verified] or found
    if not found:
        why = f" ({'; '.join(problems)})" if problems else ""
        raise NotFoundError(f"no listing '{ref}' in {', '.join(names) or 'any marketplace'}{why}",
                            hint="search with `skillmeat marketplace search QUERY`")
    markets = sorted({x.marketplace for x in found})
    if len(markets) > 1:
        raise AmbiguousError(ref, [f"{x.marketplace}:{x.id}" for x in found])
    newest = max(found, key=lambda x: version_key(x.version))
    found = [x for x in found if x.version == newest.version]
    if len(found) > 1:
        raise AmbiguousError(ref, [x.id for x in found])
    return found[0]


@dataclass(frozen=True)
class InstallResult:
    listing: MarketListing
    how: str                 # "bundle" or "tree"
    result: Any              # importer.ImportResult or artifacts.AddResult


def install(home: Home, store: CollectionStore, ref: str, *, strategy: str | None = None,
            allow_unverified: bool = False, allow_yanked: bool = False, dry_run: bool = False,
            drafts: bool = False, now: datetime.datetime | None = None) -> InstallResult:
    listing = find(home, ref, now, drafts=drafts)
    if listing.status == "draft" and not drafts:
        raise ConflictError(f"{listing.marketplace}:{listing.id} is a draft",
                            hint="pass --drafts to install drafts")
    if listing.status == "yanked" and not allow_yanked:
        raise ConflictError(f"{listing.marketplace}:{listing.id} was yanked: "
                            f"{listing.reason or 'no reason given'}",
                            hint="pass --allow-yanked to install it anyway")
    if not listing.verified and not allow_unverified:
        raise SignatureError(f"{listing.marketplace}:{listing.id}",
                             "unverified listing (the marketplace is not signed)",
                             hint="pass --allow-unverified to install it anyway")
    mp = get(home, listing.marketplace)
    b = broker(home, mp, now, store)
    with tempfile.TemporaryDirectory(prefix="skillmeat-install-") as tmp:
        fetched = b.fetch(listing, Path(tmp))
        if fetched.kind == "bundle":
            from skillmeat.services.importer import import_bundle

            # the trusted feed pinned this bundle's sha256: its own signer need not be trusted
            result: Any = import_bundle(home, store, fetched.path, trust_for(home, store),
                                        strategy=strategy, dry_run=dry_run,
                                        allow_unsigned=listing.verified,
                                        where=f"{listing.marketplace}:{listing.id}",
                                        expect=fetched.expect)
            return InstallResult(listing, "bundle", result)
        return InstallResult(listing, "tree", _install_tree(home, store, listing, fetched.path,
                                                            dry_run))


def _install_tree(home: Home, store: CollectionStore, listing: MarketListing, path: Path,
                  dry_run: bool) -> Any:
    if listing.type == "mcp" and path.is_file():
        from skillmeat.services.brokers.mcp_registry import install_server

        return install_server(home, store, path, dry_run=dry_run)
    from skillmeat.services.artifacts import add
    from skillmeat.services.brokers.claude_plugin import selection_for

    return add(home, store, str(path), selection=selection_for(listing), dry_run=dry_run)


def check_ref(text: str) -> tuple[str, str]:
    """``ID@VERSION`` -> (name, version) for yank."""
    name, sep, version = text.rpartition("@")
    if not sep or not name or not version:
        raise BadInputError(f"'{text}' is not NAME@VERSION", hint="e.g. pdf-summary@1.0.0")
    return name, version
