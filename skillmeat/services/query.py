"""Reading a collection: resolve references, list, search, show."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from skillmeat.model.artifact import ArtifactId, ArtifactType, split_ref
from skillmeat.model.errors import AmbiguousError, NotFoundError
from skillmeat.services.index import load_index, public
from skillmeat.store.collection import CollectionStore


def resolve(ref: str, ids: Iterable[ArtifactId], collection: str) -> ArtifactId:
    """A user's ``[type/][plugin:]name`` to exactly one artifact id."""
    type_, name = split_ref(ref)
    pool = [i for i in ids if type_ is None or i.type is type_]
    exact = sorted(i for i in pool if i.name == name)
    by_base = sorted(i for i in pool if ":" not in name and i.base == name)
    for found in (exact, by_base):
        if len(found) == 1:
            return found[0]
        if found:
            raise AmbiguousError(ref, [str(i) for i in found])
    names = sorted({i.name for i in pool})
    close = difflib.get_close_matches(name, names, n=3)
    raise NotFoundError(
        f"no artifact '{ref}' in collection '{collection}'",
        hint=f"did you mean {', '.join(close)}?" if close else "see `skillmeat list`",
    )


def list_artifacts(
    store: CollectionStore, *, types: tuple[ArtifactType, ...] = (), tags: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    out = []
    for entry in load_index(store):
        if types and entry["type"] not in {t.value for t in types}:
            continue
        if tags and not set(tags) <= set(entry["tags"]):
            continue
        out.append(public(entry))
    return sorted(out, key=lambda e: (e["type"], e["name"]))


@dataclass(frozen=True)
class Hit:
    entry: dict[str, Any]
    score: float
    where: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**public(self.entry), "score": round(self.score, 2), "matched": list(self.where)}


def search(
    store: CollectionStore, query: str, *, types: tuple[ArtifactType, ...] = (), limit: int = 50
) -> list[Hit]:
    """Rank artifacts by where the query's words occur: name, tags, description, content."""
    terms = [t for t in query.lower().split() if t]
    hits = []
    for entry in load_index(store):
        if types and entry["type"] not in {t.value for t in types}:
            continue
        hit = _score(entry, terms)
        if hit is not None:
            hits.append(hit)
    hits.sort(key=lambda h: (-h.score, h.entry["id"]))
    return hits[:limit] if limit else hits


def _score(entry: dict[str, Any], terms: list[str]) -> Hit | None:
    name = entry["name"].lower()
    base = name.rpartition(":")[2]
    desc = entry["description"].lower()
    tags = [t.lower() for t in entry["tags"]]
    text = entry["text"]
    score = 0.0
    where: set[str] = set()
    for term in terms:
        s = 0.0
        if term in (base, name):
            s, place = 100.0, "name"
        elif term in name:
            s, place = 40.0, "name"
        elif term in tags:
            s, place = 30.0, "tags"
        elif term in desc:
            s, place = 15.0, "description"
        elif (n := text.count(term)) > 0:
            s, place = 1.0 + min(n, 20) / 4, "content"
        else:
            return None  # every word must match somewhere
        score += s
        where.add(place)
    if len(terms) > 1 and "-".join(terms) in (base, name):
        score += 100.0  # "backend architect" names backend-architect
    return Hit(entry, score, tuple(sorted(where))) if terms else None


def show_artifact(store: CollectionStore, ref: str) -> dict[str, Any]:
    entries = {e["id"]: e for e in load_index(store)}
    aid = resolve(ref, (ArtifactId.parse(i) for i in entries), store.name)
    entry = entries[str(aid)]
    manifest = store.manifest().artifacts.get(str(aid))
    lock = store.lock().get(str(aid))
    files = sorted(p for p in store.repo.files_at("HEAD")
                   if p == aid.relpath or p.startswith(aid.relpath + "/")
                   or (aid.extra_dir and p.startswith(aid.extra_dir + "/")))
    return {
        **public(entry),
        "files": files,
        "upstream": manifest.to_dict() if manifest else {},
        "lock": lock.to_dict() if lock else {},
        "history": [c.to_dict() for c in store.repo.log(limit=10, path=aid.relpath)],
    }
