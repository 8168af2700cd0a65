"""The release: the wheel and the sdist built from a clean copy of this checkout hold what an
installed SkillMeat needs, and both install into fresh venvs where the commands work.

Slow (a build and two venvs filled from the package index, a minute or two): deselect with
``-m 'not release'``. Everything runs as a new user would: own HOME and SKILLMEAT_HOME, a
scratch cwd outside the checkout, nothing of this checkout's venv on PATH.
"""

from __future__ import annotations

import configparser
import email.parser
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from skillmeat import __version__
from tests.helpers import REPO_ROOT
from tests.release.dists import Dists, Source, User, console_scripts, project

pytestmark = pytest.mark.release

DIST_INFO = f"skillmeat-{__version__}.dist-info"
# Runtime files named one by one, so a lost package-data glob is obvious in the failure.
RUNTIME_FILES = (
    "skillmeat/py.typed",
    "skillmeat/templates/github-pages.yml",
    "skillmeat/templates/catalog/mkdocs.yml.j2",
    "skillmeat/templates/catalog/artifact.md.j2",
    "skillmeat/site/assets/stylesheets/catalog.css",
    "skillmeat/site/assets/javascripts/iframe-worker-shim.js",
    "skillmeat/templates/githooks/pre-push",
    "skillmeat/templates/githooks/post-merge",
    "skillmeat/templates/githooks/post-checkout",
    "skillmeat/templates/githooks/post-rewrite",
    "skillmeat/templates/team/pre-commit-config.yaml.j2",
    "skillmeat/templates/team/allowed_signers.j2",
    "skillmeat/templates/team/README.md.j2",
)
SDIST_FILES = ("pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", ".pre-commit-hooks.yaml",
               "mkdocs.yml", "docs/index.md", "docs/schemas", "tests/conftest.py", "examples",
               "hooks/pre-push", "hooks/post-merge", "hooks/post-checkout",
               "hooks/post-rewrite")
# Files setuptools adds to every sdist.
SDIST_GENERATED = re.compile(r"^(PKG-INFO|setup\.cfg|skillmeat\.egg-info/.*)$")
# Prints the installed package's files, for comparing two installs.
INSTALLED = ("import importlib.metadata as m, json, skillmeat; print(json.dumps({'file': "
             "skillmeat.__file__, 'version': m.version('skillmeat'), 'files': sorted(str(f) for "
             "f in m.files('skillmeat') if str(f).startswith('skillmeat/') and "
             "'__pycache__' not in str(f))}))")
# Imports every module: a runtime dependency missing from pyproject fails here.
IMPORT_ALL = ("import importlib, pkgutil, skillmeat\n"
              "names = [m.name for m in pkgutil.walk_packages(skillmeat.__path__, 'skillmeat.')\n"
              "         if not m.name.endswith('__main__')]\n"
              "for name in names: importlib.import_module(name)\n"
              "print(len(names))\n")


def package_files(source: Source) -> set[str]:
    return {p for p in source.files if p.startswith("skillmeat/")}


def test_the_wheel_holds_every_file_of_the_package(dists: Dists, source: Source) -> None:
    names = dists.wheel_names()
    assert not package_files(source) - names, "missing from the wheel"
    assert set(RUNTIME_FILES) <= names
    stray = {n for n in names if not n.startswith(("skillmeat/", f"{DIST_INFO}/"))}
    assert not stray, "the wheel installs only the package"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    packages = {str(Path(n).parent) for n in names if n.endswith("/__init__.py")}
    assert {"skillmeat", "skillmeat/cli", "skillmeat/services", "skillmeat/store",
            "skillmeat/model", "skillmeat/cli/precommit"} <= packages


def test_the_wheel_metadata_names_version_license_and_dependencies(dists: Dists) -> None:
    meta = email.parser.Parser().parsestr(dists.wheel_text(f"{DIST_INFO}/METADATA"))
    assert (meta["Name"], meta["Version"]) == ("skillmeat", __version__)
    assert meta["License-Expression"] == "MIT"
    assert meta["License-File"] == "LICENSE"
    assert "MIT License" in dists.wheel_text(f"{DIST_INFO}/licenses/LICENSE")
    assert meta["Requires-Python"] == ">=3.11"
    runtime = {_name(r) for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r}
    wanted = project()["dependencies"]
    assert isinstance(wanted, list)
    assert runtime == {_name(r) for r in wanted}
    assert "# SkillMeat" in (meta.get_payload() or "")  # the README is the long description


def test_the_wheel_declares_every_console_script(dists: Dists) -> None:
    entry_points = configparser.ConfigParser()
    entry_points.read_string(dists.wheel_text(f"{DIST_INFO}/entry_points.txt"))
    shipped = dict(entry_points["console_scripts"])
    assert shipped == console_scripts()
    assert {"skillmeat", "git-skillmeat", "skillmeat-validate"} <= set(shipped)
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["entry"] for h in hooks} <= set(shipped), "every pre-commit hook is a console script"


def test_the_sdist_is_the_tracked_tree(dists: Dists, source: Source) -> None:
    names = dists.sdist_names()
    assert not source.files - names, "tracked files missing from the sdist: see MANIFEST.in"
    extra = {n for n in names - source.files if not SDIST_GENERATED.match(n)}
    assert not extra, "the sdist holds only tracked files"
    for required in SDIST_FILES:
        assert required in names or any(n.startswith(f"{required}/") for n in names), required


