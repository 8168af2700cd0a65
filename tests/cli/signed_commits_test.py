"""SkillMeat's own commits are signed where git's config says commits are (commit.gpgsign with
an SSH key, as `skillmeat keys git-setup --repo` sets it), the way `git commit -S` signs them:
`git verify-commit` accepts each one. A key that cannot sign stops the command: one line, and
nothing committed (never an unsigned commit instead)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import ok, skillmeat
from tests.helpers import git

SKILL = "---\nname: {name}\ndescription: Does {name}.\n---\n\nSteps.\n"


def _skill(base: Path, name: str) -> Path:
    path = base / "src" / name
    path.mkdir(parents=True)
    (path / "SKILL.md").write_text(SKILL.format(name=name))
    return path


def _verify(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "verify-commit", "HEAD"], cwd=repo, capture_output=True,
                          text=True, check=False)


def _signed_by(repo: Path, principal: str) -> None:
    done = _verify(repo)
    assert done.returncode == 0, done.stderr
    assert f'Good "git" signature for {principal}' in done.stderr


def _team(tmp_path: Path, *, passphrase: str = "") -> Path:
    repo = tmp_path / "team"
    ok("init", str(repo), "--name", "team")
    ok("keys", "generate", "--comment", "alice@example.com", *(["--passphrase"] if passphrase else []))
    ok("keys", "git-setup", "--repo", str(repo), "--principal", "alice@example.com")
    return repo


def test_every_collection_commit_is_signed_once_git_setup_ran(tmp_path: Path) -> None:
    repo = _team(tmp_path)
    assert git("config", "--local", "commit.gpgsign", cwd=repo).strip() == "true"
    assert "commit.gpgsign=true" in " ".join(ok("keys", "git-setup", "--help").out.split())
    first = git("rev-parse", "HEAD", cwd=repo).strip()
    assert _verify(repo).returncode != 0  # made before git-setup: unsigned

    steps = [("add", str(_skill(tmp_path, "standup"))),
             ("mcp", "add", "notes", "--", "python", "notes_server.py"),
             ("add", str(_skill(tmp_path, "retro"))),
             ("remove", "skill/retro"),
             ("keys", "trust", "--team", ok("keys", "export", "--public").out.strip(),
              "--principal", "alice@example.com"),
             ("snapshot", "-m", "release 1", "--name", "v1"),
             ("rollback", first)]
    heads = {first}
    for args in steps:
        ok(*args, cwd=repo)
        head = git("rev-parse", "HEAD", cwd=repo).strip()
        assert head not in heads, args  # each step made a commit ...
        heads.add(head)
        _signed_by(repo, "alice@example.com")  # ... and signed it
    assert git("status", "--porcelain", cwd=repo) == ""


def test_encrypted_key_needs_its_passphrase_and_commits_nothing_without(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLMEAT_KEY_PASSPHRASE", "correct horse")
    repo = _team(tmp_path, passphrase="correct horse")
    ok("add", str(_skill(tmp_path, "standup")), cwd=repo)
    _signed_by(repo, "alice@example.com")

    before = git("rev-parse", "HEAD", cwd=repo).strip()
    monkeypatch.delenv("SKILLMEAT_KEY_PASSPHRASE")
    done = skillmeat("add", str(_skill(tmp_path, "retro")), cwd=repo, stdin="")  # no terminal
    assert done.code == 2, done
    assert done.err.count("\n") == 1 and "encrypted" in done.err, done.err
    assert "SKILLMEAT_KEY_PASSPHRASE" in done.err and "nothing was committed" in done.err
    assert git("rev-parse", "HEAD", cwd=repo).strip() == before
    assert not (repo / "skills" / "retro").exists()
    assert git("status", "--porcelain", cwd=repo) == ""

    monkeypatch.setenv("SKILLMEAT_KEY_PASSPHRASE", "wrong")
    done = skillmeat("mcp", "add", "notes", "--", "python", "x.py", cwd=repo, stdin="")
    assert done.code != 0 and "wrong passphrase" in done.err, done
    assert git("rev-parse", "HEAD", cwd=repo).strip() == before


def _keygen(*args: str) -> None:
    subprocess.run(["ssh-keygen", "-q", *args], check=True, capture_output=True)


def test_other_keys_sign_through_ssh_keygen(tmp_path: Path) -> None:
    """An RSA key git would sign with through ssh-keygen: SkillMeat does the same; an
    encrypted one with no terminal is refused before anything is committed."""
    repo = tmp_path / "team"
    ok("init", str(repo), "--name", "team")
    key = tmp_path / "id_rsa"
    _keygen("-t", "rsa", "-b", "2048", "-N", "", "-C", "carol@example.com", "-f", str(key))
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"carol@example.com {key.with_suffix('.pub').read_text()}")
    for k, v in (("gpg.format", "ssh"), ("user.signingKey", str(key)), ("commit.gpgsign", "true"),
                 ("gpg.ssh.allowedSignersFile", str(signers))):
        git("config", k, v, cwd=repo)
    ok("add", str(_skill(tmp_path, "standup")), cwd=repo)
    _signed_by(repo, "carol@example.com")

    locked = tmp_path / "id_locked"
    _keygen("-t", "ed25519", "-N", "secret words", "-f", str(locked))
    git("config", "user.signingKey", str(locked), cwd=repo)
    before = git("rev-parse", "HEAD", cwd=repo).strip()
    done = skillmeat("add", str(_skill(tmp_path, "retro")), cwd=repo, stdin="")
    assert done.code == 1 and done.err.count("\n") == 1, done
    assert "ssh-keygen could not sign" in done.err and "nothing was committed" in done.err
    assert git("rev-parse", "HEAD", cwd=repo).strip() == before
    assert git("status", "--porcelain", cwd=repo) == ""


def test_signing_settings_git_would_not_use_here(tmp_path: Path) -> None:
    repo = tmp_path / "team"
    ok("init", str(repo), "--name", "team")
    git("config", "commit.gpgsign", "true", cwd=repo)
    # gpg.format unset (openpgp): left to git; SkillMeat's commits stay as they were, unsigned
    ok("add", str(_skill(tmp_path, "standup")), cwd=repo)
    assert "gpgsig" not in git("cat-file", "commit", "HEAD", cwd=repo)
    # ssh without a key: refused, one line, nothing committed
    git("config", "gpg.format", "ssh", cwd=repo)
    before = git("rev-parse", "HEAD", cwd=repo).strip()
    done = skillmeat("add", str(_skill(tmp_path, "retro")), cwd=repo, stdin="")
    assert done.code == 2 and done.err.count("\n") == 1, done
    assert "no signing key is set" in done.err and "keys git-setup --repo ." in done.err
    assert git("rev-parse", "HEAD", cwd=repo).strip() == before
    git("config", "user.signingKey", str(tmp_path / "nowhere"), cwd=repo)
    done = skillmeat("add", str(_skill(tmp_path, "other")), cwd=repo, stdin="")
    assert done.code == 2 and "cannot read the signing key" in done.err, done
    assert git("rev-parse", "HEAD", cwd=repo).strip() == before
