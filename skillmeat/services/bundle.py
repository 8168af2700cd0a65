"""Build a signed, reproducible ``.skillmeat-pack`` from a collection, and check one.

Build reads a commit (the collection must be clean where the chosen artifacts live), so the
same commit gives the same bytes anywhere: ``created`` is the commit's time, the ZIP is
deterministic and Ed25519 signatures are too. Beside the file it writes the signed ref
``refs/skillmeat/bundles/<name>/<version>`` whose tree is exactly the bundle's content.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model import sshsig
from skillmeat.model.artifact import ArtifactId, ArtifactType, check_part, ids_from_paths
from skillmeat.model.errors import (
    BadInputError,
    ConflictError,
    NotFoundError,
    SignatureError,
)
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME, LockEntry, Manifest
from skillmeat.model.pack import (
    ARTIFACTS,
    MANIFEST,
    NAMESPACE,
    SIGNATURE,
    Limits,
    PackArtifact,
    PackError,
    PackFile,
    PackManifest,
    check_version,
)
from skillmeat.model.sshkeys import PrivateKey, PublicKey
from skillmeat.services.artifacts import artifact_roots
from skillmeat.services.query import resolve
from skillmeat.services.refs import git_signer
from skillmeat.services.trust import TrustSet, Verdict, verify
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.manifest import parse_lock, parse_toml
from skillmeat.store.packzip import PackReader, PackWriter
from skillmeat.store.refstore import PREFIX, RefStore, check_ref_name, tree_from_entries

BUNDLE_REFS = PREFIX + "bundles/"
TYPE_DIRS = sorted(t.directory for t in ArtifactType)
DEFAULT_LIMITS = Limits()
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BuildResult:
    path: Path
    manifest: PackManifest
    sha256: str
    size: int
    ref: str
    commit: str
    reused: bool  # the bundle ref already held exactly this bundle

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "name": self.manifest.name, "version": self.manifest.version,
                "sha256": self.sha256, "size": self.size, "ref": self.ref, "commit": self.commit,
                "artifacts": [str(a.id) for a in self.manifest.artifacts]}


def bundle_ref(name: str, version: str) -> str:
    return check_ref_name(f"{BUNDLE_REFS}{name}/{version}")


def select(store: CollectionStore, head: str, refs: Sequence[str], *, all_: bool,
           tags: Sequence[str]) -> list[ArtifactId]:
    ids = ids_from_paths(list(store.repo.files_at(head)))
    if all_:
        chosen = set(ids)
    else:
        chosen = {resolve(r, ids, store.name) for r in refs}
        if tags:
            entries = store.manifest().artifacts
            chosen |= {a for a in ids if set(tags) & set(entries.get(str(a), _NO_TAGS).tags)}
    if not chosen:
        what = f"tag {', '.join(tags)}" if tags else "the collection"
        raise NotFoundError(f"no artifacts to export from {what}",
                            hint="name artifacts, or pass --all or --tag")
    return sorted(chosen)


class _NoTags:
    tags: tuple[str, ...] = ()


_NO_TAGS = _NoTags()


def build(
    home: Home, store: CollectionStore, refs: Sequence[str], out: Path, key: PrivateKey, *,
    all_: bool = False, tags: Sequence[str] = (), name: str | None = None,
    version: str | None = None, progress: Progress | None = None, at: str | None = None,
) -> BuildResult:
    """Write the bundle of the chosen artifacts at HEAD to ``out`` and sign its ref.

    ``at``: build from that commit's objects instead (the work tree is not read, so it may
    be dirty); its manifest and lock are the commit's too.
    """
    with home.lock():
        head = store.repo.resolve(at) if at else store.repo.head()
        if head is None:
            raise NotFoundError(f"collection '{store.name}' has no commits yet",
                                hint="add artifacts first")
        ids = select(store, head, refs, all_=all_, tags=tags)
        files_at = store.repo.files_at(head)
        members = _members(ids, files_at)
        roots = TYPE_DIRS if all_ else sorted({r for a in ids for r in artifact_roots(a)})
        dirty = store.repo.dirty_paths(roots) if at is None else []
        if dirty:
            raise ConflictError(f"uncommitted changes in {', '.join(dirty[:3])}"
                                f"{' ...' if len(dirty) > 3 else ''}",
                                hint="a bundle is built from a commit: run `skillmeat snapshot` first")
        coll, lock = (store.manifest(), store.lock()) if at is None else collection_at(
            store, files_at, head)
        bname = check_part(name or (ids[0].base if len(ids) == 1 else coll.name), "bundle name")
        bversion = check_version(version or default_version(store, coll.version, head))
        ref = bundle_ref(bname, bversion)
        art_entries = {ARTIFACTS + rel: files_at[rel] for rel, _ in members.values()}
        refs_store = RefStore(store.repo.repo)
        existing = refs_store.read(ref)
        art_tree = tree_from_entries(store.repo.repo,
                                     {rel: files_at[rel] for rel, _ in members.values()})
        if existing is not None and _artifacts_tree(store, existing) != art_tree:
            raise ConflictError(f"bundle {bname}@{bversion} already exists with other content "
                                f"({ref})", hint="pass another --version")
        out = out if out.suffix else out.with_name(out.name + ".skillmeat-pack")
        if not out.parent.is_dir():
            raise BadInputError(f"cannot write {out}: no such directory {out.parent}",
                                hint="create the directory first, or choose another -o")
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            manifest, digest, signed = _write(store, head, ids, members, files_at, tmp, key, bname,
                                              bversion, progress, coll.name, lock, at is not None)
            commit, reused = _sign_ref(store, refs_store, ref, existing, art_entries, signed, key,
                                       manifest)
            size = tmp.stat().st_size
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                tmp.unlink()
        return BuildResult(out, manifest, digest, size, ref, commit, reused)


def default_version(store: CollectionStore, base: str, head: str) -> str:
    """``<collection version>-<commit time>-g<commit>``: unique per commit, ordered by time."""
    stamp = datetime.datetime.fromtimestamp(store.repo.repo[head].commit_time, datetime.UTC)
    return f"{base}-{stamp:%Y%m%d%H%M%S}-g{head[:7]}"


def collection_at(store: CollectionStore, files_at: dict[str, tuple[int, str]], commit: str
                   ) -> tuple[Manifest, dict[str, LockEntry]]:
    """The manifest and lock as a commit holds them."""
    def parsed(name: str) -> tuple[dict[str, Any], str] | None:
        where = f"{name} at commit {commit[:12]}"
        entry = files_at.get(name)
        if entry is None:
            return None
        return parse_toml(store.repo.blob(entry[1]).decode("utf-8", errors="replace"), where), where

    manifest = parsed(MANIFEST_NAME)
    if manifest is None:
        raise NotFoundError(f"commit {commit[:12]} of {store.path} has no {MANIFEST_NAME}",
                            hint="build from a commit of the collection")
    lock = parsed(LOCK_NAME)
    return (Manifest.from_dict(*manifest),
            parse_lock(*lock) if lock is not None else {})


def from_ref(store: CollectionStore, ref: str, out: Path) -> BuildResult:
    """The bundle a signed ref holds, written to ``out`` byte for byte (nothing re-signed)."""
    commit = store.repo.resolve(ref)
    files = store.repo.files_at(commit)
    if MANIFEST not in files:
        raise PackError(ref, f"no {MANIFEST}: not a bundle ref")
    manifest = PackManifest.parse(store.repo.blob(files[MANIFEST][1]), f"{ref}: {MANIFEST}")
    digest = write_from_ref(store, commit, out, ref)
    return BuildResult(out, manifest, digest, out.stat().st_size, ref, commit, True)


def _members(ids: list[ArtifactId],
             files_at: dict[str, tuple[int, str]]) -> dict[str, tuple[str, ArtifactId]]:
    """Bundle member name -> (collection path, artifact) for every file of the artifacts."""
    out: dict[str, tuple[str, ArtifactId]] = {}
    grouped = ids_from_paths(list(files_at))
    for aid in ids:
        for rel in grouped[aid]:
            out[ARTIFACTS + rel] = (rel, aid)
    return out


def holds_all_at(store: CollectionStore, bundle_commit: str, at: str) -> bool:
    """A bundle ref's artifacts are exactly every artifact of the collection at commit ``at``."""
    files_at = store.repo.files_at(at)
    members = _members(sorted(ids_from_paths(list(files_at))), files_at)
    tree = tree_from_entries(store.repo.repo, {rel: files_at[rel] for rel, _ in members.values()})
    return _artifacts_tree(store, bundle_commit) == tree


