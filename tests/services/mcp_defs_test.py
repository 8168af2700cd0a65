from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model.artifact import ArtifactId
from skillmeat.model.errors import BadInputError, ConfigError, ConflictError, NotFoundError, SourceError
from skillmeat.model.mcp import McpServer
from skillmeat.services import mcp_defs
from skillmeat.services.artifacts import add
from skillmeat.services.hashing import tree_hash
from skillmeat.services.mcp_defs import Pick, define, import_servers
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.helpers import git, tree_state

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2
STDIO = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def head(store: CollectionStore) -> str:
    return git("rev-parse", "HEAD", cwd=store.path).strip()


def subject(store: CollectionStore) -> str:
    return git("log", "-1", "--format=%s", cwd=store.path).strip()


def defined(store: CollectionStore, name: str) -> dict[str, Any]:
    aid = ArtifactId.parse(f"mcp/{name}")
    return tomllib.loads((store.path / aid.relpath).read_text())


def locked(store: CollectionStore) -> dict[str, Any]:
    arts: dict[str, Any] = tomllib.loads(store.lock_path.read_text()).get("artifacts", {})
    return arts


def snapshot(store: CollectionStore) -> tuple[dict[str, bytes], str]:
    return tree_state(store.path), head(store)


def clean(store: CollectionStore) -> bool:
    return git("status", "--porcelain", "--untracked-files=all", cwd=store.path) == ""


# --- define (mcp add) ---

def test_define_writes_one_commit_with_the_lock_hash(home: Home, collection: CollectionStore) -> None:
    manifest = collection.manifest_path.read_bytes()
    result = define(home, collection, "memory", {**STDIO, "description": "Graph memory",
                                                 "env": {"MEMORY_FILE": "${MEMORY_FILE:-/tmp/m}"}})
    aid = ArtifactId.parse("mcp/memory")
    assert result.written == [aid] and result.commit == head(collection)
    assert defined(collection, "memory") == {
        "transport": "stdio", "description": "Graph memory", "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-memory"],
        "env": {"MEMORY_FILE": "${MEMORY_FILE:-/tmp/m}"}}
    assert locked(collection)["mcp/memory"] == {
        "hash": tree_hash(collection.worktree(), aid, [aid.relpath])}
    assert collection.manifest_path.read_bytes() == manifest
    assert subject(collection) == "Add MCP server mcp/memory"
    assert clean(collection)


