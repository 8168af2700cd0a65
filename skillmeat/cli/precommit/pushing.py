"""What a pre-push hook builds from: the commit being pushed, and whether it is the team's
publishing branch.

git tells a pre-push hook every pushed ref on stdin; pre-commit reads that itself and tells
its hooks only the first ref with new commits (PRE_COMMIT_LOCAL_BRANCH, PRE_COMMIT_TO_REF,
PRE_COMMIT_REMOTE_BRANCH). So under pre-commit the rest of the push is read from the remote's
config (``remote.<name>.mirror``/``.push``) and, on Linux, from the ``git push`` command line.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from pathlib import Path

from skillmeat.cli.precommit import OUR_REFS, Push, PushedRef

PUBLISH_BRANCH_KEY = "skillmeat.publishBranch"
_FALLBACK = ("refs/heads/main", "refs/heads/master")


def _git(args: list[str], root: Path) -> str:
    from skillmeat.model.errors import SourceError
    from skillmeat.store.gitcli import run_git

    try:
        return run_git(args, cwd=root).strip()
    except SourceError:
        return ""


def publishing_branches(push: Push, root: Path) -> tuple[str, ...]:
    """The branch (on the remote) whose pushes publish: git config ``skillmeat.publishBranch``,
    else the remote's default branch (``refs/remotes/<remote>/HEAD``), else main or master."""
    configured = _git(["config", PUBLISH_BRANCH_KEY], root)
    if configured:
        return (configured if configured.startswith("refs/") else f"refs/heads/{configured}",)
    name = push.remote_name
    if name and not name.startswith("-") and "://" not in name and ":" not in name:
        target = _git(["symbolic-ref", "-q", f"refs/remotes/{name}/HEAD"], root)
        prefix = f"refs/remotes/{name}/"
        if target.startswith(prefix):
            return (f"refs/heads/{target.removeprefix(prefix)}",)
    return _FALLBACK


def commit_of(ref: PushedRef, root: Path) -> str:
    """The local commit a pushed ref sends (pre-commit leaves the sha out on a first push)."""
    rev = ref.local_sha or ref.local_ref
    sha = _git(["rev-parse", "--verify", "-q", f"{rev}^{{commit}}"], root)
    if not sha:
        from skillmeat.model.errors import NotFoundError

        raise NotFoundError(f"cannot find the pushed commit {rev!r} in {root}",
                            hint="push a branch or a tag that points at a commit")
    return sha


def pushed(push: Push | None) -> list[PushedRef]:
    """The pushed refs that send something (no deletions, none of ours)."""
    if push is None:
        return []
    return [r for r in push.refs if not r.deletes and not r.remote_ref.startswith(OUR_REFS)]


def carries_ours(push: Push, root: Path) -> bool:
    """The push sends refs/skillmeat/* beside other refs (``--mirror``, a refspec naming ours,
    ``skillmeat collection push``): exporting or publishing then would race the push itself."""
    if any(r.remote_ref.startswith(OUR_REFS) or r.local_ref.startswith(OUR_REFS)
           for r in push.refs):
        return True
    if not push.partial:
        return False  # git told us every ref
    name = push.remote_name
    if name and "/" not in name and ":" not in name and not name.startswith("-"):
        if _git(["config", "--bool", f"remote.{name}.mirror"], root) == "true":
            return True
        if any(_names_ours(spec) for spec in
               _git(["config", "--get-all", f"remote.{name}.push"], root).splitlines()):
            return True
    return _command_line_carries_ours(_push_argv())


def _names_ours(spec: str) -> bool:
    src = spec.lstrip("+").split(":", 1)[0]
    return src.startswith(OUR_REFS) or ("*" in src and fnmatch.fnmatchcase(OUR_REFS + "x", src))


def _command_line_carries_ours(argv: Sequence[str]) -> bool:
    return any(a == "--mirror" or (not a.startswith("-") and _names_ours(a)) for a in argv)


def _push_argv(levels: int = 8) -> list[str]:
    """The arguments after ``push`` of the ``git push`` that started this hook (Linux /proc;
    [] where there is none or it cannot be read)."""
    pid = os.getppid()
    for _ in range(levels):
        if pid <= 1:
            return []
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return []
        args = [a.decode(errors="replace") for a in argv if a]
        if args and os.path.basename(args[0]) in ("git", "git.exe") and "push" in args:
            return args[args.index("push") + 1:]
        try:
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (IndexError, ValueError):
            return []
    return []


def export_target(push: Push | None, root: Path) -> str | None:
    """The commit to export: the pushed publishing branch's, else the first pushed branch's
    (or tag's); None when this is not a push (HEAD then)."""
    refs = pushed(push)
    if push is None or not refs:
        return None
    wanted = publishing_branches(push, root)
    ref = (next((r for r in refs if r.remote_ref in wanted), None)
           or next((r for r in refs if r.remote_ref.startswith("refs/heads/")), refs[0]))
    return commit_of(ref, root)


def publish_target(push: Push | None, root: Path) -> tuple[str | None, str]:
    """``(commit, branch)`` to publish the pushed publishing branch; ``(None, why)`` when the
    push is not of that branch; ``(None, "")`` when this is not a push (HEAD then)."""
    refs = pushed(push)
    if push is None or not refs:
        return None, ""
    wanted = publishing_branches(push, root)
    for ref in refs:
        if ref.remote_ref in wanted:
            return commit_of(ref, root), ref.remote_ref
    what = ", ".join(r.remote_ref for r in refs)
    kind = "tag" if all(r.remote_ref.startswith("refs/tags/") for r in refs) else "branch"
    return None, (f"pushing {kind} {what}, not the publishing branch {' or '.join(wanted)}: "
                  f"nothing published (git config {PUBLISH_BRANCH_KEY} BRANCH changes it)")