def _artifacts_tree(store: CollectionStore, commit: str) -> str | None:
    tree = store.repo.repo[commit].tree
    return str(tree["artifacts"].id) if "artifacts" in tree else None


def _write(
    store: CollectionStore, head: str, ids: list[ArtifactId],
    members: dict[str, tuple[str, ArtifactId]], files_at: dict[str, tuple[int, str]], dest: Path,
    key: PrivateKey, name: str, version: str, progress: Progress | None, source: str,
    lock: dict[str, LockEntry], from_objects: bool,
) -> tuple[PackManifest, str, dict[str, bytes]]:
    files: dict[ArtifactId, list[PackFile]] = {a: [] for a in ids}
    with PackWriter(dest) as writer:
        for i, member in enumerate(sorted(members), 1):
            rel, aid = members[member]
            mode, oid = files_at[rel]
            size, sha = (writer.add_bytes(member, store.repo.blob(oid), mode) if from_objects
                         else writer.add_file(member, store.path / rel, mode))
            files[aid].append(PackFile(member, size, sha, mode))
            if progress is not None:
                progress(i, len(members))
        arts = []
        for aid in ids:
            art = PackArtifact(aid.type, aid.name, lock[str(aid)].version if str(aid) in lock else "",
                               "", tuple(files[aid]))
            arts.append(PackArtifact(art.type, art.name, art.version, art.computed_hash(), art.files))
        commit = store.repo.repo[head]
        created = datetime.datetime.fromtimestamp(commit.commit_time, datetime.UTC)
        who = store.repo.signature()
        manifest = PackManifest(
            name, version, created.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{who.name} <{who.email}>",
            key.public.openssh(), tuple(arts), source, head)
        signed = {MANIFEST: manifest.to_json()}
        signed[SIGNATURE] = sshsig.sign(key, signed[MANIFEST], NAMESPACE).encode()
        for member, data in signed.items():
            writer.add_bytes(member, data)
        digest = writer.close()
    return manifest, digest, signed


