"""Vaults: where a team keeps its bundles — any fsspec URL, or a git remote.

An fsspec vault holds ``bundles/<name>/<version>.skillmeat-pack`` and a signed
``feed.json`` listing them. Publishing uploads the bundle, checks it, and only then
replaces the feed, so a reader never sees a feed naming a missing bundle. A git vault
holds the signed bundle refs ``refs/skillmeat/bundles/<name>/<version>`` (pushed, never
forced); a bundle is rebuilt byte for byte from its ref's tree.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model import feed as feedmodel
from skillmeat.model import sshsig
from skillmeat.model.artifact import check_part
from skillmeat.model.errors import (
    BadInputError,
    ConfigError,
    ConflictError,
    NotFoundError,
    SignatureError,
    SkillmeatError,
    SourceError,
)
from skillmeat.model.pack import SUFFIX, PackManifest, check_version
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services.bundle import (
    BUNDLE_REFS,
    DEFAULT_LIMITS,
    BuildResult,
    bundle_ref,
    write_from_ref,
)
from skillmeat.services.feedcheck import sign_feed
from skillmeat.services.refs import verify_commit
from skillmeat.services.trust import TrustSet, Verdict, verify
from skillmeat.store import gitcli
from skillmeat.store.collection import CollectionStore
from skillmeat.store.files import process_lock, sha256_file
from skillmeat.store.home import Home
from skillmeat.store.refstore import RefStore

KINDS = ("fsspec", "git")
INCOMING = "refs/skillmeat-incoming/"
FEED_LIFETIME = datetime.timedelta(days=365)


@dataclass(frozen=True)
class Vault:
    name: str
    url: str
    kind: str
    options: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "type": self.kind, "options": self.options}

    @property
    def git_url(self) -> str:
        return self.url.removeprefix("git+")

    def fs(self) -> Any:
        from skillmeat.store.vaultfs import VaultFS

        return VaultFS(self.url, self.options)


@dataclass(frozen=True)
class Listing:
    name: str
    version: str
    size: int
    sha256: str
    artifacts: tuple[str, ...] = ()
    publisher: str = ""
    location: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "size": self.size,
                "sha256": self.sha256, "artifacts": list(self.artifacts),
                "publisher": self.publisher, "location": self.location}


def detect_kind(url: str) -> str:
    return "git" if gitcli.is_git_url(url) else "fsspec"


def add(home: Home, name: str, url: str, options: dict[str, str], kind: str | None = None) -> Vault:
    from skillmeat.store.vaultfs import check_options

    check_part(name, "vault name")
    kind = kind or detect_kind(url)
    if kind not in KINDS:
        raise BadInputError(f"unknown vault type '{kind}'", hint="use fsspec or git")
    check_options(options)
    if kind == "fsspec":
        url = _absolute(url)
    with home.lock():
        if name in vaults(home):
            raise ConflictError(f"vault '{name}' already exists",
                                hint=f"remove it first: skillmeat vault remove {name}")
        entry: dict[str, Any] = {"url": url, "type": kind}
        if options:
            entry["options"] = dict(options)
        home.config.set_path(["vaults", name], entry)
    return Vault(name, url, kind, dict(options))


def _absolute(url: str) -> str:
    if "://" in url:
        return url
    return Path(url).expanduser().resolve().as_uri()


def vaults(home: Home) -> dict[str, Vault]:
    where = str(home.paths.config)
    out = {}
    for name, entry in home.config.section("vaults").items():
        if not isinstance(entry.get("url"), str):
            raise ConfigError(where, f"vaults.{name}.url must be a string")
        opts = entry.get("options", {})
        if not isinstance(opts, dict):
            raise ConfigError(where, f"vaults.{name}.options must be a table")
        kind = str(entry.get("type") or detect_kind(entry["url"]))
        out[name] = Vault(name, entry["url"], kind, {str(k): str(v) for k, v in opts.items()})
    return out


def get(home: Home, name: str) -> Vault:
    found = vaults(home).get(name)
    if found is None:
        raise NotFoundError(f"no vault '{name}'", hint="see `skillmeat vault list`, or "
                            "`skillmeat vault add NAME URL`")
    return found


def remove(home: Home, name: str) -> Vault:
    with home.lock():
        vault = get(home, name)
        home.config.unset_path(["vaults", name])
    return vault


def parse_spec(text: str) -> tuple[str, str, str | None]:
    """``VAULT:NAME[@VERSION]`` -> (vault, name, version)."""
    vault, _, rest = text.partition(":")
    name, _, version = rest.partition("@")
    check_part(vault, "vault name")
    check_part(name, "bundle name")
    return vault, name, check_version(version) if version else None


# --- fsspec vaults ------------------------------------------------------------------------


def _bundle_rel(name: str, version: str) -> str:
    return f"bundles/{name}/{version}{SUFFIX}"


def read_feed(vault: Vault, trust: TrustSet | None, now: datetime.datetime | None = None
              ) -> tuple[feedmodel.Feed | None, Verdict | None, str]:
    """The vault's feed (None when it has none yet), its signer's verdict, and any problem."""
    data = vault.fs().read_bytes(feedmodel.FEED_FILE, feedmodel.MAX_FEED)
    if data is None:
        return None, None, ""
    feed = feedmodel.parse(data, f"{vault.url}/{feedmodel.FEED_FILE}")
    if trust is None:
        return feed, None, ""
    body = feedmodel.canonical(feed.signed())
    problem = "unsigned feed"
    for sig in feed.signatures:
        try:
            return feed, verify(sig["sig"], body, feedmodel.NAMESPACE, trust, now,
                                f"vault {vault.name} feed"), ""
        except SignatureError as exc:
            problem = exc.reason
    return feed, None, problem


def _listing(entry: dict[str, Any], location: str) -> Listing:
    bundle = entry.get("bundle", {}) if isinstance(entry.get("bundle"), dict) else {}
    pub = entry.get("publisher", {})
    size = bundle.get("size", 0)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= DEFAULT_LIMITS.max_total:
        raise BadInputError(f"{location}: listing {entry.get('id')!r} has a bad bundle size",
                            hint="the vault's feed.json is damaged")
    return Listing(str(entry.get("name", "")), str(entry.get("version", "")),
                   size, str(bundle.get("sha256", "")),
                   tuple(str(a) for a in entry.get("artifacts", []) if isinstance(a, str)),
                   str(pub.get("name", "")) if isinstance(pub, dict) else "",
                   f"{location.rstrip('/')}/{bundle.get('url', '')}")


def upload(home: Home, vault: Vault, store: CollectionStore, built: BuildResult, key: PrivateKey,
           trust: TrustSet, *, status: str = "published", description: str = "",
           tags: Sequence[str] = ()) -> Listing:
    """Put a built bundle into a vault (git: push its ref; fsspec: upload, check, feed)."""
    if vault.kind == "git":
        return push_bundle_ref(vault, store, built)
    m = built.manifest
    fs = vault.fs()
    rel = _bundle_rel(m.name, m.version)
    feed = _readable_feed(vault, key, trust)
    listed = feed.find(m.name, m.version) if feed is not None else None
    if listed is not None:
        check_same_bundle(vault, listed, built)
        return _listing(listed, vault.url)
    fs.put_file(built.path, rel)
    stat = fs.stat(rel)
    if stat is None or stat[0] != built.size:
        raise SkillmeatError(f"upload of {rel} to {vault.url} did not land whole "
                             f"({stat[0] if stat else 'missing'} of {built.size} bytes)",
                             hint="the vault's feed was not changed; retry")
    entry = feed_entry(m, built, rel, status, description, tags)

    def add_listing(feed: feedmodel.Feed) -> None:
        listed = feed.find(m.name, m.version)
        if listed is not None:
            check_same_bundle(vault, listed, built)
            return
        feed.listings.append(entry)
        feed.listings.sort(key=lambda e: (str(e.get("name")),
                                          feedmodel.version_key(str(e.get("version")))))

    update_feed(vault, key, trust, add_listing, state=publisher_state(home, vault.url))
    return _listing(entry, vault.url)


def publisher_state(home: Home, url: str) -> Path:
    """What this home last wrote into a feed (so an old feed put back is noticed)."""
    return home.paths.state / "published" / f"{hashlib.sha256(url.encode()).hexdigest()[:24]}.json"


def check_not_replayed(where: str, feed: feedmodel.Feed | None, state: Path | None) -> None:
    """Refuse to build on a feed older than the one we last wrote there."""
    from skillmeat.services.feedcheck import digest
    from skillmeat.store.feedstate import load_state

    last = load_state(state) if state is not None else None
    if last is None:
        return
    if feed is None or feed.version < last.version or (
            feed.version == last.version and digest(feed) != last.digest):
        now = "is gone" if feed is None else f"is at version {feed.version}"
        raise SignatureError(where, f"{now}, but you last wrote version {last.version} there "
                             "(an old feed was put back?)",
                             hint=f"restore the newer feed, or delete {state} to build on this one")


def record_written(feed: feedmodel.Feed, state: Path | None) -> None:
    from skillmeat.services.feedcheck import digest
    from skillmeat.store.feedstate import FeedState, save_state

    if state is not None:
        save_state(state, FeedState(feed.version, digest(feed), tuple(feed.keys), feed.threshold,
                                    feed.name))


def check_same_bundle(vault: Vault, listed: dict[str, Any], built: BuildResult) -> None:
    if listed.get("bundle", {}).get("sha256") != built.sha256:
        m = built.manifest
        raise ConflictError(f"{vault.name} already holds {m.name}@{m.version} with other "
                            "content", hint="versions are immutable: pass another --version")


def signed_by_trusted(feed: feedmodel.Feed, key: PrivateKey, trust: TrustSet) -> bool:
    """A valid signature by a key trusted for feeds, or by ``key`` (our own last write)."""
    body = feedmodel.canonical(feed.signed())
    for sig in feed.signatures:
        try:
            verify(sig["sig"], body, feedmodel.NAMESPACE, trust)
            return True
        except SignatureError:
            continue
    return _signed_by(feed, key)


def _readable_feed(vault: Vault, key: PrivateKey, trust: TrustSet) -> feedmodel.Feed | None:
    """The vault's feed, refused unless a trusted key (or ours) signed it."""
    feed, verdict, problem = read_feed(vault, trust)
    if feed is not None and verdict is None and not _signed_by(feed, key):
        raise SignatureError(f"vault {vault.name} feed", problem,
                             hint="trust the key that signed it (`skillmeat keys trust`) before "
                             "publishing on top of it")
    return feed


