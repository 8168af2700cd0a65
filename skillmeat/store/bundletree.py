"""Rebuild a ``.skillmeat-pack`` byte for byte from a bundle commit's tree, in any repository.

``services.bundle.write_from_ref`` does this for a collection; this does it for a bare
repository (a marketplace's cache) through pygit2 directly. The ZIP written by
``PackWriter`` depends only on the members' names, modes and contents, so the same tree
gives the same bytes (and sha256) as the bundle that was built and signed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillmeat.model.errors import SkillmeatError
from skillmeat.model.pack import PackError
from skillmeat.store.gitrepo import walk_tree
from skillmeat.store.packzip import PackWriter
from skillmeat.store.refstore import tree_from_entries


def bare_repo(path: Path) -> Any:
    """A bare repository at ``path`` (created when missing): a marketplace's git cache."""
    import pygit2

    try:
        if (path / "HEAD").is_file():
            return pygit2.Repository(str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        return pygit2.init_repository(str(path), bare=True)
    except (pygit2.GitError, OSError) as exc:
        raise SkillmeatError(f"cannot open the cache repository {path}: {exc}",
                             hint="remove it; it is fetched again") from None


def tree_blob(repo: Any, commit: str, path: str, cap: int, where: str) -> bytes | None:
    """The file at ``path`` in ``commit``'s tree (None when absent); refused over ``cap`` bytes."""
    tree = repo[commit].tree
    try:
        entry = tree[path]
    except KeyError:
        return None
    if entry.type_str != "blob":
        return None
    blob = repo[entry.id]
    if blob.size > cap:
        raise PackError(where, f"{path} is {blob.size} bytes, over the {cap}-byte limit")
    data: bytes = blob.data
    return data


def write_bundle(repo: Any, commit: str, dest: Path, *, where: str, cap: int) -> str:
    """Write the bundle of ``commit``'s tree to ``dest``; return its sha256.

    Refused (``PackError``) when the tree holds anything but files (submodules, ...), a
    name or mode no bundle may hold, or more than ``cap`` bytes of content.
    """
    tree = repo[commit].tree
    files = dict(walk_tree(tree))
    if tree_from_entries(repo, files) != str(tree.id):
        raise PackError(where, "not a bundle tree (it holds entries other than files, "
                        "such as submodules)")
    total = sum(repo[oid].size for _mode, oid in files.values())
    if total > cap:
        raise PackError(where, f"bundle content is {total} bytes, over the {cap}-byte limit")
    try:
        with PackWriter(dest) as writer:
            for name in sorted(files):
                mode, oid = files[name]
                writer.add_bytes(name, repo[oid].data, mode)
            return writer.close()
    except ValueError as exc:  # a name or mode no bundle may hold (a symlink, '..', ...)
        raise PackError(where, f"not a bundle tree ({exc})") from None

