"""`skillmeat init --team`: the real CLI scaffolds a team repository that the real pre-commit
accepts and runs, whose initial commit `git verify-commit` accepts when the user has a key,
and refuses (one line, exit 1) without touching anything when it would overwrite."""

from __future__ import annotations

import importlib.util
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.runner import ok, skillmeat
from tests.helpers import REPO_ROOT, git, tree_state
from tests.hooks.precommit import pre_commit

INSTALL_TYPES = ["pre-commit", "pre-push", "post-merge", "post-checkout", "post-rewrite"]


def hook_config(repo: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    return doc


def deploy_args(repo: Path) -> list[str] | None:
    hooks = {h["id"]: h for h in hook_config(repo)["repos"][0]["hooks"]}
    args: list[str] | None = hooks["skillmeat-deploy"].get("args")
    return args


def verify_commit(repo: Path, rev: str = "HEAD") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "verify-commit", rev], cwd=repo, capture_output=True, text=True,
                          check=False)


def missing_entries() -> list[str]:
    """Hook ids whose entry module is not written yet (pyproject's console scripts)."""
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    return sorted(name for name, target in scripts.items() if name.startswith("skillmeat-")
                  and importlib.util.find_spec(target.split(":")[0]) is None)


def test_with_a_key_the_initial_commit_and_later_plain_commits_are_signed(tmp_path: Path) -> None:
    fingerprint = ok("keys", "generate").out.split()[3]
    result = ok("init", "--team", str(tmp_path / "acme"))
    lines = result.out.splitlines()
    assert 3 <= len(lines) <= 4, result.out
    assert lines[0].startswith(f"Initialized team collection 'acme' in {tmp_path / 'acme'} (commit ")
    assert f"signed by {fingerprint} as test@example.com" in lines[0]
    assert ".pre-commit-config.yaml" in lines[1] and ".github/workflows/pages.yml" in lines[1]
    assert "pre-commit install" in lines[-1]
    repo = tmp_path / "acme"
    check = verify_commit(repo)
    assert check.returncode == 0 and "Good \"git\" signature for test@example.com" in check.stderr
    signers = (repo / ".skillmeat" / "allowed_signers").read_text()
    key = ok("keys", "export", "--public").out.strip()
    assert f"test@example.com {key}" in signers.splitlines()
    assert deploy_args(repo) == ["--require-signed"]
    (repo / "skills" / "hello").mkdir(parents=True)
    (repo / "skills" / "hello" / "SKILL.md").write_text("---\nname: hello\ndescription: Hi.\n---\n")
    git("add", "skills", cwd=repo)
    git("commit", "-q", "-m", "a skill, committed with plain git", cwd=repo)
    assert verify_commit(repo).returncode == 0  # signed by git itself (ssh-keygen)
    assert git("rev-list", "--count", "HEAD", cwd=repo).strip() == "2"


def test_principal_option_names_the_key_in_the_team_trust(tmp_path: Path) -> None:
    ok("keys", "generate")
    out = ok("init", "--team", "--principal", "lead@example.com", "--name", "platform",
             str(tmp_path / "repo")).out
    assert "'platform'" in out and "as lead@example.com" in out
    signers = (tmp_path / "repo" / ".skillmeat" / "allowed_signers").read_text()
    assert [ln.split()[0] for ln in signers.splitlines() if not ln.startswith("#")] == [
        "lead@example.com"]
    assert "Good \"git\" signature for lead@example.com" in verify_commit(tmp_path / "repo").stderr


def test_without_a_key_one_line_says_how_to_add_one(tmp_path: Path) -> None:
    result = ok("init", "--team", str(tmp_path / "acme"))
    lines = result.out.splitlines()
    assert len(lines) == 4 and "unsigned" in lines[0]
    assert lines[2].startswith("No signing key:") and "skillmeat keys generate" in lines[2]
    assert verify_commit(tmp_path / "acme").returncode != 0
    assert deploy_args(tmp_path / "acme") is None
    assert "acme" in ok("collection", "list").out


def test_an_encrypted_key_is_unlocked_once_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLMEAT_KEY_PASSPHRASE", "correct horse")
    ok("keys", "generate", "--passphrase")
    monkeypatch.setenv("SKILLMEAT_KEY_PASSPHRASE", "wrong")
    bad = skillmeat("init", "--team", str(tmp_path / "acme"))
    assert bad.code != 0 and len(bad.err.splitlines()) == 1 and "passphrase" in bad.err
    assert not (tmp_path / "acme").exists()
    monkeypatch.setenv("SKILLMEAT_KEY_PASSPHRASE", "correct horse")
    assert "signed by" in ok("init", "--team", str(tmp_path / "acme")).out
    assert verify_commit(tmp_path / "acme").returncode == 0


def test_pre_commit_accepts_installs_and_runs_the_fresh_scaffold(tmp_path: Path) -> None:
    ok("keys", "generate")
    repo = tmp_path / "acme"
    ok("init", "--team", str(repo))
    pc = tmp_path / "pre-commit-home"
    assert pre_commit("validate-config", ".pre-commit-config.yaml", cwd=repo, pc_home=pc).code == 0
    installed = pre_commit("install", cwd=repo, pc_home=pc)
    assert installed.code == 0, installed
    for hook_type in INSTALL_TYPES:  # every type of default_install_hook_types
        assert f".git/hooks/{hook_type}" in installed.out
        assert (repo / ".git" / "hooks" / hook_type).is_file()
    skip = ",".join(missing_entries())  # until every entry module exists; then all of them run
    run = pre_commit("run", "--all-files", cwd=repo, pc_home=pc, extra={"SKIP": skip})
    assert run.code == 0, run
    assert git("status", "--porcelain", cwd=repo) == ""