def update_feed(vault: Vault, key: PrivateKey, trust: TrustSet,
                change: Callable[[feedmodel.Feed], None], attempts: int = 8, *,
                state: Path | None = None) -> feedmodel.Feed:
    """Read, change, re-sign and write the vault's feed without losing another writer's change.

    A directory vault serialises writers with a lock file beside the feed; an object store
    is written optimistically: the feed is re-read just before the write and read back after
    it, and the change is re-applied on top of whatever another writer put there.
    """
    fs = vault.fs()
    for _ in range(attempts):
        with _feed_lock(fs):
            raw = fs.read_bytes(feedmodel.FEED_FILE, feedmodel.MAX_FEED)
            feed = _readable_feed(vault, key, trust) if raw is not None else None
            check_not_replayed(f"vault {vault.name} feed", feed, state)
            feed = feed or feedmodel.Feed(vault.name)
            mine = key.public.openssh().split()[:2]
            if feed.keys and not any(k.split()[:2] == mine for k in feed.keys):
                raise ConflictError(f"your key {key.public.fingerprint()} is not in the key set of "
                                    f"vault {vault.name}'s feed",
                                    hint="ask a holder of that key set to add your key (a rotation "
                                    "signed by the current keys)")
            if not feed.keys:
                feed.keys = [" ".join(mine)]
            change(feed)
            bump_and_sign(feed, key)
            data = feed.to_json()
            if fs.read_bytes(feedmodel.FEED_FILE, feedmodel.MAX_FEED) != raw:
                continue  # another writer got in between: start over on top of theirs
            fs.put_bytes(feedmodel.FEED_FILE, data)
            if fs.read_bytes(feedmodel.FEED_FILE, feedmodel.MAX_FEED) == data:
                record_written(feed, state)
                return feed
    raise ConflictError(f"vault {vault.name}'s feed kept changing: gave up after {attempts} tries",
                        hint="retry when the other publishers are done")


