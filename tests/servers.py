"""Real object stores on 127.0.0.1 for tests: moto's S3 server and the GCS emulator.

Use them by importing the fixtures into a test module::

    from tests.servers import gcs_server, s3_server  # noqa: F401

``s3_server`` runs moto in this process (its state lives in-process, so a bucket survives
``stop()``/``start()``, which reuses the same port); ``gcs_server`` runs
``gcp-storage-emulator`` as a child process, killed at teardown. Both create the bucket
``vault``. Credentials for S3 come from the environment (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` = ``testing``), as they would for a user.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

BUCKET = "vault"
_HOST = "127.0.0.1"
_AWS_VARS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
             "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
             "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    return free_port()


def _request(url: str, method: str = "GET", body: dict[str, Any] | None = None,
             timeout: float = 5.0) -> int:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            status: int = resp.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


# --- S3 (moto) ------------------------------------------------------------------------------


def _tracking_server_class() -> Any:
    """A ThreadedMotoServer whose ``stop()`` also cuts the connections in flight.

    Werkzeug keeps serving open keep-alive connections after ``shutdown()``, so without
    this an upload in progress would go on to completion against a "stopped" server.
    """
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class TrackingHandler(MotoRequestHandler):
        live: ClassVar[set[socket.socket]] = set()
        lock: ClassVar[threading.Lock] = threading.Lock()

        def setup(self) -> None:
            super().setup()
            with self.lock:
                self.live.add(self.connection)

        def finish(self) -> None:
            with self.lock:
                self.live.discard(self.connection)
            super().finish()

    class TrackingMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(self._ip_address, self._port, app, True,
                                       request_handler=TrackingHandler)
            self._server_ready_event.set()
            self._server.serve_forever(poll_interval=0.05)

        def cut_connections(self) -> None:
            with TrackingHandler.lock:
                live = list(TrackingHandler.live)
                TrackingHandler.live.clear()
            for conn in live:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    return TrackingMotoServer


class S3Server:
    """moto's S3 on 127.0.0.1; ``stop()`` then ``start()`` comes back on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self._server: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://{_HOST}:{self.port}"

    @property
    def options(self) -> dict[str, str]:
        """VaultFS options for this server (credentials come from the environment)."""
        return {"endpoint_url": self.endpoint}

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            return
        server = _tracking_server_class()(ip_address=_HOST, port=self.port, verbose=False)
        server.start()
        self.port = server.get_host_and_port()[1]
        self._server = server

    def stop(self) -> None:
        """Stop listening (new connections are refused) and cut the connections in flight."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.stop()
        server.cut_connections()

    def reset(self) -> None:
        """Forget every bucket and object (moto's state is per process, not per server)."""
        _request(f"{self.endpoint}/moto-api/reset", "POST")

    def create_bucket(self, name: str = BUCKET) -> None:
        status = _request(f"{self.endpoint}/{name}", "PUT")
        if status != 200:
            raise RuntimeError(f"cannot create bucket {name} on moto: HTTP {status}")


def _aws_env(monkeypatch: pytest.MonkeyPatch, base: Path) -> None:
    for var in _AWS_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(base / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(base / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[S3Server]:
    """moto S3 on 127.0.0.1 with an empty bucket ``vault``; AWS credentials in the env."""
    _aws_env(monkeypatch, tmp_path)
    server = S3Server()
    server.start()
    try:
        server.reset()
        server.create_bucket()
        yield server
    finally:
        if not server.running:
            server.start()
        server.reset()
        server.stop()


# --- GCS (gcp-storage-emulator) -------------------------------------------------------------


def _emulator_command() -> str:
    here = Path(sys.executable).parent / "gcp-storage-emulator"
    return str(here) if here.exists() else "gcp-storage-emulator"


class GCSServer:
    """``gcp-storage-emulator`` (in-memory) as a child process on 127.0.0.1."""

    def __init__(self, log: Path) -> None:
        self.port = 0
        self.log = log
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{_HOST}:{self.port}"

    @property
    def options(self) -> dict[str, str]:
        return {"endpoint_url": self.endpoint, "token": "anon"}

    def start(self, timeout: float = 20.0) -> None:
        for _attempt in range(3):
            self.port = free_port()
            with open(self.log, "ab") as log:
                self._proc = subprocess.Popen(
                    [_emulator_command(), "start", "--host", _HOST, "--port", str(self.port),
                     "--in-memory"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
            if self._wait_up(timeout):
                return
            self.stop()
        raise RuntimeError(f"gcp-storage-emulator did not start; see {self.log}")

    def _wait_up(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                return False
            try:
                _request(f"{self.endpoint}/", timeout=1.0)
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        _kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
            proc.wait(timeout=5)

    def create_bucket(self, name: str = BUCKET) -> None:
        status = _request(f"{self.endpoint}/storage/v1/b?project=test", "POST", {"name": name})
        if status != 200:
            raise RuntimeError(f"cannot create bucket {name} on the GCS emulator: HTTP {status}")


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


@pytest.fixture
def gcs_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GCSServer]:
    """The GCS emulator on 127.0.0.1 with a bucket ``vault``; killed at teardown."""
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    for var in ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    server = GCSServer(tmp_path / "gcs-emulator.log")
    server.start()
    try:
        server.create_bucket()
        yield server
    finally:
        server.stop()
