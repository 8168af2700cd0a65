"""Vault failures: any layer's exception (botocore, aiohttp, gcsfs, OS) sorted into words.

``classify`` names what went wrong as a ``Failure``; ``redact`` keeps a message to one
line with no secrets in it. Exceptions are recognised by class name, so nothing from the
storage libraries is imported here.
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass

_CREDENTIAL_HINTS = {
    "s3": "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile",
    "gs": "set GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login`",
}
_NO_BUCKET_HINT = "create it first, or check the vault URL and endpoint"


_REDACTIONS = (
    (re.compile(r"(://)[^/@\s]+@"), r"\1***@"),
    (re.compile(r"(?i)([?&](?:x-amz-[a-z-]+|signature|sig|token|access_token|key|"
                r"awsaccesskeyid|googleaccessid)=)[^&\s]+"), r"\1***"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "***"),
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1***"),
    (re.compile(r"\bya29\.[\w.-]+"), "***"),
)


def redact(text: str) -> str:
    """One line, no secrets, bounded length."""
    line = " ".join(text.split())
    for pattern, repl in _REDACTIONS:
        line = pattern.sub(repl, line)
    return line if len(line) <= 240 else line[:237] + "..."


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(out) < 12:
        item = todo.pop(0)
        if item is None or any(item is seen for seen in out):
            continue
        out.append(item)
        todo += [item.__cause__, item.__context__]
        todo += [a for a in getattr(item, "args", ()) if isinstance(a, BaseException)]
    return out


def _names(chain: list[BaseException]) -> set[str]:
    return {cls.__name__ for exc in chain for cls in type(exc).__mro__}


_NO_CREDENTIALS = {"NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError",
                   "CredentialRetrievalError", "TokenRetrievalError"}
_REFUSED = {"ConnectionRefusedError"}
_DNS = {"gaierror", "ClientConnectorDNSError"}
_CONNECT_TIMEOUTS = {"ConnectTimeoutError", "ConnectionTimeoutError", "ConnectTimeout"}
_READ_TIMEOUTS = {"ReadTimeoutError", "TimeoutError", "ServerTimeoutError", "SocketTimeoutError",
                  "FSTimeoutError", "ReadTimeout", "timeout"}
_CONNECT_FAILED = {"EndpointConnectionError", "ClientConnectorError", "ProxyConnectionError"}
_LOST = {"ConnectionResetError", "BrokenPipeError", "ConnectionAbortedError",
         "ServerDisconnectedError", "ConnectionClosedError", "ClientPayloadError",
         "IncompleteRead", "ClientOSError", "ProtocolError", "RemoteDisconnected"}
_NETWORK = {"ConnectionError", "ClientConnectionError", "HTTPClientError"}
_DENIED_CODES = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
                 "AllAccessDisabled", "AccountProblem", "InvalidToken"}


@dataclass(frozen=True)
class Failure:
    """What went wrong, in words: ``kind`` picks the sentence, ``reason`` fills it."""

    kind: str  # unreachable | credentials | denied | no-bucket | other
    reason: str
    hint: str | None = None


def _network_reason(names: set[str], endpoint: str) -> str | None:
    if names & _REFUSED:
        return f"connection refused by {endpoint}"
    if names & _DNS:
        return f"cannot resolve the host of {endpoint}"
    if names & _CONNECT_TIMEOUTS:
        return f"timed out connecting to {endpoint}"
    if names & _CONNECT_FAILED:
        return f"cannot connect to {endpoint}"
    if names & _LOST:
        return f"connection to {endpoint} was lost"
    if names & _READ_TIMEOUTS:
        return f"{endpoint} did not answer in time"
    if names & _NETWORK:
        return f"network error talking to {endpoint}"
    return None


def _status_code(chain: list[BaseException]) -> int | None:
    for exc in chain:
        code = getattr(exc, "code", None)
        if isinstance(code, int) and 100 <= code < 600:
            return code
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if isinstance(status, int):
                return status
    return None


def _aws_code(chain: list[BaseException]) -> str:
    for exc in chain:
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            return str(response.get("Error", {}).get("Code", ""))
    return ""


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.errno is not None:
        return exc.strerror
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0] if text.splitlines() else text


def classify(exc: BaseException, endpoint: str, scheme: str) -> Failure:
    """Sort an exception from any layer (botocore, aiohttp, gcsfs, OS) into a ``Failure``."""
    chain = _chain(exc)
    names = _names(chain)
    hint = _CREDENTIAL_HINTS.get(scheme, "set the provider's credentials in the environment")
    if "ProfileNotFound" in names:
        return Failure("credentials", redact(_message(exc)), "check the profile option and ~/.aws/config")
    if names & _NO_CREDENTIALS:
        return Failure("credentials", "no credentials", hint)
    network = _network_reason(names, endpoint)
    if network is not None:
        return Failure("unreachable", network, "is the endpoint up?")
    code, aws = _status_code(chain), _aws_code(chain)
    text = redact(_message(exc))
    if aws == "NoSuchBucket" or "bucket does not exist" in text.lower():
        return Failure("no-bucket", "no such bucket", _NO_BUCKET_HINT)
    if (isinstance(exc, PermissionError) or code in (401, 403) or aws in _DENIED_CODES
            or text.startswith("Forbidden")):
        reason = "permission denied" + ("" if text.lower() == "permission denied" else f" ({text})")
        if scheme == "file":
            return Failure("denied", reason, "check the directory's permissions")
        return Failure("denied", reason,
                       "check the credentials in the environment and the bucket's permissions")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return Failure("other", "no space left on device")
    return Failure("other", text if isinstance(exc, OSError) else f"{type(exc).__name__}: {text}")
