"""The team's bundle, made on push: build and sign it once per artifact change, share its ref.

The bundle holds every artifact of the collection as the LAST COMMIT THAT CHANGED THEM (or
``skillmeat.toml``/``skillmeat.lock``) has them, and is named after that commit
(``<collection version>-<commit time>-g<commit>``, as ``skillmeat export`` names bundles): a
push that only touches a README makes no new version. It is built from git's objects, so
uncommitted edits neither leak into it nor stop it. A version whose ref already exists, here
or on the remote, is never rebuilt; a teammate's ref for it is taken over once it verifies.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model import sshsig
from skillmeat.model.artifact import ids_from_paths
from skillmeat.model.errors import ConflictError, SignatureError, SkillmeatError, SourceError
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME
from skillmeat.model.pack import SUFFIX
from skillmeat.model.sshkeys import PrivateKey, PublicKey
from skillmeat.services import bundle, vaults
from skillmeat.services.marketplaces import Marketplace
from skillmeat.services.publish import PublishResult, publish_built
from skillmeat.services.refs import GIT_NAMESPACE, trust_for, verify_commit
from skillmeat.store import gitcli
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.refstore import RefStore

INCOMING = "refs/skillmeat-incoming/"
TEAM_SIGNERS = ".skillmeat/allowed_signers"


@dataclass(frozen=True)
class Planned:
    """The bundle a push makes: its name, version, ref, and the commit it is built from."""

    name: str
    version: str
    ref: str
    commit: str
    artifacts: int  # how many the collection holds at ``commit`` (0: nothing to share yet)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Exported:
    planned: Planned
    built: bool          # False: the ref existed already (here or on the remote)
    pushed: bool         # the ref was pushed to the remote now
    commit: str          # the signed bundle commit
    output: Path | None = None
    vault: str = ""      # where the vault keeps it

    def to_dict(self) -> dict[str, Any]:
        p = self.planned
        return {"name": p.name, "version": p.version, "ref": p.ref, "source_commit": p.commit,
                "built": self.built, "pushed": self.pushed, "commit": self.commit,
                "output": str(self.output) if self.output else None, "vault": self.vault}


def plan(store: CollectionStore, name: str | None = None, at: str | None = None) -> Planned:
    """Name and version of the team bundle for commit ``at`` (the commit being pushed; default
    the collection's HEAD): the last artifact change in ``at``'s own history."""
    head = store.repo.resolve(at) if at else store.repo.head()
    if head is None:
        raise SkillmeatError(f"collection '{store.name}' has no commits yet",
                             hint="commit artifacts first")
    base = store.repo.last_change_of((*bundle.TYPE_DIRS, MANIFEST_NAME, LOCK_NAME), head)
    files = store.repo.files_at(base)
    coll, _ = bundle.collection_at(store, files, base)
    bname = name or coll.name or store.name
    version = bundle.default_version(store, coll.version, base)
    return Planned(bname, version, bundle.bundle_ref(bname, version), base,
                   len(ids_from_paths(list(files))))


def remote_tip(store: CollectionStore, remote: str, ref: str) -> str | None:
    """Where ``ref`` points on the remote (None: it has no such ref)."""
    gitcli.check_arg(remote, "remote")
    try:
        out = gitcli.run_git(["ls-remote", remote, ref], cwd=store.path, source=remote)
    except SourceError as exc:
        raise SkillmeatError(f"cannot reach remote {remote}: {exc.detail}",
                             hint="check the remote's URL and your git credentials") from None
    tip = out.split("\t", 1)[0].strip()
    return tip or None


def adopt(home: Home, store: CollectionStore, remote: str, p: Planned, key: PrivateKey) -> str | None:
    """Make the local bundle ref the remote's when the remote has it (a teammate exported this
    version first): it must be signed by a key we trust (or ours) and hold exactly our
    artifacts. Returns the remote's commit, or None when the remote has no such ref."""
    tip = remote_tip(store, remote, p.ref)
    refs = RefStore(store.repo.repo)
    local = refs.read(p.ref)
    if tip is None or tip == local:
        return tip
    quarantine = INCOMING + p.ref.removeprefix("refs/skillmeat/")
    repo = store.repo.repo
    try:
        gitcli.run_git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote,
                        f"+{p.ref}:{quarantine}"], cwd=store.path, source=remote)
        commit = refs.commit(tip)
        where = f"{p.ref} on {remote}"
        if commit.parents or not bundle.holds_all_at(store, tip, p.commit):
            raise ConflictError(f"{where} is not the bundle of commit {p.commit[:12]}",
                                hint="someone pushed another bundle under this version; "
                                "delete that ref on the remote, or pass --name")
        if not _signed_by(commit.signature, commit.payload, key):
            verify_commit(commit, trust_for(home, store))
        refs.set_if(p.ref, tip, local)
    except SignatureError as exc:
        raise SignatureError(f"{p.ref} on {remote}", exc.reason, hint=exc.hint) from None
    finally:
        if quarantine in repo.references:
            repo.references.delete(quarantine)
    return tip