@contextlib.contextmanager
def _feed_lock(fs: Any) -> Iterator[None]:
    if getattr(fs, "scheme", "") != "file":
        yield
        return
    root = Path(str(fs.root))
    root.mkdir(parents=True, exist_ok=True)
    with process_lock(root / ".feed.lock", timeout=60):
        yield


def _signed_by(feed: feedmodel.Feed, key: PrivateKey) -> bool:
    """The feed carries a valid signature by ``key`` (our own last publish)."""
    body = feedmodel.canonical(feed.signed())
    for sig in feed.signatures:
        try:
            if sshsig.verify(sig["sig"], body, feedmodel.NAMESPACE).public_key.raw == key.public.raw:
                return True
        except SignatureError:
            continue
    return False


def feed_entry(m: PackManifest, built: BuildResult, rel: str, status: str = "published",
                description: str = "", tags: Sequence[str] = ()) -> dict[str, Any]:
    single = m.artifacts[0] if len(m.artifacts) == 1 else None
    return {
        "status": status, "id": f"{m.name}@{m.version}", "name": m.name, "version": m.version,
        "type": single.type.value if single else "bundle",
        "description": " ".join(description.split())[:500], "tags": sorted(set(tags)),
        "artifacts": [str(a.id) for a in m.artifacts],
        "publisher": {"name": m.publisher_name, "key": m.publisher_key},
        "bundle": {"url": rel, "sha256": built.sha256, "size": built.size},
    }


