"""The team scaffold: rendered files against .pre-commit-hooks.yaml and pre-commit's own
validator, the one commit (signed with the user's key), and refusals that change nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from skillmeat.model import allowed_signers
from skillmeat.model.errors import BadInputError, ConflictError, SignatureError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services import keys
from skillmeat.services.scaffold import (
    ALLOWED_SIGNERS,
    PRE_COMMIT_CONFIG,
    HooksRepo,
    parse_hooks_repo,
    render,
    scaffold_team,
)
from skillmeat.store.home import Home
from tests.helpers import REPO_ROOT, git, tree_state

HOOK_FILE = REPO_ROOT / ".pre-commit-hooks.yaml"
SETTINGS = {"files": "", "pass_filenames": True, "always_run": False, "require_serial": False,
            "args": []}
# keys of .pre-commit-hooks.yaml the local form does not copy (language: system instead; the
# config's own minimum_pre_commit_version); every other key must be compared below
NOT_COPIED = {"description", "language", "minimum_pre_commit_version"}
# where the team's config differs on purpose: the catalog on demand only, and always
TEAM_CHANGES = {"skillmeat-catalog": {"stages": ["manual"], "always_run": True}}
FILES = [".github/workflows/pages.yml", ".gitignore", ".pre-commit-config.yaml",
         ".skillmeat/allowed_signers", "README.md", "skillmeat.lock", "skillmeat.toml"]


def published_hooks() -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = yaml.safe_load(HOOK_FILE.read_text())
    return hooks


def config(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def signer_line() -> allowed_signers.AllowedSigner:
    return keys.TrustRequest(PrivateKey.generate("me").public, ("me@example.com",)).signer()


def validate_config(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return subprocess.run([str(Path(sys.executable).parent / "pre-commit"), "validate-config",
                           str(path)], capture_output=True, text=True, check=False)


def test_local_hooks_have_the_settings_of_pre_commit_hooks_yaml() -> None:
    """The guard of scaffold.HOOKS, a copy of the root file: any setting changed in one and
    not the other (require_serial, always_run, a new stage such as post-rewrite) fails here."""
    doc = config(render("acme")[PRE_COMMIT_CONFIG])
    assert doc["minimum_pre_commit_version"] == max(
        h["minimum_pre_commit_version"] for h in published_hooks())
    [repo] = doc["repos"]
    assert repo["repo"] == "local"
    local = {h["id"]: h for h in repo["hooks"]}
    assert list(local) == [h["id"] for h in published_hooks()]
    for want in published_hooks():
        got = local[want["id"]]
        assert got["language"] == "system"
        checked = {"id", "name", "entry", "stages", *SETTINGS}
        assert set(want) - NOT_COPIED <= checked, f"{want['id']}: compare {set(want) - checked}"
        assert set(got) - {"language"} <= checked, want["id"]
        expected = {**SETTINGS, **{k: v for k, v in want.items() if k not in NOT_COPIED},
                    **TEAM_CHANGES.get(want["id"], {})}
        for key in checked:  # args: none without a team key, every commit deploys
            assert got.get(key, SETTINGS.get(key)) == expected[key], (want["id"], key)


def test_install_types_are_every_stage_git_runs() -> None:
    doc = config(render("acme")[PRE_COMMIT_CONFIG])
    assert doc["default_install_hook_types"] == ["pre-commit", "pre-push", "post-merge",
                                                 "post-checkout", "post-rewrite"]
    # pre-merge-commit too is a git hook, but pre-commit's own hook already runs on a merge
    # commit with conflicts; manual is never installed
    used = {s for h in doc["repos"][0]["hooks"] for s in h["stages"]} - {"manual", "pre-merge-commit"}
    assert used == set(doc["default_install_hook_types"])


def test_a_team_key_makes_deploy_require_signed_commits() -> None:
    for form in (None, HooksRepo("https://example.com/skillmeat.git", "v9")):
        hooks = config(render("acme", signer=signer_line(), hooks_repo=form)[PRE_COMMIT_CONFIG])
        args = {h["id"]: h.get("args") for h in hooks["repos"][0]["hooks"]}
        assert args.pop("skillmeat-deploy") == ["--require-signed"]
        assert set(args.values()) == {None}


def test_remote_form_lists_hook_ids_at_a_revision() -> None:
    repo = parse_hooks_repo("https://github.com/org/skillmeat@v1.2.0")
    doc = config(render("acme", hooks_repo=repo)[PRE_COMMIT_CONFIG])
    [remote] = doc["repos"]
    assert (remote["repo"], remote["rev"]) == ("https://github.com/org/skillmeat", "v1.2.0")
    assert [h["id"] for h in remote["hooks"]] == [h["id"] for h in published_hooks()]
    extra = {h["id"]: {k: v for k, v in h.items() if k != "id"} for h in remote["hooks"]}
    assert extra.pop("skillmeat-catalog") == TEAM_CHANGES["skillmeat-catalog"]
    assert all(v == {} for v in extra.values())


@pytest.mark.parametrize(("text", "url", "rev"), [
    ("https://github.com/org/skillmeat", "https://github.com/org/skillmeat", "v0"),
    ("https://github.com/org/skillmeat@main", "https://github.com/org/skillmeat", "main"),
    ("git@github.com:org/skillmeat", "git@github.com:org/skillmeat", "v0"),
    ("git@github.com:org/skillmeat.git@v1.0", "git@github.com:org/skillmeat.git", "v1.0"),
    ("https://me@host.example/skillmeat", "https://me@host.example/skillmeat", "v0"),
    ("/srv/git/skillmeat@abc123", "/srv/git/skillmeat", "abc123"),
])
def test_parse_hooks_repo(text: str, url: str, rev: str) -> None:
    from skillmeat import __version__

    assert parse_hooks_repo(text) == HooksRepo(url, rev.replace("v0", f"v{__version__}"))


@pytest.mark.parametrize("text", ["", "https://x/y@", "--upload-pack=evil", "a b", "@v1"])
def test_bad_hooks_repo_is_bad_input(text: str) -> None:
    with pytest.raises(BadInputError, match="--hooks-repo"):
        parse_hooks_repo(text)


def test_both_forms_pass_pre_commits_own_validation(tmp_path: Path) -> None:
    for form in (None, parse_hooks_repo("https://example.com/skillmeat")):
        for signer in (None, signer_line()):
            proc = validate_config(render("acme", signer=signer, hooks_repo=form)[PRE_COMMIT_CONFIG],
                                   tmp_path)
            assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = render("acme")[PRE_COMMIT_CONFIG].replace("pass_filenames: true", "pass_filenames: maybe", 1)
    assert validate_config(broken, tmp_path).returncode != 0  # the validator does check


def test_allowed_signers_explains_itself_and_lists_the_key() -> None:
    signer = signer_line()
    text = render("acme", signer=signer)[ALLOWED_SIGNERS]
    assert allowed_signers.parse(text) == [signer]
    header = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert any("allowed-signers format" in ln for ln in header)
    assert any("skillmeat keys trust --team" in ln and "--principal" in ln for ln in header)
    assert allowed_signers.parse(render("acme")[ALLOWED_SIGNERS]) == []


def test_every_template_renders_as_yaml_or_markdown() -> None:
    files = render("acme.skills")
    for rel in (PRE_COMMIT_CONFIG, ".github/workflows/pages.yml"):
        assert isinstance(yaml.safe_load(files[rel]), dict)
    readme = files["README.md"]
    for step in ("skillmeat init . --name acme.skills", "pre-commit install",
                 "skillmeat hooks install", "skillmeat keys generate", "keys trust --team",
                 "skillmeat project add ~/code/app --follow acme.skills", "site/"):
        assert step in readme, step
    with pytest.raises(BadInputError):
        render("../escape")


def test_readme_describes_trust_as_deploy_checks_it() -> None:
    """--require-signed trusts the member's own trust only (team revocations apply): the guide
    must have each member sign their commits and trust each teammate personally."""
    readme = " ".join(render("acme", signer=signer_line())["README.md"].split())
    for step in ("skillmeat keys generate", "skillmeat keys git-setup --repo . --principal you@",
                 "your commits and merges here are signed",
                 "skillmeat keys trust --team 'ssh-ed25519 AAAA...' --principal you@",
                 "skillmeat keys trust 'ssh-ed25519 AAAA...' --principal teammate@",
                 "`--require-signed`", "**your own** trust", "not every key listed in "
                 "`.skillmeat/allowed_signers`", "revoked in `.skillmeat/revoked`",
                 "post-rewrite", "git pull --rebase"):
        assert step in readme, step
    assert readme.index("keys git-setup") < readme.index("keys trust --team") < readme.index(
        "--principal teammate@") < readme.index("pre-commit install")
    unsigned = " ".join(render("acme")["README.md"].split())
    assert "--require-signed" not in unsigned and "--principal teammate@" in unsigned


def test_the_catalog_entry_always_runs_on_demand() -> None:
    for form in (None, HooksRepo("https://example.com/skillmeat.git", "v9")):
        text = render("acme", hooks_repo=form)[PRE_COMMIT_CONFIG]
        [catalog] = [h for h in config(text)["repos"][0]["hooks"] if h["id"] == "skillmeat-catalog"]
        assert (catalog["stages"], catalog["always_run"]) == (["manual"], True)
        assert "#   pre-commit run skillmeat-catalog --hook-stage manual\n" in text
    assert "`pre-commit run skillmeat-catalog --hook-stage manual`" in render("acme")["README.md"]


def test_scaffold_without_a_key_is_one_unsigned_commit(home: Home, tmp_path: Path) -> None:
    made = scaffold_team(home, tmp_path / "acme")
    assert (made.key, made.principal, made.store.name) == (None, "", "acme")
    repo = tmp_path / "acme"
    assert sorted(git("ls-files", cwd=repo).split()) == FILES
    assert git("log", "--format=%s%x00%G?", cwd=repo).splitlines() == [
        "Initialize SkillMeat team collection 'acme'\x00N"]
    assert git("status", "--porcelain", cwd=repo) == ""
    assert made.store.manifest().name == "acme"
    assert {"/site/", "dist/", "__pycache__/"} <= set((repo / ".gitignore").read_text().split())
    assert home.collections() == {"acme": repo}
    assert home.config.active() == "acme"
    assert subprocess.run(["git", "config", "commit.gpgsign"], cwd=repo).returncode == 1  # unset


def test_scaffold_with_a_key_signs_and_trusts_it(home: Home, tmp_path: Path) -> None:
    info = keys.generate(home, "default")
    made = scaffold_team(home, tmp_path / "signed", "team-x", principal="lead@example.com")
    repo = tmp_path / "signed"
    assert made.key == info and made.principal == "lead@example.com"
    team = allowed_signers.parse((repo / ALLOWED_SIGNERS).read_text())
    assert [(s.principals, s.key.raw) for s in team] == [(("lead@example.com",), info.public.raw)]
    assert "Good \"git\" signature for lead@example.com" in subprocess.run(
        ["git", "verify-commit", "HEAD"], cwd=repo, capture_output=True, text=True,
        check=True).stderr
    assert git("config", "commit.gpgsign", cwd=repo).strip() == "true"
    assert git("config", "gpg.format", cwd=repo).strip() == "ssh"


def test_existing_repository_keeps_its_history_and_staged_work(home: Home, tmp_path: Path) -> None:
    repo = tmp_path / "existing"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / ".gitignore").write_text("*.log")  # no final newline
    (repo / "notes.txt").write_text("mine\n")
    git("add", ".gitignore", "notes.txt", cwd=repo)
    git("commit", "-qm", "before", cwd=repo)
    (repo / "wip.txt").write_text("staged\n")
    git("add", "wip.txt", cwd=repo)
    (repo / "README.md").write_text("")  # empty: fine to fill
    scaffold_team(home, repo)
    assert git("log", "--format=%s", cwd=repo).splitlines() == [
        "Initialize SkillMeat team collection 'existing'", "before"]
    assert (repo / ".gitignore").read_text() == "*.log\n" + (
        "# SkillMeat team collection: built output, never committed\n/site/\ndist/\n")
    assert git("diff", "--cached", "--name-only", cwd=repo).split() == ["wip.txt"]
    assert "wip.txt" not in git("ls-tree", "-r", "--name-only", "HEAD", cwd=repo)
    assert (repo / "README.md").read_text().startswith("# existing")


def test_refusals_change_nothing(home: Home, tmp_path: Path) -> None:
    scaffold_team(home, tmp_path / "taken")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "README.md").write_text("ours\n")
    (tmp_path / "busy" / "TEAM.md").write_text("ours too\n")
    (tmp_path / "file").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "taken" / "skills").mkdir()
    cases = [(tmp_path / "taken", None, "already a collection"),
             (tmp_path / "busy", None, "already has README.md, TEAM.md: not overwriting"),
             (tmp_path / "file", None, "is a file"),
             (tmp_path / "other", "taken", "named 'taken' already exists"),
             (tmp_path / "taken" / "nested", "nested", "inside collection 'taken' at "),
             (tmp_path / "taken" / "skills" / "deep", "deep", "inside collection 'taken' at ")]
    for path, name, message in cases:
        before, head = tree_state(tmp_path), git("rev-parse", "HEAD", cwd=tmp_path / "taken")
        with pytest.raises(ConflictError, match=message):
            scaffold_team(home, path, name)
        assert tree_state(tmp_path) == before
        assert git("rev-parse", "HEAD", cwd=tmp_path / "taken") == head
        assert not (tmp_path / "busy" / ".git").exists() and not (tmp_path / "other" / ".git").exists()
    assert list(home.collections()) == ["taken"]
    assert not (tmp_path / "taken" / "nested").exists()


def test_an_unregistered_enclosing_collection_is_named_by_its_path(home: Home, tmp_path: Path) -> None:
    scaffold_team(home, tmp_path / "clone")
    home.config.unregister("clone")
    with pytest.raises(ConflictError, match=f"inside a collection at {tmp_path / 'clone'}"):
        scaffold_team(home, tmp_path / "clone" / "sub")


def test_a_readme_of_its_own_is_kept_and_the_guide_is_team_md(home: Home, tmp_path: Path) -> None:
    repo = tmp_path / "from-github"  # as GitHub makes a repository: one commit with a README
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / "README.md").write_text("# from-github\nOur own words.\n")
    git("add", "README.md", cwd=repo)
    git("commit", "-qm", "Initial commit", cwd=repo)
    made = scaffold_team(home, repo)
    assert made.guide == "TEAM.md" and "TEAM.md" in made.files and "README.md" not in made.files
    assert (repo / "README.md").read_text() == "# from-github\nOur own words.\n"
    guide = (repo / "TEAM.md").read_text()
    assert guide.startswith("# from-github: the team's Claude Code collection")
    assert "This is the team guide, TEAM.md" in guide and "kept the repository's own" in guide
    assert sorted(git("ls-files", cwd=repo).split()) == sorted([*FILES, "TEAM.md"])
    assert git("status", "--porcelain", cwd=repo) == ""
    fresh = scaffold_team(home, tmp_path / "fresh")
    assert fresh.guide == "README.md" and not (tmp_path / "fresh" / "TEAM.md").exists()
    assert "This is the team guide" not in (tmp_path / "fresh" / "README.md").read_text()


def test_a_revoked_key_or_a_wrong_passphrase_changes_nothing(home: Home, tmp_path: Path) -> None:
    info = keys.generate(home, "locked", passphrase="right")
    with pytest.raises(SignatureError):
        scaffold_team(home, tmp_path / "a", passphrase=lambda: "wrong")
    home.trust.revoke(info.public, "lost laptop")
    with pytest.raises(SignatureError, match="revoked"):
        scaffold_team(home, tmp_path / "a", passphrase=lambda: "right")
    assert not (tmp_path / "a").exists()
    assert home.collections() == {}


def test_a_key_without_a_principal_is_refused(home: Home, tmp_path: Path) -> None:
    keys.generate(home, "default")
    git("config", "--global", "--unset", "user.email", cwd=tmp_path)
    with pytest.raises(BadInputError, match="principal"):
        scaffold_team(home, tmp_path / "a")
    assert not (tmp_path / "a").exists()