def test_the_installed_wheel_is_a_new_users_skillmeat(wheel_user: User) -> None:
    cfg = (wheel_user.venv.path / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg
    found = json.loads(wheel_user.ok("python", "-c", INSTALLED).out)
    assert Path(found["file"]).is_relative_to(wheel_user.venv.path), "imported from the venv"
    assert found["version"] == __version__
    assert wheel_user.ok("skillmeat", "--version").out == f"skillmeat {__version__}\n"
    assert wheel_user.ok("git", "skillmeat", "--version").out == f"git skillmeat {__version__}\n"
    assert "Commands:" in wheel_user.ok("skillmeat", "-h").out
    assert int(wheel_user.ok("python", "-c", IMPORT_ALL).out) > 100


@pytest.mark.parametrize("script", sorted(console_scripts()))
def test_every_console_script_answers_help(wheel_user: User, script: str) -> None:
    result = wheel_user.ok(script, "--help")
    assert result.out.lower().startswith("usage:"), result
    assert not result.err


def test_web_doctor_passes_for_a_new_user(wheel_user: User) -> None:
    first = wheel_user.run("skillmeat", "web", "doctor", "--json")
    assert first.code == 0, first
    levels = {c["name"]: c["level"] for c in json.loads(first.out)}
    assert set(levels.values()) <= {"ok", "warn"}
    assert levels["signing keys"] == "warn"  # nothing set up yet: works, unsigned
    wheel_user.ok("skillmeat", "keys", "generate")
    wheel_user.ok("skillmeat", "collection", "create", "mine")
    done = wheel_user.ok("skillmeat", "web", "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(done.out)}
    assert {c["level"] for c in checks.values()} == {"ok"}, done.out
    assert checks["python"]["detail"].endswith(f"({wheel_user.venv.bin / 'python'})")
    plain = wheel_user.ok("skillmeat", "web", "doctor")
    assert "FAIL" not in plain.out and "All checks passed" in plain.err


def test_init_and_web_build_use_the_shipped_templates(wheel_user: User, source: Source) -> None:
    skill = wheel_user.cwd / "mine" / "skills" / "hello"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: hello\ndescription: Says hello.\n---\n\nHello!\n")
    wheel_user.ok("skillmeat", "keys", "generate")
    wheel_user.ok("skillmeat", "init", "team")
    team = wheel_user.cwd / "team"
    wheel_user.ok("skillmeat", "add", str(wheel_user.cwd / "mine"), "--all", cwd=team)
    built = wheel_user.ok("skillmeat", "web", "build", "-o", "site", "--strict", cwd=team)
    assert "signed by SHA256:" in built.out
    site = team / "site"
    assert "Says hello." in (site / "artifacts" / "team" / "skill" / "hello.html").read_text()
    api = json.loads((site / "api" / "index.json").read_text())
    assert "skill/hello" in json.dumps(api)
    for page in ("index.html", "analytics.html", "mcp.html", "marketplace.html",
                 "collections/team.html"):
        assert (site / page).is_file(), page
    assets = {p.removeprefix("skillmeat/site/") for p in source.files if p.startswith("skillmeat/site/")}
    assert assets and not {a for a in assets if not (site / a).is_file()}, "site assets copied"


def test_init_team_and_git_hooks_use_the_shipped_templates(wheel_user: User) -> None:
    wheel_user.ok("skillmeat", "keys", "generate")
    wheel_user.ok("skillmeat", "init", "--team", "team")
    team = wheel_user.cwd / "team"
    for made in (".pre-commit-config.yaml", ".skillmeat/allowed_signers",
                 ".github/workflows/pages.yml", "README.md"):
        assert (team / made).is_file(), made
    assert "id: skillmeat-validate" in (team / ".pre-commit-config.yaml").read_text()
    wheel_user.ok("skillmeat", "hooks", "install", "--repo", str(team))
    for hook in ("pre-push", "post-merge", "post-checkout", "post-rewrite"):
        script = team / ".git" / "hooks" / hook
        assert os.access(script, os.X_OK), hook
        text = script.read_text()
        assert "skillmeat-managed-hook" in text and str(wheel_user.venv.bin / "python") in text
    # git runs the installed post-checkout hook, which runs the installed SkillMeat
    switched = wheel_user.run("git", "checkout", "-b", "topic", cwd=team)
    assert switched.code == 0, switched
    assert "skillmeat-deploy" in switched.out + switched.err


def test_the_sdist_installs_the_same_package(sdist_user: User, wheel_user: User) -> None:
    assert sdist_user.ok("skillmeat", "--version").out == f"skillmeat {__version__}\n"
    from_sdist = json.loads(sdist_user.ok("python", "-c", INSTALLED).out)
    from_wheel = json.loads(wheel_user.ok("python", "-c", INSTALLED).out)
    assert Path(from_sdist["file"]).is_relative_to(sdist_user.venv.path)
    assert from_sdist["files"] == from_wheel["files"]
    assert sdist_user.run("skillmeat", "web", "doctor").code == 0


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return match.group().lower().replace("_", "-")
