"""Moving ``refs/skillmeat/*`` between a collection and a git remote.

Push names every ref (no wildcards, no force) and reports what the remote refused.
Pull fetches into a quarantine namespace, verifies every new commit (signed by a trusted,
unrevoked key; a fast-forward of what we had) and only then moves local refs — all or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skillmeat.model.errors import SignatureError, SkillmeatError, SourceError
from skillmeat.services.refs import trust_for, verify_commit
from skillmeat.store import gitcli
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.refstore import PREFIX, RefStore

QUARANTINE = "refs/skillmeat-incoming/"


@dataclass
class PullResult:
    updated: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


def push(home: Home, store: CollectionStore, remote: str) -> list[gitcli.PushOutcome]:
    refs = RefStore(store.repo.repo).names()
    try:
        outcomes = gitcli.push_refs(store.path, remote, refs)
    except SourceError as exc:
        raise SkillmeatError(f"cannot push to remote {remote}: {exc.detail}",
                             hint="check the remote's name or URL (git remote -v)") from None
    refused = [o for o in outcomes if not o.ok]
    if refused:
        detail = "; ".join(f"{o.ref}: {o.summary}" for o in refused)
        raise SkillmeatError(f"{remote} refused {len(refused)} ref(s): {detail}",
                             hint="pull first (`skillmeat collection pull`), then push again")
    return outcomes


def pull(home: Home, store: CollectionStore, remote: str) -> PullResult:
    repo = store.repo.repo
    refs = RefStore(repo)
    with home.lock():
        _drop_quarantine(repo)
        try:
            try:
                gitcli.fetch_refs(store.path, remote, PREFIX, QUARANTINE)
            except SourceError as exc:
                raise SkillmeatError(f"cannot fetch from remote {remote}: {exc.detail}",
                                     hint="check the remote's name or URL (git remote -v)") from None
            plan = _verify_incoming(home, store, refs)
            result = PullResult()
            for name, (old, new) in sorted(plan.items()):
                if old == new:
                    result.unchanged.append(name)
                    continue
                refs.set_if(name, new, old)
                result.updated[name] = (old, new)
            return result
        finally:
            _drop_quarantine(repo)


def _verify_incoming(home: Home, store: CollectionStore,
                     refs: RefStore) -> dict[str, tuple[str | None, str]]:
    repo = store.repo.repo
    trust = trust_for(home, store)
    plan: dict[str, tuple[str | None, str]] = {}
    problems: list[str] = []
    for qname in sorted(n for n in repo.references if n.startswith(QUARANTINE)):
        name = PREFIX + qname[len(QUARANTINE):]
        new = str(repo.references[qname].target)
        old = refs.read(name)
        plan[name] = (old, new)
        if old == new:
            continue
        if old is not None and not refs.is_ancestor(old, new):
            problems.append(f"{name}: the remote rewrote history (not a fast-forward of "
                            f"{old[:12]})")
            continue
        for n, commit in enumerate(refs.walk(new, stop=old)):
            try:
                verify_commit(commit, trust, historical=n > 0)
            except SignatureError as exc:
                problems.append(f"{name}: {exc.message}")
                break
    if problems:
        raise SignatureError("pull refused", "; ".join(problems),
                             hint="no local ref was moved: trust the signer's key, ask them to "
                             "re-sign, or delete the local ref to accept a rewrite")
    return plan


def _drop_quarantine(repo: object) -> None:
    refs = repo.references  # type: ignore[attr-defined]
    for name in [n for n in refs if n.startswith(QUARANTINE)]:
        refs.delete(name)
