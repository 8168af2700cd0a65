"""Entry points for pre-commit hooks and git hooks: each hook is ``main(argv) -> int``.

Kept off click for start-up speed (pre-commit may start one per batch of files). The shared
pieces live here: argument parsing with one-line errors, the collection around the current
directory (pre-commit runs hooks at the repository's root), the push-stage recursion guard,
and what is being pushed (from pre-commit's environment or git's own pre-push arguments).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat.model.errors import NotFoundError, SkillmeatError

if TYPE_CHECKING:
    from skillmeat.model.sshkeys import PrivateKey
    from skillmeat.store.collection import CollectionStore
    from skillmeat.store.home import Home

# Set while a SkillMeat hook runs: a push made by the hook itself (bundle refs, the feed)
# starts git's pre-push hook again, which must then do nothing.
ACTIVE_ENV = "SKILLMEAT_HOOK_ACTIVE"
OUR_REFS = "refs/skillmeat/"


class HookParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise SystemExit(_line(self.prog, f"{message} (hint: see `{self.prog} --help`)", 2))


def parser(name: str, description: str) -> HookParser:
    return HookParser(prog=f"skillmeat-{name}", description=description)


def _line(prog: str, text: str, code: int) -> int:
    sys.stderr.write(f"{prog}: error: {' '.join(text.split())}\n")
    return code


def run(name: str, body: Callable[[], int]) -> int:
    """Run a hook body: user errors get one line and their exit code, never a traceback."""
    prog = f"skillmeat-{name}"
    try:
        return body()
    except SkillmeatError as exc:
        text = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
        return _line(prog, text, exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug: keep the traceback in the log, say where
        from skillmeat.cli.main import _write_log

        log = _write_log(exc)
        return _line(prog, f"unexpected {type(exc).__name__}: {exc} (hint: "
                     f"{'details in ' + log if log else 'no log could be written'})", 3)


def home() -> Home:
    from skillmeat.store.home import Home

    return Home.from_env()


def team_collection(h: Home) -> CollectionStore:
    """The collection whose repository we are in (registered or not)."""
    from skillmeat.store.collection import CollectionStore

    here = h.enclosing_collection()
    if here is None:
        raise NotFoundError(f"{h.cwd} is not inside a SkillMeat collection (no skillmeat.toml "
                            "beside a .git)", hint="run the hook from a collection repository, "
                            "or make it one with `skillmeat init --team`")
    name = h.name_for(here)
    if name is None:
        from skillmeat.model.manifest import MANIFEST_NAME
        from skillmeat.store import manifest as manifest_io

        name = manifest_io.load_manifest(here / MANIFEST_NAME).name or here.name
    return CollectionStore.open(name, here)


def guarded() -> bool:
    """True when a SkillMeat hook is already running further up (skip: no recursion)."""
    return bool(os.environ.get(ACTIVE_ENV))


@contextmanager
def active() -> Iterator[None]:
    """Mark child processes (git push, nested hooks) as started by a SkillMeat hook."""
    before = os.environ.get(ACTIVE_ENV)
    os.environ[ACTIVE_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ACTIVE_ENV, None)
        else:
            os.environ[ACTIVE_ENV] = before


@dataclass(frozen=True)
class PushedRef:
    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def deletes(self) -> bool:
        return set(self.local_sha) == {"0"}


@dataclass(frozen=True)
class Push:
    """What a pre-push hook is told: the remote, and the refs (when known)."""

    remote_name: str
    remote_url: str
    refs: tuple[PushedRef, ...] = field(default_factory=tuple)
    partial: bool = False  # pre-commit told us only the first ref with new commits

    @property
    def only_ours(self) -> bool:
        """Every pushed ref is a SkillMeat ref (bundles, feed, snapshots): nothing to republish."""
        return bool(self.refs) and all(r.remote_ref.startswith(OUR_REFS) for r in self.refs)

    @property
    def only_deletes(self) -> bool:
        return bool(self.refs) and all(r.deletes for r in self.refs)


def parse_pushed(lines: Sequence[str]) -> tuple[PushedRef, ...]:
    """git's pre-push stdin: ``<local ref> <local sha> <remote ref> <remote sha>`` per line."""
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) == 4:
            out.append(PushedRef(*parts))
    return tuple(out)


