"""Alice exports signed bundles and keeps them in vaults; Bob verifies and imports them with the
real CLI, from files, a file:// vault, a bare git remote, moto's S3 and the GCS emulator."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.cli.runner import Result, ok, skillmeat
from tests.cli.trust_story_test import User
from tests.helpers import EXAMPLES, git, tree_state
from tests.servers import gcs_server, s3_server  # noqa: F401


@pytest.fixture
def people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[User, User, str]:
    alice = User("alice", tmp_path / "alice", monkeypatch)
    bob = User("bob", tmp_path / "bob", monkeypatch)
    with alice:
        ok("collection", "create", "team")
        ok("add", str(EXAMPLES), "--all")
        ok("keys", "generate", "--comment", "alice@example.com")
        pub = ok("keys", "export", "--public").out.strip()
        (alice.base / "alice.pub").write_text(pub + "\n")
        ok("keys", "trust", str(alice.base / "alice.pub"), "--principal", "alice@example.com")
    with bob:
        ok("collection", "create", "mine")
    (tmp_path / "alice.pub").write_text(pub + "\n")
    return alice, bob, str(tmp_path / "alice.pub")


def _one_line_error(result: Result, code: int, *words: str) -> None:
    out = result.err
    assert result.code == code, out
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillmeat: error:"), out
    assert "Traceback" not in out
    for word in words:
        assert word in lines[0], out


def test_export_verify_with_ssh_keygen_then_import(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alice, bob, pub = people
    pack = tmp_path / "team.skillmeat-pack"
    with alice:
        out = ok("export", "--all", "-o", str(pack), "--version", "1.0.0").out
        assert "refs/skillmeat/bundles/team/1.0.0" in out
        assert ok("verify", str(pack)).code == 0
    with zipfile.ZipFile(pack) as zf:
        manifest, sig = zf.read("skillmeat-pack.json"), zf.read("skillmeat-pack.sig")
    (tmp_path / "signers").write_text(f"alice@example.com {Path(pub).read_text()}")
    (tmp_path / "sig").write_bytes(sig)
    proc = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "signers"), "-I",
                           "alice@example.com", "-n", "skillmeat-pack", "-s", str(tmp_path / "sig")],
                          input=manifest, capture_output=True, check=False)
    assert proc.returncode == 0 and b"Good" in proc.stdout, proc.stderr
    with bob:
        mine = bob.base / "skillmeat" / "collections" / "mine"
        before = tree_state(mine), git("rev-parse", "HEAD", cwd=mine)
        _one_line_error(skillmeat("verify", str(pack)), 1, "unknown key")
        _one_line_error(skillmeat("import", str(pack)), 1, "unknown key")
        assert (tree_state(mine), git("rev-parse", "HEAD", cwd=mine)) == before
        shown = json.loads(ok("inspect", str(pack), "--json").out)
        assert shown["verdict"] == "unverified" and len(shown["artifacts"]) == 8
        ok("keys", "trust", pub, "--principal", "alice@example.com")
        assert "good signature by alice@example.com" in ok("inspect", str(pack)).out
        assert ok("import", str(pack), "--dry-run").out.count("add ") == 8
        assert (tree_state(mine), git("rev-parse", "HEAD", cwd=mine)) == before
        assert "Imported 8 artifacts" in ok("import", str(pack)).out
        assert "Nothing to import" in ok("import", str(pack)).out
        listed = json.loads(ok("list", "--json").out)
        assert len(listed) == 8
        broken = tmp_path / "broken.skillmeat-pack"
        broken.write_bytes(b"junk" + pack.read_bytes())
        _one_line_error(skillmeat("import", str(broken)), 2, "junk prepended")
        _one_line_error(skillmeat("import", str(tmp_path / "missing.skillmeat-pack")), 2, "no bundle")


def _vault_round_trip(alice: User, bob: User, url: str, *options: str) -> None:
    opts = [x for o in options for x in ("--option", o)]
    with alice:
        ok("vault", "add", "shared", url, *opts)
        ok("export", "pdf-summary", "review", "--name", "starter", "--version", "1.0.0", "--to", "shared")
        ok("export", "pdf-summary", "review", "--name", "starter", "--version", "1.0.0", "--to", "shared")
        listed = json.loads(ok("vault", "ls", "shared", "--json").out)
        assert [(b["name"], b["version"]) for b in listed["bundles"]] == [("starter", "1.0.0")]
    with bob:
        ok("vault", "add", "shared", url, *opts)
        out = ok("import", "shared:starter").out
        assert "Imported 2 artifacts" in out, out
        assert "Nothing to import" in ok("import", "shared:starter@1.0.0").out
        _one_line_error(skillmeat("import", "shared:nothing"), 1, "no bundle nothing")


def test_file_vault(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alice, bob, pub = people
    with bob:
        ok("keys", "trust", pub, "--principal", "alice@example.com")
    _vault_round_trip(alice, bob, (tmp_path / "vault").as_uri())
    assert (tmp_path / "vault" / "bundles" / "starter" / "1.0.0.skillmeat-pack").is_file()
    feed = json.loads((tmp_path / "vault" / "feed.json").read_text())
    assert feed["signed"]["version"] == 1 and feed["signatures"][0]["sig"].startswith("-----BEGIN")


def test_git_vault(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alice, bob, pub = people
    remote = tmp_path / "vault.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    with bob:
        ok("keys", "trust", pub, "--principal", "alice@example.com")
    _vault_round_trip(alice, bob, str(remote))
    assert "refs/skillmeat/bundles/starter/1.0.0" in git("for-each-ref", cwd=remote)


def test_s3_vault(people, s3_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    alice, bob, pub = people
    with bob:
        ok("keys", "trust", pub, "--principal", "alice@example.com")
    _vault_round_trip(alice, bob, "s3://vault/team", f"endpoint_url={s3_server.endpoint}")


def test_gcs_vault(people, gcs_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    alice, bob, pub = people
    with bob:
        ok("keys", "trust", pub, "--principal", "alice@example.com")
    _vault_round_trip(alice, bob, "gs://vault/team", f"endpoint_url={gcs_server.endpoint}",
                      "token=anon")


def test_credentials_never_go_into_config(people) -> None:  # type: ignore[no-untyped-def]
    alice, _, _ = people
    with alice:
        _one_line_error(skillmeat("vault", "add", "x", "s3://b", "--option", "secret=hunter2"), 2,
                        "credential")
        assert "hunter2" not in (alice.base / "skillmeat" / "config.toml").read_text()
