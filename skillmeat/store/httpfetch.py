"""Plain HTTP(S) downloads for feeds and bundles: conditional GETs, size caps, one-line errors.

Only ``http://`` and ``https://`` URLs are fetched (redirects too); a body larger than its
cap is refused while it streams, before it is all read. urllib (stdlib) is imported lazily.
Every failure is one line as a ``SkillmeatError`` with no credentials in it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from skillmeat.model.errors import BadInputError, NotFoundError, SkillmeatError
from skillmeat.store.vault_errors import redact

CHUNK = 1 << 20
USER_AGENT = "skillmeat"
SCHEMES = ("http", "https")


@dataclass(frozen=True)
class HttpResult:
    status: int      # 200, or 304 (not modified: ``data`` is empty)
    data: bytes
    etag: str        # the validators to send next time ("" when the server sent none)
    modified: str
    date: str = ""   # the server's Date header: when it answered, by its own clock


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise BadInputError(f"not an http(s) URL: {redact(url)}",
                            hint="use http://host/path or https://host/path")
    return url


def get(url: str, *, cap: int, etag: str = "", modified: str = "", timeout: float = 20,
        what: str = "feed") -> HttpResult:
    """GET ``url`` (conditional when ``etag``/``modified`` are given); refuse over ``cap`` bytes."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    with _open(url, headers, timeout, what) as resp:
        if resp.status == 304 and (etag or modified):
            return HttpResult(304, b"", resp.headers.get("ETag") or etag,
                              resp.headers.get("Last-Modified") or modified,
                              resp.headers.get("Date") or "")
        _check_status(url, resp.status)
        _check_length(url, resp, cap)
        chunks: list[bytes] = []
        total = 0
        with _reading(url):
            while chunk := resp.read(min(CHUNK, cap + 1 - total) or 1):
                total += len(chunk)
                if total > cap:
                    raise _too_large(url, cap)
                chunks.append(chunk)
        return HttpResult(200, b"".join(chunks), resp.headers.get("ETag") or "",
                          resp.headers.get("Last-Modified") or "", resp.headers.get("Date") or "")


def download(url: str, dest: Path, cap: int, *, timeout: float = 20, what: str = "file") -> int:
    """Stream ``url`` into ``dest`` (replaced whole, never left partial); return its size."""
    tmp = dest.parent / f".{dest.name}.{secrets.token_hex(6)}.tmp"
    try:
        with _open(url, {}, timeout, what) as resp:
            _check_status(url, resp.status)
            _check_length(url, resp, cap)
            total = 0
            try:
                out = open(tmp, "wb")  # noqa: SIM115 - closed by the with below
            except OSError as exc:
                raise SkillmeatError(f"cannot write {dest}: {exc.strerror or exc}") from None
            with out, _reading(url):
                while chunk := resp.read(min(CHUNK, cap + 1 - total) or 1):
                    total += len(chunk)
                    if total > cap:
                        raise _too_large(url, cap)
                    out.write(chunk)
        os.replace(tmp, dest)
        return total
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# --- internals ------------------------------------------------------------------------------


def _too_large(url: str, cap: int) -> SkillmeatError:
    return SkillmeatError(f"{redact(url)} is larger than the {cap}-byte limit",
                          hint="the server holds something this SkillMeat will not read")


def _check_status(url: str, status: int) -> None:
    if status != 200:
        raise SkillmeatError(f"cannot get {redact(url)}: unexpected HTTP {status}",
                             hint="the server did not send the whole file")


def _check_length(url: str, resp: Any, cap: int) -> None:
    length = resp.headers.get("Content-Length")
    if length and length.strip().isdigit() and int(length) > cap:
        raise _too_large(url, cap)


def _open(url: str, headers: dict[str, str], timeout: float, what: str) -> Any:
    """The response (a context manager), or a stand-in with status 304."""
    import http.client
    import urllib.error
    import urllib.request

    check_url(url)
    opener = urllib.request.build_opener(_redirects())
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   "Accept-Encoding": "identity", **headers})
    where = redact(url)
    try:
        return opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        with exc:
            if exc.code == 304:
                return _NotModified(exc.headers)
            if exc.code in (404, 410):
                raise NotFoundError(f"no {what} at {where} (HTTP {exc.code})",
                                    hint="check the URL") from None
            raise SkillmeatError(f"cannot get {where}: HTTP {exc.code} {exc.reason}",
                                 hint=_hint(exc.code)) from None
    except SkillmeatError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise SkillmeatError(f"cannot reach {where}: {_reason(exc)}",
                             hint="is the server up and the URL right?") from None


class _NotModified:
    status = 304

    def __init__(self, headers: Any) -> None:
        self.headers = headers

    def __enter__(self) -> _NotModified:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@contextlib.contextmanager
def _reading(url: str) -> Any:
    """Errors while the body streams (the connection dropped, a read timed out)."""
    import http.client

    try:
        yield
    except SkillmeatError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        raise SkillmeatError(f"download of {redact(url)} failed: {_reason(exc)}",
                             hint="retry; nothing was kept") from None


def _redirects() -> Any:
    import urllib.request

    class Redirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                             newurl: str) -> Any:
            if urlsplit(newurl).scheme.lower() not in SCHEMES:
                raise SkillmeatError(f"{redact(req.full_url)} redirects to a non-http(s) URL "
                                     f"({redact(newurl)})")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return Redirects()


def _reason(exc: BaseException) -> str:
    inner: Any = getattr(exc, "reason", None)
    if isinstance(inner, BaseException):
        exc = inner
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the host"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({redact(getattr(exc, 'reason', None) or str(exc))})"
    if isinstance(exc, ConnectionError):
        return "connection lost"
    if isinstance(exc, OSError) and exc.strerror:
        return redact(exc.strerror)
    text = redact(str(exc)) or type(exc).__name__
    if isinstance(inner, str) and inner:
        text = redact(inner)
    return text


def _hint(code: int) -> str:
    if code in (401, 403):
        return "the server refused access"
    if code >= 500:
        return "the server failed; retry later"
    return "check the URL"