def push_from_env(argv_remote: Sequence[str] = ()) -> Push | None:
    """The push under way: pre-commit's PRE_COMMIT_REMOTE_* (with PRE_COMMIT_TO_REF and
    PRE_COMMIT_REMOTE_BRANCH), or git's own arguments ``REMOTE URL`` given as ``argv_remote``."""
    env = os.environ
    if env.get("PRE_COMMIT_REMOTE_NAME") or env.get("PRE_COMMIT_REMOTE_URL"):
        refs: tuple[PushedRef, ...] = ()
        if env.get("PRE_COMMIT_REMOTE_BRANCH"):
            refs = (PushedRef(env.get("PRE_COMMIT_LOCAL_BRANCH", ""), env.get("PRE_COMMIT_TO_REF", ""),
                              env["PRE_COMMIT_REMOTE_BRANCH"], env.get("PRE_COMMIT_FROM_REF", "")),)
        return Push(env.get("PRE_COMMIT_REMOTE_NAME", ""), env.get("PRE_COMMIT_REMOTE_URL", ""), refs,
                    partial=True)
    if len(argv_remote) >= 2:
        return Push(argv_remote[0], argv_remote[1])
    return None


def repo_root(start: Path | None = None) -> Path:
    from skillmeat.store.gitcli import run_git

    cwd = start or Path.cwd()
    return Path(run_git(["rev-parse", "--show-toplevel"], cwd=cwd, source=str(cwd)).strip())


def info(name: str, text: str) -> None:
    """One line of what a hook did (or why it did nothing)."""
    sys.stdout.write(f"skillmeat-{name}: {' '.join(text.split())}\n")
    sys.stdout.flush()


def push_skip(push: Push | None) -> str | None:
    """Why a pre-push hook has nothing to do (None: it has work)."""
    if guarded():
        return (f"skipped: {ACTIVE_ENV} is set (SkillMeat's own push, or set in your "
                "environment: unset it to run this hook)")
    if push is not None and push.only_deletes:
        return "the push only deletes refs: nothing to do"
    if push is not None and push.only_ours:
        return "the push only carries refs/skillmeat/*: nothing to do"
    if push is not None:
        from skillmeat.cli.precommit.pushing import carries_ours

        if carries_ours(push, Path.cwd()):
            return ("the push carries refs/skillmeat/* itself (a mirror, or SkillMeat's own "
                    "push): nothing exported or published")
    return None


def pushed_by_git(argv_remote: Sequence[str]) -> Push | None:
    """``push_from_env``, plus the refs on stdin when git itself runs us as its pre-push hook
    (``REMOTE URL`` as arguments)."""
    push = push_from_env(argv_remote)
    if push is not None and not push.refs and len(argv_remote) >= 2 and not sys.stdin.isatty():
        refs = parse_pushed(sys.stdin.read().splitlines())
        push = Push(push.remote_name, push.remote_url, refs)
    return push


def start_push(name: str, git_args: Sequence[str]) -> tuple[Push | None, Home, CollectionStore] | None:
    """What export and publish start from: the push, the home and this collection; None when
    the push gives them nothing to do (the reason is said in one line)."""
    push = pushed_by_git(git_args)
    skip = push_skip(push)
    if skip:
        info(name, skip)
        return None
    h = home()
    return push, h, team_collection(h)


def signing_key(h: Home, name: str | None) -> PrivateKey:
    """The user's signing key; an encrypted one takes $SKILLMEAT_KEY_PASSPHRASE (no prompt:
    hooks run without a terminal)."""
    from skillmeat.model.errors import BadInputError
    from skillmeat.services import keys

    def passphrase() -> str:
        if KEY_PASSPHRASE_ENV in os.environ:
            return os.environ[KEY_PASSPHRASE_ENV]
        raise BadInputError("the signing key is encrypted",
                            hint=f"set {KEY_PASSPHRASE_ENV} for the push")

    return keys.signing_key(h, name, passphrase)


KEY_PASSPHRASE_ENV = "SKILLMEAT_KEY_PASSPHRASE"
