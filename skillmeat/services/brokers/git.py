"""The Git broker: a marketplace kept in a git remote's signed refs.

The remote's ``refs/skillmeat/feed`` is a linear history of signed commits whose tree holds
``feed.json`` (a signed feed, as for the feed broker); each listing's bundle is the signed
one-commit ref ``refs/skillmeat/bundles/<name>/<version>``, whose tree the bundle is rebuilt
from byte for byte. Everything is fetched into a bare cache repository under quarantine refs
and moves to its real ref only once verified: every new feed commit signed by a trusted key,
the feed ref only fast-forwarding, the feed itself passing ``feedcheck``, and a bundle
matching its listing's sha256 and size.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any, ClassVar

from skillmeat.model.errors import (
    BadInputError,
    NotFoundError,
    SignatureError,
    SkillmeatError,
    SourceError,
)
from skillmeat.model.feed import FEED_FILE, MAX_FEED
from skillmeat.services.brokers.base import BrokerContext, Fetched, MarketListing, RefreshResult
from skillmeat.services.brokers.feed import SignedFeedBroker
from skillmeat.services.bundle import BUNDLE_REFS, DEFAULT_LIMITS, bundle_ref
from skillmeat.services.refs import verify_commit
from skillmeat.store import gitcli
from skillmeat.store.bundletree import bare_repo, tree_blob, write_bundle
from skillmeat.store.refstore import PREFIX, RefStore
from skillmeat.store.vault_errors import redact

FEED_REF = PREFIX + "feed"
INCOMING = "refs/skillmeat-incoming/"
CACHE_REPO = "repo.git"
_SCP_LIKE = re.compile(r"^[^/]+:")


def git_url(source: str) -> str:
    """The URL git is given: ``git+`` dropped, a local path made absolute."""
    url = source.removeprefix("git+")
    if not url or url.startswith("-"):
        raise BadInputError(f"not a git remote: {url!r}")
    if "://" in url or _SCP_LIKE.match(url):
        return url
    return str(Path(url).expanduser().resolve())


class GitBroker(SignedFeedBroker):
    kind: ClassVar[str] = "git"

    def __init__(self, name: str, source: str, ctx: BrokerContext) -> None:
        super().__init__(name, source, ctx)
        self.url = git_url(source)

    def repo(self) -> Any:
        return bare_repo(self.ctx.cache / CACHE_REPO)

    # -- the feed --

    def refresh(self) -> RefreshResult:
        self._listings = None
        repo = self.repo()
        old = _target(repo, FEED_REF)
        quarantine = INCOMING + FEED_REF.removeprefix(PREFIX)
        try:
            new = self._fetch(repo, FEED_REF, quarantine)
            moved = new != old
            if moved:
                self._verify_history(repo, old, new)
            data = tree_blob(repo, new, FEED_FILE, MAX_FEED, f"{self.where} {FEED_REF}")
            if data is None:
                raise SignatureError(f"{self.where} {FEED_REF}", f"no {FEED_FILE} in its tree",
                                     hint="ask the marketplace's publisher to publish again")
            checked = self.accept(data)
            if moved:
                repo.references.create(FEED_REF, new, force=True)
        finally:
            _delete(repo, quarantine)
        return self.result(checked, changed=moved, transferred=len(data) if moved else 0,
                           detail="" if moved else "unchanged")

    def _verify_history(self, repo: Any, old: str | None, new: str) -> None:
        """Fast-forward only; every new commit signed by a trusted key; no merges."""
        refs = RefStore(repo)
        what = f"{self.where} {FEED_REF}"
        if old is not None and not refs.is_ancestor(old, new):
            raise SignatureError(what, f"history rewritten ({new[:12]} does not descend from "
                                 f"{old[:12]} seen before)",
                                 hint="someone forced the feed ref; keep using the one you have")
        for i, commit in enumerate(refs.walk(new, stop=old)):
            if len(commit.parents) > 1:
                raise SignatureError(what, f"merge commit {commit.id[:12]} (the feed ref must be "
                                     "a linear history)")
            try:
                # the tip is signed now; its ancestors are vouched for by it
                verify_commit(commit, self.ctx.trust, self.ctx.now if i == 0 else None,
                              historical=i > 0)
            except SignatureError as exc:
                raise SignatureError(f"{what} at {commit.id[:12]}", exc.reason,
                                     hint=exc.hint) from None

    def bundle_url(self, entry: dict[str, Any]) -> str:
        return f"{BUNDLE_REFS}{entry.get('name', '')}/{entry.get('version', '')}"

    # -- bundles --

    def fetch(self, listing: MarketListing, dest: Path) -> Fetched:
        mine = self.verified(listing)
        ref = bundle_ref(mine.name, mine.version)
        what = f"{self.where} {ref}"
        repo = self.repo()
        quarantine = INCOMING + ref.removeprefix(PREFIX)
        try:
            tip = self._fetch(repo, ref, quarantine)
            commit = RefStore(repo).commit(tip)
            if commit.parents:
                raise SignatureError(what, "a bundle ref must be one commit")
            try:
                verify_commit(commit, self.ctx.trust)
            except SignatureError as exc:
                raise SignatureError(what, exc.reason, hint=exc.hint) from None

            def write(tmp: Path) -> None:
                write_bundle(repo, tip, tmp, where=what, cap=DEFAULT_LIMITS.max_total)

            fetched = self.deliver(mine, dest, write)
            repo.references.create(ref, tip, force=True)
        finally:
            _delete(repo, quarantine)
        return fetched

    # -- git --

    def _fetch(self, repo: Any, ref: str, into: str) -> str:
        """Fetch the remote's ``ref`` into the quarantine ref ``into``; return its commit."""
        try:
            gitcli.run_git(["-C", str(self.ctx.cache / CACHE_REPO), "fetch", "--quiet", "--no-tags",
                            "--no-write-fetch-head", self.url, f"+{ref}:{into}"],
                           source=redact(self.url))
        except SourceError as exc:
            if "couldn't find remote ref" in exc.detail or "could not find remote ref" in exc.detail:
                raise NotFoundError(f"{self.where}: {redact(self.url)} has no {ref}",
                                    hint="is it a SkillMeat marketplace? publish to it first") from None
            raise SkillmeatError(f"{self.where}: cannot fetch {ref} from {redact(self.url)}: "
                                 f"{exc.detail}", hint="check the URL and your git credentials") from None
        tip = _target(repo, into)
        if tip is None:
            raise NotFoundError(f"{self.where}: {redact(self.url)} has no {ref}")
        return tip


def _target(repo: Any, ref: str) -> str | None:
    found = repo.references.get(ref)
    return str(found.target) if found is not None else None


def _delete(repo: Any, ref: str) -> None:
    with contextlib.suppress(KeyError, ValueError):
        if ref in repo.references:
            repo.references.delete(ref)
