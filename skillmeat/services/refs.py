"""Signed refs: write them with the user's key, verify and show them with signer and status."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skillmeat.model import sshsig
from skillmeat.model.errors import NotFoundError, SignatureError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services.trust import TrustSet, Verdict, verify
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.refstore import PREFIX, RefStore, SignedCommit, check_ref_name

GIT_NAMESPACE = "git"


def trust_for(home: Home, store: CollectionStore | None = None) -> TrustSet:
    """The user's trust plus, when given, the collection's (``.skillmeat/``)."""
    return TrustSet.load([home.trust, *([store.trust] if store else [])])


def full_ref(name: str) -> str:
    return check_ref_name(name if name.startswith("refs/") else PREFIX + name)


def verify_commit(commit: SignedCommit, trust: TrustSet, now: datetime.datetime | None = None,
                  *, historical: bool = False) -> Verdict:
    """A commit's signature; ``historical`` for ancestors of an already verified tip."""
    what = f"commit {commit.id[:12]}"
    if commit.signature is None:
        raise SignatureError(what, "unsigned commit", hint="only signed commits are accepted here")
    when = now or datetime.datetime.fromtimestamp(commit.time, datetime.UTC)  # as git does
    return verify(commit.signature, commit.payload, GIT_NAMESPACE, trust, when, what,
                  historical=historical)


@dataclass(frozen=True)
class RefEntry:
    commit: SignedCommit
    verdict: Verdict | None
    problem: str

    @property
    def ok(self) -> bool:
        return self.verdict is not None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.commit.id, "summary": self.commit.summary, "time": self.commit.time,
                "status": "good" if self.ok else "bad", "problem": self.problem,
                "signer": self.verdict.to_dict() if self.verdict else None}


def log_ref(store: CollectionStore, trust: TrustSet, name: str, limit: int = 50) -> list[RefEntry]:
    refs = RefStore(store.repo.repo)
    ref = full_ref(name)
    tip = refs.read(ref)
    if tip is None:
        raise NotFoundError(f"no ref {ref} in collection '{store.name}'",
                            hint="see `skillmeat log --list`")
    out: list[RefEntry] = []
    for commit in refs.walk(tip):
        try:
            out.append(RefEntry(commit, verify_commit(commit, trust, historical=bool(out)), ""))
        except SignatureError as exc:
            out.append(RefEntry(commit, None, exc.reason))
        if len(out) >= limit:
            break
    return out


def verify_ref(store: CollectionStore, trust: TrustSet, name: str) -> list[RefEntry]:
    """Every commit of the ref must be signed by a trusted key; the first that is not raises."""
    entries = log_ref(store, trust, name, limit=1_000_000)
    for entry in entries:
        if not entry.ok:
            raise SignatureError(f"{full_ref(name)} at {entry.commit.id[:12]}", entry.problem)
    return entries


def git_signer(key: PrivateKey) -> Callable[[bytes], str]:
    return lambda payload: sshsig.sign(key, payload, GIT_NAMESPACE)


def signed_update(store: CollectionStore, name: str, files: dict[str, bytes], message: str,
                  key: PrivateKey) -> str:
    """Append a signed commit to ``name`` whose tree is the parent's with ``files`` put in."""
    from skillmeat.store.refstore import tree_with_files

    refs = RefStore(store.repo.repo)

    def build(repo: Any, parent: str | None) -> str:
        base = str(repo[parent].tree_id) if parent else None
        return tree_with_files(repo, base, files)

    return refs.update(full_ref(name), build, message, git_signer(key), store.repo.signature())


def signed_tree_ref(store: CollectionStore, name: str, tree: str, message: str,
                    key: PrivateKey) -> str:
    """Append a signed commit to ``name`` whose tree is exactly ``tree``."""
    refs = RefStore(store.repo.repo)
    return refs.update(full_ref(name), lambda _repo, _parent: tree, message, git_signer(key),
                       store.repo.signature())


def list_refs(store: CollectionStore) -> dict[str, str]:
    refs = RefStore(store.repo.repo)
    return {n: refs.read(n) or "" for n in refs.names()}