def _signed_by(signature: str | None, payload: bytes, key: PrivateKey) -> bool:
    if signature is None:
        return False
    try:
        return sshsig.verify(signature, payload, GIT_NAMESPACE).public_key.raw == key.public.raw
    except SignatureError:
        return False


def push_ref(store: CollectionStore, remote: str, ref: str) -> None:
    """Push one of our refs (never forced); a refusal or an unreachable remote is an error."""
    try:
        outcomes = gitcli.push_refs(store.path, remote, [ref])
    except SourceError as exc:
        raise SkillmeatError(f"cannot push {ref} to {remote}: {exc.detail}",
                             hint="check the remote's URL and your git credentials") from None
    refused = [o for o in outcomes if not o.ok]
    if refused or not outcomes:
        why = refused[0].summary if refused else "git reported nothing"
        raise ConflictError(f"{remote} refused {ref}: {why}",
                            hint="fetch refs/skillmeat/* from the remote and push again")


def bundle_of(home: Home, store: CollectionStore, p: Planned, key: PrivateKey,
              out: Path) -> bundle.BuildResult:
    """The planned bundle written to ``out``: from its ref when there is one, else built."""
    if RefStore(store.repo.repo).read(p.ref) is not None:
        return bundle.from_ref(store, p.ref, out)
    return bundle.build(home, store, [], out, key, all_=True, name=p.name, version=p.version,
                        at=p.commit)


def export(home: Home, store: CollectionStore, key: PrivateKey, *, name: str | None = None,
           remote: str | None = None, output: Path | None = None,
           vault: vaults.Vault | None = None, planned: Planned | None = None) -> Exported:
    """Build and sign the team bundle unless its ref exists; push the ref to ``remote``;
    optionally write the file into ``output`` (a directory) and upload it to ``vault``."""
    import tempfile

    p = planned or plan(store, name)
    refs = RefStore(store.repo.repo)
    on_remote = adopt(home, store, remote, p, key) if remote else None
    existed = refs.read(p.ref) is not None
    if existed and output is None and vault is None and (remote is None or on_remote):
        return Exported(p, False, False, refs.read(p.ref) or "")
    with tempfile.TemporaryDirectory(prefix="skillmeat-export-") as tmp:
        dest = (output or Path(tmp)) / f"{p.name}-{p.version}{SUFFIX}"
        built = bundle_of(home, store, p, key, dest)
        where = ""
        if vault is not None:  # first: a vault that fails leaves the remote untouched
            where = vaults.upload(home, vault, store, built, key, trust_for(home, store)).location
        pushed = bool(remote) and not on_remote
        if remote and pushed:
            push_ref(store, remote, p.ref)
        return Exported(p, not existed, pushed, built.commit, dest if output else None, where)


def publish(home: Home, store: CollectionStore, key: PrivateKey, mp: Marketplace, *,
            name: str | None = None, remote: str | None = None,
            planned: Planned | None = None) -> PublishResult:
    """List the team bundle in ``mp`` (a git marketplace: the remote itself) with a re-signed
    feed; nothing changes when the marketplace lists this version already. ``remote``: the
    git remote being pushed to, whose ref of this version (a teammate's) is reused.

    A teammate whose key the team lists in ``.skillmeat/allowed_signers`` at the published
    commit adds it to a git marketplace's key set with this feed update (``admit``). When
    publishing fails after the bundle ref reached the remote, the error says the ref stays."""
    p = planned or plan(store, name)
    git_remote = mp.source if mp.kind == "git" else remote
    try:
        return _publish(home, store, key, mp, p, git_remote)
    except SkillmeatError as exc:
        if git_remote and mp.kind == "git":
            _note_unlisted(store, git_remote, p, exc)
        raise


