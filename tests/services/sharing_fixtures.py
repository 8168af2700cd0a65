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
