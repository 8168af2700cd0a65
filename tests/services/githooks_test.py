"""Installing, removing and reading SkillMeat's plain git hooks, and what `hooks run` plans,
on real repositories: the default .git/hooks, core.hooksPath (relative and absolute), linked
worktrees; foreign hooks kept as <hook>.legacy and put back byte for byte."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.services import githooks as svc
from tests.helpers import git

PY = sys.executable
FOREIGN = b"#!/bin/sh\n# installed by some other tool\nexec make lint \"$@\"\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git("init", "-q", "-b", "main", cwd=path)
    git("commit", "-q", "--allow-empty", "-m", "first", cwd=path)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def states(repo: Path) -> dict[str, str]:
    return {h.hook: h.state for h in svc.status(repo).hooks}


def test_install_writes_marked_executable_scripts_into_git_hooks(repo: Path) -> None:
    where, changes = svc.install(repo, [], PY)
    assert where == repo / ".git" / "hooks"
    assert [(c.hook, c.action) for c in changes] == [(h, "installed") for h in svc.HOOKS]
    for hook in svc.HOOKS:
        text = (where / hook).read_text()
        assert text.startswith("#!/bin/sh\n# skillmeat-managed-hook v1\n")
        assert f"skillmeat_python='{PY}'  # skillmeat-python:" in text
        assert mode(where / hook) == 0o755
    status = svc.status(repo)
    assert [(h.state, h.version, h.up_to_date, h.python, h.legacy) for h in status.hooks] == \
        [("ours", 1, True, PY, False)] * 3


def test_reinstall_is_idempotent_and_refreshes_a_stale_script(repo: Path) -> None:
    where, _ = svc.install(repo, [], PY)
    before = {h: (where / h).read_bytes() for h in svc.HOOKS}
    _, again = svc.install(repo, [], PY)
    assert {c.action for c in again} == {"up to date"}
    assert {h: (where / h).read_bytes() for h in svc.HOOKS} == before
    # an older copy of ours (edited body) is stale, then replaced in place
    (where / "post-merge").write_text(before["post-merge"].decode().replace("redeploys", "deploys"))
    assert [h.up_to_date for h in svc.status(repo).hooks] == [True, False, True]
    _, changes = svc.install(repo, ["post-merge"], PY)
    assert [(c.hook, c.action, c.legacy) for c in changes] == [("post-merge", "updated", "")]
    assert (where / "post-merge").read_bytes() == before["post-merge"]
    assert not (where / "post-merge.legacy").exists()


def test_another_interpreter_updates_the_recorded_line(repo: Path) -> None:
    where, _ = svc.install(repo, ["pre-push"], PY)
    _, changes = svc.install(repo, ["pre-push"], "/opt/it's here/python3")
    assert changes[0].action == "updated"
    assert "skillmeat_python='/opt/it'\\''s here/python3'  #" in (where / "pre-push").read_text()
    hook = svc.status(repo).hooks[0]
    assert (hook.python, hook.up_to_date, hook.python_missing) == ("/opt/it's here/python3", True, True)


def test_a_foreign_hook_is_kept_as_legacy_and_restored_byte_for_byte(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "pre-push").write_bytes(FOREIGN)
    os.chmod(hooks / "pre-push", 0o750)
    _, changes = svc.install(repo, [], PY)
    assert (changes[0].action, changes[0].legacy) == ("installed", "kept")
    assert (hooks / "pre-push.legacy").read_bytes() == FOREIGN
    assert [h.legacy for h in svc.status(repo).hooks] == [True, False, False]
    _, removed = svc.uninstall(repo, [])
    assert [(c.hook, c.action, c.legacy) for c in removed] == [
        ("pre-push", "removed", "restored"), ("post-merge", "removed", ""),
        ("post-checkout", "removed", "")]
    assert (hooks / "pre-push").read_bytes() == FOREIGN
    assert mode(hooks / "pre-push") == 0o750
    assert not (hooks / "pre-push.legacy").exists()
    assert states(repo) == {"pre-push": "foreign", "post-merge": "absent", "post-checkout": "absent"}


def test_a_foreign_symlinked_hook_moves_as_a_link(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (repo / "ci").mkdir()
    (repo / "ci" / "post-merge").write_bytes(FOREIGN)
    (hooks / "post-merge").symlink_to("../../ci/post-merge")
    svc.install(repo, ["post-merge"], PY)
    assert os.readlink(hooks / "post-merge.legacy") == "../../ci/post-merge"
    svc.uninstall(repo, ["post-merge"])
    assert os.readlink(hooks / "post-merge") == "../../ci/post-merge"


def test_foreign_hook_beside_a_legacy_one_refuses_and_changes_nothing(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "post-checkout").write_bytes(FOREIGN)
    (hooks / "post-checkout.legacy").write_bytes(b"#!/bin/sh\necho older\n")
    with pytest.raises(ConflictError, match=r"post-checkout: not SkillMeat's, and a \.legacy"):
        svc.install(repo, [], PY)
    assert not (hooks / "pre-push").exists() and not (hooks / "post-merge").exists()
    assert (hooks / "post-checkout").read_bytes() == FOREIGN
    # the other hooks install when asked for by name
    _, changes = svc.install(repo, ["pre-push", "post-merge"], PY)
    assert [c.action for c in changes] == ["installed", "installed"]


def test_uninstall_leaves_foreign_hooks_alone(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    svc.install(repo, [], PY)
    (hooks / "post-merge").write_bytes(FOREIGN)  # another tool took over since
    _, changes = svc.uninstall(repo, [])
    assert [c.action for c in changes] == ["removed", "left alone", "removed"]
    assert (hooks / "post-merge").read_bytes() == FOREIGN
    _, again = svc.uninstall(repo, ["pre-push"])
    assert again[0].action == "not installed"


@pytest.mark.parametrize("hooks_path", ["relative", "absolute"])
def test_core_hooks_path_is_where_hooks_go(repo: Path, tmp_path: Path, hooks_path: str) -> None:
    target = repo / ".githooks" if hooks_path == "relative" else tmp_path / "shared-hooks"
    git("config", "core.hooksPath", ".githooks" if hooks_path == "relative" else str(target), cwd=repo)
    (repo / "sub" / "dir").mkdir(parents=True)
    where, _ = svc.install(repo / "sub" / "dir", [], PY)
    assert where == target
    assert sorted(p.name for p in target.iterdir()) == sorted(svc.HOOKS)
    assert not (repo / ".git" / "hooks" / "pre-push").exists()
    assert svc.status(repo).hooks_dir == target


def test_a_linked_worktree_uses_the_common_hooks_dir(repo: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "feature"
    git("worktree", "add", "-q", "-b", "feature", str(worktree), cwd=repo)
    where, _ = svc.install(worktree, [], PY)
    assert where == repo / ".git" / "hooks"
    assert states(repo) == dict.fromkeys(svc.HOOKS, "ours")


def test_options_are_stored_in_the_repository_config(repo: Path) -> None:
    svc.install(repo, ["post-merge"], PY, require_signed=True, marketplace="team")
    assert git("config", "--local", "skillmeat.requireSigned", cwd=repo).strip() == "true"
    assert git("config", "--local", "skillmeat.marketplace", cwd=repo).strip() == "team"
    status = svc.status(repo)
    assert (status.require_signed, status.marketplace) == (True, "team")
    svc.install(repo, ["post-merge"], PY)  # not given: left as it was
    assert svc.status(repo).require_signed
    svc.install(repo, ["post-merge"], PY, require_signed=False)
    assert not svc.status(repo).require_signed


def test_bad_input_is_refused_before_anything_is_written(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="unknown hook 'pre-commit'"):
        svc.install(repo, ["pre-commit"], PY)
    with pytest.raises(BadInputError, match="bad --marketplace"):
        svc.install(repo, [], PY, marketplace="two words")
    assert states(repo) == dict.fromkeys(svc.HOOKS, "absent")
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotFoundError, match="not in a git repository"):
        svc.status(tmp_path / "plain")


# --- what `hooks run` plans --------------------------------------------------------------

Z = "0" * 40


def commit(repo: Path, message: str) -> str:
    git("commit", "-q", "--allow-empty", "-m", message, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo).strip()


def entries(plan: svc.RunPlan) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.entry, s.argv) for s in plan.steps]


def test_pre_push_of_a_new_branch_runs_the_push_steps_over_its_whole_history(repo: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    line = f"refs/heads/main {head} refs/heads/main {Z}\n"
    plan = svc.plan_run(repo, "pre-push", ["origin", "file:///r.git"], line)
    assert entries(plan) == [("lock", ("--check",)), ("validate", ("--all",)), ("export", ()),
                             ("publish", ())]
    assert plan.env["PRE_COMMIT_REMOTE_NAME"] == "origin"
    assert plan.env["PRE_COMMIT_REMOTE_URL"] == "file:///r.git"
    assert plan.env["PRE_COMMIT_LOCAL_BRANCH"] == plan.env["PRE_COMMIT_REMOTE_BRANCH"] == "refs/heads/main"
    assert plan.env["PRE_COMMIT_FROM_REF"] == plan.env["PRE_COMMIT_TO_REF"] == ""  # all files


def test_pre_push_of_new_commits_gives_from_and_to_refs(repo: Path, tmp_path: Path) -> None:
    first = git("rev-parse", "HEAD", cwd=repo).strip()
    second = commit(repo, "second")
    # the remote has `first`: FROM is the remote's commit
    plan = svc.plan_run(repo, "pre-push", ["origin", "u"],
                        f"refs/heads/main {second} refs/heads/main {first}\n")
    assert (plan.env["PRE_COMMIT_FROM_REF"], plan.env["PRE_COMMIT_TO_REF"]) == (first, second)
    assert (plan.env["PRE_COMMIT_ORIGIN"], plan.env["PRE_COMMIT_SOURCE"]) == (first, second)
    # a new branch off pushed history: FROM is the parent of its first unpushed commit
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=repo)
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    git("checkout", "-q", "-b", "topic", cwd=repo)
    third = commit(repo, "third")
    plan = svc.plan_run(repo, "pre-push", ["origin", str(bare)],
                        f"refs/heads/topic {third} refs/heads/topic {Z}\n")
    assert (plan.env["PRE_COMMIT_FROM_REF"], plan.env["PRE_COMMIT_TO_REF"]) == (second, third)
    # nothing the remote lacks: nothing to run
    plan = svc.plan_run(repo, "pre-push", ["origin", str(bare)],
                        f"refs/heads/other {second} refs/heads/other {Z}\n")
    assert (plan.steps, plan.skipped) == ((), "the remote has every pushed commit")


@pytest.mark.parametrize(("stdin", "why"), [
    ("", "nothing pushed"),
    (f"refs/skillmeat/feed {'a' * 40} refs/skillmeat/feed {Z}\n", "only SkillMeat refs or deletions"),
    (f"(delete) {Z} refs/heads/gone {'b' * 40}\n", "only SkillMeat refs or deletions"),
    (f"(delete) {Z} refs/heads/gone {'b' * 40}\nrefs/skillmeat/bundles/t/1 {'a' * 40} "
     f"refs/skillmeat/bundles/t/1 {Z}\n", "only SkillMeat refs or deletions"),
])
def test_pre_push_of_our_refs_or_deletions_runs_nothing(repo: Path, stdin: str, why: str) -> None:
    plan = svc.plan_run(repo, "pre-push", ["origin", "u"], stdin)
    assert plan.steps == ()
    assert plan.skipped.startswith(why)


def test_pre_push_mixed_with_our_refs_describes_the_branch(repo: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    stdin = (f"refs/skillmeat/feed {head} refs/skillmeat/feed {Z}\n"
             f"refs/heads/main {head} refs/heads/main {Z}\n")
    plan = svc.plan_run(repo, "pre-push", ["origin", "u"], stdin)
    assert plan.env["PRE_COMMIT_REMOTE_BRANCH"] == "refs/heads/main"


def test_config_reaches_publish_and_deploy(repo: Path) -> None:
    svc.install(repo, ["post-merge"], PY, require_signed=True, marketplace="team")
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    push = svc.plan_run(repo, "pre-push", ["origin", "u"], f"refs/heads/main {head} refs/heads/main {Z}\n")
    assert push.steps[-1] == svc.Step("publish", ("--marketplace", "team"))
    merge = svc.plan_run(repo, "post-merge", ["0"])
    assert entries(merge) == [("deploy", ("--require-signed",))]
    assert merge.env["PRE_COMMIT_IS_SQUASH_MERGE"] == "0"


def test_post_checkout_deploys_after_branch_checkouts_only(repo: Path) -> None:
    a, b = "a" * 40, "b" * 40
    plan = svc.plan_run(repo, "post-checkout", [a, b, "1"])
    assert entries(plan) == [("deploy", ())]
    assert {k: plan.env[k] for k in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF",
                                     "PRE_COMMIT_CHECKOUT_TYPE")} == \
        {"PRE_COMMIT_FROM_REF": a, "PRE_COMMIT_TO_REF": b, "PRE_COMMIT_CHECKOUT_TYPE": "1"}
    assert plan.env["PRE_COMMIT_REMOTE_NAME"] == ""  # unset for the steps
    skipped = svc.plan_run(repo, "post-checkout", [a, b, "0"])
    assert skipped.steps == () and "file checkout" in skipped.skipped


def test_run_checks_git_s_arguments(repo: Path) -> None:
    with pytest.raises(BadInputError, match="post-checkout takes 3 argument"):
        svc.plan_run(repo, "post-checkout", ["x"])
    with pytest.raises(BadInputError, match="unknown hook"):
        svc.plan_run(repo, "pre-commit", [])