def _sign_ref(
    store: CollectionStore, refs: RefStore, ref: str, existing: str | None,
    art_entries: dict[str, tuple[int, str]], signed: dict[str, bytes], key: PrivateKey,
    manifest: PackManifest,
) -> tuple[str, bool]:
    repo = store.repo.repo
    entries = dict(art_entries)
    for member, data in signed.items():
        entries[member] = (0o100644, str(repo.create_blob(data)))
    tree = tree_from_entries(repo, entries)
    if existing is not None:
        if str(repo[existing].tree_id) != tree:
            raise ConflictError(f"bundle {manifest.name}@{manifest.version} already exists with "
                                f"another manifest or signer ({ref})", hint="pass another --version")
        return existing, True
    ids = "\n".join(f"- {a.id}" for a in manifest.artifacts)
    message = f"Bundle {manifest.name} {manifest.version}\n\n{ids}\n"
    return refs.create(ref, tree, message, git_signer(key), store.repo.signature()), False


# --- checking a bundle --------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    manifest: PackManifest
    verdict: Verdict | None   # None: unsigned or not verifiable, accepted with allow_unsigned
    problem: str              # why the signature is not a verdict ("" when it is)
    signer: str               # fingerprint of the signing key ("" when unsigned)
    size: int
    blobs: dict[str, str] = field(default_factory=dict)  # member -> git blob id (objects=...)

    @property
    def verified(self) -> bool:
        return self.verdict is not None

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "name": m.name, "version": m.version, "created": m.created,
            "publisher": {"name": m.publisher_name, "key": m.publisher_key},
            "source": {"repo": m.source_repo, "commit": m.source_commit},
            "signature": {"status": "good" if self.verdict else ("unsigned" if not self.signer
                                                                  else "unverified"),
                          "signer": self.signer, "problem": self.problem,
                          "verdict": self.verdict.to_dict() if self.verdict else None},
            "size": self.size, "files": sum(len(a.files) for a in m.artifacts),
            "content_size": m.total_size,
            "artifacts": [{"id": str(a.id), "version": a.version, "hash": a.hash,
                           "files": len(a.files), "size": sum(f.size for f in a.files)}
                          for a in m.artifacts],
        }


