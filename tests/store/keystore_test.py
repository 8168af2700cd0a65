"""Private keys on disk: round trips, file modes, passphrases, and every damaged file refused."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError, SignatureError
from skillmeat.model.sshkeys import PrivateKey, PublicKey
from skillmeat.store.keystore import KEY_FORMAT, KeyStore, parse_key_file

KEY = PrivateKey(bytes([1]) * 32, "alice@example.com")
OTHER = PrivateKey(bytes([2]) * 32, "bob@example.com")


def no_passphrase() -> str:
    raise AssertionError("the passphrase must not be asked for")


def given(text: str):  # type: ignore[no-untyped-def]
    return lambda: text


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def keygen(*args: str | Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    done = subprocess.run(["ssh-keygen", *map(str, args)], capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "sm" / "keys")


# --------------------------------------------------------------------------- save and load


def test_save_then_load_round_trips(store: KeyStore) -> None:
    info = store.save("alice", KEY)
    assert info.name == "alice"
    assert info.public == KEY.public
    assert info.fingerprint == KEY.public.fingerprint()
    assert not info.encrypted
    assert info.path == store.dir / "alice.key"
    loaded = store.load("alice", no_passphrase)
    assert loaded.seed == KEY.seed
    assert loaded.comment == "alice@example.com"


def test_files_are_private(store: KeyStore) -> None:
    store.dir.mkdir(parents=True)
    os.chmod(store.dir, 0o755)
    store.save("alice", KEY)
    store.save("bob", OTHER, "pass phrase")
    assert mode(store.dir) == 0o700
    assert mode(store.dir / "alice.key") == 0o600
    assert mode(store.dir / "bob.key") == 0o600
    assert sorted(p.name for p in store.dir.iterdir()) == ["alice.key", "bob.key"]  # no temp files left


def test_file_is_versioned_json(store: KeyStore) -> None:
    store.save("alice", KEY)
    data = json.loads((store.dir / "alice.key").read_text())
    assert data["format"] == KEY_FORMAT
    assert data["public"] == KEY.public.openssh()
    assert data["cipher"] == "none"


def test_save_refuses_to_overwrite(store: KeyStore) -> None:
    store.save("alice", KEY)
    before = (store.dir / "alice.key").read_bytes()
    with pytest.raises(ConflictError):
        store.save("alice", OTHER)
    assert (store.dir / "alice.key").read_bytes() == before


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "", "x..y", "with space"])
def test_bad_names_are_refused(store: KeyStore, name: str) -> None:
    with pytest.raises(BadInputError):
        store.save(name, KEY)
    assert not store.dir.exists() or list(store.dir.iterdir()) == []


def test_list_find_remove(store: KeyStore) -> None:
    assert store.list() == []
    store.save("zed", OTHER)
    store.save("alice", KEY)
    assert [i.name for i in store.list()] == ["alice", "zed"]
    assert store.find("zed").public == OTHER.public
    assert store.find(KEY.public.fingerprint()).name == "alice"
    with pytest.raises(NotFoundError):
        store.find("SHA256:nope")
    assert store.remove("zed") == store.dir / "zed.key"
    assert not (store.dir / "zed.key").exists()
    assert [i.name for i in store.list()] == ["alice"]
    with pytest.raises(NotFoundError):
        store.remove("zed")
    with pytest.raises(NotFoundError):
        store.load("zed", no_passphrase)
    with pytest.raises(NotFoundError):
        store.info("zed")


# --------------------------------------------------------------------------- passphrases


def test_passphrase_encrypts_the_seed(store: KeyStore) -> None:
    info = store.save("alice", KEY, "correct horse")
    assert info.encrypted
    text = (store.dir / "alice.key").read_text()
    data = json.loads(text)
    assert data["kdf"] == "argon2id"
    assert data["cipher"] == "xsalsa20poly1305"
    assert "seed" not in data
    assert KEY.seed.hex() not in text
    assert base64.b64encode(KEY.seed).decode() not in text
    assert store.load("alice", given("correct horse")).seed == KEY.seed


def test_wrong_passphrase_is_a_signature_error(store: KeyStore) -> None:
    store.save("alice", KEY, "correct horse")
    with pytest.raises(SignatureError) as err:
        store.load("alice", given("battery staple"))
    assert err.value.reason == "wrong passphrase"
    assert str(store.dir / "alice.key") in err.value.what


def test_same_passphrase_gives_a_different_file(store: KeyStore) -> None:
    store.save("a", KEY, "pw")
    store.save("b", KEY, "pw")
    a = json.loads((store.dir / "a.key").read_text())
    b = json.loads((store.dir / "b.key").read_text())
    assert a["salt"] != b["salt"]
    assert a["box"] != b["box"]


# --------------------------------------------------------------------------- damaged files


def write_key(store: KeyStore, name: str, data: object) -> Path:
    store.dir.mkdir(parents=True, exist_ok=True)
    path = store.dir / f"{name}.key"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


GOOD = {"format": KEY_FORMAT, "public": KEY.public.openssh(), "cipher": "none"}


@pytest.mark.parametrize("data", [
    "not json at all",
    "",
    json.dumps(["a", "list"]),
    {"format": "other/1", "public": KEY.public.openssh(), "cipher": "none"},
    {"public": KEY.public.openssh(), "cipher": "none"},
    {"format": KEY_FORMAT, "cipher": "none"},
    {"format": KEY_FORMAT, "public": "ssh-ed25519 AAAA%%%", "cipher": "none"},
    {"format": KEY_FORMAT, "public": 42, "cipher": "none"},
    {"format": KEY_FORMAT, "public": None, "cipher": "none"},
], ids=["text", "empty", "list", "format", "no-format", "no-public", "bad-public", "int-public",
        "null-public"])
def test_foreign_files_are_bad_input(store: KeyStore, data: object) -> None:
    write_key(store, "k", data)
    with pytest.raises(BadInputError):
        store.info("k")
    with pytest.raises(BadInputError):
        store.load("k", no_passphrase)


@pytest.mark.parametrize("seed", ["", "not base64!", "AAAA", "A" * 44])
def test_damaged_seed_is_bad_input(store: KeyStore, seed: str) -> None:
    write_key(store, "k", {**GOOD, "seed": seed})
    with pytest.raises(BadInputError) as err:
        store.load("k", no_passphrase)
    assert "k.key" in err.value.message


def test_seed_of_another_key_is_bad_input(store: KeyStore) -> None:
    write_key(store, "k", {**GOOD, "seed": base64.b64encode(OTHER.seed).decode()})
    with pytest.raises(BadInputError) as err:
        store.load("k", no_passphrase)
    assert "do not match" in err.value.message


def test_non_utf8_file_is_bad_input(store: KeyStore) -> None:
    store.dir.mkdir(parents=True)
    (store.dir / "k.key").write_bytes(b"\xff\xfe{}")
    with pytest.raises(BadInputError):
        store.info("k")


@pytest.fixture
def encrypted(store: KeyStore) -> dict[str, object]:
    store.save("enc", KEY, "pw")
    data: dict[str, object] = json.loads((store.dir / "enc.key").read_text())
    return data


@pytest.mark.parametrize("change", [
    {"salt": None}, {"box": None}, {"opslimit": None}, {"memlimit": "lots"},
    {"salt": "c2hvcnQ="},             # a 5-byte salt: argon2id takes 16
    {"box": "AAAA"},                   # shorter than the nonce
], ids=["no-salt", "no-box", "no-opslimit", "bad-memlimit", "short-salt", "short-box"])
def test_damaged_encrypted_file_is_bad_input_not_wrong_passphrase(
    store: KeyStore, encrypted: dict[str, object], change: dict[str, object]
) -> None:
    data = {**encrypted, **change}
    write_key(store, "enc", {k: v for k, v in data.items() if v is not None})
    with pytest.raises(BadInputError):
        store.load("enc", given("pw"))


def test_flipped_ciphertext_is_refused(store: KeyStore, encrypted: dict[str, object]) -> None:
    box = bytearray(base64.b64decode(str(encrypted["box"])))
    box[-1] ^= 1
    write_key(store, "enc", {**encrypted, "box": base64.b64encode(bytes(box)).decode()})
    with pytest.raises(SignatureError):
        store.load("enc", given("pw"))


# --------------------------------------------------------------------------- parse_key_file


def test_parse_key_file_reads_ssh_keygen_keys(tmp_path: Path) -> None:
    keygen("-q", "-t", "ed25519", "-N", "", "-C", "me@host", "-f", tmp_path / "id")
    key = parse_key_file((tmp_path / "id").read_text(), no_passphrase, "id")
    assert key.public == PublicKey.parse((tmp_path / "id.pub").read_text())
    assert key.comment == "me@host"


def test_parse_key_file_reads_skillmeat_files(store: KeyStore) -> None:
    store.save("enc", KEY, "pw")
    key = parse_key_file((store.dir / "enc.key").read_text(), given("pw"), "enc.key")
    assert key.seed == KEY.seed


@pytest.mark.parametrize(("kind", "extra"), [("rsa", ["-b", "2048"]), ("ecdsa", ["-b", "256"])])
def test_parse_key_file_refuses_other_key_types(tmp_path: Path, kind: str, extra: list[str]) -> None:
    keygen("-q", "-t", kind, *extra, "-N", "", "-f", tmp_path / "id")
    with pytest.raises(BadInputError) as err:
        parse_key_file((tmp_path / "id").read_text(), no_passphrase, "id")
    assert "Ed25519" in err.value.message


def test_parse_key_file_refuses_encrypted_openssh_keys(tmp_path: Path) -> None:
    keygen("-q", "-t", "ed25519", "-N", "secret", "-f", tmp_path / "id")
    with pytest.raises(BadInputError) as err:
        parse_key_file((tmp_path / "id").read_text(), no_passphrase, "id")
    assert "encrypted" in err.value.message


@pytest.mark.parametrize("text", [
    "",
    "hello",
    KEY.public.openssh(),
    "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    KEY.to_openssh().replace("\n-----END", "AAAA\n-----END"),
    KEY.to_openssh()[:200] + "\n-----END OPENSSH PRIVATE KEY-----\n",
    json.dumps({"format": "nope"}),
    json.dumps([1, 2]),
], ids=["empty", "text", "public-key", "tiny", "trailing", "truncated", "json-format", "json-list"])
def test_parse_key_file_refuses_malformed_files(text: str) -> None:
    with pytest.raises(BadInputError):
        parse_key_file(text, no_passphrase, "file")
