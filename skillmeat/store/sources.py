"""Where artifacts come from: a local path, any git URL, or ``github:owner/repo[/path][@ref]``."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from skillmeat.model.errors import BadInputError, SourceError
from skillmeat.store import gitcli
from skillmeat.store.files import staging_dir

_URL = re.compile(r"^(file|https?|ssh|git)://|^[\w.-]+@[\w.-]+:")
_GITHUB = re.compile(r"^github:([\w.-]+)/([\w.-]+?)(?:\.git)?(/[^@]*)?(?:@(.+))?$")


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source: ``text`` is what manifests record; ``location`` what is fetched."""

    text: str
    kind: str  # "local" or "git"
    location: str
    subpath: str = ""
    ref: str = ""


@dataclass(frozen=True)
class Fetched:
    spec: SourceSpec
    root: Path  # the tree to discover in (subpath applied)
    commit: str  # resolved commit, "" for a plain directory


def parse_source(text: str, ref: str = "") -> SourceSpec:
    m = _GITHUB.match(text)
    if m:
        owner, repo, sub, at = m.groups()
        url = f"https://github.com/{owner}/{repo}.git"
        canon = f"github:{owner}/{repo}"
        return SourceSpec(canon, "git", url, (sub or "").strip("/"), ref or at or "")
    if text.startswith("github:"):
        raise BadInputError(f"bad source '{text}'", hint="use github:owner/repo[/path][@ref]")
    if _URL.match(text) or text.endswith(".git"):
        return SourceSpec(text, "git", text, "", ref)
    path = os.path.abspath(os.path.expanduser(text))
    return SourceSpec(path, "local", path, "", ref)


@contextlib.contextmanager
def fetch(spec: SourceSpec) -> Iterator[Fetched]:
    """Make a source readable on disk for the duration of the block."""
    if spec.kind == "local":
        path = Path(spec.location)
        if not path.exists():
            raise SourceError(spec.text, "no such file or directory")
        if spec.ref:
            raise BadInputError("--ref applies to git sources only")
        yield Fetched(spec, path, _local_commit(path))
        return
    with staging_dir("skillmeat-src-") as tmp:
        commit = gitcli.clone(spec.location, tmp / "src", spec.ref, spec.text)
        root = tmp / "src" / spec.subpath if spec.subpath else tmp / "src"
        if not root.exists():
            raise SourceError(spec.text, f"no path '{spec.subpath}' in the repository")
        yield Fetched(spec, root, commit)


def _local_commit(path: Path) -> str:
    """The HEAD commit of the repository holding a local path, if it is one and clean there."""
    import pygit2

    start = path if path.is_dir() else path.parent
    found = pygit2.discover_repository(str(start))
    if not found:
        return ""
    try:
        repo = pygit2.Repository(found)
        if repo.head_is_unborn or repo.workdir is None:
            return ""
        rel = os.path.relpath(path.resolve(), os.path.realpath(repo.workdir)).replace(os.sep, "/")
        prefix = "" if rel == "." else rel.rstrip("/") + ("" if path.is_file() else "/")
        for changed, flags in repo.status().items():
            if flags != pygit2.GIT_STATUS_IGNORED and (not prefix or changed == rel
                                                      or changed.startswith(prefix)):
                return ""  # the copied files are not what HEAD holds
        return str(repo.head.target)
    except pygit2.GitError:
        return ""