def bump_and_sign(feed: feedmodel.Feed, key: PrivateKey) -> None:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    feed.version += 1
    feed.generated = feedmodel.format_time(now)
    feed.expires = feedmodel.format_time(now + FEED_LIFETIME)
    sign_feed(feed, [key])


def listings(home: Home, vault: Vault, trust: TrustSet
             ) -> tuple[list[Listing], Verdict | None, str]:
    if vault.kind == "git":
        return _git_listings(vault), None, "git vault: each bundle ref is verified on import"
    feed, verdict, problem = read_feed(vault, trust)
    if feed is None:
        return [], None, "empty vault (no feed.json yet)"
    return [_listing(e, vault.url) for e in feed.listings], verdict, problem


def fetch(home: Home, vault: Vault, name: str, version: str | None, dest: Path,
          store: CollectionStore, trust: TrustSet, *, allow_unsigned: bool = False) -> Listing:
    """Download a bundle into ``dest``, checked against its listing before anyone opens it.

    The feed must be signed by a trusted key (else anyone who can write to the vault could
    swap, withhold or roll back bundles) unless ``allow_unsigned``.
    """
    if vault.kind == "git":
        return _fetch_ref(vault, name, version, dest, store, trust)
    feed, verdict, problem = read_feed(vault, trust)
    if feed is not None and verdict is None and not allow_unsigned:
        raise SignatureError(f"vault {vault.name} feed", problem,
                             hint="trust the key that signs the vault's feed, or pass "
                             "--allow-unsigned (the bundle's own signature is still checked)")
    entry = feed.find(name, version) if feed is not None else None
    if entry is None:
        raise NotFoundError(f"vault {vault.name} has no bundle {name}"
                            f"{'@' + version if version else ''}",
                            hint=f"see `skillmeat vault ls {vault.name}`")
    listing = _listing(entry, vault.url)
    rel = str(entry["bundle"].get("url", ""))
    fs = vault.fs()
    fs.get_file(rel, dest, min(listing.size, DEFAULT_LIMITS.max_total))
    size, digest = dest.stat().st_size, sha256_file(dest)
    if size != listing.size or digest != listing.sha256:
        raise SignatureError(f"vault {vault.name} {name}@{listing.version}",
                             f"downloaded bundle does not match its listing "
                             f"({'size' if size != listing.size else 'sha256'} differs)",
                             hint="the vault is inconsistent or tampered with; nothing was imported")
    return listing


