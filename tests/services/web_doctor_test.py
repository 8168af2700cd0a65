"""``web doctor`` checks against real homes: each a pass/warn/fail line, every failure with a fix."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from skillmeat.services import keys, web_doctor
from skillmeat.services.collections import create_collection
from skillmeat.services.web_doctor import FAIL, OK, WARN, Check, run_checks
from skillmeat.store import envprobe
from skillmeat.store.home import Home
from tests.helpers import REPO_ROOT

NAMES = ["python", "git", "pygit2", "mkdocs", "mkdocs-material", "jinja2", "markdown", "ssh-keygen",
         "config", "home dir", "cache dir", "state dir", "signing keys", "collections"]


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def tool_dir(tmp_path: Path, *, git_script: str | None = None) -> Path:
    """A PATH directory with only the given tools (sh for scripts, and maybe a fake git)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if git_script is not None:
        git = bin_dir / "git"
        git.write_text(f"#!{shutil.which('sh')}\n{git_script}\n")
        git.chmod(0o755)
    return bin_dir


def test_a_fresh_home_warns_but_does_not_fail(home: Home) -> None:
    checks = run_checks(home)
    assert [c.name for c in checks] == NAMES
    assert web_doctor.failed(checks) == []
    found = by_name(checks)
    assert found["python"].detail.startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert found["git"].level == OK and found["git"].detail.split()[0].count(".") >= 1
    assert "libgit2 " in found["pygit2"].detail
    import mkdocs  # the dev environment has the catalog's packages

    assert found["mkdocs"].detail == mkdocs.__version__
    assert found["config"].level == OK and "not created yet" in found["config"].detail
    assert found["signing keys"] == Check("signing keys", WARN, "none: api/feed.json will be unsigned",
                                          "skillmeat keys generate")
    assert found["collections"].level == WARN
    assert found["collections"].fix == "skillmeat collection create NAME"
    for c in checks:
        assert "\n" not in c.detail and "\n" not in c.fix
        assert c.ok == (c.level != FAIL)
        assert c.level == OK or c.fix, c
        assert c.to_dict() == {"name": c.name, "level": c.level, "ok": c.ok, "detail": c.detail,
                               "fix": c.fix}


def test_keys_and_collections_make_it_all_ok(home: Home) -> None:
    create_collection(home, "team")
    info = keys.generate(home, "me")
    found = by_name(run_checks(home))
    assert found["signing keys"].level == OK and info.fingerprint in found["signing keys"].detail
    assert found["collections"] == Check("collections", OK, "1 of 1: team", "")
    assert found["home dir"].level == found["state dir"].level == OK


def test_a_registered_collection_that_is_gone_is_a_warning(home: Home) -> None:
    store = create_collection(home, "team")
    create_collection(home, "other")
    shutil.rmtree(store.path)
    checks = run_checks(home)
    found = by_name(checks)
    assert found["collections"].level == OK and found["collections"].detail == "1 of 2: other"
    assert found["collection team"] == Check("collection team", WARN, f"{store.path} is missing",
                                             "skillmeat collection remove team")


def test_broken_config_fails_with_a_fix(home: Home) -> None:
    home.paths.root.mkdir(parents=True, exist_ok=True)
    home.paths.config.write_text("[collections\nteam = 1\n")
    checks = run_checks(home)  # does not raise
    config = by_name(checks)["config"]
    assert config.level == FAIL and not config.ok
    assert config.detail.startswith(f"{home.paths.config}: invalid TOML")
    assert config.fix == f"fix {home.paths.config} by hand or move it away"
    assert "collections" not in by_name(checks)  # not judged from an unreadable config
    home.paths.config.write_text('[collections]\nteam = "not a table"\n')
    config = by_name(run_checks(Home.from_env()))["config"]
    assert config.level == FAIL and "collections.team.path must be a string" in config.detail


def test_missing_git_fails(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tool_dir(tmp_path)))
    found = by_name(run_checks(home))
    assert found["git"].level == FAIL
    assert found["git"].detail.startswith("not found on PATH")
    assert found["git"].fix == "install git 2.34 or newer and put it on PATH"
    assert found["ssh-keygen"].level == WARN and "ssh-keygen -Y verify" in found["ssh-keygen"].detail


