"""Vault storage: bytes and files under one fsspec URL (file://, s3://, gs://, ...).

A vault keeps ``bundles/<name>/<version>.skillmeat-pack`` and ``feed.json`` at its root;
this module only moves bytes. Readers never see a partial object: object stores publish
an object only once it is complete, local and other filesystems get a temporary name in
the same directory and a rename. Every failure is one line as a ``SkillmeatError``.

Options are checked in ``vault_options`` (credentials come from the environment only) and
failures are put into words by ``vault_errors``. fsspec, s3fs and gcsfs are imported
lazily so that CLI start-up stays fast.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from skillmeat.model.errors import BadInputError, SkillmeatError
from skillmeat.store.files import atomic_write, prune_empty_dirs
from skillmeat.store.vault_errors import _NO_BUCKET_HINT, Failure, _chain, _message, classify, redact
from skillmeat.store.vault_options import (
    _CONNECT_TIMEOUT,
    check_options,
    gcs_kwargs,
    other_kwargs,
    s3_kwargs,
)

# check_options is re-exported: services import it from here
__all__ = ["CHUNK", "Progress", "VaultFS", "check_options", "check_rel"]

Progress = Callable[[int, int], None]
Names = list[str]  # ``VaultFS.list`` shadows the builtin inside the class

CHUNK = 8 * 2**20
"""Transfer unit: S3 multipart part size, download read size (memory stays flat)."""

_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss"})
_S3_UPLOAD_CONCURRENCY = 4


# --- relative paths -------------------------------------------------------------------------


_UNSAFE_CHARS = re.compile(r"[\\\x00-\x1f\x7f]")


def check_rel(rel: str, *, allow_empty: bool = False) -> str:
    """A vault-relative path: ``a/b/c``, no ``..``, no leading ``/``, no backslash."""
    trimmed = rel.rstrip("/") if allow_empty else rel
    if not trimmed:
        if allow_empty:
            return ""
        raise BadInputError("empty vault path")
    parts = trimmed.split("/")
    if (trimmed.startswith("/") or _UNSAFE_CHARS.search(trimmed)
            or any(p in ("", ".", "..") for p in parts)):
        raise BadInputError(f"unsafe vault path {rel!r}",
                            hint="vault paths are relative, like bundles/<name>/<version>.skillmeat-pack")
    return trimmed


def _is_temp(name: str) -> bool:
    """Our in-flight temporary files (``.<name>.<random>.tmp``), hidden from listings."""
    return name.startswith(".") and name.endswith(".tmp")



# --- the vault ------------------------------------------------------------------------------


class VaultFS:
    """A vault's storage: put/get/list bytes and files under ``url``."""

    def __init__(self, url: str, options: dict[str, str] | None = None) -> None:
        self.url = url
        self.options = dict(options or {})
        check_options(self.options)
        self.scheme, self.root = _parse(url)
        self.object_store = self.scheme in _OBJECT_STORES
        self._fs: Any = None
        self._local: Path | None = Path(self.root) if self.scheme == "file" else None
        self._endpoint = ""
        self._bucket_ok = False
        self._probed = False
        if self._local is None:
            self._fs = self._make_fs()

    # -- construction --

    def _make_fs(self) -> Any:
        try:
            if self.scheme in ("s3", "s3a"):
                return self._make_s3()
            if self.scheme in ("gs", "gcs"):
                return self._make_gcs()
            return self._make_other()
        except SkillmeatError:
            raise
        except ImportError as exc:
            raise SkillmeatError(f"vault {self.url}: support for {self.scheme}:// is not installed "
                                 f"({redact(str(exc))})") from None
        except Exception as exc:
            if classify(exc, "", self.scheme).kind in ("unreachable", "credentials"):
                raise self._error(exc, "open", "") from None
            raise BadInputError(f"vault {self.url}: cannot use it ({redact(_message(exc))})",
                                hint="check the URL and the --option values") from None

    def _make_s3(self) -> Any:
        import s3fs  # type: ignore[import-untyped]

        _quiet("s3fs")
        kwargs = s3_kwargs(self.options)
        fs = s3fs.S3FileSystem(**kwargs)
        fs.retries = 2
        _quiet_loop(fs)
        self._endpoint = (kwargs["client_kwargs"].get("endpoint_url")
                          or os.environ.get("AWS_ENDPOINT_URL_S3")
                          or os.environ.get("AWS_ENDPOINT_URL") or "")
        return fs

    def _make_gcs(self) -> Any:
        # The experimental (gRPC) flavour probes buckets over TLS first and stalls for a
        # minute against emulators; the JSON-API filesystem serves every bucket.
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        import gcsfs.core  # type: ignore[import-untyped]

        _quiet("gcsfs")
        fs = gcsfs.core.GCSFileSystem(**gcs_kwargs(self.options))
        _quiet_loop(fs)
        self._endpoint = str(getattr(fs, "_location", None) or self.options.get("endpoint_url", ""))
        return fs

    def _make_other(self) -> Any:
        import fsspec  # type: ignore[import-untyped]

        fs, path = fsspec.core.url_to_fs(self.url, **other_kwargs(self.options))
        _quiet_loop(fs)
        self.root = str(path).rstrip("/")
        return fs

    # -- paths and failures --

    def _path(self, rel: str) -> str:
        rel = check_rel(rel)
        return f"{self.root}/{rel}" if self.root else rel

    def _where(self, rel: str) -> str:
        return f"{self.url.rstrip('/')}/{rel}"

    def _endpoint_name(self, exc: BaseException) -> str:
        if self._endpoint:
            return redact(self._endpoint)
        for item in _chain(exc):
            url = getattr(item, "kwargs", {}).get("endpoint_url") if hasattr(item, "kwargs") else None
            if isinstance(url, str) and url:
                parts = urlsplit(url)
                return redact(f"{parts.scheme}://{parts.netloc}")
            host = getattr(item, "host", None)
            if isinstance(host, str) and host:
                port = getattr(item, "port", None)
                scheme = "https" if getattr(item, "is_ssl", False) else "http"
                return f"{scheme}://{host}" + (f":{port}" if port else "")
        return f"the {self.scheme} endpoint"

    def _error(self, exc: BaseException, action: str, rel: str) -> SkillmeatError:
        failure = classify(exc, self._endpoint_name(exc), "gs" if self.scheme == "gcs" else self.scheme)
        if (isinstance(exc, FileNotFoundError) and exc.filename is None and self.object_store
                and failure.kind == "other"):
            # object reads handle a missing object themselves: what is left is the bucket
            failure = Failure("no-bucket", "no such bucket", _NO_BUCKET_HINT)
        if action == "upload":
            return SkillmeatError(f"upload of {rel} to {self.url} failed: {failure.reason}; "
                                  "the vault is unchanged", hint=failure.hint)
        if failure.kind == "unreachable":
            return SkillmeatError(f"cannot reach vault {self.url}: {failure.reason}", hint=failure.hint)
        if failure.kind == "credentials" and failure.reason == "no credentials":
            return SkillmeatError(f"no credentials for {self.url}: {failure.hint}")
        if failure.kind == "credentials":
            return SkillmeatError(f"no credentials for {self.url}: {failure.reason}", hint=failure.hint)
        if failure.kind == "no-bucket":
            return SkillmeatError(f"vault {self.url}: no such bucket", hint=failure.hint)
        what = f"{action} {rel}" if rel else action
        return SkillmeatError(f"cannot {what} in vault {self.url}: {failure.reason}", hint=failure.hint)

    @contextlib.contextmanager
    def _guard(self, action: str, rel: str) -> Iterator[None]:
        """Turn anything raised inside into one ``SkillmeatError`` line."""
        try:
            self._probe()
            yield
        except SkillmeatError:
            raise
        except Exception as exc:
            raise self._error(exc, action, rel) from None

    def _probe(self) -> None:
        """GCS only: gcsfs retries a refused connection for ~30 s; one TCP connect says it now."""
        if self._probed or self.scheme not in ("gs", "gcs"):
            return
        parts = urlsplit(self._endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.hostname:
            with socket.create_connection((parts.hostname, port), timeout=_CONNECT_TIMEOUT):
                pass
        self._probed = True

    def _require_bucket(self, action: str, rel: str) -> None:
        """After a miss on an object store, tell a missing object from a missing bucket."""
        if not self.object_store or self._bucket_ok:
            return
        bucket = self.root.split("/", 1)[0]
        try:
            self._fs.info(bucket)
        except FileNotFoundError:
            raise SkillmeatError(f"vault {self.url}: no such bucket", hint=_NO_BUCKET_HINT) from None
        except Exception as exc:
            if classify(exc, "", self.scheme).kind in ("unreachable", "credentials"):
                raise self._error(exc, action, rel) from None
        self._bucket_ok = True

    # -- reading --

    def stat(self, rel: str) -> tuple[int, str] | None:
        """``(size, etag)`` of a file (etag ``""`` where the store has none), None when missing."""
        path = self._path(rel)
        with self._guard("stat", rel):
            found = _local_stat(Path(path)) if self._local else self._remote_stat(path)
        if found is None:
            with self._guard("stat", rel):
                self._require_bucket("stat", rel)
        return found

    def _remote_stat(self, path: str) -> tuple[int, str] | None:
        try:
            info = self._fs.info(path)
        except FileNotFoundError:
            return None
        if info.get("type") != "file":
            return None
        etag = info.get("ETag") or info.get("etag") or ""
        return int(info.get("size") or 0), str(etag).strip('"')

    def read_bytes(self, rel: str, cap: int) -> bytes | None:
        """The whole file (None when missing); refused when larger than ``cap`` bytes."""
        found = self.stat(rel)
        if found is None:
            return None
        self._check_cap(rel, found[0], cap)
        if found[0] == 0:
            return b""
        path = self._path(rel)
        with self._guard("read", rel):
            data = self._read_local(Path(path), cap) if self._local else self._read_remote(path, cap)
        if data is None:
            return None
        self._check_cap(rel, len(data), cap)
        return data

    @staticmethod
    def _read_local(path: Path, cap: int) -> bytes | None:
        try:
            with open(path, "rb") as fh:
                data: bytes = fh.read(cap + 1)
                return data
        except (FileNotFoundError, IsADirectoryError):
            return None

    def _read_remote(self, path: str, cap: int) -> bytes | None:
        try:
            data: bytes = self._fs.cat_file(path, start=0, end=cap + 1)
            return data
        except FileNotFoundError:
            return None

    def _check_cap(self, rel: str, size: int, cap: int) -> None:
        if size > cap:
            raise SkillmeatError(f"{self._where(rel)} is larger than the {cap}-byte limit"
                                 + (f" ({size} bytes)" if size > cap + 1 else ""),
                                 hint="the vault holds something this SkillMeat will not read")

    def get_file(self, rel: str, dest: Path, cap: int) -> None:
        """Stream a file into ``dest`` in chunks; refused beyond ``cap`` bytes."""
        found = self.stat(rel)
        if found is None:
            raise SkillmeatError(f"{self._where(rel)} does not exist",
                                 hint="the vault's feed names a file it does not hold")
        self._check_cap(rel, found[0], cap)
        path = self._path(rel)
        try:
            out = open(dest, "wb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise SkillmeatError(f"cannot write {dest}: {exc.strerror or exc}") from None
        with out, self._guard("download", rel):
            if self._local is not None:
                source: Any = open(path, "rb")  # noqa: SIM115 - closed by the with below
            else:
                source = self._fs.open(path, "rb", block_size=CHUNK, cache_type="none")
            with source:
                _copy(source, out, cap, lambda total: self._check_cap(rel, total, cap))

    def list(self, prefix: str = "") -> list[str]:
        """Relative paths of the files under ``prefix`` (a directory; "" for all), sorted."""
        prefix = check_rel(prefix, allow_empty=True)
        with self._guard("list", prefix):
            names = self._list_local(prefix) if self._local else self._list_remote(prefix)
        return sorted(n for n in names if not _is_temp(n.rsplit("/", 1)[-1]))

    def _list_local(self, prefix: str) -> Names:
        assert self._local is not None
        base = self._local / prefix if prefix else self._local
        if not base.is_dir():
            return []
        return [p.relative_to(self._local).as_posix() for p in base.rglob("*") if p.is_file()]

    def _list_remote(self, prefix: str) -> Names:
        base = "/".join(p for p in (self.root, prefix) if p)
        try:
            found = self._fs.find(base, detail=False)
        except FileNotFoundError:
            if self.object_store:
                raise SkillmeatError(f"vault {self.url}: no such bucket", hint=_NO_BUCKET_HINT) from None
            return []
        head = f"{self.root}/" if self.root else ""
        under = f"{prefix}/" if prefix else ""
        names = [str(name)[len(head):] for name in found if str(name).startswith(head)]
        return [n for n in names if n.startswith(under) and n and not n.endswith("/")]

    # -- writing --

    def put_file(self, src: Path, rel: str, progress: Progress | None = None) -> None:
        """Upload ``src`` so readers see the old object or the whole new one, never a part."""
        path = self._path(rel)
        try:
            size = os.stat(src).st_size
        except OSError as exc:
            raise SkillmeatError(f"cannot read {src}: {exc.strerror or exc}") from None
        with self._guard("upload", rel):
            if self._local is not None:
                _put_local(src, Path(path), size, progress)
            elif self.scheme in ("s3", "s3a"):
                self._fs.put_file(str(src), path, callback=_callback(progress), chunksize=CHUNK,
                                  max_concurrency=_S3_UPLOAD_CONCURRENCY)
            elif self.object_store:
                self._fs.put_file(str(src), path, callback=_callback(progress))
            else:
                self._put_renamed(path, lambda tmp: self._fs.put_file(
                    str(src), tmp, callback=_callback(progress)))
        self._check_landed(rel, size)

    def put_bytes(self, rel: str, data: bytes) -> None:
        """Replace a small file atomically (same rules as ``put_file``)."""
        path = self._path(rel)
        with self._guard("upload", rel):
            if self._local is not None:
                atomic_write(Path(path), data)
            elif self.object_store:
                self._fs.pipe_file(path, data)
            else:
                self._put_renamed(path, lambda tmp: self._fs.pipe_file(tmp, data))
        self._check_landed(rel, len(data))

    def _put_renamed(self, path: str, write: Callable[[str], None]) -> None:
        parent, _, name = path.rpartition("/")
        tmp_name = f".{name}.{secrets.token_hex(6)}.tmp"
        tmp = f"{parent}/{tmp_name}" if parent else tmp_name
        if parent:
            self._fs.makedirs(parent, exist_ok=True)
        try:
            write(tmp)
            self._fs.mv(tmp, path)
        except BaseException:
            with contextlib.suppress(Exception):
                self._fs.rm_file(tmp)
            raise

    def _check_landed(self, rel: str, size: int) -> None:
        found = self.stat(rel)
        if found is None or found[0] != size:
            stored = "nothing" if found is None else f"{found[0]} bytes"
            raise SkillmeatError(f"upload of {rel} to {self.url} did not land whole "
                                 f"({stored} stored, {size} bytes sent)", hint="retry the upload")

    def remove(self, rel: str) -> None:
        """Delete a file; a missing one is fine."""
        path = self._path(rel)
        with self._guard("remove", rel):
            if self._local is not None:
                Path(path).unlink(missing_ok=True)
                prune_empty_dirs(Path(path).parent, self._local)
                return
            with contextlib.suppress(FileNotFoundError):
                self._fs.rm_file(path)


# --- helpers --------------------------------------------------------------------------------


def _parse(url: str) -> tuple[str, str]:
    """``(scheme, root)``: root is an absolute directory (file) or ``bucket[/prefix]``."""
    if not url.strip():
        raise BadInputError("empty vault URL")
    if "://" not in url:
        return "file", str(Path(url).expanduser().resolve())
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "file":
        host, slash, path = rest.partition("/")
        if host not in ("", "localhost") or not slash:
            raise BadInputError(f"vault URL {url} is not a local file:// URL",
                                hint="use file:///absolute/path")
        return "file", str(Path("/" + unquote(path)).resolve())
    root = rest.strip("/")
    if scheme in _OBJECT_STORES and not root:
        raise BadInputError(f"vault URL {url} names no bucket", hint=f"use {scheme}://bucket[/prefix]")
    if scheme in _OBJECT_STORES and any(p in (".", "..") for p in root.split("/")):
        raise BadInputError(f"vault URL {url} has '.' or '..' in its path")
    return scheme, root


def _local_stat(path: Path) -> tuple[int, str] | None:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_size, "") if path.is_file() else None


def _copy(source: Any, out: Any, cap: int, over: Callable[[int], None]) -> None:
    total = 0
    while True:
        chunk = source.read(min(CHUNK, cap + 1 - total) or 1)
        if not chunk:
            return
        total += len(chunk)
        if total > cap:
            over(total)
        out.write(chunk)


def _put_local(src: Path, dest: Path, size: int, progress: Progress | None) -> None:
    """Copy into a temporary name next to ``dest``, fsync, rename over it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{secrets.token_hex(6)}.tmp"
    try:
        done = 0
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while chunk := fin.read(CHUNK):
                fout.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, size)
            fout.flush()
            os.fsync(fout.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _callback(progress: Progress | None) -> Any:
    """An fsspec callback reporting ``(bytes done, total)`` to ``progress``."""
    from fsspec.callbacks import Callback, NoOpCallback  # type: ignore[import-untyped]

    if progress is None:
        return NoOpCallback()
    report: Progress = progress

    class _Report(Callback):  # type: ignore[misc]
        def call(self, *args: Any, **kwargs: Any) -> None:
            report(int(self.value or 0), int(self.size or 0))

    return _Report()


def _quiet_loop(fs: Any) -> None:
    """Drop asyncio's "Task exception was never retrieved" tracebacks for network errors.

    When a connection dies mid-request, aiohttp can leave a body-writing task failed and
    unawaited on fsspec's I/O loop; asyncio would print its traceback on stderr. The
    failure itself reaches us (and the user) through the request, as one line.
    """
    loop = getattr(fs, "loop", None)
    if loop is None or getattr(loop, "_skillmeat_quiet", False):
        return

    def handler(loop: Any, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if exc is not None and (isinstance(exc, OSError) or classify(exc, "", "").kind == "unreachable"):
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    loop._skillmeat_quiet = True


def _quiet(name: str) -> None:
    """Keep a library's own error logs (tracebacks) off stderr unless logging is configured."""
    logger = logging.getLogger(name)
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