# --- git vaults ---------------------------------------------------------------------------


def push_bundle_ref(vault: Vault, store: CollectionStore, built: BuildResult) -> Listing:
    try:
        outcomes = gitcli.push_refs(store.path, vault.git_url, [built.ref])
    except SourceError as exc:
        raise SkillmeatError(f"cannot push to vault {vault.name} ({vault.git_url}): {exc.detail}",
                             hint="check the URL and your git credentials") from None
    refused = [o for o in outcomes if not o.ok]
    if refused:
        raise ConflictError(f"vault {vault.name} refused {built.ref}: {refused[0].summary}",
                            hint="that version exists there with other content: pass another "
                            "--version")
    m = built.manifest
    return Listing(m.name, m.version, built.size, built.sha256, tuple(str(a.id) for a in m.artifacts),
                   m.publisher_name, f"{vault.git_url} {built.ref}")


def _git_listings(vault: Vault) -> list[Listing]:
    try:
        out = gitcli.run_git(["ls-remote", vault.git_url, BUNDLE_REFS + "*"], source=vault.git_url)
    except SourceError as exc:
        raise SkillmeatError(f"cannot list vault {vault.name} ({vault.git_url}): {exc.detail}",
                             hint="check the URL and your git credentials") from None
    found = []
    for line in out.splitlines():
        oid, _, ref = line.partition("\t")
        name, _, version = ref[len(BUNDLE_REFS):].partition("/")
        if name and version:
            found.append(Listing(name, version, 0, "", (), "", f"{vault.git_url} {ref} {oid[:12]}"))
    return sorted(found, key=lambda x: (x.name, feedmodel.version_key(x.version)))


def _fetch_ref(vault: Vault, name: str, version: str | None, dest: Path, store: CollectionStore,
               trust: TrustSet) -> Listing:
    if version is None:
        versions = [x for x in _git_listings(vault) if x.name == name]
        if not versions:
            raise NotFoundError(f"vault {vault.name} has no bundle {name}",
                                hint=f"see `skillmeat vault ls {vault.name}`")
        version = versions[-1].version
    ref = bundle_ref(name, version)
    quarantine = INCOMING + ref.removeprefix("refs/skillmeat/")
    repo = store.repo.repo
    try:
        gitcli.run_git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", vault.git_url,
                        f"+{ref}:{quarantine}"], cwd=store.path, source=vault.git_url)
    except SourceError as exc:
        raise NotFoundError(f"cannot fetch {name}@{version} from vault {vault.name}: {exc.detail}",
                            hint=f"see `skillmeat vault ls {vault.name}`") from None
    try:
        refs = RefStore(repo)
        tip = str(repo.references[quarantine].target)
        commit = refs.commit(tip)
        if commit.parents:
            raise SignatureError(f"vault {vault.name} {ref}", "a bundle ref must be one commit")
        verdict = verify_commit(commit, trust)
        digest = write_from_ref(store, tip, dest, f"vault {vault.name} {ref}")
    finally:
        if quarantine in repo.references:
            repo.references.delete(quarantine)
    return Listing(name, version, dest.stat().st_size, digest, (), verdict.principal,
                   f"{vault.git_url} {ref}")
