"""The collection index: per artifact its metadata and searchable text, cached per commit.

Built from the committed tree (not the work tree), reused per artifact by object id, so
``list`` and ``search`` stay fast on collections of thousands of artifacts.
"""

from __future__ import annotations

import tomllib
from typing import Any

from skillmeat.model import frontmatter
from skillmeat.model.artifact import ArtifactId, ArtifactType, ids_from_paths
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME
from skillmeat.store.collection import CollectionStore
from skillmeat.store.tree import GitTree

TEXT_LIMIT = 200_000


def load_index(store: CollectionStore) -> list[dict[str, Any]]:
    """Index entries of every artifact at HEAD, sorted by id."""
    head = store.repo.head()
    if head is None:
        return []
    cached = store.load_index()
    if cached is not None and cached[0] == head:
        return list(cached[1].values())
    entries = _build(store, head, cached[1] if cached else {})
    store.save_index(head, entries)
    return list(entries.values())


def _build(store: CollectionStore, head: str, old: dict[str, Any]) -> dict[str, Any]:
    tree = store.tree_at(head)
    groups = ids_from_paths(tree.files())
    tags = _manifest_tags(tree)
    versions = _lock_versions(tree)
    out: dict[str, Any] = {}
    for aid in sorted(groups):
        key = "|".join(tree.oid(p) for p in sorted(groups[aid]))
        sid = str(aid)
        prev = old.get(sid)
        if prev is not None and prev["key"] == key:
            entry = dict(prev)
        else:
            entry = _entry(tree, aid, key)
        entry["tags"] = sorted(set(entry["fm_tags"]) | set(tags.get(sid, ())))
        entry["version"] = entry["fm_version"] or versions.get(sid, "")
        out[sid] = entry
    return out


def _entry(tree: GitTree, aid: ArtifactId, key: str) -> dict[str, Any]:
    main = aid.relpath + "/SKILL.md" if aid.type is ArtifactType.SKILL else aid.relpath
    description, fm_tags, version, text = "", [], "", ""
    try:
        raw = tree.read(main)
    except KeyError:
        raw = b""
    if aid.type in (ArtifactType.SKILL, ArtifactType.COMMAND, ArtifactType.AGENT):
        fm = frontmatter.parse(raw, main)
        description = fm.text("description")
        version = fm.text("version")
        value = fm.data.get("tags") or fm.data.get("keywords") or []
        fm_tags = [str(t) for t in value] if isinstance(value, list) else []
        text = fm.body
    else:
        text = raw.decode("utf-8", errors="replace")
        description = _toml_description(text)
    return {
        "id": str(aid),
        "type": aid.type.value,
        "name": aid.name,
        "namespace": aid.namespace,
        "path": aid.relpath,
        "description": description,
        "fm_tags": fm_tags,
        "fm_version": version,
        "text": text[:TEXT_LIMIT].lower(),
        "key": key,
    }


def _toml_description(text: str) -> str:
    try:
        value = tomllib.loads(text).get("description", "")
    except tomllib.TOMLDecodeError:
        return ""
    return value if isinstance(value, str) else ""


def _manifest_tags(tree: GitTree) -> dict[str, list[str]]:
    data = _toml_at(tree, MANIFEST_NAME)
    arts = data.get("artifacts", {})
    out: dict[str, list[str]] = {}
    if isinstance(arts, dict):
        for aid, entry in arts.items():
            tags = entry.get("tags") if isinstance(entry, dict) else None
            if isinstance(tags, list):
                out[aid] = [str(t) for t in tags]
    return out


def _lock_versions(tree: GitTree) -> dict[str, str]:
    arts = _toml_at(tree, LOCK_NAME).get("artifacts", {})
    if not isinstance(arts, dict):
        return {}
    return {k: str(v.get("version", "")) for k, v in arts.items() if isinstance(v, dict)}


def _toml_at(tree: GitTree, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(tree.read(path).decode("utf-8"))
    except (KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def public(entry: dict[str, Any]) -> dict[str, Any]:
    """An index entry as shown to users (no cache internals)."""
    return {k: entry[k] for k in ("id", "type", "name", "namespace", "path", "description",
                                  "tags", "version")}
