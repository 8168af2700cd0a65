"""git's allowed-signers format: what SkillMeat reads must mean what ssh-keygen reads."""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path

import pytest

from skillmeat.model import sshsig
from skillmeat.model.allowed_signers import AllowedSigner, parse, parse_line, parse_time
from skillmeat.model.errors import BadInputError
from skillmeat.model.sshkeys import PrivateKey, PublicKey

KEY = PrivateKey(bytes([7]) * 32, "alice@example.com")
PUB = KEY.public.openssh()
NOW = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.UTC)


def utc(*parts: int) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=datetime.UTC)  # type: ignore[misc]


def keygen(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(["ssh-keygen", *map(str, args)], input=stdin, capture_output=True,
                          env=env, check=False)


@pytest.fixture(scope="module")
def foreign_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Real RSA and ECDSA public key lines, as ssh-keygen writes them."""
    base = tmp_path_factory.mktemp("foreign")
    out = {}
    for kind, extra in (("rsa", ["-b", "2048"]), ("ecdsa", ["-b", "256"])):
        done = keygen("-q", "-t", kind, *extra, "-N", "", "-C", f"{kind}@example.com",
                      "-f", base / kind)
        assert done.returncode == 0, done.stderr
        out[kind] = (base / f"{kind}.pub").read_text().strip()
    return out


# --------------------------------------------------------------------------- reading


def test_plain_line() -> None:
    signer = parse_line(f"alice@example.com {PUB}")
    assert signer == AllowedSigner(("alice@example.com",), KEY.public)
    assert signer.key.comment == "alice@example.com"
    assert signer.namespaces == ()
    assert signer.valid_after == signer.valid_before == ""


def test_every_option_and_several_principals() -> None:
    line = (f'alice@example.com,*@team.example namespaces="git,skillmeat-pack",'
            f'valid-after="20240101",valid-before="20300101120000Z" {PUB}')
    signer = parse_line(line)
    assert signer is not None
    assert signer.principals == ("alice@example.com", "*@team.example")
    assert signer.namespaces == ("git", "skillmeat-pack")
    assert signer.valid_after == "20240101"
    assert signer.valid_before == "20300101120000Z"
    assert signer.key.raw == KEY.public.raw


def test_a_quoted_comma_or_space_does_not_split_the_options() -> None:
    signer = parse_line(f'alice valid-after="20200101",namespaces="git,skillmeat-pack" {PUB}')
    assert signer is not None
    assert signer.namespaces == ("git", "skillmeat-pack")
    assert signer.valid_after == "20200101"
    with pytest.raises(BadInputError) as err:  # one quoted value, not options then a key "pack"
        parse_line(f'alice namespaces="git pack" {PUB}')
    assert "git pack" in err.value.message


def test_option_names_are_case_insensitive_like_openssh() -> None:
    signer = parse_line(f'alice NAMESPACES="git",Valid-Before="20300101" {PUB}')
    assert signer is not None
    assert signer.namespaces == ("git",)
    assert signer.valid_before == "20300101"


def test_blank_lines_and_comments_are_skipped_and_line_numbers_kept() -> None:
    text = f"# a comment\n\n   \nalice {PUB}\n  # indented comment\nbob {PUB}\n"
    assert [s.principals for s in parse(text)] == [("alice",), ("bob",)]
    with pytest.raises(BadInputError) as err:
        parse(f"# one\nalice {PUB}\nbob ssh-ed25519 AAAA%%%%\n", "team/allowed_signers")
    assert "team/allowed_signers:3" in err.value.message


def test_other_key_types_are_ignored(foreign_keys: dict[str, str]) -> None:
    lines = [
        f"rsa@example.com {foreign_keys['rsa']}",
        f'ecdsa@example.com namespaces="git" {foreign_keys["ecdsa"]}',
        "sk@example.com sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t",
        f"alice@example.com {PUB}",
    ]
    assert [s.principals for s in parse("\n".join(lines))] == [("alice@example.com",)]
    assert parse_line(lines[0]) is None
    assert parse_line(lines[1]) is None


@pytest.mark.parametrize("line", [
    "alice ssh-ed25519 AAAA%%%%notbase64",
    "alice ssh-ed25519 " + PUB.split()[1][:-8],  # base64 of a cut key blob
    "alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAAQA=",  # a 1-byte "key"
    f'alice valid-before="yesterday" {PUB}',
    f'alice valid-after="2024-01-01" {PUB}',
    "alice",
    "alice@example.com AAAAC3NzaC1lZDI1NTE5AAAAIFNOunhoYbS5BW4KA4OYpW5DP",
    f'alice namespaces="git {PUB}',
    "alice ssh-ed25519",
])
def test_malformed_lines_are_bad_input(line: str) -> None:
    with pytest.raises(BadInputError):
        parse_line(line)


@pytest.mark.parametrize("options", [
    'namespace="git"',         # singular: ssh-keygen says "unknown key option"
    "namespaces=git",          # no quotes: ssh-keygen says "missing start quote"
    'valid_before="20200101"',  # underscore: ssh-keygen says "unknown key option"
])
def test_options_ssh_keygen_refuses_are_bad_input_not_ignored(options: str) -> None:
    # Ignoring them widens trust: the key would count for every namespace, or forever.
    with pytest.raises(BadInputError):
        parse_line(f"alice {options} {PUB}")


# --------------------------------------------------------------------------- meaning


def test_namespaces_match_as_patterns() -> None:
    signer = AllowedSigner(("alice",), KEY.public, ("skillmeat-*",))
    assert signer.allows("skillmeat-pack", NOW)
    assert signer.allows("skillmeat-feed", NOW)
    assert not signer.allows("git", NOW)
    assert AllowedSigner(("alice",), KEY.public).allows("anything", NOW)


def test_validity_window_bounds() -> None:
    signer = AllowedSigner(("alice",), KEY.public, (), "20250101", "20251231235959")
    assert not signer.allows("git", utc(2024, 12, 31, 23, 59, 59))
    assert signer.allows("git", utc(2025, 1, 1))
    assert signer.allows("git", utc(2025, 12, 31, 23, 59, 59))
    assert not signer.allows("git", utc(2026, 1, 1))


def test_principal_patterns() -> None:
    signer = AllowedSigner(("*@team.example", "alice"), KEY.public)
    assert signer.matches_principal("bob@team.example")
    assert signer.matches_principal("alice")
    assert not signer.matches_principal("alice@example.com")


@pytest.mark.parametrize(("text", "expected"), [
    ("20250102", utc(2025, 1, 2)),
    ("202501021314", utc(2025, 1, 2, 13, 14)),
    ("20250102131415", utc(2025, 1, 2, 13, 14, 15)),
    ("20250102131415Z", utc(2025, 1, 2, 13, 14, 15)),
])
def test_parse_time(text: str, expected: datetime.datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "2025010", "20250102T1314", "2025-01-02", "202501021"])
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(BadInputError):
        parse_time(text)


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("signer", [
    AllowedSigner(("alice@example.com",), KEY.public),
    AllowedSigner(("a@x", "b@y"), KEY.public, ("git", "skillmeat-pack"), "20240101", "20300101Z"),
    AllowedSigner(("a@x",), PublicKey(KEY.public.raw), (), "", "203001011200"),
])
def test_format_round_trips(signer: AllowedSigner) -> None:
    text = signer.format()
    assert "\n" not in text
    assert parse_line(text) == signer


def test_format_layout() -> None:
    signer = AllowedSigner(("a@x", "b@y"), KEY.public, ("git",), "20240101", "20300101")
    assert signer.format() == f'a@x,b@y namespaces="git",valid-after="20240101",valid-before="20300101" {PUB}'
    assert AllowedSigner(("a@x",), KEY.public).format() == f"a@x {PUB}"


def test_to_dict() -> None:
    signer = AllowedSigner(("a@x",), KEY.public, ("git",), "20240101", "")
    assert signer.to_dict() == {
        "principals": ["a@x"], "key": PUB, "fingerprint": KEY.public.fingerprint(),
        "namespaces": ["git"], "valid_after": "20240101", "valid_before": "",
    }


@pytest.mark.parametrize(("signer", "namespace", "good"), [
    (AllowedSigner(("alice",), KEY.public, ("git", "skillmeat-pack"), "20200101"), "git", True),
    (AllowedSigner(("alice",), KEY.public, ("skillmeat-pack",)), "git", False),
    (AllowedSigner(("alice",), KEY.public, (), "", "20200101"), "git", False),
    (AllowedSigner(("alice",), KEY.public, (), "20990101", ""), "git", False),
])
def test_formatted_lines_mean_the_same_to_ssh_keygen(
    tmp_path: Path, signer: AllowedSigner, namespace: str, good: bool
) -> None:
    message = b"payload\n"
    (tmp_path / "allowed").write_text(signer.format() + "\n")
    (tmp_path / "sig").write_text(sshsig.sign(KEY, message, namespace))
    done = keygen("-Y", "verify", "-f", tmp_path / "allowed", "-I", "alice", "-n", namespace,
                  "-s", tmp_path / "sig", stdin=message)
    assert (done.returncode == 0) is good, done.stderr
    assert signer.allows(namespace, datetime.datetime.now(datetime.UTC)) is good