def check(
    path: Path, trust: TrustSet, *, allow_unsigned: bool = False, limits: Limits = DEFAULT_LIMITS,
    extract_to: Path | None = None, now: datetime.datetime | None = None, where: str | None = None,
    hash_files: bool = True, objects: Path | None = None,
) -> Checked:
    """Verify a bundle completely (optionally extracting it into ``extract_to``).

    Order: structure and names, manifest, signature (before any content is read), then every
    file listed, present, of its size, mode and sha256, nothing unlisted, every artifact's hash.
    With ``objects`` (a git object directory) and ``extract_to``, each file is also stored as a
    git blob on the way, from its compressed bytes (``Checked.blobs``).
    """
    label = where or str(path)
    with PackReader(path, limits, label) as reader:
        if MANIFEST not in reader.members:
            raise PackError(label, f"no {MANIFEST}: not a SkillMeat bundle")
        data = reader.read_small(MANIFEST, limits.max_manifest)
        manifest = PackManifest.parse(data, f"{label}: {MANIFEST}")
        sig = reader.read_small(SIGNATURE, limits.max_signature) if SIGNATURE in reader.members else None
        verdict, problem, signer = _signature(label, manifest, data, sig, trust, now, allow_unsigned)
        _check_members(label, reader, manifest)
        blobs = _check_content(label, reader, manifest, extract_to, objects) if hash_files else {}
        return Checked(manifest, verdict, problem, signer, path.stat().st_size, blobs)


def _signature(
    label: str, manifest: PackManifest, data: bytes, sig: bytes | None, trust: TrustSet,
    now: datetime.datetime | None, allow_unsigned: bool,
) -> tuple[Verdict | None, str, str]:
    hint = "pass --allow-unsigned to accept it anyway"
    if sig is None:
        if not allow_unsigned:
            raise SignatureError(label, "unsigned bundle", hint=hint)
        return None, "unsigned", ""
    try:
        parsed = sshsig.verify(sig, data, NAMESPACE)  # cryptographically bad: always refused
    except SignatureError as exc:
        raise SignatureError(label, f"bad signature ({exc.reason})",
                             hint="the bundle was altered after signing; nothing was written") from None
    signer = parsed.public_key.fingerprint()
    if manifest.publisher_key:
        try:
            named = PublicKey.parse(manifest.publisher_key)
        except (ValueError, BadInputError):
            raise PackError(label, "publisher key in the manifest is not an SSH public key") from None
        if named.raw != parsed.public_key.raw:
            raise SignatureError(label, f"signed by {signer}, but the manifest names publisher key "
                                 f"{named.fingerprint()}")
    try:
        return verify(sig, data, NAMESPACE, trust, now, label), "", signer
    except SignatureError as exc:
        if allow_unsigned and "revoked" not in exc.reason:
            return None, exc.reason, signer
        raise SignatureError(label, exc.reason, hint=exc.hint) from None


def _check_members(label: str, reader: PackReader, manifest: PackManifest) -> None:
    listed = manifest.files
    for name, member in reader.members.items():
        if name in (MANIFEST, SIGNATURE):
            continue
        f = listed.get(name)
        if f is None:
            raise PackError(label, f"member '{name}' is not listed in the manifest")
        if member.size != f.size:
            raise PackError(label, f"member '{name}' is {member.size} bytes, the manifest says {f.size}")
        if member.mode != f.mode:
            raise PackError(label, f"member '{name}' has mode {member.mode:o}, the manifest says "
                            f"{f.mode:o}")
    missing = sorted(set(listed) - set(reader.members))
    if missing:
        raise PackError(label, f"'{missing[0]}' is listed in the manifest but missing"
                        f"{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}")
    for art in manifest.artifacts:
        if art.computed_hash() != art.hash:
            raise PackError(label, f"{art.id}: content hash {art.hash} does not match its files")


def _check_content(label: str, reader: PackReader, manifest: PackManifest,
                   extract_to: Path | None, objects: Path | None) -> dict[str, str]:
    blobs = {}
    for name, f in sorted(manifest.files.items()):
        if extract_to is not None and objects is not None:
            size, sha, blobs[name] = reader.extract_with_blob(name, extract_to / name, objects)
        elif extract_to is not None:
            size, sha = reader.extract(name, extract_to / name)
        else:
            size, sha = reader.hash_member(name)
        if size != f.size or sha != f.sha256:
            raise PackError(label, f"member '{name}' does not match the manifest "
                            f"({'size' if size != f.size else 'sha256'} differs)")
    return blobs


def write_from_ref(store: CollectionStore, ref: str, dest: Path, where: str = "") -> str:
    """Rebuild a bundle file byte for byte from its signed ref's tree; return its sha256."""
    from skillmeat.store.bundletree import write_bundle

    return write_bundle(store.repo.repo, store.repo.resolve(ref), dest, where=where or ref,
                        cap=DEFAULT_LIMITS.max_total)