def test_define_a_url_server_stores_the_canonical_transport(home: Home,
                                                             collection: CollectionStore) -> None:
    define(home, collection, "docs", {"transport": "streamable-http", "url": "https://d.example/mcp",
                                      "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}})
    assert defined(collection, "docs") == {"transport": "http", "url": "https://d.example/mcp",
                                           "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}


def test_define_a_plugin_server_lives_one_folder_deeper(home: Home,
                                                        collection: CollectionStore) -> None:
    define(home, collection, "mcp/tools:search", {"url": "wss://s.example/ws", "transport": "ws"})
    assert (collection.path / "mcp/tools/search.toml").is_file()
    assert mcp_defs.definition(collection, "tools:search").id == ArtifactId.parse("mcp/tools:search")


def test_define_again_same_is_a_no_op_different_is_a_conflict_force_replaces(
        home: Home, collection: CollectionStore) -> None:
    define(home, collection, "memory", STDIO)
    before = snapshot(collection)
    again = define(home, collection, "memory", STDIO)
    assert again.unchanged == [ArtifactId.parse("mcp/memory")] and again.commit == ""
    with pytest.raises(ConflictError, match="already defined, differently"):
        define(home, collection, "memory", {"command": "uvx", "args": ["mem"]})
    assert snapshot(collection) == before
    define(home, collection, "memory", {"command": "uvx", "args": ["mem"]}, force=True)
    assert defined(collection, "memory")["command"] == "uvx"
    assert clean(collection)


def test_force_over_an_added_definition_drops_its_upstream_keeps_tags(
        home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    src = write_json(tmp_path / "plugin" / ".mcp.json", {"mcpServers": {"fs": {"command": "fs-mcp"}}})
    add(home, collection, str(src), tags=("tools",))
    assert "source" in collection.manifest().artifacts["mcp/fs"].to_dict()
    define(home, collection, "fs", {"command": "other-fs"}, force=True)
    assert collection.manifest().artifacts["mcp/fs"].to_dict() == {"tags": ["tools"]}
    assert clean(collection)


@pytest.mark.parametrize(("data", "field"), [
    ({"command": "gh", "env": {"GITHUB_TOKEN": TOKEN}}, "env.GITHUB_TOKEN"),
    ({"command": "gh", "args": ["--token", TOKEN]}, "args[1]"),
    ({"url": "https://x.example/mcp", "headers": {"Authorization": f"Bearer {TOKEN}"}},
     "headers.Authorization"),
    ({"url": "https://x.example/mcp", "headers": {"X-Key": "q8Zr2LmV9xT4wK7pN3sB6yF1"}}, "headers.X-Key"),
    ({"url": f"https://x.example/mcp?key={TOKEN}"}, "url"),
])
def test_literal_secrets_are_refused_naming_the_field(home: Home, collection: CollectionStore,
                                                      data: dict[str, Any], field: str) -> None:
    before = snapshot(collection)
    with pytest.raises(BadInputError) as err:
        define(home, collection, "gh", data)
    assert err.value.message.startswith(f"mcp/gh: {field} looks like a literal secret")
    assert TOKEN not in str(err.value) and "q8Zr2" not in str(err.value)
    assert "${" in (err.value.hint or "") and "--allow-literal-secret" in (err.value.hint or "")
    assert snapshot(collection) == before
    define(home, collection, "gh", data, allow_secret=True)
    assert (collection.path / "mcp/gh.toml").is_file()


def test_secret_hint_shows_the_reference_form(home: Home, collection: CollectionStore) -> None:
    with pytest.raises(BadInputError) as err:
        define(home, collection, "docs", {"url": "https://d.example/mcp",
                                          "headers": {"Authorization": f"Bearer {TOKEN}"}})
    assert "Bearer ${DOCS_TOKEN}" in (err.value.hint or "")
    with pytest.raises(BadInputError) as err:
        define(home, collection, "gh", {"command": "gh", "env": {"GH": TOKEN, "B": TOKEN}})
    assert "env.GH, env.B look like literal secrets" in err.value.message
    assert "${GH}" in (err.value.hint or "")


def test_bad_definitions_are_refused(home: Home, collection: CollectionStore) -> None:
    with pytest.raises(BadInputError, match="is not an http"):
        define(home, collection, "x", {"url": "ftp://x"})
    with pytest.raises(BadInputError, match="needs a 'command'"):
        define(home, collection, "x", {"transport": "stdio"})
    with pytest.raises(BadInputError, match="invalid name"):
        define(home, collection, "a b", STDIO)
    assert not (collection.path / "mcp").exists()


# --- import: shapes ---

def test_import_a_mcp_json_with_the_wrapper(home: Home, collection: CollectionStore,
                                            tmp_path: Path) -> None:
    src = write_json(tmp_path / "app" / ".mcp.json", {"mcpServers": {
        "fs": {"type": "stdio", "command": "npx", "args": ["-y", "server-fs", "."], "env": {}},
        "api": {"type": "http", "url": "https://api.example.com/mcp",
                "headers": {"X-Key": "${API_KEY}"}}}})
    result = import_servers(home, collection, src, Pick(all=True))
    assert result.kind == ".mcp.json"
    assert [str(a) for a in result.written] == ["mcp/fs", "mcp/api"]
    assert defined(collection, "fs") == {"transport": "stdio", "command": "npx",
                                         "args": ["-y", "server-fs", "."]}
    assert defined(collection, "api")["headers"] == {"X-Key": "${API_KEY}"}
    assert locked(collection)["mcp/api"]["source"] == str(src)
    assert locked(collection)["mcp/api"]["path"] == "mcpServers.api"
    assert git("log", "--format=%s", cwd=collection.path).count("Import") == 1
    assert "- mcp/fs (mcpServers.fs)" in git("log", "-1", "--format=%b", cwd=collection.path)
    assert clean(collection)


def test_import_a_plugin_mcp_json_without_the_wrapper(home: Home, collection: CollectionStore,
                                                      tmp_path: Path) -> None:
    src = write_json(tmp_path / "plugin" / ".mcp.json", {
        "context7": {"command": "npx", "args": ["-y", "@upstash/context7-mcp"]}})
    result = import_servers(home, collection, src.parent)  # a directory: its .mcp.json
    assert [str(a) for a in result.written] == ["mcp/context7"]
    assert defined(collection, "context7")["args"] == ["-y", "@upstash/context7-mcp"]


def test_a_bare_mcp_json_may_name_servers_like_registry_keys(home: Home, collection: CollectionStore,
                                                            tmp_path: Path) -> None:
    src = write_json(tmp_path / ".mcp.json", {"server": {"command": "a"}, "packages": {"command": "b"}})
    result = import_servers(home, collection, src, Pick(all=True))
    assert result.kind == ".mcp.json" and [a.name for a in result.written] == ["server", "packages"]
    with pytest.raises(SourceError, match=re.escape("no .mcp.json or server.json")):
        import_servers(home, collection, tmp_path / "cwd")


def test_import_claude_desktop_config(home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    src = write_json(tmp_path / "Claude" / "claude_desktop_config.json", {
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {"sqlite": {"command": "uvx", "args": ["mcp-server-sqlite", "--db-path", "x.db"]}},
        "preferences": {"quickEntry": True}})
    result = import_servers(home, collection, src)
    assert result.kind == "Claude Desktop config"
    assert defined(collection, "sqlite") == {"transport": "stdio", "command": "uvx",
                                             "args": ["mcp-server-sqlite", "--db-path", "x.db"]}


@pytest.fixture
def claude_json(isolated_home: Path) -> Path:
    return write_json(isolated_home / "user" / ".claude.json", {
        "numStartups": 42, "theme": "dark", "tipsHistory": {"memory": 3},
        "mcpServers": {"memory": STDIO, "shared": {"command": "shared-mcp"}},
        "projects": {
            "/home/ada/app": {"allowedTools": [], "history": [{"display": "hi"}],
                              "mcpServers": {"db": {"command": "pg-mcp", "args": ["--ro"]},
                                             "shared": {"command": "shared-mcp"}}},
            "/home/ada/web": {"mcpServers": {"db": {"type": "stdio", "command": "mysql-mcp"}}},
            "/home/ada/empty": {"allowedTools": []}}})


def test_import_claude_json_reads_user_and_every_project(home: Home, collection: CollectionStore,
                                                         claude_json: Path) -> None:
    plan = import_servers(home, collection, claude_json, Pick(all=True, scope="user"), dry_run=True)
    assert plan.kind == "~/.claude.json"
    assert [p.id.name for p in plan.planned] == ["memory", "shared"]
    with pytest.raises(BadInputError) as err:
        import_servers(home, collection, claude_json, Pick(all=True))
    assert "server 'db' is defined differently at projects[\"/home/ada/app\"].mcpServers.db and " \
           "projects[\"/home/ada/web\"].mcpServers.db" in err.value.message
    assert "--project" in (err.value.hint or "")
    result = import_servers(home, collection, claude_json, Pick(all=True, project="/home/ada/app"))
    assert [str(a) for a in result.written] == ["mcp/db", "mcp/shared"]
    assert defined(collection, "db")["command"] == "pg-mcp"
    assert locked(collection)["mcp/db"]["path"] == 'projects["/home/ada/app"].mcpServers.db'


def test_import_claude_json_same_server_in_many_places_is_one(home: Home, collection: CollectionStore,
                                                              claude_json: Path) -> None:
    result = import_servers(home, collection, claude_json, Pick(names=("shared",)))
    assert [str(a) for a in result.written] == ["mcp/shared"]
    with pytest.raises(BadInputError, match=re.escape("~/.claude.json only")):
        import_servers(home, collection, write_json(claude_json.parent / "x" / ".mcp.json",
                                                    {"mcpServers": {}}), Pick(scope="user"))


REGISTRY_SERVER: dict[str, Any] = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": "io.github.acme/weather",
    "description": "Forecasts from the Acme weather service",
    "version": "1.4.0",
    "packages": [
        {"registryType": "npm", "registryBaseUrl": "https://registry.npmjs.org",
         "identifier": "@acme/weather-mcp", "version": "1.4.0", "transport": {"type": "stdio"},
         "packageArguments": [
             {"type": "positional", "value": "serve"},
             {"type": "named", "name": "--units", "default": "metric"},
             {"type": "positional", "valueHint": "data_dir", "isRequired": True},
             {"type": "named", "name": "--verbose"}],
         "environmentVariables": [
             {"name": "WEATHER_API_KEY", "isRequired": True, "isSecret": True},
             {"name": "WEATHER_REGION", "default": "eu"},
             {"name": "WEATHER_DEBUG", "description": "optional, no default"}]},
        {"registryType": "pypi", "identifier": "acme-weather-mcp", "version": "1.4.0",
         "runtimeHint": "uvx", "transport": {"type": "stdio"}},
        {"registryType": "oci", "identifier": "ghcr.io/acme/weather-mcp:1.4.0",
         "transport": {"type": "stdio"},
         "runtimeArguments": [{"type": "named", "name": "-v", "value": "{cache}:/cache",
                               "variables": {"cache": {"isRequired": True, "format": "filepath"}}}],
         "environmentVariables": [{"name": "WEATHER_API_KEY", "isRequired": True, "isSecret": True},
                                  {"name": "WEATHER_DEBUG"}]},
        {"registryType": "nuget", "identifier": "Acme.WeatherMcp", "version": "1.4.0",
         "transport": {"type": "stdio"},
         "packageArguments": [{"type": "positional", "value": "mcp"}]},
        {"registryType": "mcpb", "identifier": "https://github.com/acme/weather/releases/w.mcpb",
         "version": "1.4.0", "fileSha256": "0" * 64, "transport": {"type": "stdio"}},
        {"registryType": "npm", "identifier": "@acme/weather-http", "version": "1.4.0",
         "transport": {"type": "streamable-http", "url": "http://localhost:{port}/mcp"}},
    ],
    "remotes": [
        {"type": "streamable-http", "url": "https://weather.acme.example/{tenant}/mcp",
         "variables": {"tenant": {"default": "public"}},
         "headers": [{"name": "Authorization", "value": "Bearer {token}",
                      "variables": {"token": {"isRequired": True, "isSecret": True}}},
                     {"name": "X-Units", "default": "metric"}]},
        {"type": "sse", "url": "https://weather.acme.example/sse"},
    ],
}


def test_import_server_json_every_package_and_remote(home: Home, collection: CollectionStore,
                                                     tmp_path: Path) -> None:
    src = write_json(tmp_path / "server.json", REGISTRY_SERVER)
    result = import_servers(home, collection, src, Pick(all=True))
    assert result.kind == "server.json"
    assert [a.name for a in result.written] == [
        "weather-npm", "weather-pypi", "weather-oci", "weather-nuget", "weather-http", "weather-sse"]
    assert len(result.warnings) == 2
    assert "packages[4] skipped" in result.warnings[0] and "mcpb" in result.warnings[0]
    assert "packages[5] skipped" in result.warnings[1] and "--url" in result.warnings[1]
    assert defined(collection, "weather-npm") == {
        "transport": "stdio", "description": "Forecasts from the Acme weather service",
        "command": "npx",
        "args": ["-y", "@acme/weather-mcp@1.4.0", "serve", "--units", "${UNITS:-metric}",
                 "${DATA_DIR}"],
        "env": {"WEATHER_API_KEY": "${WEATHER_API_KEY}", "WEATHER_REGION": "${WEATHER_REGION:-eu}"}}
    assert defined(collection, "weather-pypi")["args"] == ["acme-weather-mcp==1.4.0"]
    oci = defined(collection, "weather-oci")
    assert (oci["command"], oci["args"]) == ("docker", [
        "run", "-i", "--rm", "-v", "${CACHE}:/cache", "-e", "WEATHER_API_KEY", "-e", "WEATHER_DEBUG",
        "ghcr.io/acme/weather-mcp:1.4.0"])
    assert oci["env"] == {"WEATHER_API_KEY": "${WEATHER_API_KEY}"}
    nuget = defined(collection, "weather-nuget")
    assert (nuget["command"], nuget["args"]) == ("dnx", ["Acme.WeatherMcp@1.4.0", "--yes", "--", "mcp"])
    http = defined(collection, "weather-http")
    assert http["transport"] == "http"
    assert http["url"] == "https://weather.acme.example/${TENANT:-public}/mcp"
    assert http["headers"] == {"Authorization": "Bearer ${TOKEN}", "X-Units": "${X_UNITS:-metric}"}
    assert defined(collection, "weather-sse") == {
        "transport": "sse", "description": "Forecasts from the Acme weather service",
        "url": "https://weather.acme.example/sse"}
    assert locked(collection)["mcp/weather-oci"]["path"] == "packages[2]"
    assert locked(collection)["mcp/weather-oci"]["version"] == "1.4.0"
    for name in ("weather-npm", "weather-oci", "weather-http"):
        McpServer.from_dict(name, defined(collection, name))  # each is a valid definition


def test_import_server_json_one_way_keeps_the_name_and_the_api_wrapper_is_read(
        home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    server = {**REGISTRY_SERVER, "packages": REGISTRY_SERVER["packages"][2:3], "remotes": []}
    src = write_json(tmp_path / "reg.json", {"server": server, "_meta": {
        "io.modelcontextprotocol.registry/official": {"status": "active", "isLatest": True}}})
    result = import_servers(home, collection, src)
    assert [str(a) for a in result.written] == ["mcp/weather"]


def test_import_server_json_pick_one_and_rename(home: Home, collection: CollectionStore,
                                                tmp_path: Path) -> None:
    src = write_json(tmp_path / "server.json", REGISTRY_SERVER)
    with pytest.raises(BadInputError, match="holds 6 MCP servers: weather-npm, weather-pypi"):
        import_servers(home, collection, src)
    with pytest.raises(BadInputError, match="--as renames one server"):
        import_servers(home, collection, src, Pick(names=("weather-*",), rename="w"))
    result = import_servers(home, collection, src, Pick(names=("weather-oci",), rename="weather"))
    assert [str(a) for a in result.written] == ["mcp/weather"]
    assert defined(collection, "weather")["command"] == "docker"


# --- import: choosing, and all or nothing ---

def test_import_names_globs_and_missing_names(home: Home, collection: CollectionStore,
                                              tmp_path: Path) -> None:
    src = write_json(tmp_path / ".mcp.json", {"mcpServers": {
        "git-a": {"command": "a"}, "git-b": {"command": "b"}, "other": {"command": "c"}}})
    with pytest.raises(NotFoundError) as err:
        import_servers(home, collection, src, Pick(names=("nope",)))
    assert "git-a, git-b, other" in (err.value.hint or "")
    result = import_servers(home, collection, src, Pick(names=("git-*",)))
    assert [a.name for a in result.written] == ["git-a", "git-b"]


def test_import_dry_run_writes_nothing(home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    src = write_json(tmp_path / ".mcp.json", {"mcpServers": {"a": {"command": "a", "timeout": 5}}})
    before = snapshot(collection)
    result = import_servers(home, collection, src, dry_run=True)
    assert [p.id.name for p in result.planned] == ["a"] and result.written == []
    assert result.warnings == [f"{src}: mcpServers.a: timeout not kept (a definition holds transport, "
                               "command, args, env, url, headers, description)"]
    assert snapshot(collection) == before


@pytest.mark.parametrize("servers", [
    {"good": {"command": "a"}, "bad": {"type": "stdio"}},  # no command
    {"good": {"command": "a"}, "bad": {"type": "carrier-pigeon", "url": "https://x"}},
    {"good": {"command": "a"}, "bad": "not an object"},
    {"good": {"command": "a"}, "bad": {"command": "gh", "env": {"T": TOKEN}}},
    {"good": {"command": "a"}, "bad name": {"command": "b"}},
])
def test_import_is_all_or_nothing(home: Home, collection: CollectionStore, tmp_path: Path,
                                  servers: dict[str, Any]) -> None:
    src = write_json(tmp_path / ".mcp.json", {"mcpServers": servers})
    before = snapshot(collection)
    with pytest.raises(BadInputError) as err:
        import_servers(home, collection, src, Pick(all=True))
    assert str(src) in err.value.message or "mcp/bad" in err.value.message
    assert snapshot(collection) == before


def test_import_a_literal_secret_with_the_override(home: Home, collection: CollectionStore,
                                                   tmp_path: Path) -> None:
    src = write_json(tmp_path / ".mcp.json", {"mcpServers": {"gh": {"command": "gh", "env": {"T": TOKEN}}}})
    with pytest.raises(BadInputError, match=re.escape("env.T looks like a literal secret")):
        import_servers(home, collection, src)
    import_servers(home, collection, src, allow_secret=True)
    assert defined(collection, "gh")["env"] == {"T": TOKEN}


@pytest.mark.parametrize(("text", "error"), [
    ('{"mcpServers": {"a": ', ConfigError),
    ("[1, 2]", ConfigError),
    (b"\xff\xfe{}", ConfigError),
    ('{"theme": "dark"}', BadInputError),
    ('{"mcpServers": ["a"]}', ConfigError),
])
def test_malformed_sources_change_nothing(home: Home, collection: CollectionStore, tmp_path: Path,
                                          text: str | bytes, error: type[Exception]) -> None:
    src = tmp_path / ".mcp.json"
    if isinstance(text, bytes):
        src.write_bytes(text)
    else:
        src.write_text(text)
    before = snapshot(collection)
    with pytest.raises(error) as err:
        import_servers(home, collection, src, Pick(all=True))
    assert isinstance(err.value, BadInputError) and err.value.exit_code == 2
    assert str(src) in str(err.value)
    assert snapshot(collection) == before


def test_missing_source_and_empty_source(home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        import_servers(home, collection, tmp_path / "nope.json")
    with pytest.raises(NotFoundError, match="no MCP servers"):
        import_servers(home, collection, write_json(tmp_path / ".mcp.json", {"mcpServers": {}}))
    bundle_only = {**REGISTRY_SERVER, "packages": REGISTRY_SERVER["packages"][4:5], "remotes": []}
    with pytest.raises(NotFoundError) as err:
        import_servers(home, collection, write_json(tmp_path / "server.json", bundle_only))
    assert "packages[0] skipped: no way to run a 'mcpb' package" in (err.value.hint or "")


def test_import_existing_same_is_unchanged_different_needs_force(
        home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    define(home, collection, "a", {"command": "a"})
    src = write_json(tmp_path / ".mcp.json", {"mcpServers": {"a": {"command": "a"}, "b": {"command": "b"}}})
    result = import_servers(home, collection, src, Pick(all=True))
    assert [a.name for a in result.unchanged] == ["a"] and [a.name for a in result.written] == ["b"]
    write_json(src, {"mcpServers": {"a": {"command": "changed"}, "c": {"command": "c"}}})
    before = snapshot(collection)
    with pytest.raises(ConflictError):
        import_servers(home, collection, src, Pick(all=True))
    assert snapshot(collection) == before
    import_servers(home, collection, src, Pick(all=True), force=True)
    assert defined(collection, "a")["command"] == "changed"


# --- config show, set, unset, edit ---

COMMENTED = """# memory for the team
transport = "stdio"
command = "npx"  # pinned below
args = ["-y", "@modelcontextprotocol/server-memory"]

[env]
MEMORY_FILE = "${MEMORY_FILE}"  # set per machine
"""


@pytest.fixture
def memory(home: Home, collection: CollectionStore) -> CollectionStore:
    define(home, collection, "memory", STDIO)
    return collection


def test_set_and_unset_keep_comments_and_update_the_lock(home: Home, memory: CollectionStore) -> None:
    assert mcp_defs.replace_text(home, memory, "memory", mcp_defs.definition(memory, "memory").text,
                                 COMMENTED).commit
    change = mcp_defs.set_value(home, memory, "memory", "env.DEBUG", "1")
    assert change.commit == head(memory) and subject(memory) == "mcp/memory: set env.DEBUG"
    mcp_defs.set_value(home, memory, "memory", "args", '["-y", "@modelcontextprotocol/server-memory@1"]')
    mcp_defs.set_value(home, memory, "memory", "description", "Team memory")
    mcp_defs.unset_value(home, memory, "memory", "env.MEMORY_FILE")
    text = (memory.path / "mcp/memory.toml").read_text()
    assert text.startswith("# memory for the team\n")
    assert 'command = "npx"  # pinned below' in text
    assert tomllib.loads(text) == {"transport": "stdio", "command": "npx", "description": "Team memory",
                                   "args": ["-y", "@modelcontextprotocol/server-memory@1"],
                                   "env": {"DEBUG": "1"}}
    aid = ArtifactId.parse("mcp/memory")
    assert locked(memory)["mcp/memory"]["hash"] == tree_hash(memory.worktree(), aid, [aid.relpath])
    assert clean(memory)


def test_set_headers_transport_and_url(home: Home, memory: CollectionStore) -> None:
    mcp_defs.set_value(home, memory, "memory", "url", "https://m.example/sse")
    mcp_defs.set_value(home, memory, "memory", "transport", "streamable-http")
    mcp_defs.set_value(home, memory, "memory", "headers.X-Team", "core")
    found = mcp_defs.definition(memory, "mcp/memory")
    assert found.server is not None
    assert (found.server.transport, found.server.url) == ("http", "https://m.example/sse")
    assert found.to_dict()["claude"] == {"type": "http", "url": "https://m.example/sse",
                                         "headers": {"X-Team": "core"}}
    mcp_defs.unset_value(home, memory, "memory", "headers.X-Team")
    assert "headers" not in defined(memory, "memory")


def test_no_op_changes_make_no_commit(home: Home, memory: CollectionStore) -> None:
    before = snapshot(memory)
    assert mcp_defs.set_value(home, memory, "memory", "command", "npx").commit == ""
    assert snapshot(memory) == before


@pytest.mark.parametrize(("key", "value", "error", "match"), [
    ("transport", "http", BadInputError, "an http server needs a 'url'"),
    ("transport", "pigeon", BadInputError, "is not one of"),
    ("args", "-y pkg", BadInputError, "JSON array of strings"),
    ("args", '["a", 1]', BadInputError, "JSON array of strings"),
    ("colour", "red", BadInputError, "unknown key 'colour'"),
    ("env.TOKEN", TOKEN, BadInputError, "env.TOKEN looks like a literal secret"),
    (None, "command", BadInputError, "needs a 'command'"),
    (None, "env.NOPE", NotFoundError, "mcp/memory has no env.NOPE to unset"),
])
def test_bad_changes_are_refused_and_change_nothing(home: Home, memory: CollectionStore,
                                                    key: str | None, value: str,
                                                    error: type[Exception], match: str) -> None:
    before = snapshot(memory)
    with pytest.raises(error, match=re.escape(match)):
        if key is None:
            mcp_defs.unset_value(home, memory, "memory", value)
        else:
            mcp_defs.set_value(home, memory, "memory", key, value)
    assert snapshot(memory) == before


def test_an_accepted_literal_does_not_block_later_changes(home: Home, memory: CollectionStore) -> None:
    mcp_defs.set_value(home, memory, "memory", "env.TOKEN", TOKEN, allow_secret=True)
    assert mcp_defs.set_value(home, memory, "memory", "description", "ok").commit
    with pytest.raises(BadInputError, match=re.escape("env.OTHER looks like")):
        mcp_defs.set_value(home, memory, "memory", "env.OTHER", TOKEN)


def test_replace_text_checks_validity_base_and_keys(home: Home, memory: CollectionStore) -> None:
    base = mcp_defs.definition(memory, "memory").text
    before = snapshot(memory)
    with pytest.raises(BadInputError, match="'args' must be an array of strings; nothing was written"):
        mcp_defs.replace_text(home, memory, "memory", base, 'command = "x"\nargs = 1\n')
    with pytest.raises(BadInputError, match="invalid TOML"):
        mcp_defs.replace_text(home, memory, "memory", base, "command = \n")
    with pytest.raises(ConflictError, match="changed while it was being edited"):
        mcp_defs.replace_text(home, memory, "memory", "something else", 'command = "x"\n')
    assert snapshot(memory) == before
    change = mcp_defs.replace_text(home, memory, "memory", base, 'command = "x"\ntimeout = 5\n')
    assert change.commit and subject(memory) == "mcp/memory: edit"
    assert change.warnings == ("mcp/memory.toml: timeout ignored (not a definition key)",)


def test_an_invalid_file_can_be_shown_and_edited_but_not_set(home: Home, memory: CollectionStore) -> None:
    (memory.path / "mcp/memory.toml").write_text("args = 1\n")
    found = mcp_defs.definition(memory, "memory")
    assert found.server is None
    assert found.to_dict()["error"] == "mcp/memory.toml: 'args' must be an array of strings"
    with pytest.raises(BadInputError) as err:
        mcp_defs.set_value(home, memory, "memory", "command", "x")
    assert "config edit memory" in (err.value.hint or "")
    assert mcp_defs.replace_text(home, memory, "memory", "args = 1\n", 'command = "x"\n').commit


def test_config_names_resolve_like_other_commands(home: Home, memory: CollectionStore) -> None:
    with pytest.raises(NotFoundError, match="no artifact 'memroy'") as err:
        mcp_defs.definition(memory, "memroy")
    assert "memory" in (err.value.hint or "")
