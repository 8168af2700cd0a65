"""An MCP Registry ``server.json`` read as Claude Code server entries.

Each ``packages[]`` entry becomes a stdio command: npm ``npx -y PKG@VER``, pypi
``uvx PKG==VER``, oci ``docker run -i --rm [-e VAR]... IMAGE:VER``, nuget ``dnx PKG@VER --yes``
(``runtimeHint`` picks another runner). Each ``remotes[]`` entry becomes an http or sse URL.
Inputs the user supplies become references Claude Code expands: ``${NAME}`` when required,
``${NAME:-default}`` with a default; fixed ``value``s are kept, their ``{variables}`` filled
the same way. Optional inputs without a default are left out (a stdio server inherits the
environment anyway). The registry API's ``{"server": {...}}`` wrapper is accepted.
"""

from __future__ import annotations

import re
from typing import Any

from skillmeat.model.errors import ConfigError
from skillmeat.store.claude_files import SourceServer

RUNNERS = {"npm": "npx", "pypi": "uvx", "oci": "docker", "nuget": "dnx"}
_PIN = {"npm": "@", "pypi": "==", "nuget": "@", "oci": ":"}
REMOTE_TYPES = {"streamable-http": "http", "sse": "sse"}
_BRACES = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Skip(Exception):
    """A package or remote SkillMeat cannot express as a definition (with the reason)."""


def registry_server(data: dict[str, Any]) -> dict[str, Any] | None:
    """The server a ``server.json`` (or a registry API answer) describes; None if it is not one."""
    inner = data.get("server")
    if isinstance(inner, dict) and not any(k in inner for k in ("command", "url", "type")):
        data = inner  # the registry API's {"server": {...}, "_meta": {...}}
    if "mcpServers" in data:
        return None
    if "server.schema.json" in str(data.get("$schema", "")):
        return data
    return data if any(isinstance(data.get(k), list) for k in ("packages", "remotes")) else None


def registry_servers(server: dict[str, Any], where: str) -> tuple[list[SourceServer], list[str]]:
    """The ways to run the server a ``server.json`` describes, and notes on what was left out."""
    full = server.get("name")
    if not isinstance(full, str) or not full.rpartition("/")[2]:
        raise ConfigError(where, "server.json has no 'name' (like io.github.owner/server)")
    base = full.rpartition("/")[2]
    description = str(server.get("description", ""))
    found: list[tuple[str, str, dict[str, Any]]] = []
    notes: list[str] = []
    for section, convert in (("packages", _package), ("remotes", _remote)):
        items = server.get(section) or []
        if not isinstance(items, list):
            raise ConfigError(where, f"'{section}' is not an array")
        for i, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise _Skip("not an object")
                kind, entry = convert(item)
            except _Skip as why:
                notes.append(f"{where}: {section}[{i}] skipped: {why}")
                continue
            if description:
                entry["description"] = description
            found.append((f"{section}[{i}]", kind, entry))
    version = str(server.get("version", ""))
    names = _names(base, [kind for _, kind, _ in found])
    return [SourceServer(n, origin, entry, version=version)
            for n, (origin, _, entry) in zip(names, found, strict=True)], notes


def _names(base: str, kinds: list[str]) -> list[str]:
    """One way to run it keeps the server's name; several get -npm, -oci, -http... suffixes."""
    if len(kinds) == 1:
        return [base]
    out: list[str] = []
    for kind in kinds:
        name, n = f"{base}-{kind}", 1
        while name in out:
            n += 1
            name = f"{base}-{kind}-{n}"
        out.append(name)
    return out


