"""Shared set-up for bundle tests: a collection of the examples, a trusted signing key."""

from __future__ import annotations

from pathlib import Path

from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services.artifacts import Selection, add
from skillmeat.services.collections import create_collection
from skillmeat.services.trust import TrustSet
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.helpers import EXAMPLES

ALICE = PrivateKey(bytes([7]) * 32, "alice@example.com")
MALLORY = PrivateKey(bytes([9]) * 32, "mallory@example.com")


def trusting(*keys: PrivateKey) -> TrustSet:
    return TrustSet([AllowedSigner((f"signer{i}@example.com",), k.public, ())
                     for i, k in enumerate(keys, 1)])


def examples_collection(home: Home, name: str = "team") -> CollectionStore:
    store = create_collection(home, name)
    add(home, store, str(EXAMPLES), selection=Selection(all=True))
    return store


def edit(store: CollectionStore, rel: str, text: str) -> None:
    from skillmeat.services.history import snapshot

    path = store.path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    snapshot(Home.from_env(), store, f"edit {rel}")


def pack_path(tmp: Path, name: str = "b") -> Path:
    return tmp / f"{name}.skillmeat-pack"


def craft_bundle(path: Path, artifacts: dict[str, dict[str, bytes]], *, key: PrivateKey | None = ALICE,
                 **fields: object) -> Path:
    """A bundle made by hand: ``{"skill/x": {"artifacts/skills/x/SKILL.md": b"..."}}``, with a
    correct manifest (``fields`` override its top-level keys) signed by ``key``."""
    import hashlib
    import json

    from skillmeat.model.artifact import ArtifactId
    from skillmeat.model.hashing import content_hash
    from skillmeat.model.pack import MANIFEST, NAMESPACE, SIGNATURE, member_prefix
    from skillmeat.model.sshsig import sign
    from skillmeat.store.packzip import PackWriter

    arts, members = [], {}
    for text, files in artifacts.items():
        aid = ArtifactId.parse(text)
        cut = len(member_prefix(aid))
        listed = [{"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest(), "mode": "100644"}
                  for p, d in sorted(files.items())]
        digest = content_hash((f["path"][cut:], 0o100644, f["sha256"]) for f in listed)
        arts.append({"type": aid.type.value, "name": aid.name, "version": "", "hash": digest,
                     "files": listed})
        members.update(files)
    manifest = {"format": "skillmeat-pack/1", "name": "crafted", "version": "1",
                "created": "2026-01-01T00:00:00Z",
                "publisher": {"name": "Alice", "key": key.public.openssh() if key else ""},
                "artifacts": arts, "source": {"repo": "x", "commit": "0" * 40}, **fields}
    data = json.dumps(manifest).encode()
    members[MANIFEST] = data
    if key is not None:
        members[SIGNATURE] = sign(key, data, NAMESPACE).encode()
    with PackWriter(path) as writer:
        for name in sorted(members):
            writer.add_bytes(name, members[name])
        writer.close()
    return path