def test_old_git_warns_about_ssh_signing(home: Home, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tool_dir(tmp_path, git_script='echo "git version 2.30.9"')))
    git = by_name(run_checks(home))["git"]
    assert git.level == WARN and git.detail.startswith("2.30.9 at ")
    assert "gpg.format=ssh" in git.detail and git.fix == "upgrade git to 2.34 or newer"


def test_broken_git_fails(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tool_dir(tmp_path, git_script="echo broken >&2; exit 3")))
    git = by_name(run_checks(home))["git"]
    assert git.level == FAIL and "does not run: broken" in git.detail


def test_missing_or_old_site_packages_fail(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    real = envprobe.dist_version
    fake = {"mkdocs": None, "mkdocs-material": "8.5.11", "jinja2": "3.1.6"}
    monkeypatch.setattr(envprobe, "dist_version", lambda d: fake[d] if d in fake else real(d))
    found = by_name(run_checks(home))
    assert found["mkdocs"] == Check("mkdocs", FAIL, "not installed (web build needs it)",
                                    web_doctor.PIP_SITE)
    assert found["mkdocs-material"] == Check("mkdocs-material", FAIL,
                                             "8.5.11 installed, >=9.5,<10 needed", web_doctor.PIP_SITE)
    assert found["jinja2"].level == OK
    fake["mkdocs"] = "2.0.0"
    assert by_name(run_checks(home))["mkdocs"].detail == "2.0.0 installed, >=1.6,<2 needed"


def test_a_cache_that_is_a_file_fails(home: Home) -> None:
    home.paths.root.mkdir(parents=True)
    home.paths.cache.write_text("not a directory")
    cache = by_name(run_checks(home))["cache dir"]
    assert cache.level == FAIL and cache.detail == f"{home.paths.cache} is not a directory"


def test_unwritable_home_fails(home: Home) -> None:
    root = home.paths.root
    (root / "state").mkdir(parents=True)
    root.chmod(0o500)
    (root / "state").chmod(0o500)
    try:
        probe = root / "probe"
        try:
            probe.write_text("x")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("running as root (or with CAP_DAC_OVERRIDE): chmod 0o500 does not stop "
                        "writes, so an unwritable home cannot be made here")
        found = by_name(run_checks(home))
        assert found["home dir"].level == FAIL and "cannot write in" in found["home dir"].detail
        assert found["home dir"].fix == f"chmod u+w {root}"
        assert found["cache dir"].level == FAIL  # created in the home when needed: cannot be
        assert found["state dir"].fix == f"chmod u+w {root / 'state'}"
    finally:
        (root / "state").chmod(0o700)
        root.chmod(0o700)


def test_unwritable_home_as_a_real_user() -> None:
    """The same as user nobody, when the tests run as root and `setpriv` is there."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("only needed (and possible) when running as root with setpriv")
    import subprocess
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="skillmeat-doctor-"))  # pytest's tmp is root-only
    root = base / "smhome"
    try:
        base.chmod(0o755)
        (root / "cache").mkdir(parents=True)
        root.chmod(0o555)
        (root / "cache").chmod(0o555)
        script = ("from skillmeat.store.home import Home\n"
                  "from skillmeat.services.web_doctor import run_checks\n"
                  "for c in run_checks(Home.from_env()):\n    print(c.level, c.name, '|', c.fix)\n")
        env = dict(os.environ, SKILLMEAT_HOME=str(root), HOME=str(base), PYTHONPATH=str(REPO_ROOT))
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, check=False, cwd="/")
        if proc.returncode != 0 and "skillmeat" not in proc.stderr:
            pytest.skip(f"user nobody cannot run this interpreter: {proc.stderr.strip()[-200:]}")
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert f"fail home dir | chmod u+w {root}" in lines
        assert f"fail cache dir | chmod u+w {root / 'cache'}" in lines
        assert ("fail state dir | make its parent writable or set SKILLMEAT_HOME to a writable "
                "directory") in lines
    finally:
        if root.exists():
            root.chmod(0o755)
        shutil.rmtree(base)