def _package(pkg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    registry = str(pkg.get("registryType", ""))
    ident = pkg.get("identifier")
    if not isinstance(ident, str) or not ident:
        raise _Skip("no 'identifier'")
    transport = pkg.get("transport")
    kind = transport.get("type", "stdio") if isinstance(transport, dict) else "stdio"
    if kind != "stdio":
        raise _Skip(f"it serves {kind} from a local process; start it yourself "
                    "and use `skillmeat mcp add NAME --url URL`")
    runner = str(pkg.get("runtimeHint") or RUNNERS.get(registry, ""))
    if not runner:
        raise _Skip(f"no way to run a '{registry}' package (and no runtimeHint)")
    spec = _pinned(registry, ident, str(pkg.get("version", "")))
    runtime = _arguments(pkg.get("runtimeArguments"))
    args = _arguments(pkg.get("packageArguments"))
    env = _key_values(pkg.get("environmentVariables"))
    if runner == "npx":
        argv = ["-y", *runtime, spec, *args]
    elif runner == "docker":
        forwarded = [a for name in _declared(pkg.get("environmentVariables")) for a in ("-e", name)]
        argv = ["run", "-i", "--rm", *runtime, *forwarded, spec, *args]
    elif runner == "dnx":
        argv = [*runtime, spec, "--yes", *(["--", *args] if args else [])]
    else:
        argv = [*runtime, spec, *args]
    entry: dict[str, Any] = {"type": "stdio", "command": runner, "args": argv}
    if env:
        entry["env"] = env
    return registry or runner, entry


def _pinned(registry: str, ident: str, version: str) -> str:
    sep = _PIN.get(registry, "@")
    if not version or version == "latest":
        return ident
    if registry == "oci" and ("@" in ident or ":" in ident.rpartition("/")[2]):
        return ident  # the tag or digest is already in the identifier
    return f"{ident}{sep}{version}"


def _remote(remote: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kind = REMOTE_TYPES.get(str(remote.get("type", "")))
    if kind is None:
        raise _Skip(f"transport {remote.get('type')!r} is not streamable-http or sse")
    url = remote.get("url")
    if not isinstance(url, str) or not url:
        raise _Skip("no 'url'")
    entry: dict[str, Any] = {"type": kind, "url": _fill(url, remote.get("variables"))}
    headers = _key_values(remote.get("headers"))
    if headers:
        entry["headers"] = headers
    return kind, entry


def _arguments(items: Any) -> list[str]:
    out: list[str] = []
    for arg in items if isinstance(items, list) else []:
        if not isinstance(arg, dict):
            continue
        flag = str(arg.get("name", "")) if arg.get("type") == "named" else ""
        var = env_name(str(arg.get("valueHint") or flag or "value"))
        value = _input(arg, var)
        if value is not None:
            out += [flag, value] if flag else [value]
    return out


def _key_values(items: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            value = _input(item, env_name(item["name"]))
            if value is not None:
                out[item["name"]] = value
    return out


def _declared(items: Any) -> list[str]:
    return [i["name"] for i in (items if isinstance(items, list) else [])
            if isinstance(i, dict) and isinstance(i.get("name"), str)]


def _input(item: dict[str, Any], var: str) -> str | None:
    """A fixed value (variables filled), else a reference the user's environment fills."""
    if item.get("value") is not None:
        return _fill(str(item["value"]), item.get("variables"))
    default = item.get("default")
    if default is not None and "}" not in str(default):
        return f"${{{var}:-{default}}}"
    if default is not None:
        return str(default)  # a default a reference cannot hold: written out
    if item.get("isRequired"):
        return f"${{{var}}}"
    return None


def _fill(text: str, variables: Any) -> str:
    known = variables if isinstance(variables, dict) else {}

    def one(match: re.Match[str]) -> str:
        spec = known.get(match.group(1))
        if not isinstance(spec, dict):
            return match.group(0)  # unknown: left as written (the schema says so)
        var = env_name(match.group(1))
        value = _input(spec, var)
        return value if value is not None else f"${{{var}:-}}"

    return _BRACES.sub(one, text)


def env_name(text: str) -> str:
    """An environment variable name for an input: ``--api-key`` -> ``API_KEY``."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", text.lstrip("-")).strip("_").upper()
    return name if name and not name[0].isdigit() else f"V_{name}"
