"""Publish a built site on a ``gh-pages`` branch: one commit whose tree is the site, then push.

Like ``ghp-import``: the branch's history only moves forward (each deploy's parent is the
previous tip), nothing is ever forced, and the user's checkout (HEAD, index, work tree)
is never touched. An empty ``.nojekyll`` is added at the root so GitHub Pages serves the
files as they are, ``_``-prefixed and dot directories (``.well-known``) included.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.errors import BadInputError, SkillmeatError, SourceError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.store.gitcli import check_arg, is_git_url
from skillmeat.store.sitetree import BLOB, PagesBranch, scan_site

NOJEKYLL = ".nojekyll"
KEPT = ("CNAME",)  # a custom domain set on the branch stays when the site brings none


@dataclass(frozen=True)
class DeployResult:
    branch: str
    commit: str  # the branch's tip after the deploy
    parent: str | None
    status: str  # "created" or "unchanged"
    files: int  # files of the site (without the added .nojekyll / kept CNAME)
    size: int
    remote: str | None = None
    pushed: bool = False
    push_summary: str = ""
    skipped: list[str] = field(default_factory=list)  # .git entries left out of the site

    @property
    def created(self) -> bool:
        return self.status == "created"

    def summary(self) -> str:
        """One line for people."""
        what = (f"Committed {self.files} file(s) to {self.branch} at {self.commit[:12]}"
                if self.created else f"{self.branch} unchanged at {self.commit[:12]} (same site)")
        if self.pushed:
            return f"{what}; pushed to {self.remote} ({self.push_summary or 'done'})"
        return f"{what}; not pushed"

    def to_dict(self) -> dict[str, Any]:
        return {"branch": self.branch, "commit": self.commit, "parent": self.parent,
                "status": self.status, "files": self.files, "bytes": self.size,
                "remote": self.remote, "pushed": self.pushed, "push": self.push_summary,
                "skipped": self.skipped}


def deploy(repo_path: Path, site_dir: Path, *, remote: str | None, branch: str = "gh-pages",
           message: str, push: bool = True, signer: PrivateKey | None = None) -> DeployResult:
    """Commit ``site_dir`` as the tree of ``refs/heads/<branch>`` in ``repo_path`` and push it.

    ``remote`` (a name or URL) defaults to ``origin`` when pushing. When the local branch
    does not exist yet but ``<remote>/<branch>`` was fetched, that is the parent. A
    rejected push puts the local branch back where it was; a failed one (unreachable
    remote) keeps the new commit, to be pushed later.
    """
    if branch.startswith("refs/"):
        raise BadInputError(f"invalid branch name '{branch}'", hint="give a branch name, e.g. gh-pages")
    pages = PagesBranch(repo_path, branch)
    target = remote if remote is not None else ("origin" if push else None)
    if target is not None:
        _check_remote(pages, target)
    scan = scan_site(site_dir)
    if not scan.has_file("index.html"):
        raise BadInputError(f"{site_dir} has no index.html",
                            hint="is it the built site? e.g. skillmeat web build -o DIR")
    pages.check_not_checked_out()
    old = pages.tip()
    parent = old if old is not None else (pages.remote_tip(target) if target else None)
    defaults = {NOJEKYLL: (BLOB, pages.blob(b""))}
    if parent is not None:
        for name in KEPT:
            kept = pages.entry(parent, name)
            if kept is not None:
                defaults[name] = kept
    tree = pages.write_site(scan, defaults)
    if parent is not None and pages.tree_of(parent) == tree:
        status, tip = "unchanged", parent
    else:
        sign = None
        if signer is not None:
            from skillmeat.services.refs import git_signer

            sign = git_signer(signer)
        status, tip = "created", pages.commit(tree, parent, message, sign)
    if tip != old:
        pages.move(tip, old)
    result = DeployResult(branch, tip, parent if status == "created" else pages.parent(tip),
                          status, len(scan.files), scan.size, target, skipped=scan.skipped)
    if not push or target is None:
        return result
    return _push(pages, result, target, old)


def _check_remote(pages: PagesBranch, remote: str) -> None:
    """A configured remote's name, a git URL or an existing repository path; checked before
    anything is committed."""
    if remote.startswith("-") or any(c.isspace() or ord(c) < 32 for c in remote):
        raise BadInputError(f"invalid remote '{remote}'", hint="give a remote name or a git URL")
    check_arg(remote, "remote")
    names = set(pages.repo.remotes.names())
    if remote in names or is_git_url(remote) or "://" in remote or Path(remote).exists():
        return
    raise BadInputError(f"no remote named '{remote}' in {pages.path}",
                        hint=f"add it (git remote add {remote} URL) or pass a URL; "
                        f"remotes here: {', '.join(sorted(names)) or 'none'}")


def _push(pages: PagesBranch, result: DeployResult, remote: str, old: str | None) -> DeployResult:
    branch = result.branch
    try:
        outcome = pages.push(remote)
    except SourceError as exc:
        kept = (f"the local branch {branch} is at {result.commit[:12]}; push it later with "
                f"git push {shlex.quote(remote)} {branch}")
        raise SkillmeatError(f"push of {branch} to {remote} failed: {exc.detail}; {kept}") from None
    if outcome.ok:
        return dataclasses.replace(result, pushed=True, push_summary=outcome.summary)
    if result.commit != old:
        pages.move(old, result.commit)  # rejected: leave the branch as it was
    if "fetch first" in outcome.summary or "non-fast-forward" in outcome.summary:
        raise SkillmeatError(
            f"push of {branch} to {remote} was rejected: the remote has commits this one does "
            f"not; fetch it (git fetch {remote} {branch}:{branch}) and deploy again")
    raise SkillmeatError(f"push of {branch} to {remote} was rejected: {outcome.summary}; the "
                         f"local branch {branch} was left as it was")
