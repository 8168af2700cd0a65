"""``publish``: build and sign a bundle, put it in a marketplace's store, list it in the feed.

A feed marketplace on a directory or object store is a vault: the bundle is uploaded, then
the listing is added and the feed re-signed with compare-and-swap (``vaults.update_feed``).
A git marketplace gets the signed bundle ref and a new signed commit on
``refs/skillmeat/feed`` whose parent is the remote's tip; the push never forces, so when
another publisher got there first the feed is rebuilt on top of theirs and pushed again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model import feed as feedmodel
from skillmeat.model.errors import (
    BadInputError,
    ConflictError,
    NotFoundError,
    SignatureError,
    SkillmeatError,
)
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services import bundle, vaults
from skillmeat.services.marketplaces import Marketplace
from skillmeat.services.refs import signed_update, trust_for, verify_ref
from skillmeat.store import gitcli
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.refstore import RefStore

FEED_REF = "refs/skillmeat/feed"
PUSH_ATTEMPTS = 8


@dataclass(frozen=True)
class PublishResult:
    name: str
    version: str
    sha256: str
    size: int
    status: str
    location: str
    dry_run: bool
    artifacts: tuple[str, ...]
    changed: bool = True  # False: the marketplace already listed exactly this bundle

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256,
                "size": self.size, "status": self.status, "location": self.location,
                "dry_run": self.dry_run, "artifacts": list(self.artifacts),
                "changed": self.changed}


def _vault_of(mp: Marketplace) -> vaults.Vault:
    if mp.kind == "feed":
        return vaults.Vault(mp.name, mp.source, "fsspec")
    if mp.kind == "git":
        return vaults.Vault(mp.name, mp.source, "git")
    raise BadInputError(f"marketplace '{mp.name}' ({mp.kind}) cannot be published to",
                        hint="publish to a SkillMeat feed (a directory, s3://, gs://) or a git remote")


def publish(home: Home, store: CollectionStore, mp: Marketplace, names: Sequence[str],
            key: PrivateKey, *, all_: bool = False, tags: Sequence[str] = (),
            bundle_name: str | None = None, version: str | None = None, draft: bool = False,
            dry_run: bool = False) -> PublishResult:
    _vault_of(mp)  # refuse a marketplace that cannot be published to before building
    status = "draft" if draft else "published"
    with tempfile.TemporaryDirectory(prefix="skillmeat-publish-") as tmp:
        if dry_run:
            planned = bundle.select(store, store.repo.head() or "HEAD", names, all_=all_, tags=tags)
            return PublishResult(bundle_name or (planned[0].base if len(planned) == 1
                                                 else store.manifest().name),
                                 version or "(default)", "", 0, status, mp.source, True,
                                 tuple(str(a) for a in planned))
        built = bundle.build(home, store, names, Path(tmp) / "bundle.skillmeat-pack", key,
                             all_=all_, tags=tags, name=bundle_name, version=version)
        return publish_built(home, store, mp, built, key, status=status)


def publish_built(home: Home, store: CollectionStore, mp: Marketplace, built: bundle.BuildResult,
                  key: PrivateKey, *, status: str = "published", admit: bool = False) -> PublishResult:
    """List a bundle already built (and its ref signed) in a marketplace; re-sign the feed.
    A git marketplace that already lists exactly this bundle gets no new feed commit.
    ``admit``: the caller vouches for our key (the team lists it), so a git marketplace whose
    key set lacks it gets it added by this signed update (see ``_update_git_feed``)."""
    vault = _vault_of(mp)
    m = built.manifest
    description, found_tags = _about(store, [str(a.id) for a in m.artifacts])
    changed = True
    if vault.kind == "git":
        location, changed = _publish_git(home, store, vault, built, key, status, description,
                                         found_tags, admit)
    else:
        location = vaults.upload(home, vault, store, built, key, trust_for(home, store),
                                 status=status, description=description, tags=found_tags).location
    return PublishResult(m.name, m.version, built.sha256, built.size, status, location,
                         False, tuple(str(a.id) for a in m.artifacts), changed)


def _about(store: CollectionStore, ids: list[str]) -> tuple[str, list[str]]:
    """A listing's description and tags: the artifact's own, or the collection's for several."""
    from skillmeat.services.index import load_index

    entries = {e["id"]: e for e in load_index(store)}
    tagged = store.manifest().artifacts
    tags = sorted({t for i in ids for t in (*entries.get(i, {}).get("fm_tags", []),
                                             *(tagged[i].tags if i in tagged else ()))})
    if len(ids) == 1 and ids[0] in entries:
        return str(entries[ids[0]]["description"]), tags
    return store.manifest().description or f"{len(ids)} artifacts", tags


def yank(home: Home, store: CollectionStore | None, mp: Marketplace, name: str, version: str,
         reason: str, key: PrivateKey) -> dict[str, Any]:
    """Mark a listing yanked (still verifiable, never installed by default) and re-sign."""
    if not reason.strip():
        raise BadInputError("a yank needs a reason", hint="pass --reason TEXT")
    vault = _vault_of(mp)
    found: dict[str, Any] = {}

    def mark(feed: feedmodel.Feed) -> None:
        entry = feed.find(name, version)
        if entry is None:
            raise NotFoundError(f"marketplace '{mp.name}' lists no {name}@{version}")
        entry["status"], entry["reason"] = "yanked", " ".join(reason.split())
        found.update(entry)

    if vault.kind == "git":
        if store is None:
            raise BadInputError("yanking from a git marketplace needs a collection",
                                hint="run it inside a collection, or pass -C NAME")
        _update_git_feed(home, store, vault, key, mark)
    else:
        vaults.update_feed(vault, key, trust_for(home, store), mark,
                           state=vaults.publisher_state(home, vault.url))
    return found


