"""Signed commits under ``refs/skillmeat/``, moved only by compare-and-swap.

A commit is written with its SSH signature in the ``gpgsig`` header (so stock
``git verify-commit`` checks it); the ref moves only if it still points where we
read it, else the update is rebuilt on top of the new tip and retried.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.store.files import process_lock

PREFIX = "refs/skillmeat/"
MAX_ATTEMPTS = 64
_BAD = re.compile(r"(^|/)\.|\.\.|[\x00-\x20\x7f~^:?*\[\\]|@\{|\.lock(/|$)|//|/$|\.$|^/")

Signer = Callable[[bytes], str]
TreeBuilder = Callable[[Any, "str | None"], str]  # (repo, parent commit id) -> tree id


def check_ref_name(name: str) -> str:
    if not name.startswith(PREFIX) or name == PREFIX or _BAD.search(name[len(PREFIX):]):
        raise BadInputError(f"invalid ref '{name}'",
                            hint=f"SkillMeat refs are under {PREFIX}, e.g. {PREFIX}feed")
    return name


@dataclass(frozen=True)
class SignedCommit:
    id: str
    parents: tuple[str, ...]
    message: str
    author: str
    time: int
    signature: str | None
    payload: bytes

    @property
    def summary(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""


class RefStore:
    def __init__(self, repo: Any) -> None:
        self.repo = repo  # a pygit2.Repository

    def read(self, name: str) -> str | None:
        check_ref_name(name)
        ref = self.repo.references.get(name)
        return str(ref.target) if ref is not None else None

    def names(self) -> list[str]:
        return sorted(n for n in self.repo.references if n.startswith(PREFIX))

    def update(
        self, name: str, build_tree: TreeBuilder, message: str, sign: Signer, signature: Any,
        *, attempts: int = MAX_ATTEMPTS,
    ) -> str:
        """Append a signed commit to ``name``; rebuild on the new tip when another writer won."""
        import pygit2

        check_ref_name(name)
        for attempt in range(attempts):
            parent = self.read(name)
            tree = build_tree(self.repo, parent)
            oid = self._signed_commit(tree, [parent] if parent else [], message, sign, signature)
            try:
                # Compare and swap under a lock every SkillMeat writer of this repository
                # takes; libgit2's own check still guards against writers that do not.
                with process_lock(Path(self.repo.path) / "skillmeat-refs.lock", timeout=60):
                    if self.read(name) != parent:
                        continue  # another writer won: rebuild on the new tip
                    ref = self.repo.references.get(name)
                    if ref is None:
                        self.repo.references.create(name, oid, force=False)
                    else:
                        ref.set_target(oid)
                return oid
            except (pygit2.AlreadyExistsError, pygit2.GitError, ValueError, OSError) as exc:
                if isinstance(exc, pygit2.InvalidSpecError):
                    raise BadInputError(f"invalid ref '{name}' ({exc})") from None
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # lost a race: retry
        raise ConflictError(f"{name} kept moving: gave up after {attempts} attempts",
                            hint="retry when the other writers are done")

    def set_if(self, name: str, new: str, expected: str | None) -> None:
        """Move ``name`` from ``expected`` to ``new`` or fail without changing anything."""
        import pygit2

        check_ref_name(name)
        with process_lock(Path(self.repo.path) / "skillmeat-refs.lock", timeout=60):
            ref = self.repo.references.get(name)
            current = str(ref.target) if ref is not None else None
            if current != expected:
                raise ConflictError(f"{name} moved (now {str(current)[:12]}, expected "
                                    f"{str(expected)[:12]})", hint="fetch again and retry")
            try:
                if ref is None:
                    self.repo.references.create(name, new, force=False)
                else:
                    ref.set_target(new)
            except (pygit2.AlreadyExistsError, pygit2.GitError, OSError) as exc:
                raise ConflictError(f"{name} moved while updating it ({exc})") from None

    def create(self, name: str, tree: str, message: str, sign: Signer, signature: Any) -> str:
        """A new ref: one signed root commit of ``tree``; fails if ``name`` exists."""
        oid = self._signed_commit(tree, [], message, sign, signature)
        self.set_if(name, oid, None)
        return oid

    def _signed_commit(self, tree: str, parents: list[str], message: str, sign: Signer,
                       signature: Any) -> str:
        payload = self.repo.create_commit_string(signature, signature, message, tree, parents)
        armored = sign(payload.encode() if isinstance(payload, str) else payload)
        oid = self.repo.create_commit_with_signature(payload, armored.rstrip("\n"))
        return str(oid)

    def commit(self, oid: str) -> SignedCommit:
        import pygit2

        try:
            c = self.repo[oid]
        except (KeyError, ValueError):
            raise NotFoundError(f"no commit {oid}") from None
        if not isinstance(c, pygit2.Commit):
            raise NotFoundError(f"{oid} is not a commit")
        sig, payload = c.gpg_signature
        return SignedCommit(str(c.id), tuple(str(p) for p in c.parent_ids), c.message,
                            c.author.name, c.commit_time,
                            sig.decode() if sig else None, payload or b"")

    def walk(self, tip: str, stop: str | None = None) -> Iterator[SignedCommit]:
        """Commits from ``tip`` back (first parents), stopping before ``stop``."""
        current: str | None = tip
        while current and current != stop:
            commit = self.commit(current)
            yield commit
            current = commit.parents[0] if commit.parents else None

    def is_ancestor(self, old: str, new: str) -> bool:
        return old == new or bool(self.repo.descendant_of(new, old))


def tree_with_files(repo: Any, base_tree: str | None, files: dict[str, bytes]) -> str:
    """A tree: ``base_tree`` (or empty) with ``files`` (posix path -> bytes) put in."""
    import pygit2

    nested: dict[str, dict[str, bytes]] = {}
    flat: dict[str, bytes] = {}
    for path, data in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            nested.setdefault(head, {})[rest] = data
        else:
            flat[path] = data
    base = repo[base_tree] if base_tree else None
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
    for name, data in flat.items():
        builder.insert(name, repo.create_blob(data), pygit2.GIT_FILEMODE_BLOB)
    for name, sub in nested.items():
        existing = base[name].id if base is not None and name in base else None
        child = tree_with_files(repo, str(existing) if existing else None, sub)
        builder.insert(name, child, pygit2.GIT_FILEMODE_TREE)
    return str(builder.write())


def tree_from_entries(repo: Any, entries: dict[str, tuple[int, str]]) -> str:
    """A tree holding exactly ``entries`` (posix path -> (git mode, blob id)), from existing blobs."""
    nested: dict[str, dict[str, tuple[int, str]]] = {}
    builder = repo.TreeBuilder()
    for path, (mode, oid) in entries.items():
        head, sep, rest = path.partition("/")
        if sep:
            nested.setdefault(head, {})[rest] = (mode, oid)
        else:
            builder.insert(path, oid, mode)
    for name, sub in nested.items():
        builder.insert(name, tree_from_entries(repo, sub), 0o040000)
    return str(builder.write())
