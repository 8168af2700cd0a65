"""skillmeat-verify: committed bundles and feeds against the user's plus the repository's
trust, trust files parsed line by line, rotation statements verified; one line per bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillmeat.model.feed import Feed
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services.feedcheck import sign_feed
from skillmeat.services.trust import make_rotation
from tests.cli.runner import ok
from tests.helpers import tree_state
from tests.hooks.teamrepo import Ran, hook, team_repo, write

PACK = "bundles/team/1.0.0.skillmeat-pack"
KEY = PrivateKey(bytes([7]) * 32, "publisher@example.com")
NEW_KEY = PrivateKey(bytes([8]) * 32, "publisher@example.com")


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A team repo holding a bundle it exported, signed by the user's key."""
    repo = team_repo(tmp_path)
    ok("keys", "generate", "--comment", "alice@example.com")
    (repo / "bundles" / "team").mkdir(parents=True)
    ok("export", "--all", "-o", str(repo / PACK), "--version", "1.0.0", cwd=repo)
    return repo


def _bad(ran: Ran, *lines: str) -> None:
    assert ran.code == 1 and ran.err == "", ran
    got = ran.out.splitlines()
    assert len(got) == len(lines), ran
    for line, words in zip(got, lines, strict=True):
        assert line.startswith(words.split(" ", 1)[0]) and all(w in line for w in words.split("|")), ran
        assert "(hint: " in line


def test_a_bundle_verifies_once_the_team_trusts_its_key(team: Path) -> None:
    _bad(hook("verify", PACK, cwd=team), f"{PACK}: signed by unknown key|trust it")
    pub = ok("keys", "export", "--public").out.strip()
    ok("keys", "trust", pub, "--principal", "alice@example.com", "--team", cwd=team)
    before = tree_state(team)
    ran = hook("verify", PACK, ".skillmeat/allowed_signers", cwd=team)
    assert (ran.code, ran.out, ran.err) == (0, "", ""), ran
    assert tree_state(team) == before
    ok("keys", "revoke", pub, "--team", "--reason", "laptop stolen", cwd=team)
    _bad(hook("verify", PACK, ".skillmeat/revoked", cwd=team),
         f"{PACK}: signed by revoked key|laptop stolen")


def test_a_tampered_bundle_fails(team: Path) -> None:
    pub = ok("keys", "export", "--public").out.strip()
    ok("keys", "trust", pub, "--principal", "alice@example.com", "--team", cwd=team)
    data = bytearray((team / PACK).read_bytes())
    (team / PACK).write_bytes(bytes(data) + b"junk")
    _bad(hook("verify", PACK, cwd=team), f"{PACK}: |")


def test_bad_trust_files_name_their_line(team: Path) -> None:
    write(team, ".skillmeat/allowed_signers",
          f"ok@example.com {KEY.public.openssh()}\nbroken-line-without-key\n")
    write(team, ".skillmeat/revoked", "ssh-ed25519 AAAAnot-base64!\n")
    ran = hook("verify", ".skillmeat/allowed_signers", ".skillmeat/revoked", PACK, cwd=team)
    _bad(ran, ".skillmeat/allowed_signers:2: |fix or remove that line",
         ".skillmeat/revoked:1: |fix or remove that line",
         f"{PACK}: not verified: the trust files do not load|.skillmeat/allowed_signers:2")


def test_rotation_statements_must_verify(team: Path) -> None:
    good = make_rotation(KEY, NEW_KEY.public)
    write(team, ".skillmeat/rotations/publisher.rotation", good)
    assert hook("verify", ".skillmeat/rotations/publisher.rotation", cwd=team).code == 0
    forged = good.replace(NEW_KEY.public.openssh(), PrivateKey(bytes([9]) * 32).public.openssh())
    write(team, ".skillmeat/rotations/forged.rotation", forged)
    write(team, ".skillmeat/rotations/notes.txt", "a rotation without the suffix\n")
    ran = hook("verify", ".skillmeat/rotations/forged.rotation", ".skillmeat/rotations/notes.txt",
               cwd=team)
    _bad(ran, ".skillmeat/rotations/forged.rotation: |bad signature|keys rotate",
         ".skillmeat/rotations/notes.txt: |*.rotation")


def _feed(expires: str, signer: PrivateKey = KEY) -> bytes:
    feed = Feed("team", 3, "2026-01-01T00:00:00Z", expires, [])
    sign_feed(feed, [signer])
    return feed.to_json()


def test_feeds_must_be_signed_by_a_trusted_key_and_not_expired(team: Path) -> None:
    write(team, ".skillmeat/allowed_signers", f"publisher@example.com {KEY.public.openssh()}\n")
    write(team, "vault/feed.json", _feed("2999-01-01T00:00:00Z"))
    assert hook("verify", "vault/feed.json", cwd=team).code == 0
    write(team, "vault/feed.json", _feed("2020-01-01T00:00:00Z"))
    _bad(hook("verify", "vault/feed.json", cwd=team), "vault/feed.json: expired at 2020-01-01")
    write(team, "vault/feed.json", _feed("2999-01-01T00:00:00Z", NEW_KEY))
    _bad(hook("verify", "vault/feed.json", cwd=team), "vault/feed.json: |untrusted key")
    write(team, "vault/feed.json", b'{"signed": {"format": "skillmeat-feed/1"')
    _bad(hook("verify", "vault/feed.json", cwd=team), "vault/feed.json: |not a valid feed")
    # a feed.json that is not a SkillMeat feed at all (a skill's sample data) is not judged
    write(team, "skills/pdf-summary/feed.json", json.dumps({"items": [1, 2]}))
    assert hook("verify", "skills/pdf-summary/feed.json", "README.md", cwd=team).code == 0