# --- git marketplaces -----------------------------------------------------------------------


def _publish_git(home: Home, store: CollectionStore, vault: vaults.Vault, built: bundle.BuildResult,
                 key: PrivateKey, status: str, description: str, tags: list[str],
                 admit: bool = False) -> tuple[str, bool]:
    vaults.push_bundle_ref(vault, store, built)
    m = built.manifest
    entry = vaults.feed_entry(m, built, built.ref, status, description, tags)

    def add_listing(feed: feedmodel.Feed) -> bool:
        listed = feed.find(m.name, m.version)
        if listed is not None:
            vaults.check_same_bundle(vault, listed, built)
            return False
        feed.listings.append(entry)
        feed.listings.sort(key=lambda e: (str(e.get("name")),
                                          feedmodel.version_key(str(e.get("version")))))
        return True

    changed = _update_git_feed(home, store, vault, key, add_listing, admit=admit)
    return f"{vault.git_url} {built.ref}", changed


def _update_git_feed(home: Home, store: CollectionStore, vault: vaults.Vault, key: PrivateKey,
                     change: Callable[[feedmodel.Feed], bool | None], *,
                     admit: bool = False) -> bool:
    """Append a signed feed commit on top of the remote's tip; retry when the push loses.
    ``change`` returning False means there is nothing to change: no commit, no push.

    The remote's feed is verified as a client would before anything is signed on top of it:
    every commit signed by a trusted key, and the feed itself signed by one (or by us).
    Our key must be in the feed's key set; with ``admit`` it is added to it, when the feed as
    it stands is signed by its own key set (a client that trusts our key accepts the addition).
    """
    refs = RefStore(store.repo.repo)
    trust = trust_for(home, store)
    state = vaults.publisher_state(home, vault.git_url)
    for _ in range(PUSH_ATTEMPTS):
        _fetch_feed(store, vault)
        tip = refs.read(FEED_REF)
        feed = None
        if tip:
            verify_ref(store, trust, FEED_REF)
            feed = feed_at(store, tip, vault.name)
            if not vaults.signed_by_trusted(feed, key, trust):
                raise SignatureError(f"marketplace {vault.name} feed", "not signed by a key you "
                                     "trust", hint="trust the marketplace's key before publishing")
        vaults.check_not_replayed(f"marketplace {vault.name} feed", feed, state)
        feed = feed or feedmodel.Feed(vault.name)
        mine = key.public.openssh().split()[:2]
        if feed.keys and not any(k.split()[:2] == mine for k in feed.keys):
            _admit(feed, key, vault.name, admit)
        if not feed.keys:
            feed.keys = [" ".join(mine)]
        if change(feed) is False:
            return False
        vaults.bump_and_sign(feed, key)
        signed_update(store, "feed", {feedmodel.FEED_FILE: feed.to_json()},
                      f"Feed {vault.name} version {feed.version}", key)
        outcomes = gitcli.push_refs(store.path, vault.git_url, [FEED_REF])
        if all(o.ok for o in outcomes):
            vaults.record_written(feed, state)
            return True
    raise ConflictError(f"marketplace {vault.name}'s feed kept moving: gave up after "
                        f"{PUSH_ATTEMPTS} pushes", hint="retry when the other publishers are done")


def _admit(feed: feedmodel.Feed, key: PrivateKey, where: str, admit: bool) -> None:
    """Add our key to the feed's key set (the caller vouched for it), or refuse."""
    if not admit:
        raise ConflictError(f"your key {key.public.fingerprint()} is not in the key set of "
                            f"marketplace {where}",
                            hint="ask a holder of that key set to add your key, or list it in "
                            "the team's .skillmeat/allowed_signers and push that commit")
    if not _signed_by_own_keys(feed):
        raise SignatureError(f"marketplace {where} feed", "not signed by its own key set: your "
                             "key is not added to it", hint="ask a holder of that key set to "
                             "publish again")
    feed.keys = [*feed.keys, " ".join(key.public.openssh().split()[:2])]


def _signed_by_own_keys(feed: feedmodel.Feed) -> bool:
    """At least ``threshold`` distinct keys of the feed's key set signed it."""
    from skillmeat.model import sshsig
    from skillmeat.model.sshkeys import PublicKey

    own = {PublicKey.parse(k).raw for k in feed.keys}
    body = feedmodel.canonical(feed.signed())
    signers = set()
    for sig in feed.signatures:
        try:
            raw = sshsig.verify(sig["sig"], body, feedmodel.NAMESPACE).public_key.raw
        except SignatureError:
            continue
        if raw in own:
            signers.add(raw)
    return len(signers) >= max(1, feed.threshold)


def _fetch_feed(store: CollectionStore, vault: vaults.Vault) -> None:
    """Make our feed ref the remote's (it may not exist there yet)."""
    refs = RefStore(store.repo.repo)
    out = gitcli.run_git(["ls-remote", vault.git_url, FEED_REF], source=vault.git_url)
    remote_tip = out.split("\t", 1)[0].strip() if out.strip() else None
    if remote_tip is None:
        if refs.read(FEED_REF) is not None:
            store.repo.repo.references.delete(FEED_REF)
        return
    gitcli.run_git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", vault.git_url,
                    f"+{FEED_REF}:{FEED_REF}"], cwd=store.path, source=vault.git_url)


def feed_at(store: CollectionStore, commit: str, where: str) -> feedmodel.Feed:
    files = store.repo.files_at(commit)
    if feedmodel.FEED_FILE not in files:
        raise SkillmeatError(f"{FEED_REF} of {where} holds no {feedmodel.FEED_FILE}")
    return feedmodel.parse(store.repo.blob(files[feedmodel.FEED_FILE][1]), f"{where} {FEED_REF}")
