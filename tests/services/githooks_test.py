"""Installing, removing and reading SkillMeat's plain git hooks, and what `hooks run` plans,
on real repositories: the default .git/hooks, core.hooksPath (relative and absolute), linked
worktrees; foreign hooks kept as <hook>.legacy and put back byte for byte."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.services import githook_run as run_svc
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
        assert text.startswith(f"#!/bin/sh\n# skillmeat-managed-hook v{svc.VERSION}\n")
        assert f"skillmeat_python='{PY}'  # skillmeat-python:" in text
        assert mode(where / hook) == 0o755
    status = svc.status(repo)
    assert [(h.state, h.version, h.up_to_date, h.python, h.legacy) for h in status.hooks] == \
        [("ours", svc.VERSION, True, PY, False)] * len(svc.HOOKS)


def test_reinstall_is_idempotent_and_refreshes_a_stale_script(repo: Path) -> None:
    where, _ = svc.install(repo, [], PY)
    before = {h: (where / h).read_bytes() for h in svc.HOOKS}
    _, again = svc.install(repo, [], PY)
    assert {c.action for c in again} == {"up to date"}
    assert {h: (where / h).read_bytes() for h in svc.HOOKS} == before
    # an older copy of ours (edited body) is stale, then replaced in place
    (where / "post-merge").write_text(before["post-merge"].decode().replace("redeploys", "deploys"))
    assert [h.up_to_date for h in svc.status(repo).hooks] == [True, False, True, True]
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
    assert [h.legacy for h in svc.status(repo).hooks] == [True, False, False, False]
    _, removed = svc.uninstall(repo, [])
    assert [(c.hook, c.action, c.legacy) for c in removed] == [
        ("pre-push", "removed", "restored"), ("post-merge", "removed", ""),
        ("post-checkout", "removed", ""), ("post-rewrite", "removed", "")]
    assert (hooks / "pre-push").read_bytes() == FOREIGN
    assert mode(hooks / "pre-push") == 0o750
    assert not (hooks / "pre-push.legacy").exists()
    assert states(repo) == {"pre-push": "foreign", "post-merge": "absent", "post-checkout": "absent",
                            "post-rewrite": "absent"}


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
    assert [c.action for c in changes] == ["removed", "left alone", "removed", "removed"]
    assert (hooks / "post-merge").read_bytes() == FOREIGN
    _, again = svc.uninstall(repo, ["pre-push"])
    assert again[0].action == "not installed"


@pytest.mark.parametrize("hooks_path", ["relative", "absolute"])
def test_core_hooks_path_is_where_hooks_go(repo: Path, tmp_path: Path, hooks_path: str) -> None:
    target = repo / ".githooks" if hooks_path == "relative" else tmp_path / "shared-hooks"
    git("config", "core.hooksPath", ".githooks" if hooks_path == "relative" else str(target), cwd=repo)
    if hooks_path == "absolute":  # outside: it must exist (inside, install creates it)
        target.mkdir()
    (repo / "sub" / "dir").mkdir(parents=True)
    where, _ = svc.install(repo / "sub" / "dir", [], PY, shared_ok=hooks_path == "absolute")
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


def entries(plan: run_svc.RunPlan) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.entry, s.argv) for s in plan.steps]


def test_pre_push_of_a_new_branch_runs_the_push_steps_over_its_whole_history(repo: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    line = f"refs/heads/main {head} refs/heads/main {Z}\n"
    plan = run_svc.plan_run(repo, "pre-push", ["origin", "file:///r.git"], line)
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
    plan = run_svc.plan_run(repo, "pre-push", ["origin", "u"],
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
    plan = run_svc.plan_run(repo, "pre-push", ["origin", str(bare)],
                        f"refs/heads/topic {third} refs/heads/topic {Z}\n")
    assert (plan.env["PRE_COMMIT_FROM_REF"], plan.env["PRE_COMMIT_TO_REF"]) == (second, third)
    # nothing the remote lacks: nothing to run
    plan = run_svc.plan_run(repo, "pre-push", ["origin", str(bare)],
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
    plan = run_svc.plan_run(repo, "pre-push", ["origin", "u"], stdin)
    assert plan.steps == ()
    assert plan.skipped.startswith(why)


def test_pre_push_mixed_with_our_refs_describes_the_branch(repo: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    stdin = (f"refs/skillmeat/feed {head} refs/skillmeat/feed {Z}\n"
             f"refs/heads/main {head} refs/heads/main {Z}\n")
    plan = run_svc.plan_run(repo, "pre-push", ["origin", "u"], stdin)
    assert plan.env["PRE_COMMIT_REMOTE_BRANCH"] == "refs/heads/main"


def test_config_reaches_publish_and_deploy(repo: Path) -> None:
    svc.install(repo, ["post-merge"], PY, require_signed=True, marketplace="team")
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    push = run_svc.plan_run(repo, "pre-push", ["origin", "u"],
                            f"refs/heads/main {head} refs/heads/main {Z}\n")
    assert push.steps[-1] == run_svc.Step("publish", ("--marketplace", "team"))
    merge = run_svc.plan_run(repo, "post-merge", ["0"])
    assert entries(merge) == [("deploy", ("--require-signed",))]
    assert merge.env["PRE_COMMIT_IS_SQUASH_MERGE"] == "0"


def test_post_checkout_deploys_after_branch_checkouts_only(repo: Path) -> None:
    a, b = "a" * 40, "b" * 40
    plan = run_svc.plan_run(repo, "post-checkout", [a, b, "1"])
    assert entries(plan) == [("deploy", ())]
    assert {k: plan.env[k] for k in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF",
                                     "PRE_COMMIT_CHECKOUT_TYPE")} == \
        {"PRE_COMMIT_FROM_REF": a, "PRE_COMMIT_TO_REF": b, "PRE_COMMIT_CHECKOUT_TYPE": "1"}
    assert plan.env["PRE_COMMIT_REMOTE_NAME"] == ""  # unset for the steps
    skipped = run_svc.plan_run(repo, "post-checkout", [a, b, "0"])
    assert skipped.steps == () and "file checkout" in skipped.skipped


def test_run_checks_git_s_arguments(repo: Path) -> None:
    with pytest.raises(BadInputError, match="post-checkout takes 3 argument"):
        run_svc.plan_run(repo, "post-checkout", ["x"])
    with pytest.raises(BadInputError, match="unknown hook"):
        run_svc.plan_run(repo, "pre-commit", [])


def test_post_rewrite_deploys_after_a_rebase_or_an_amend(repo: Path) -> None:
    for command in ("rebase", "amend"):
        plan = run_svc.plan_run(repo, "post-rewrite", [command], "a b\n")
        assert entries(plan) == [("deploy", ())]
        assert plan.env["PRE_COMMIT_REWRITE_COMMAND"] == command  # as pre-commit sets it
        assert plan.env["PRE_COMMIT_CHECKOUT_TYPE"] == ""
    with pytest.raises(BadInputError, match="post-rewrite takes 1 argument"):
        run_svc.plan_run(repo, "post-rewrite", [])
    with pytest.raises(BadInputError, match="unknown rewrite command 'squash'"):
        run_svc.plan_run(repo, "post-rewrite", ["squash"])


# --- review findings: shared hooks dirs, pre-commit's hooks, signing by default ----------


def global_hooks_path(tmp_path: Path, repo: Path) -> Path:
    shared = tmp_path / "user-githooks"
    git("config", "--global", "core.hooksPath", str(shared), cwd=repo)
    return shared


def test_a_hooks_dir_outside_the_repository_is_refused_without_the_flag(
        repo: Path, tmp_path: Path) -> None:
    shared = global_hooks_path(tmp_path, repo)
    with pytest.raises(ConflictError, match=r"user-githooks \(core.hooksPath, set in .*\.gitconfig\) "
                       "is outside this repository"):
        svc.install(repo, [], PY, require_signed=False, marketplace="team")
    assert not shared.exists()  # a missing directory outside is never created...
    assert svc.status(repo).marketplace == ""  # ...and no config was written
    with pytest.raises(NotFoundError, match="does not exist; nothing installed"):
        svc.install(repo, [], PY, shared_ok=True)
    assert not shared.exists()
    shared.mkdir()
    where, changes = svc.install(repo, [], PY, shared_ok=True)
    assert where == shared and [c.action for c in changes] == ["installed"] * len(svc.HOOKS)
    assert svc.status(repo).shared
    svc.uninstall(repo, [])  # removing needs no flag
    assert list(shared.iterdir()) == []


def test_a_hooks_dir_inside_the_work_tree_or_git_dir_is_not_shared(repo: Path) -> None:
    for inside in (".githooks/sub", str(repo / ".git" / "my-hooks")):
        git("config", "core.hooksPath", inside, cwd=repo)
        where, _ = svc.install(repo, ["pre-push"], PY)  # missing, inside: created
        assert where.is_dir() and not svc.status(repo).shared


def test_hooks_run_only_in_collections(repo: Path) -> None:
    assert not run_svc.in_collection(repo)
    (repo / "skillmeat.toml").write_text('[collection]\nname = "team"\n')
    (repo / "sub").mkdir()
    assert run_svc.in_collection(repo) and run_svc.in_collection(repo / "sub")


def pre_commit_install(repo: Path, *types: str) -> None:
    args = [arg for t in types for arg in ("-t", t)]
    subprocess.run([str(Path(PY).parent / "pre-commit"), "install", *args], cwd=repo,
                   check=True, capture_output=True)


def test_pre_commit_s_hooks_are_never_chained(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    pre_commit_install(repo, "pre-push", "post-merge")
    before = {p.name: p.read_bytes() for p in hooks.iterdir()}
    assert [h.pre_commit for h in svc.status(repo).hooks] == [True, True, False, False]
    with pytest.raises(ConflictError) as refused:
        svc.install(repo, [], PY)
    assert refused.value.message.startswith(
        "pre-push, post-merge: installed by pre-commit: the team's .pre-commit-config.yaml "
        "already runs SkillMeat's hooks through pre-commit; nothing installed")
    assert "`pre-commit uninstall -t pre-push -t post-merge` first" in (refused.value.hint or "")
    assert {p.name: p.read_bytes() for p in hooks.iterdir()} == before
    # an earlier install that chained pre-commit's script: refused with the way out
    (hooks / "pre-push").rename(hooks / "pre-push.legacy")
    (hooks / "post-merge").unlink()
    hooks.joinpath("pre-push").write_text(svc.render("pre-push", PY))
    with pytest.raises(ConflictError, match=r"pre-push\.legacy: pre-commit's hook, chained"):
        svc.install(repo, [], PY)
    assert svc.status(repo).hooks[0].pre_commit


def team_key_line(tmp_path: Path) -> str:
    key = tmp_path / "team_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key)],
                   check=True, capture_output=True)
    return "ada@example.com " + (tmp_path / "team_key.pub").read_text().strip() + "\n"


def test_deploys_require_signed_commits_when_the_team_lists_keys(repo: Path, tmp_path: Path) -> None:
    signers = repo / ".skillmeat" / "allowed_signers"
    signers.parent.mkdir()
    signers.write_text("# the keys this team trusts\n")
    assert svc.status(repo).signing == svc.Signing(False, "no team keys")
    assert entries(run_svc.plan_run(repo, "post-merge", ["0"])) == [("deploy", ())]
    line = team_key_line(tmp_path)
    signers.write_text(line)
    git("add", ".skillmeat", cwd=repo)
    git("commit", "-q", "-m", "team key", cwd=repo)
    assert svc.status(repo).signing == svc.Signing(True, "team keys", 1)
    for hook, args in (("post-merge", ["0"]), ("post-checkout", ["a" * 40, "b" * 40, "1"]),
                       ("post-rewrite", ["rebase"])):
        assert entries(run_svc.plan_run(repo, hook, args)) == [("deploy", ("--require-signed",))]
    # a pulled commit that empties the file does not turn signing off for itself
    keyed = git("rev-parse", "HEAD", cwd=repo).strip()
    signers.write_text("")
    git("commit", "-q", "-am", "no keys", cwd=repo)
    git("update-ref", "ORIG_HEAD", keyed, cwd=repo)
    assert entries(run_svc.plan_run(repo, "post-merge", ["0"])) == [("deploy", ("--require-signed",))]
    assert entries(run_svc.plan_run(repo, "post-checkout", [keyed, "b" * 40, "1"])) == \
        [("deploy", ("--require-signed",))]
    git("update-ref", "ORIG_HEAD", "HEAD", cwd=repo)
    assert entries(run_svc.plan_run(repo, "post-merge", ["0"])) == [("deploy", ())]
    # git config wins, both ways; a damaged file fails closed
    signers.write_text(line.replace("ssh-ed25519 ", "ssh-ed25519 %%"))
    assert svc.status(repo).signing.required
    svc.install(repo, ["post-merge"], PY, require_signed=False)
    assert git("config", "--local", "skillmeat.requireSigned", cwd=repo).strip() == "false"
    assert svc.status(repo).signing == svc.Signing(False, "git config")
    assert entries(run_svc.plan_run(repo, "post-merge", ["0"])) == [("deploy", ())]
