"""A collection's Git repository, through pygit2 (imported lazily)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model.errors import ConflictError, NotFoundError
from skillmeat.store.files import process_lock, prune_empty_dirs

DEFAULT_AUTHOR = ("SkillMeat", "skillmeat@localhost")


@dataclass(frozen=True)
class CommitInfo:
    id: str
    message: str
    author: str
    time: int

    @property
    def summary(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "summary": self.summary, "author": self.author, "time": self.time}


def _pygit2() -> Any:
    import pygit2

    return pygit2


class GitRepo:
    """A repository with a work tree that SkillMeat commits to."""

    def __init__(self, path: Path) -> None:
        pygit2 = _pygit2()
        try:
            self.repo = pygit2.Repository(str(path))
        except pygit2.GitError:
            raise NotFoundError(f"{path} is not a git repository") from None
        if self.repo.workdir is None:
            raise NotFoundError(f"{path} is a bare repository", hint="use a clone with a work tree")
        self.path = Path(self.repo.workdir)

    @classmethod
    def init(cls, path: Path) -> GitRepo:
        pygit2 = _pygit2()
        path.mkdir(parents=True, exist_ok=True)
        pygit2.init_repository(str(path), initial_head="main")
        return cls(path)

    def _configs(self) -> list[Any]:
        """git's config as git reads it: the repository's, $GIT_CONFIG_GLOBAL, then the rest."""
        pygit2 = _pygit2()
        configs = [pygit2.Config(os.path.join(self.repo.path, "config"))]
        extra = os.environ.get("GIT_CONFIG_GLOBAL")  # libgit2 itself ignores this variable
        if extra and os.path.isfile(extra):
            configs.append(pygit2.Config(extra))
        configs.append(self.repo.config)
        return configs

    def signer(self) -> Callable[[bytes], str] | None:
        """How ``git commit`` would sign here (commit.gpgsign with an SSH key), loaded now."""
        from skillmeat.store.gitsign import configured_signer

        return configured_signer(self._configs(), self.path)

    def signature(self) -> Any:
        """Who commits, resolved as git does: environment, repo config, global config, SkillMeat."""
        pygit2 = _pygit2()
        configs = self._configs()
        name = os.environ.get("GIT_AUTHOR_NAME") or config_value(configs, "user.name") or DEFAULT_AUTHOR[0]
        email = (os.environ.get("GIT_AUTHOR_EMAIL") or config_value(configs, "user.email")
                 or DEFAULT_AUTHOR[1])
        return pygit2.Signature(name, email, int(time.time()), _utc_offset())

    def head(self) -> str | None:
        if self.repo.head_is_unborn:
            return None
        return str(self.repo.head.target)

    def resolve(self, rev: str) -> str:
        pygit2 = _pygit2()
        try:
            obj = self.repo.revparse_single(rev)
            commit = obj.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise NotFoundError(f"no commit '{rev}' in {self.path}",
                                hint="see `skillmeat history`") from None
        return str(commit.id)

    def dirty_paths(self, under: Iterable[str] = ()) -> list[str]:
        """Paths with uncommitted changes (optionally only under some prefixes)."""
        pygit2 = _pygit2()
        prefixes = tuple(p.rstrip("/") for p in under)
        out = []
        for path, flags in self.repo.status().items():
            if flags in (pygit2.GIT_STATUS_CURRENT, pygit2.GIT_STATUS_IGNORED):
                continue
            if not prefixes or any(path == p or path.startswith(p + "/") for p in prefixes):
                out.append(path)
        return sorted(out)

    def commit_paths(self, paths: Iterable[str], message: str, *, allow_empty: bool = False,
                     known: dict[str, tuple[str, int]] | None = None,
                     sign: Callable[[bytes], str] | None = None) -> str:
        """Commit exactly these work-tree paths (files or directories).

        Whatever else the user has staged stays staged and out of our commit. A lock inside
        the repository serializes SkillMeat processes of different homes on one collection.
        ``known``: files whose blob is already in the object store (path -> (blob id, mode)),
        staged without hashing and compressing them again. ``sign``: commit payload -> armored
        signature for the ``gpgsig`` header (``git verify-commit`` checks it); without it, the
        commit is signed when git's config says commits here are (``commit.gpgsign``): every
        commit SkillMeat makes in a collection comes through here.
        """
        sign = sign or self.signer()
        with process_lock(Path(self.repo.path) / "skillmeat.lock"):
            return self._commit_paths(paths, message, allow_empty, known or {}, sign)

    def _commit_paths(self, paths: Iterable[str], message: str, allow_empty: bool,
                      known: dict[str, tuple[str, int]],
                      sign: Callable[[bytes], str] | None = None) -> str:
        pygit2 = _pygit2()
        self.check_state()
        index = self.repo.index
        index.read()
        touched = {p.rstrip("/") for p in paths}
        head = self.head()
        others = self._staged_outside(index, head, touched)
        self._unstage_missing(index, touched)
        present = sorted(p for p in touched if (self.path / p).exists() and p not in known)
        if present:
            index.add_all(present)  # fast, but skips ignored files: add those one by one
            for path in self._files_under(present):
                if path not in index:
                    index.add(path)
        for path, (oid, mode) in known.items():
            index.add(pygit2.IndexEntry(path, pygit2.Oid(hex=oid), mode))
        tree = self._tree_of(index, head, touched) if others else index.write_tree()
        if head and not allow_empty and self.repo[head].tree_id == tree:
            index.write()
            return head
        sig = self.signature()
        try:
            if sign is None:
                oid = self.repo.create_commit("HEAD", sig, sig, message, tree, [head] if head else [])
            else:
                oid = self._signed_commit(sig, message, tree, head, sign)
        except pygit2.GitError as exc:  # HEAD moved under us (another process committed)
            raise ConflictError(f"the collection at {self.path} changed while committing ({exc})",
                                hint="retry") from None
        index.write()
        if known:  # entries added by id carry no file times: let git fill them in (hash only)
            _refresh_index(self.path)
        return str(oid)

    def _signed_commit(self, sig: Any, message: str, tree: str, head: str | None,
                       sign: Callable[[bytes], str]) -> Any:
        """A signed commit on HEAD's branch, moved from ``head`` only (compare-and-swap)."""
        oid = self._signed_object(sig, message, tree, head, sign)
        self._move_head(oid, head)
        return oid

    def _signed_object(self, sig: Any, message: str, tree: str, head: str | None,
                       sign: Callable[[bytes], str]) -> Any:
        """A signed commit object (no ref moves)."""
        payload = self.repo.create_commit_string(sig, sig, message, tree, [head] if head else [])
        armored = sign(payload.encode() if isinstance(payload, str) else payload)
        return self.repo.create_commit_with_signature(payload, armored.rstrip("\n"))

    def _move_head(self, oid: Any, head: str | None) -> None:
        """HEAD's branch from ``head`` to ``oid`` (compare-and-swap)."""
        branch = self.repo.references["HEAD"].target  # e.g. refs/heads/main, unborn or not
        ref = self.repo.references.get(branch)
        if (str(ref.target) if ref is not None else None) != head:
            raise _pygit2().GitError(f"{branch} moved")
        if ref is None:
            self.repo.references.create(branch, oid, force=False)  # AlreadyExistsError: a race
        else:
            ref.set_target(oid)

    def loose_objects(self) -> Path | None:
        """Where a SHA-1 loose object may be written directly, or None when this repository
        keeps its objects elsewhere (a linked worktree) or names them otherwise (SHA-256)."""
        objects = Path(self.repo.path) / "objects"
        fmt = config_value([self.repo.config], "extensions.objectformat") or "sha1"
        return objects if objects.is_dir() and fmt.lower() == "sha1" else None

    def uncommit(self, commit: str, parent: str | None) -> None:
        """Take back a commit we just made (a later step of the same change failed).

        Only while HEAD still points at it; the index goes back to the parent's tree."""
        if self.head() != commit:
            return
        ref = self.repo.references[self.repo.references["HEAD"].target]
        if parent is None:
            ref.delete()
            self.repo.index.clear()
        else:
            ref.set_target(parent)
            self.repo.index.read_tree(self.repo[parent].tree)
        self.repo.index.write()

    def check_state(self) -> None:
        """Refuse to commit in the middle of a merge, rebase or with conflicts."""
        gitdir = Path(self.repo.path)
        busy = [n for n in ("MERGE_HEAD", "REBASE_HEAD", "rebase-merge", "rebase-apply",
                            "CHERRY_PICK_HEAD", "REVERT_HEAD") if (gitdir / n).exists()]
        self.repo.index.read()
        if busy or self.repo.index.conflicts is not None:
            raise ConflictError(f"the collection at {self.path} is in the middle of a "
                                f"{'merge' if not busy else busy[0].split('_')[0].lower()}",
                                hint="finish or abort it with git first")
        if self.repo.head_is_detached:
            raise ConflictError(f"the collection at {self.path} has a detached HEAD",
                                hint="check out a branch first, e.g. git switch main")

    def _staged_outside(self, index: Any, head: str | None, touched: set[str]) -> bool:
        if head is None:
            return len(index) > 0 and any(not _under(e.path, touched) for e in index)
        diff = index.diff_to_tree(self.repo[head].tree)
        return any(not _under(d.new_file.path, touched) or not _under(d.old_file.path, touched)
                   for d in diff.deltas)

    def _tree_of(self, index: Any, head: str | None, touched: set[str]) -> str:
        """HEAD's tree with only the touched paths taken from the index."""
        pygit2 = _pygit2()
        mem = pygit2.Index()
        if head is not None:
            mem.read_tree(self.repo[head].tree)
        for entry in [e.path for e in mem if _under(e.path, touched)]:
            mem.remove(entry)
        for entry in index:
            if _under(entry.path, touched):
                mem.add(pygit2.IndexEntry(entry.path, entry.id, entry.mode))
        return str(mem.write_tree(self.repo))

    def _files_under(self, rels: list[str]) -> Iterator[str]:
        for rel in rels:
            full = self.path / rel
            if full.is_file():
                yield rel
                continue
            for root, dirs, names in os.walk(full):
                dirs[:] = [d for d in dirs if d != ".git"]
                base = os.path.relpath(root, self.path).replace(os.sep, "/")
                yield from (f"{base}/{n}" for n in names)

    def _unstage_missing(self, index: Any, touched: set[str]) -> None:
        """Drop index entries under the touched paths whose files are gone."""
        for entry_path in [e.path for e in index]:
            if _under(entry_path, touched) and not (self.path / entry_path).is_file():
                index.remove(entry_path)

    def log(self, limit: int = 50, path: str | None = None) -> list[CommitInfo]:
        head = self.head()
        if head is None:
            return []
        out: list[CommitInfo] = []
        for commit in self.repo.walk(head):
            if path is not None and not self._touches(commit, path):
                continue
            out.append(CommitInfo(str(commit.id), commit.message, commit.author.name,
                                  commit.commit_time))
            if len(out) >= limit:
                break
        return out

    def _touches(self, commit: Any, path: str) -> bool:
        mine = self._entry_id(commit.tree, path)
        parents = commit.parents or [None]
        return any(mine != (self._entry_id(p.tree, path) if p else None) for p in parents)

    @staticmethod
    def _entry_id(tree: Any, path: str) -> str | None:
        try:
            return str(tree[path].id)
        except KeyError:
            return None

    def files_at(self, rev: str) -> dict[str, tuple[int, str]]:
        """Every file in a commit: path -> (mode, blob id)."""
        tree = self.repo[self.resolve(rev)].tree
        return dict(walk_tree(tree, ""))

    def last_changes(self, owners: dict[str, str], limit: int = 2000) -> dict[str, CommitInfo]:
        """The newest commit (first-parent history from HEAD) that changed each owner's files.

        ``owners`` maps each file path of HEAD to its owner (an artifact id, say). One tree
        diff per commit, so the cost follows what changed, not the size of the tree; owners
        not reached within ``limit`` commits are left out.
        """
        head = self.head()
        out: dict[str, CommitInfo] = {}
        if head is None:
            return out
        left = set(owners.values())
        commit = self.repo[head]
        for _ in range(limit):
            if not left:
                break
            info = CommitInfo(str(commit.id), commit.message, commit.author.name, commit.commit_time)
            if not commit.parent_ids:
                out.update((o, info) for o in left)
                break
            parent = self.repo[commit.parent_ids[0]]
            for delta in parent.tree.diff_to_tree(commit.tree).deltas:
                owner = owners.get(delta.new_file.path)
                if owner in left:
                    out[owner] = info
                    left.discard(owner)
            commit = parent
        return out

    def last_change_of(self, names: Iterable[str], rev: str) -> str:
        """The newest commit (first parents back from ``rev``) whose top-level entries
        ``names`` (files or directories) differ from its parent's; the root commit at the end."""
        wanted = tuple(names)

        def entries(tree: Any) -> tuple[str, ...]:
            return tuple(str(tree[n].id) if n in tree else "" for n in wanted)

        commit = self.repo[self.resolve(rev)]
        while commit.parent_ids:
            parent = self.repo[commit.parent_ids[0]]
            if entries(commit.tree) != entries(parent.tree):
                break
            commit = parent
        return str(commit.id)

    def blob(self, oid: str) -> bytes:
        data: bytes = self.repo[oid].data
        return data

    def tree_id(self, rev: str) -> str:
        return str(self.repo[self.resolve(rev)].tree_id)

    def subtree_ids(self, rev: str, paths: Iterable[str]) -> dict[str, str]:
        tree = self.repo[self.resolve(rev)].tree
        return {p: i for p in paths if (i := self._entry_id(tree, p)) is not None}

    def diff(self, old: str | None, new: str | None, paths: list[str] | None = None) -> str:
        """A unified diff between two commits (None for old = empty, None for new = work tree)."""
        pygit2 = _pygit2()
        flags = (pygit2.GIT_DIFF_INCLUDE_UNTRACKED | pygit2.GIT_DIFF_RECURSE_UNTRACKED_DIRS
                 | pygit2.GIT_DIFF_SHOW_UNTRACKED_CONTENT)
        kwargs: dict[str, Any] = {"flags": flags}
        old_tree = self.repo[self.resolve(old)].tree if old else None
        if new is None:
            diff = (old_tree.diff_to_workdir(**kwargs) if old_tree is not None
                    else self.repo.diff(**kwargs))
        else:
            new_tree = self.repo[self.resolve(new)].tree
            diff = self.repo.diff(old_tree, new_tree) if old_tree is not None else \
                new_tree.diff_to_tree(swap=True)
        patches = [p for p in diff if _patch_matches(p, paths)]
        return "".join(p.text or "" for p in patches)

    def restore(self, rev: str, message: str) -> str:
        """A new commit whose tree is the tree of ``rev``; history is not rewritten."""
        pygit2 = _pygit2()
        target = self.repo[self.resolve(rev)]
        head = self.head()
        sig = self.signature()
        sign = self.signer()  # signed before the work tree changes: a key problem changes nothing
        signed = (self._signed_object(sig, message, str(target.tree_id), head, sign)
                  if sign is not None else None)
        before = set(self.files_at(head)) if head else set()
        after = dict(walk_tree(target.tree, ""))
        self.repo.checkout_tree(target.tree, strategy=pygit2.GIT_CHECKOUT_FORCE)
        for gone in before - set(after):
            path = self.path / gone
            if path.exists():
                path.unlink()
                prune_empty_dirs(path.parent, self.path)
        index = self.repo.index
        index.read_tree(target.tree)
        index.write()
        if signed is not None:
            self._move_head(signed, head)
            return str(signed)
        oid = self.repo.create_commit("HEAD", sig, sig, message, target.tree_id,
                                      [head] if head else [])
        return str(oid)

    def set_ref(self, name: str, target: str) -> None:
        self.repo.references.create(name, target, force=True)

    def refs(self, prefix: str) -> dict[str, str]:
        out = {}
        for name in self.repo.references:
            if name.startswith(prefix):
                out[name] = str(self.repo.references[name].resolve().target)
        return out


