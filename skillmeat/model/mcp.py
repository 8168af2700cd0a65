"""MCP server definitions (``mcp/<name>.toml``) and Claude Code's JSON shape of them.

A definition names one server: ``transport`` (stdio, http, sse, ws), ``command``/``args``/
``env`` for stdio, ``url``/``headers`` for the others. Secret values are references
(``${VAR}`` or ``${VAR:-default}``), which Claude Code expands itself; a literal that looks
like a secret is refused unless the caller allows it: a token-shaped or high-entropy value
anywhere, and any literal under a secret-looking name (``DB_PASSWORD``, ``GITHUB_TOKEN``,
``X-Api-Key``, ``Authorization``...) however short, unless it is plainly not a secret (empty,
a flag such as ``true`` or ``1``, a path, a URL without a password).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from skillmeat.model import toml_text
from skillmeat.model.errors import BadInputError

TRANSPORTS = ("stdio", "http", "sse", "ws")
ALIASES = {"streamable-http": "http", "streamable_http": "http", "streamableHttp": "http"}
REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}")
_TOKEN_PATTERNS = (
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"),
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"AIza[0-9A-Za-z_-]{35}"),
    re.compile(r"glpat-[A-Za-z0-9_-]{20,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
# a name whose value is a secret: any of these words, or a name ending in KEY (API_KEY, X-Api-Key)
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|KEY$|AUTH|CREDENTIAL|PRIVATE",
                          re.IGNORECASE)
# ... unless its last word says it holds something else (TOKEN_URL, AUTH_TYPE, SECRET_FILE)
_NOT_SECRET_END = frozenset((
    "URL", "URI", "ENDPOINT", "HOST", "PORT", "PATH", "FILE", "DIR", "TYPE", "MODE", "METHOD",
    "SCHEME", "PROVIDER", "TTL", "TIMEOUT", "EXPIRY", "NAME", "USER", "USERNAME", "ID", "REGION",
    "SCOPE", "SCOPES", "HEADER", "ENABLED", "DISABLED", "VERSION", "AUTHOR", "AUTHORS"))
_FLAG = frozenset(("true", "false", "yes", "no", "on", "off", "none", "null"))
_AUTH_SCHEME = re.compile(r"^\s*(Bearer|Basic|token)\b\s*", re.IGNORECASE)
_PATH = re.compile(r"^(~?/|\.{1,2}/|[A-Za-z]:[\\/])")
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@")


@dataclass(frozen=True)
class McpServer:
    name: str
    transport: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any], where: str = "") -> McpServer:
        """A definition from its TOML table (or Claude's JSON entry, ``type`` for transport)."""
        where = where or f"mcp/{name}.toml"
        raw = data.get("transport", data.get("type"))
        transport = ALIASES.get(str(raw), str(raw)) if raw else ("stdio" if "command" in data
                                                                  else "http")
        if transport not in TRANSPORTS:
            raise BadInputError(f"{where}: transport {raw!r} is not one of stdio, http "
                                "(streamable-http), sse, ws")
        server = cls(name, transport, _text(data, "command", where), _strings(data, "args", where),
                     _table(data, "env", where), _text(data, "url", where),
                     _table(data, "headers", where), _text(data, "description", where))
        if transport == "stdio" and not server.command:
            raise BadInputError(f"{where}: a stdio server needs a 'command'")
        if transport != "stdio" and not server.url:
            raise BadInputError(f"{where}: an {transport} server needs a 'url'")
        return server

    @classmethod
    def from_toml(cls, name: str, text: str, where: str = "") -> McpServer:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise BadInputError(f"{where or name}: invalid TOML ({exc})") from None
        return cls.from_dict(name, data, where)

    def to_toml(self) -> str:
        items: dict[str, Any] = {"transport": self.transport}
        if self.description:
            items["description"] = self.description
        if self.transport == "stdio":
            items["command"] = self.command
            if self.args:
                items["args"] = list(self.args)
        else:
            items["url"] = self.url
        text = "".join(f"{toml_text.key(k)} = {toml_text.value(v)}\n" for k, v in items.items())
        for table in ("env", "headers"):
            value = getattr(self, table)
            if value:
                text += "\n" + toml_text.table([table], dict(value))
        return text

    def to_claude(self) -> dict[str, Any]:
        """The entry Claude Code keeps under ``mcpServers`` (``.mcp.json``, ``~/.claude.json``)."""
        if self.transport == "stdio":
            out: dict[str, Any] = {"type": "stdio", "command": self.command, "args": list(self.args)}
            if self.env:
                out["env"] = dict(self.env)
            return out
        out = {"type": self.transport, "url": self.url}
        if self.headers:
            out["headers"] = dict(self.headers)
        return out

    def to_desktop(self) -> dict[str, Any]:
        """Claude Desktop's entry: stdio only (command, args, env)."""
        if self.transport != "stdio":
            raise BadInputError(f"Claude Desktop's config takes stdio servers only; {self.name} "
                                f"is {self.transport}")
        out: dict[str, Any] = {"command": self.command, "args": list(self.args)}
        if self.env:
            out["env"] = dict(self.env)
        return out

    def literal_secrets(self) -> list[str]:
        """Where a value looks like a secret written out instead of referenced."""
        found = []
        for table in ("env", "headers"):
            for key, value in getattr(self, table).items():
                if (looks_secret(value) or url_password(value)
                        or (secret_name(key) and literal_secret(value))):
                    found.append(f"{table}.{key}")
        found += [f"args[{i}]" for i, a in enumerate(self.args) if looks_secret(a, strict=True)]
        if looks_secret(self.url, strict=True) or url_password(self.url):
            found.append("url")
        return found


def definition_from_claude(entry: dict[str, Any]) -> str:
    """A ``.mcp.json`` server entry as the text of an ``mcp/<name>.toml`` definition."""
    return McpServer.from_dict("server", entry, "entry").to_toml()


def looks_secret(value: str, *, strict: bool = False) -> bool:
    """A token-shaped or high-entropy literal (references like ${VAR} never count)."""
    bare = REFERENCE.sub("", value)
    if any(p.search(bare) for p in _TOKEN_PATTERNS):
        return True
    if strict:
        return False
    for word in re.split(r"[\s:=,;]+", bare.removeprefix("Bearer ").removeprefix("Basic ")):
        if len(word) >= 20 and _entropy(word) >= 3.5 and not word.startswith(("http", "/")):
            return True
    return False


def secret_name(key: str) -> bool:
    """An env variable or header whose value is a secret by its name (case-insensitive)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", key.upper()) if w]
    return bool(words) and words[-1] not in _NOT_SECRET_END and bool(
        _SECRET_NAME.search("_".join(words)))


def literal_secret(value: str) -> bool:
    """A value written out (not a ${VAR} reference) that could be a secret, however short:
    not empty, a flag or small number, a path, or a URL without a password."""
    bare = _AUTH_SCHEME.sub("", REFERENCE.sub("", value)).strip()
    if not re.search(r"[A-Za-z0-9]", bare) or bare.lower() in _FLAG:
        return False
    if bare.isdigit() and len(bare) <= 5:  # 1, 0, 3600 (a port, a timeout)
        return False
    if url_password(bare):
        return True
    return not (_PATH.match(bare) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", bare))


def url_password(value: str) -> bool:
    """A URL with a literal password in it (``postgres://app:hunter2@db/app``)."""
    return bool(_URL_PASSWORD.match(REFERENCE.sub("", value).strip()))


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise BadInputError(f"{where}: '{key}' must be a string")
    return value


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInputError(f"{where}: '{key}' must be an array of strings")
    return tuple(value)


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = data.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadInputError(f"{where}: '{key}' must be a table of strings")
    return {str(k): v for k, v in value.items()}
