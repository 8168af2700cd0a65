"""VaultFS against file://, moto's S3 server and the GCS emulator, all on this machine."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from skillmeat.model.errors import BadInputError, SkillmeatError
from skillmeat.store.vault_errors import redact
from skillmeat.store.vault_options import check_options, gcs_kwargs, s3_kwargs
from skillmeat.store.vaultfs import VaultFS
from tests.servers import GCSServer, S3Server, closed_port, gcs_server, s3_server  # noqa: F401

pytestmark = [
    # gcsfs hands aiohttp each resumable-upload chunk as raw bytes; aiohttp flags that
    # (a ResourceWarning, ignored outside tests) and, turned into an error, aborts the chunk
    pytest.mark.filterwarnings(
        "ignore:Sending a large body directly with raw bytes:ResourceWarning"),
]

BIG = 20_000_000  # > 2 parts of 8 MiB: the multipart path on S3
HUGE = 64 * 2**20
KINDS = ["file", "s3", "gs"]


def one_line(exc: pytest.ExceptionInfo[SkillmeatError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text, text
    return text


@pytest.fixture(params=KINDS)
def vault(request: pytest.FixtureRequest, tmp_path: Path) -> VaultFS:
    """An empty vault under a prefix, on each kind of storage."""
    if request.param == "file":
        return VaultFS((tmp_path / "vault").as_uri())
    server = request.getfixturevalue("s3_server" if request.param == "s3" else "gcs_server")
    return VaultFS(f"{request.param}://vault/team", server.options)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.skillmeat-pack"
    path.write_bytes(os.urandom(BIG))
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- round trips ----------------------------------------------------------------------------


def test_bytes_round_trip(vault: VaultFS) -> None:
    vault.put_bytes("feed.json", b'{"v": 1}')
    assert vault.read_bytes("feed.json", 1000) == b'{"v": 1}'
    vault.put_bytes("feed.json", b'{"v": 2}')
    assert vault.read_bytes("feed.json", 1000) == b'{"v": 2}'
    size, _etag = vault.stat("feed.json") or (None, None)
    assert size == 8
    assert vault.list() == ["feed.json"]
    vault.remove("feed.json")
    vault.remove("feed.json")  # missing is fine
    assert vault.read_bytes("feed.json", 1000) is None
    assert vault.list() == []


def test_missing_objects_are_none(vault: VaultFS, tmp_path: Path) -> None:
    assert vault.read_bytes("feed.json", 10) is None
    assert vault.stat("bundles/x/1.skillmeat-pack") is None
    assert vault.list("bundles") == []
    with pytest.raises(SkillmeatError) as exc:
        vault.get_file("bundles/x/1.skillmeat-pack", tmp_path / "out", 10)
    assert "does not exist" in one_line(exc)


def test_empty_file(vault: VaultFS) -> None:
    vault.put_bytes("empty", b"")
    assert vault.read_bytes("empty", 0) == b""
    assert vault.stat("empty") == (0, vault.stat("empty")[1])  # type: ignore[index]


def test_list_is_relative_sorted_and_scoped(vault: VaultFS) -> None:
    for rel in ("bundles/b/1.skillmeat-pack", "bundles/a/2.skillmeat-pack",
                "bundles/a/1.skillmeat-pack", "feed.json", "bundlesX/other"):
        vault.put_bytes(rel, rel.encode())
    assert vault.list("bundles") == ["bundles/a/1.skillmeat-pack", "bundles/a/2.skillmeat-pack",
                                     "bundles/b/1.skillmeat-pack"]
    assert vault.list("bundles/a/") == ["bundles/a/1.skillmeat-pack", "bundles/a/2.skillmeat-pack"]
    assert vault.list()[-1] == "feed.json" and len(vault.list()) == 5


def test_big_file_round_trip(vault: VaultFS, big_file: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    rel = "bundles/big/1.0.0.skillmeat-pack"
    vault.put_file(big_file, rel, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (BIG, BIG)
    size, etag = vault.stat(rel) or (0, "")
    assert size == BIG
    if vault.scheme == "s3":
        assert etag.endswith("-3"), etag  # three parts: the multipart upload
    dest = tmp_path / "down.skillmeat-pack"
    vault.get_file(rel, dest, BIG)
    assert sha(dest) == sha(big_file)
    with pytest.raises(SkillmeatError) as exc:
        vault.get_file(rel, tmp_path / "refused", BIG - 1)
    assert "larger than" in one_line(exc)
    if vault.scheme == "file":
        assert not [p for p in Path(vault.root).rglob("*") if p.name.endswith(".tmp")]


def test_read_cap_refused(vault: VaultFS) -> None:
    vault.put_bytes("feed.json", b"x" * 100)
    assert vault.read_bytes("feed.json", 100) == b"x" * 100
    with pytest.raises(SkillmeatError) as exc:
        vault.read_bytes("feed.json", 99)
    assert "feed.json is larger than the 99-byte limit" in one_line(exc)


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", ["../feed.json", "/feed.json", "a\\b", "a//b", "a/./b", "", "a/"])
def test_unsafe_paths_are_refused(rel: str, tmp_path: Path) -> None:
    fs = VaultFS(str(tmp_path / "vault"))
    with pytest.raises(BadInputError):
        fs.read_bytes(rel, 10)
    with pytest.raises(BadInputError):
        fs.put_bytes(rel, b"x")


@pytest.mark.parametrize("key", ["secret", "KEY", "token", "Secret-Access-Key", "password",
                                 "client_secret", "session_token"])
def test_credentials_in_options_are_refused(key: str) -> None:
    with pytest.raises(BadInputError) as exc:
        VaultFS("s3://vault", {key: "hunter2-value"})
    assert f"vault option '{key}' is a credential" in one_line(exc)
    assert "hunter2" not in str(exc.value) and "environment" in str(exc.value)


def test_credential_methods_are_not_credentials() -> None:
    for value in ("anon", "google_default", "cloud", "ANON"):
        check_options({"token": value})
    check_options({"endpoint_url": "http://x", "region": "eu-west-1", "profile": "team"})


def test_options_map_to_filesystem_kwargs() -> None:
    s3 = s3_kwargs({"endpoint_url": "http://h:1", "region": "eu-west-1", "anon": "true",
                    "profile": "team", "requester_pays": "false", "acl": "private"})
    assert s3["client_kwargs"] == {"endpoint_url": "http://h:1", "region_name": "eu-west-1"}
    assert (s3["anon"], s3["profile"], s3["requester_pays"], s3["acl"]) == (True, "team", False, "private")
    assert s3["skip_instance_cache"] is True and s3["use_listings_cache"] is False
    assert s3["config_kwargs"]["connect_timeout"] <= 5
    gs = gcs_kwargs({"endpoint_url": "http://h:2", "project": "p", "token": "anon"})
    assert (gs["endpoint_url"], gs["project"], gs["token"]) == ("http://h:2", "p", "anon")
    with pytest.raises(BadInputError):
        s3_kwargs({"anon": "maybe"})
    with pytest.raises(BadInputError):
        s3_kwargs({"config_kwargs": "{}"})


def test_redact_keeps_secrets_out() -> None:
    line = redact("GET https://user:pw@h/b/o?X-Amz-Signature=abc&x=1 AKIAABCDEFGHIJKLMNOP\nmore")
    assert "pw" not in line and "abc" not in line and "AKIA" not in line and "\n" not in line


def test_fsspec_is_imported_lazily() -> None:
    code = ("import sys, skillmeat.store.vaultfs as v; "
            "v.VaultFS('/tmp/x'); "
            "assert not {'fsspec', 's3fs', 'gcsfs', 'botocore', 'aiohttp'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_local_upload_failure_leaves_the_vault_unchanged(tmp_path: Path, big_file: Path) -> None:
    fs = VaultFS(str(tmp_path / "vault"))
    fs.put_bytes("bundles/x/1.skillmeat-pack", b"old")

    def explode(done: int, total: int) -> None:
        raise RuntimeError("disk went away")

    with pytest.raises(SkillmeatError) as exc:
        fs.put_file(big_file, "bundles/x/1.skillmeat-pack", progress=explode)
    assert one_line(exc).startswith(
        f"upload of bundles/x/1.skillmeat-pack to {tmp_path / 'vault'} failed: ")
    assert "the vault is unchanged" in str(exc.value)
    assert fs.read_bytes("bundles/x/1.skillmeat-pack", 10) == b"old"
    assert sorted(p.name for p in (tmp_path / "vault" / "bundles" / "x").iterdir()) == [
        "1.skillmeat-pack"]


# --- failures of the store ------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["s3", "gs"])
def test_unreachable_endpoint_fails_fast_in_one_line(scheme: str, monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # else boto stops at "no credentials"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    endpoint = f"http://127.0.0.1:{closed_port()}"
    options = {"endpoint_url": endpoint} | ({"token": "anon"} if scheme == "gs" else {})
    fs = VaultFS(f"{scheme}://vault/team", options)
    start = time.monotonic()
    with pytest.raises(SkillmeatError) as exc:
        fs.read_bytes("feed.json", 100)
    assert time.monotonic() - start < 15
    assert one_line(exc) == (f"cannot reach vault {scheme}://vault/team: connection refused by "
                             f"{endpoint} (is the endpoint up?)")
    with pytest.raises(SkillmeatError) as exc:
        fs.put_bytes("feed.json", b"{}")
    assert one_line(exc) == (f"upload of feed.json to {scheme}://vault/team failed: connection "
                             f"refused by {endpoint}; the vault is unchanged (is the endpoint up?)")
    assert time.monotonic() - start < 15


@pytest.mark.parametrize("kind", ["s3", "gs"])
def test_no_such_bucket(kind: str, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("s3_server" if kind == "s3" else "gcs_server")
    fs = VaultFS(f"{kind}://nobucket/team", server.options)
    for call in (lambda: fs.read_bytes("feed.json", 10), lambda: fs.list(), lambda: fs.stat("x")):
        with pytest.raises(SkillmeatError) as exc:
            call()
        assert one_line(exc).startswith(f"vault {kind}://nobucket/team: no such bucket")
    with pytest.raises(SkillmeatError) as exc:
        fs.put_bytes("feed.json", b"{}")
    assert "failed: no such bucket; the vault is unchanged" in one_line(exc)


def test_s3_without_credentials(s3_server: S3Server,  # noqa: F811
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    fs = VaultFS("s3://vault/team", s3_server.options)
    with pytest.raises(SkillmeatError) as exc:
        fs.read_bytes("feed.json", 10)
    assert one_line(exc) == ("no credentials for s3://vault/team: "
                             "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile")


def test_s3_server_restart_keeps_the_port_and_the_data(s3_server: S3Server) -> None:  # noqa: F811
    fs = VaultFS("s3://vault/team", s3_server.options)
    fs.put_bytes("feed.json", b"kept")
    port = s3_server.port
    s3_server.stop()
    with pytest.raises(SkillmeatError, match="cannot reach vault"):
        fs.read_bytes("feed.json", 10)
    s3_server.start()
    assert s3_server.port == port
    assert fs.read_bytes("feed.json", 10) == b"kept"


def test_server_stopped_in_the_middle_of_an_upload(s3_server: S3Server,  # noqa: F811
                                                   tmp_path: Path) -> None:
    huge = tmp_path / "huge.skillmeat-pack"
    huge.write_bytes(os.urandom(HUGE))
    fs = VaultFS("s3://vault/team", s3_server.options)
    fs.put_bytes("feed.json", b"before")
    fs.put_bytes("bundles/x/0.skillmeat-pack", b"older bundle")
    started, stopped = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def progress(done: int, total: int) -> None:
        if 0 < done < total and not started.is_set():
            started.set()
            stopped.wait(10)  # hold the upload here until the server is gone

    def upload() -> None:
        try:
            fs.put_file(huge, "bundles/x/1.skillmeat-pack", progress)
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=upload)
    worker.start()
    assert started.wait(20), "the upload never made progress"
    s3_server.stop()
    stopped.set()
    began = time.monotonic()
    worker.join(30)
    assert not worker.is_alive()
    assert time.monotonic() - began < 15
    assert len(failure) == 1 and isinstance(failure[0], SkillmeatError), failure
    text = str(failure[0])
    assert "\n" not in text
    assert text.startswith("upload of bundles/x/1.skillmeat-pack to s3://vault/team failed: ")
    assert "the vault is unchanged" in text
    s3_server.start()
    found = fs.stat("bundles/x/1.skillmeat-pack")
    assert found is None or found[0] == HUGE
    assert fs.read_bytes("feed.json", 100) == b"before"
    assert fs.read_bytes("bundles/x/0.skillmeat-pack", 100) == b"older bundle"


def test_gcs_emulator_fixture_leaves_no_process(tmp_path: Path) -> None:
    server = GCSServer(tmp_path / "log")
    server.start()
    proc = server._proc
    assert proc is not None
    server.stop()
    assert proc.poll() is not None


def test_s3_unknown_profile(s3_server: S3Server) -> None:  # noqa: F811
    fs = VaultFS("s3://vault/team", {**s3_server.options, "profile": "nope"})
    with pytest.raises(SkillmeatError) as exc:
        fs.list()
    assert one_line(exc).startswith("no credentials for s3://vault/team: ")
    assert "nope" in str(exc.value)


def test_other_fsspec_filesystems_write_then_rename(big_file: Path, tmp_path: Path) -> None:
    url = f"memory://vaultfs-test-{os.getpid()}-{time.monotonic_ns()}/team"
    fs = VaultFS(url)
    fs.put_bytes("feed.json", b"{}")
    fs.put_file(big_file, "bundles/big/1.skillmeat-pack")
    assert fs.list() == ["bundles/big/1.skillmeat-pack", "feed.json"]
    assert fs.stat("bundles/big/1.skillmeat-pack") == (BIG, "")
    fs.get_file("bundles/big/1.skillmeat-pack", tmp_path / "out", BIG)
    assert sha(tmp_path / "out") == sha(big_file)
    fs.remove("feed.json")
    assert fs.read_bytes("feed.json", 10) is None


def test_local_problems_are_named(tmp_path: Path) -> None:
    fs = VaultFS(str(tmp_path / "vault"))
    fs.put_bytes("feed.json", b"{}")
    with pytest.raises(SkillmeatError) as exc:
        fs.get_file("feed.json", tmp_path / "no" / "dir" / "out", 10)
    assert one_line(exc).startswith(f"cannot write {tmp_path / 'no' / 'dir' / 'out'}: ")
    with pytest.raises(SkillmeatError) as exc:
        fs.put_file(tmp_path / "missing.skillmeat-pack", "bundles/x/1.skillmeat-pack")
    assert one_line(exc).startswith(f"cannot read {tmp_path / 'missing.skillmeat-pack'}: ")