def _note_unlisted(store: CollectionStore, remote: str, p: Planned, exc: SkillmeatError) -> None:
    """Say in the error that the bundle ref (pushed by export or by us) stays on the remote."""
    try:
        there = remote_tip(store, remote, p.ref)
    except SkillmeatError:
        return
    if there:
        exc.message += (f"; {p.ref} stays on {remote}, unlisted (signed, harmless: the next "
                        "successful publish lists it)")


def _publish(home: Home, store: CollectionStore, key: PrivateKey, mp: Marketplace, p: Planned,
             git_remote: str | None) -> PublishResult:
    import tempfile

    if git_remote:
        adopt(home, store, git_remote, p, key)
    with tempfile.TemporaryDirectory(prefix="skillmeat-publish-") as tmp:
        built = bundle_of(home, store, p, key, Path(tmp) / f"{p.name}{SUFFIX}")
        m = built.manifest
        listed = _listed_on(mp, p) if mp.kind == "feed" else None
        if listed is not None:
            sha = str(listed.get("bundle", {}).get("sha256", ""))
            who = str(listed.get("publisher", {}).get("name", "")) or "someone else"
            where = mp.source if sha == built.sha256 else f"{mp.source} (listed by {who})"
            return PublishResult(m.name, m.version, sha, built.size, str(listed.get("status", "")),
                                 where, False, tuple(str(a.id) for a in m.artifacts), False)
        return publish_built(home, store, mp, built, key,
                             admit=team_allows(store, p.commit, key.public))


def team_allows(store: CollectionStore, commit: str, key: PublicKey) -> bool:
    """``key`` is listed for feeds in the team's ``.skillmeat/allowed_signers`` as ``commit``
    has it (the pushed commit: a key added in the work tree only does not count)."""
    from skillmeat.model import allowed_signers
    from skillmeat.model.feed import NAMESPACE

    entry = store.repo.files_at(commit).get(TEAM_SIGNERS)
    if entry is None:
        return False
    text = store.repo.blob(entry[1]).decode("utf-8", errors="replace")
    now = datetime.datetime.now(datetime.UTC)
    try:
        signers = allowed_signers.parse(text, f"{TEAM_SIGNERS} at commit {commit[:12]}")
    except SkillmeatError:
        return False
    return any(s.key.raw == key.raw and s.allows(NAMESPACE, now) for s in signers)


def not_in_history(store: CollectionStore, listings: list[dict[str, Any]], p: Planned) -> list[str]:
    """Versions of this bundle a feed lists whose commit is neither behind nor ahead of the
    published one: another push got there concurrently (or its branch push was refused)."""
    refs = RefStore(store.repo.repo)
    out = []
    for entry in listings:
        version = str(entry.get("version", ""))
        if entry.get("name") != p.name or version == p.version or "-g" not in version:
            continue
        short = version.rsplit("-g", 1)[1]
        try:
            commit = store.repo.resolve(short)
        except SkillmeatError:
            out.append(version)
            continue
        if not (refs.is_ancestor(commit, p.commit) or refs.is_ancestor(p.commit, commit)):
            out.append(version)
    return out


def _listed_on(mp: Marketplace, p: Planned) -> dict[str, Any] | None:
    feed, _, _ = vaults.read_feed(vaults.Vault(mp.name, mp.source, "fsspec"), None)
    return feed.find(p.name, p.version) if feed is not None else None


def concurrent(store: CollectionStore, mp: Marketplace, p: Planned) -> list[str]:
    """The marketplace's other versions of this bundle made off the published commit's line
    (see ``not_in_history``), as the feed stands after publishing."""
    from skillmeat.services.publish import FEED_REF, feed_at

    if mp.kind == "git":
        tip = RefStore(store.repo.repo).read(FEED_REF)
        listings = feed_at(store, tip, mp.name).listings if tip else []
    else:
        feed, _, _ = vaults.read_feed(vaults.Vault(mp.name, mp.source, "fsspec"), None)
        listings = feed.listings if feed is not None else []
    return not_in_history(store, listings, p)
