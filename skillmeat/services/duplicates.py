"""Near-duplicate artifacts: in the collection, and between the collection and projects.

Only artifacts of the same type are compared, by the words of their bodies (frontmatter
left out; see ``skillmeat.model.similarity``). Each pair found is explained from the two
files themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from skillmeat.model import frontmatter
from skillmeat.model.artifact import ArtifactType
from skillmeat.model.similarity import Explanation, explain, similar_pairs
from skillmeat.services.index import TEXT_LIMIT, load_index
from skillmeat.store.collection import CollectionStore
from skillmeat.store.project_files import project_artifact_files

Origin = Literal["collection", "project"]
_KIND_ORDER = {"exact": 0, "same-body": 1, "near": 2}


@dataclass(frozen=True)
class Side:
    """One artifact of a pair: where it lives and its path there."""

    id: str
    origin: Origin
    place: str  # the collection's name, or the project directory
    path: str  # inside the collection, or from the project root

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "origin": self.origin, "place": self.place, "path": self.path}


@dataclass(frozen=True)
class Pair:
    a: Side
    b: Side
    explanation: Explanation

    @property
    def score(self) -> float:
        return self.explanation.score

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a.to_dict(), "b": self.b.to_dict(), **self.explanation.to_dict()}


@dataclass(frozen=True)
class DuplicateReport:
    threshold: float
    compared: int  # artifacts looked at
    pairs: tuple[Pair, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "compared": self.compared,
                "pairs": [p.to_dict() for p in self.pairs]}


@dataclass(frozen=True)
class _Doc:
    side: Side
    type: str
    text: str  # what is compared: the body
    load: Callable[[], bytes]  # the whole file, read only when the doc is in a pair


def find_in_collection(store: CollectionStore, threshold: float = 0.8,
                       types: Sequence[ArtifactType] = ()) -> DuplicateReport:
    """Pairs of same-type artifacts at HEAD whose bodies are at least ``threshold`` similar."""
    return _report(_collection_docs(store, types), threshold, lambda a, b: True)


def find_across_projects(store: CollectionStore, project_dirs: Iterable[Path],
                         threshold: float = 0.8,
                         types: Sequence[ArtifactType] = ()) -> DuplicateReport:
    """Pairs between the collection's artifacts and the projects' ``.claude`` files (and
    between different projects), at least ``threshold`` similar."""
    docs = _collection_docs(store, types)
    for project in dict.fromkeys(p.resolve() for p in project_dirs):
        docs.extend(_project_docs(project, types))
    return _report(docs, threshold, lambda a, b: a.side.place != b.side.place)


def _collection_docs(store: CollectionStore, types: Sequence[ArtifactType]) -> list[_Doc]:
    head = store.repo.head()
    if head is None:
        return []
    wanted = {t.value for t in types}
    entries = [e for e in load_index(store) if not wanted or e["type"] in wanted]
    tree = functools.cache(lambda: store.tree_at(head))  # opened on the first read

    def reader(path: str) -> Callable[[], bytes]:
        return lambda: tree().read(path)

    return [_Doc(Side(e["id"], "collection", store.name, _main_file(e)), e["type"], e["text"],
                 reader(_main_file(e))) for e in entries]


def _main_file(entry: dict[str, Any]) -> str:
    path: str = entry["path"]
    return f"{path}/SKILL.md" if entry["type"] == ArtifactType.SKILL.value else path


def _project_docs(project: Path, types: Sequence[ArtifactType]) -> list[_Doc]:
    out = []
    for f in project_artifact_files(project):
        if types and f.type not in types:
            continue
        body = frontmatter.parse(f.data, f.rel).body[:TEXT_LIMIT]
        out.append(_Doc(Side(f.id, "project", str(project), f.rel), f.type.value, body,
                        _given(f.data)))
    return out


def _given(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _report(docs: list[_Doc], threshold: float,
            keep: Callable[[_Doc, _Doc], bool]) -> DuplicateReport:
    by_type: dict[str, list[_Doc]] = {}
    for doc in docs:
        by_type.setdefault(doc.type, []).append(doc)
    raw: dict[int, bytes] = {}  # id(doc) -> its file, read once

    def read(doc: _Doc) -> bytes:
        if id(doc) not in raw:
            raw[id(doc)] = doc.load()
        return raw[id(doc)]

    pairs = []
    for _, group in sorted(by_type.items()):
        for m in similar_pairs([d.text for d in group], threshold):
            a, b = _ordered(group[m.a], group[m.b])
            if keep(a, b):
                pairs.append(Pair(a.side, b.side, explain(read(a), read(b), m.score)))
    pairs.sort(key=lambda p: (-p.score, _KIND_ORDER[p.explanation.kind], p.a.id, p.a.place,
                              p.b.id, p.b.place))
    return DuplicateReport(threshold, len(docs), tuple(pairs))


def _ordered(a: _Doc, b: _Doc) -> tuple[_Doc, _Doc]:
    """The collection's side first, then by place and id."""
    def key(d: _Doc) -> tuple[bool, str, str]:
        return d.side.origin != "collection", d.side.place, d.side.id

    return (a, b) if key(a) <= key(b) else (b, a)
