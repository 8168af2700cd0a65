"""``web doctor``: what the catalog (and SkillMeat) needs, one line per check with its fix.

A check is "ok", "warn" (works, with less: e.g. an unsigned feed) or "fail" (something will
not work: only failures make the doctor exit non-zero).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat.model.errors import SkillmeatError
from skillmeat.store import envprobe
from skillmeat.store.home import Home

OK, WARN, FAIL = "ok", "warn", "fail"
PYTHON_MIN = (3, 11)
GIT_SSH_SIGNING = (2, 34)  # gpg.format=ssh: git verify-commit / log --show-signature
# The catalog's page generator: distribution, accepted range [min, max), pip fix
SITE_PACKAGES = (
    ("mkdocs", (1, 6), (2,)),
    ("mkdocs-material", (9, 5), (10,)),
    ("jinja2", (3, 0), None),
    ("markdown", (3, 2), None),
)
PIP_SITE = "pip install 'mkdocs>=1.6,<2' 'mkdocs-material>=9.5,<10'"


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # OK, WARN or FAIL
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        """False only for failures (a warning still lets everything run)."""
        return self.level != FAIL

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "level": self.level, "ok": self.ok, "detail": self.detail,
                "fix": self.fix}


def run_checks(home: Home) -> list[Check]:
    """Every check, in a fixed order; none raises (an unexpected error is that check's failure)."""
    steps: list[tuple[str, Callable[[], Check | list[Check]]]] = [
        ("python", check_python), ("git", check_git), ("pygit2", check_pygit2),
        ("site packages", check_site_packages), ("ssh-keygen", check_ssh_keygen),
        ("config", lambda: check_config(home)), ("dirs", lambda: check_dirs(home)),
        ("signing keys", lambda: check_keys(home)), ("collections", lambda: check_collections(home)),
    ]
    checks: list[Check] = []
    for name, step in steps:
        try:
            found = step()
        except (OSError, SkillmeatError) as exc:
            found = Check(name, FAIL, f"cannot check: {exc}",
                          f"check the permissions of {home.paths.root}")
        checks += found if isinstance(found, list) else [found]
    return checks


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.level == FAIL]


def check_python() -> Check:
    v = sys.version_info
    detail = f"{v.major}.{v.minor}.{v.micro} ({sys.executable})"
    if (v.major, v.minor) < PYTHON_MIN:
        return Check("python", FAIL, detail, "install Python 3.11 or newer and reinstall skillmeat")
    return Check("python", OK, detail)


def check_git() -> Check:
    run = envprobe.run_tool("git", "--version")
    if run.path is None:
        return Check("git", FAIL, "not found on PATH (needed to fetch sources and to push "
                     "gh-pages)", "install git 2.34 or newer and put it on PATH")
    version = _version(run.output)
    if run.code != 0 or version is None:
        return Check("git", FAIL, f"{run.path} does not run: {run.output or run.code}",
                     "reinstall git")
    shown = ".".join(map(str, version))
    if version < GIT_SSH_SIGNING:
        return Check("git", WARN, f"{shown} at {run.path}: older than 2.34, so stock git cannot "
                     "check SkillMeat's SSH-signed commits (git verify-commit with gpg.format=ssh)",
                     "upgrade git to 2.34 or newer")
    return Check("git", OK, f"{shown} at {run.path}")


def check_pygit2() -> Check:
    found = envprobe.pygit2_versions()
    if isinstance(found, str):
        return Check("pygit2", FAIL, f"cannot import pygit2: {found}",
                     "pip install --force-reinstall 'pygit2>=1.15,<2'")
    version, libgit2, features = found
    return Check("pygit2", OK, f"{version}, libgit2 {libgit2} ({', '.join(features) or 'no extras'})")


def check_site_packages() -> list[Check]:
    out = []
    for dist, low, high in SITE_PACKAGES:
        version = envprobe.dist_version(dist)
        wanted = f">={_dotted(low)}" + (f",<{_dotted(high)}" if high else "")
        fix = PIP_SITE if dist.startswith("mkdocs") else f"pip install '{dist}{wanted}'"
        if version is None:
            out.append(Check(dist, FAIL, "not installed (web build needs it)", fix))
            continue
        parsed = _version(version)
        if parsed is None or parsed < low or (high is not None and parsed >= high):
            out.append(Check(dist, FAIL, f"{version} installed, {wanted} needed", fix))
        else:
            out.append(Check(dist, OK, version))
    return out


def check_ssh_keygen() -> Check:
    path = envprobe.which("ssh-keygen")  # it has no version flag: only its presence matters
    if path is None:
        return Check("ssh-keygen", WARN, "not found on PATH: signatures can still be made and checked "
                     "by SkillMeat, not by hand with ssh-keygen -Y verify",
                     "install OpenSSH (e.g. apt install openssh-client)")
    return Check("ssh-keygen", OK, path)


def check_config(home: Home) -> Check:
    path = home.paths.config
    if not path.exists():
        return Check("config", OK, f"{path} not created yet (defaults)")
    try:
        home.config.data()
        home.config.collections()
        home.config.active()
    except SkillmeatError as exc:
        return Check("config", FAIL, exc.message, f"fix {path} by hand or move it away")
    return Check("config", OK, str(path))


def check_dirs(home: Home) -> list[Check]:
    out = []
    for name, path in (("home", home.paths.root), ("cache", home.paths.cache),
                       ("state", home.paths.state)):
        problem = envprobe.writable(path)
        label = f"{name} dir"
        if problem is None:
            out.append(Check(label, OK, f"{path} writable" + ("" if path.exists() else
                                                                " (created when needed)")))
        else:
            fix = (f"chmod u+w {path}" if path.exists() else "make its parent writable or set "
                   "SKILLMEAT_HOME to a writable directory")
            out.append(Check(label, FAIL, problem, fix))
    return out


def check_keys(home: Home) -> Check:
    try:
        keys = home.keys.list()
    except SkillmeatError as exc:
        return Check("signing keys", FAIL, str(exc), f"fix or remove the key file in {home.paths.keys}")
    if not keys:
        return Check("signing keys", WARN, "none: api/feed.json will be unsigned",
                     "skillmeat keys generate")
    names = ", ".join(f"{k.name} ({k.fingerprint}{', encrypted' if k.encrypted else ''})"
                      for k in keys)
    return Check("signing keys", OK, names)


def check_collections(home: Home) -> list[Check]:
    try:
        known = home.collections()
    except SkillmeatError:
        return []  # reported by the config check
    if not known:
        return [Check("collections", WARN, "none registered: the catalog would be empty",
                      "skillmeat collection create NAME")]
    present = {n: p for n, p in known.items() if Path(p).is_dir()}
    out = [Check("collections", OK if present else WARN,
                 f"{len(present)} of {len(known)}: {', '.join(sorted(present)) or 'none present'}",
                 "" if present else "skillmeat collection create NAME")]
    for name, path in sorted(known.items()):
        if name not in present:
            out.append(Check(f"collection {name}", WARN, f"{path} is missing",
                             f"skillmeat collection remove {name}"))
    return out


def _version(text: str) -> tuple[int, ...] | None:
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        return None
    return tuple(int(g) for g in match.groups() if g is not None)


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))
