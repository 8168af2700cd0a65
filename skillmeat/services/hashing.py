"""Content hashes of artifacts, wherever their files are."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable

from skillmeat.model.artifact import ArtifactId
from skillmeat.model.hashing import content_hash
from skillmeat.services.discover import Candidate
from skillmeat.store.tree import Tree


def _parent(aid: ArtifactId) -> str:
    return posixpath.dirname(aid.relpath) + "/"


def tree_hash(tree: Tree, aid: ArtifactId, paths: Iterable[str]) -> str:
    """Hash of an artifact's files as they are in a tree (collection work tree or a commit)."""
    cut = len(_parent(aid))
    return content_hash((p[cut:], tree.mode(p), tree.digest(p)) for p in paths)


def candidate_hash(tree: Tree, cand: Candidate) -> str:
    """Hash of a candidate as it will be written into the collection."""
    cut = len(_parent(cand.id))
    entries = []
    for f in cand.files:
        if f.data is not None:
            entries.append((f.dest[cut:], 0o100644, hashlib.sha256(f.data).hexdigest()))
        else:
            entries.append((f.dest[cut:], tree.mode(f.src), tree.digest(f.src)))
    return content_hash(entries)