def _refresh_index(workdir: Path) -> None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=workdir, check=False,
                       capture_output=True, timeout=600,
                       env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))


def _under(path: str, roots: set[str]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:i]) in roots for i in range(1, len(parts) + 1))


def config_value(configs: list[Any], key: str) -> str | None:
    """The first set value of ``key`` in these pygit2 configs (repository, then global...)."""
    for config in configs:
        try:
            value = config[key]
        except (KeyError, ValueError):
            continue
        if value:
            return str(value)
    return None


def _utc_offset() -> int:
    return int(-time.timezone / 60 if not time.localtime().tm_isdst else -time.altzone / 60)


def _patch_matches(patch: Any, paths: list[str] | None) -> bool:
    if not paths:
        return True
    names = {patch.delta.old_file.path, patch.delta.new_file.path}
    return any(n == p or n.startswith(p.rstrip("/") + "/") for n in names for p in paths)


def walk_tree(tree: Any, prefix: str = "") -> Iterator[tuple[str, tuple[int, str]]]:
    for entry in tree:
        path = prefix + entry.name
        if entry.type_str == "tree":
            yield from walk_tree(entry, path + "/")
        elif entry.type_str == "blob":
            yield path, (entry.filemode, str(entry.id))


def read_head_fast(workdir: Path) -> str | None:
    """HEAD's commit id read from the files git keeps, without loading libgit2 (None if unsure)."""
    gitdir = workdir / ".git"
    try:
        head = (gitdir / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head if len(head) == 40 else None
        ref = head[5:]
        loose = gitdir / ref
        if loose.is_file():
            value = loose.read_text().strip()
            return value if len(value) == 40 else None
        for line in (gitdir / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    except (OSError, UnicodeDecodeError):
        return None
    return None


IN_PROGRESS = (("rebase-merge", "rebase"), ("rebase-apply", "rebase or git am"),
               ("sequencer", "cherry-pick or revert sequence"))


def operation_in_progress(workdir: Path) -> str | None:
    """The rebase, ``git am`` or cherry-pick/revert sequence under way in this work tree (its
    state directories, where ``git rev-parse --git-path`` puts them: linked worktrees too)."""
    from skillmeat.store.gitcli import run_git

    args = [a for name, _ in IN_PROGRESS for a in ("--git-path", name)]
    found = run_git(["rev-parse", *args], cwd=workdir, source=str(workdir)).splitlines()
    for (name, what), rel in zip(IN_PROGRESS, found, strict=False):
        if (workdir / rel).is_dir():  # an absolute rel stays as it is
            return f"{what} (.git/{name})"
    return None