def test_hooks_repo_form_is_valid_for_pre_commit(tmp_path: Path) -> None:
    repo = tmp_path / "acme"
    ok("init", "--team", "--hooks-repo", "https://github.com/org/skillmeat@v2.0.0", str(repo))
    doc = hook_config(repo)
    [remote] = doc["repos"]
    assert (remote["repo"], remote["rev"]) == ("https://github.com/org/skillmeat", "v2.0.0")
    ids = [h["id"] for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())]
    assert [h["id"] for h in remote["hooks"]] == ids
    check = pre_commit("validate-config", ".pre-commit-config.yaml", cwd=repo,
                       pc_home=tmp_path / "pc")
    assert check.code == 0, check


def test_usage_errors(tmp_path: Path) -> None:
    for args in (["init", "--principal", "me@example.com"], ["init", "--team", "--hooks-repo", "x@"],
                 ["init", "--team", "--name", "../up"]):
        result = skillmeat(*args, str(tmp_path / "new"))
        assert result.code == 2 and len(result.err.splitlines()) == 1, result
    assert not (tmp_path / "new").exists()


def test_refusals_leave_everything_as_it_was(tmp_path: Path) -> None:
    ok("keys", "generate")
    ok("init", "--team", str(tmp_path / "team"))
    mine = tmp_path / "mine"  # a git repository with a README and a TEAM.md of its own
    mine.mkdir()
    git("init", "-q", cwd=mine)
    (mine / "README.md").write_text("# mine\n")
    (mine / "TEAM.md").write_text("# who we are\n")
    git("add", "README.md", "TEAM.md", cwd=mine)
    git("commit", "-q", "-m", "mine", cwd=mine)
    plain = tmp_path / "plain"  # not a repository: a workflow already there
    (plain / ".github" / "workflows").mkdir(parents=True)
    (plain / ".github" / "workflows" / "pages.yml").write_text("name: ours\n")
    (tmp_path / "team" / "skills").mkdir()
    inside = f"is inside collection 'team' at {tmp_path / 'team'}: nothing was changed"
    for args, why in ((["--team", str(tmp_path / "team")], "already a collection"),
                      (["--team", str(mine)], "already has README.md, TEAM.md"),
                      (["--team", str(plain)], "already has .github/workflows/pages.yml"),
                      (["--team", str(tmp_path / "team" / "nested")], inside),
                      (["--team", "--name", "n2", str(tmp_path / "team" / "skills")], inside),
                      ([str(tmp_path / "team" / "nested")], inside),
                      (["--name", "n3", str(tmp_path / "team" / "skills" / "x")], inside)):
        before = tree_state(tmp_path)
        heads = {p: git("log", "--format=%H", cwd=p) for p in (tmp_path / "team", mine)}
        configs = {p: (p / ".git" / "config").read_bytes() for p in (tmp_path / "team", mine)}
        result = skillmeat("init", *args)
        assert result.code == 1 and why in result.err and len(result.err.splitlines()) == 1, result
        assert result.out == ""
        assert tree_state(tmp_path) == before
        assert {p: git("log", "--format=%H", cwd=p) for p in heads} == heads
        assert {p: (p / ".git" / "config").read_bytes() for p in configs} == configs
        assert not (plain / ".git").exists()
        assert not (tmp_path / "team" / "nested").exists()
    assert ok("collection", "list", "--json").out.count('"name"') == 1


def test_a_github_made_repository_keeps_its_readme_and_gets_team_md(tmp_path: Path) -> None:
    repo = tmp_path / "acme"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / "README.md").write_text("# acme\nMade on GitHub.\n")
    git("add", "README.md", cwd=repo)
    git("commit", "-q", "-m", "Initial commit", cwd=repo)
    out = ok("init", "--team", str(repo)).out
    assert "TEAM.md" in out.splitlines()[1] and "README.md" not in out.splitlines()[1]
    assert out.splitlines()[-1].endswith("teammates follow TEAM.md (your README.md is kept as it was)")
    assert (repo / "README.md").read_text() == "# acme\nMade on GitHub.\n"
    assert "skillmeat keys git-setup" in (repo / "TEAM.md").read_text()
    assert git("log", "--format=%s", cwd=repo).splitlines() == [
        "Initialize SkillMeat team collection 'acme'", "Initial commit"]
    assert git("status", "--porcelain", cwd=repo) == ""


def test_the_readmes_catalog_command_builds_on_a_clean_tree(tmp_path: Path) -> None:
    repo = tmp_path / "acme"
    ok("init", "--team", str(repo))
    (repo / "skills" / "hello").mkdir(parents=True)
    (repo / "skills" / "hello" / "SKILL.md").write_text("---\nname: hello\ndescription: Hi.\n---\n")
    git("add", "skills", cwd=repo)
    git("commit", "-q", "-m", "a skill", "--no-verify", cwd=repo)
    command = "pre-commit run skillmeat-catalog --hook-stage manual"
    assert f"`{command}`" in (repo / "README.md").read_text()
    run = pre_commit(*command.split()[1:], cwd=repo, pc_home=tmp_path / "pc")
    assert run.code == 0 and "Passed" in run.out and "Skipped" not in run.out, run
    assert (repo / "site" / "index.html").is_file()
    assert (repo / "site" / ".well-known" / "agent-skills" / "hello" / "SKILL.md").is_file()
    assert git("status", "--porcelain", cwd=repo) == ""  # site/ is ignored
