"""Build SkillMeat's wheel and sdist from a clean copy of this checkout, install them into
fresh virtual environments, and run the installed commands the way a new user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import REPO_ROOT

# Left out of a new user's environment: they point into this checkout or its venv.
FOREIGN = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH",
           "PIP_REQUIRE_VIRTUALENV", "PIP_NO_BUILD_ISOLATION", "PRE_COMMIT", "PRE_COMMIT_HOME",
           "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path

    def wheel_names(self) -> set[str]:
        with zipfile.ZipFile(self.wheel) as zf:
            return set(zf.namelist())

    def wheel_text(self, name: str) -> str:
        with zipfile.ZipFile(self.wheel) as zf:
            return zf.read(name).decode()

    def sdist_names(self) -> set[str]:
        """Member files of the sdist, relative to its top directory."""
        with tarfile.open(self.sdist) as tf:
            return {m.name.split("/", 1)[1] for m in tf.getmembers() if m.isfile()}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


@dataclass(frozen=True)
class Venv:
    path: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def run(self, exe: str, *args: str, cwd: Path, env: dict[str, str]) -> Run:
        """Run one of the venv's executables (``skillmeat``, ``python``...), else ``exe``
        from the PATH of ``env`` (``git``)."""
        path = self.bin / exe
        proc = subprocess.run([str(path) if path.exists() else exe, *args], cwd=cwd, env=env,
                              capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, exe: str, *args: str, cwd: Path, env: dict[str, str]) -> Run:
        result = self.run(exe, *args, cwd=cwd, env=env)
        assert result.code == 0, f"{exe} {' '.join(args)}: {result}"
        return result


@dataclass(frozen=True)
class User:
    """A new user of an installed venv: a fresh home and a scratch cwd outside the checkout."""

    venv: Venv
    cwd: Path
    env: dict[str, str]

    def run(self, exe: str, *args: str, cwd: Path | None = None) -> Run:
        return self.venv.run(exe, *args, cwd=cwd or self.cwd, env=self.env)

    def ok(self, exe: str, *args: str, cwd: Path | None = None) -> Run:
        return self.venv.ok(exe, *args, cwd=cwd or self.cwd, env=self.env)


def tracked_files(root: Path = REPO_ROOT) -> list[str]:
    """What `git ls-files` knows plus new files not ignored, as they are in the work tree."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, check=True, capture_output=True).stdout.decode()
    return sorted(p for p in set(out.split("\0")) if p and os.path.lexists(root / p))


@dataclass(frozen=True)
class Source:
    root: Path
    files: frozenset[str]  # as copied, before any build wrote into the copy


def source_copy(dest: Path) -> Source:
    """A clean copy of this checkout: tracked and new files only (no venv, caches, builds)."""
    files = tracked_files()
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, target, follow_symlinks=False)
    return Source(dest, frozenset(files))


def user_env(base: Path, pip_cache: Path, venv: Venv | None = None) -> dict[str, str]:
    """A new user's environment: HOME, SKILLMEAT_HOME and git's config under ``base``, the
    venv's bin first on PATH and this checkout's venv off it."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN and not k.startswith("SKILLMEAT_")}
    home = base / "user"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = New User\n\temail = new@example.com\n"
                                     "[init]\n\tdefaultBranch = main\n")
    env.update(HOME=str(home), SKILLMEAT_HOME=str(base / "skillmeat"),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
               PIP_CACHE_DIR=str(pip_cache), PIP_DISABLE_PIP_VERSION_CHECK="1",
               NO_MKDOCS_2_WARNING="1")
    ours = str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != ours]
    if venv is not None:
        path.insert(0, str(venv.bin))
    env["PATH"] = os.pathsep.join(path)
    return env


def build(src: Path, out: Path, env: dict[str, str]) -> Dists:
    """`python -m build`: the sdist, then the wheel built from that sdist (so a file missing
    from the sdist is missing from the wheel too)."""
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(src)], cwd=src,
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"python -m build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return Dists(wheels[0], sdists[0])


def install(artifact: Path, dest: Path, env: dict[str, str]) -> Venv:
    """A fresh venv (no system site packages, the stock pip) with ``artifact`` installed from
    the package index like any user would."""
    subprocess.run([sys.executable, "-m", "venv", str(dest)], check=True, env=env,
                   capture_output=True)
    venv = Venv(dest)
    proc = subprocess.run([str(venv.bin / "python"), "-m", "pip", "install", "--quiet",
                           str(artifact)], cwd=dest, env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, f"pip install {artifact.name} failed:\n{proc.stderr[-4000:]}"
    return venv


def project() -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return data


def console_scripts() -> dict[str, str]:
    scripts = project()["scripts"]
    assert isinstance(scripts, dict)
    return {str(k): str(v) for k, v in scripts.items()}
