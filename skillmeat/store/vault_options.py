"""Vault options: the user's string options checked and turned into filesystem arguments.

Credentials never come from options (SkillMeat's config): they come from the environment
and the providers' default chains (AWS_* variables and profiles,
GOOGLE_APPLICATION_CREDENTIALS, ...). aiohttp is imported lazily, inside ``gcs_kwargs``.
"""

from __future__ import annotations

from typing import Any

from skillmeat.model.errors import BadInputError

SECRET_OPTIONS = frozenset({
    "key", "secret", "token", "password", "passwd", "passphrase",
    "access_key", "access_key_id", "secret_key", "secret_access_key", "session_token",
    "security_token", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
    "credentials", "client_secret", "private_key", "private_key_id", "refresh_token",
    "access_token", "api_key", "apikey", "account_key", "sas_token", "connection_string",
    "auth", "authorization", "sig", "signature",
})
"""Option keys that are credentials (compared case-insensitively, ``-`` read as ``_``)."""

SAFE_TOKEN_VALUES = frozenset({"anon", "google_default", "cloud"})
"""Values of ``token`` that name a credential *method*, not a credential."""

_RESERVED_OPTIONS = frozenset({"skip_instance_cache", "use_listings_cache", "config_kwargs",
                               "client_kwargs", "session_kwargs", "asynchronous", "loop"})
_BOOL_OPTIONS = frozenset({"anon", "requester_pays", "use_ssl", "version_aware", "cache_regions",
                           "auto_mkdir", "use_fips"})
_CONNECT_TIMEOUT = 5.0
_READ_TIMEOUT = 60.0


def _norm(key: str) -> str:
    return key.strip().lower().replace("-", "_")


def check_options(options: dict[str, str]) -> None:
    """Refuse any option that is a credential: those come from the environment only."""
    for key, value in options.items():
        norm = _norm(key)
        if norm not in SECRET_OPTIONS:
            continue
        if norm == "token" and str(value).strip().lower() in SAFE_TOKEN_VALUES:
            continue
        raise BadInputError(
            f"vault option '{key}' is a credential",
            hint="credentials come from the environment (AWS_* / GOOGLE_APPLICATION_CREDENTIALS / "
                 "provider chains), never from SkillMeat's config",
        )


def _as_bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise BadInputError(f"vault option '{key}' must be true or false, not {value!r}")


def _passthrough(key: str, value: str) -> Any:
    norm = _norm(key)
    if norm in _RESERVED_OPTIONS:
        raise BadInputError(f"vault option '{key}' is managed by SkillMeat and cannot be set")
    return _as_bool(key, value) if norm in _BOOL_OPTIONS else value


def s3_kwargs(options: dict[str, str]) -> dict[str, Any]:
    """s3fs.S3FileSystem keyword arguments for the user's string options."""
    client: dict[str, Any] = {}
    kwargs: dict[str, Any] = {
        "skip_instance_cache": True,
        "use_listings_cache": False,
        "config_kwargs": {"connect_timeout": _CONNECT_TIMEOUT, "read_timeout": _READ_TIMEOUT,
                          "retries": {"max_attempts": 2, "mode": "standard"}},
    }
    for key, value in options.items():
        norm = _norm(key)
        if norm == "endpoint_url":
            client["endpoint_url"] = value
        elif norm in ("region", "region_name"):
            client["region_name"] = value
        elif norm == "profile":
            kwargs["profile"] = value
        else:
            kwargs[key] = _passthrough(key, value)
    kwargs["client_kwargs"] = client
    return kwargs


def gcs_kwargs(options: dict[str, str]) -> dict[str, Any]:
    """gcsfs.GCSFileSystem keyword arguments for the user's string options."""
    import aiohttp

    kwargs: dict[str, Any] = {
        "skip_instance_cache": True,
        "use_listings_cache": False,
        "requests_timeout": aiohttp.ClientTimeout(total=None, connect=_CONNECT_TIMEOUT,
                                                  sock_read=_READ_TIMEOUT),
    }
    for key, value in options.items():
        norm = _norm(key)
        if norm in ("endpoint_url", "project", "token"):
            kwargs[norm] = value
        else:
            kwargs[key] = _passthrough(key, value)
    return kwargs


def other_kwargs(options: dict[str, str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
    kwargs.update({key: _passthrough(key, value) for key, value in options.items()})
    return kwargs
