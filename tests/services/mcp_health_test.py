"""Health checks against real server processes: good ones (the SDK, a 2025-era one, HTTP) and
broken ones, each reported correctly within the timeout, and no process left behind."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from skillmeat.model.errors import BadInputError, ConfigError, NotFoundError
from skillmeat.model.mcp import McpServer
from skillmeat.services.mcp_health import (
    Definition,
    HealthResult,
    check_health,
    expand,
    load_definitions,
)
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.mcp_servers import alive, claude_entry, http_server, pids_in, stdio

GENEROUS = 30.0  # a limit for servers that should answer, never a measure of speed


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    with http_server() as url:
        yield url


def check(*servers: McpServer, timeout: float = GENEROUS) -> list[HealthResult]:
    return check_health([Definition(s.name, "test", s) for s in servers], timeout=timeout)


def check_one(server: McpServer, timeout: float = GENEROUS) -> HealthResult:
    (result,) = check(server, timeout=timeout)
    assert result.pid is None or not alive(result.pid)
    return result


# --- good servers -----------------------------------------------------------------------------------


def test_sdk_stdio_server_answers_the_stateless_protocol() -> None:
    result = check_one(stdio("good", "good_stdio.py"))
    assert (result.status, result.era, result.protocol_version) == ("healthy", "stateless", "2026-07-28")
    assert (result.server_name, result.server_version, result.tools) == ("good-stdio", "1.2.3", 2)
    assert result.latency_ms is not None and result.latency_ms > 0
    assert result.detail == "" and result.stderr == ()


def test_2025_era_server_gets_the_initialize_handshake() -> None:
    result = check_one(stdio("legacy", "legacy_stdio.py"))
    assert (result.status, result.era, result.protocol_version) == ("healthy", "handshake", "2025-06-18")
    assert (result.server_name, result.server_version, result.tools) == ("legacy-stdio", "0.9.0", 1)


def test_slow_sdk_server_still_gets_the_stateless_protocol() -> None:
    # server/discover goes unanswered for half the timeout, so initialize follows it; the SDK
    # server then reads discover first, refuses initialize (-32022) and is asked again.
    result = check_one(stdio("late", "good_stdio.py", MCP_TEST_START_DELAY="4.5"), timeout=8)
    assert (result.status, result.era, result.tools) == ("healthy", "stateless", 2)


def test_streamable_http_server(http_url: str) -> None:
    result = check_one(McpServer("web", "http", url=http_url))
    assert (result.status, result.era, result.protocol_version) == ("healthy", "stateless", "2026-07-28")
    assert (result.server_name, result.server_version, result.tools) == ("good-http", "2.0.1", 2)
    assert result.pid is None


def test_sse_server() -> None:
    with http_server("sse") as url:
        result = check_one(McpServer("events", "sse", url=url))
    assert (result.status, result.server_name, result.tools) == ("healthy", "good-http", 2)


def test_http_headers_and_url_expand_references(http_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    port = http_url.split(":")[-1].split("/")[0]
    monkeypatch.setenv("MCP_PORT", port)
    server = McpServer("web", "http", url="http://127.0.0.1:${MCP_PORT}/mcp",
                       headers={"Authorization": "Bearer ${MCP_TOKEN:-none}"})
    assert check_one(server).status == "healthy"


# --- broken servers ---------------------------------------------------------------------------------


def test_server_that_exits_at_once(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    result = check_one(stdio("quitter", "exits_at_once.py", MCP_TEST_PIDFILE=str(pidfile)))
    assert result.status == "unhealthy"
    assert result.detail == "exited with code 3 during server/discover"
    assert result.stderr == ("error: EXAMPLE_API_KEY is not set", "see https://example.invalid/setup")
    assert pids_in(pidfile) == [result.pid]


def test_server_that_hangs_times_out_and_its_whole_group_dies(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    result = check_one(stdio("sleeper", "hangs.py", MCP_TEST_PIDFILE=str(pidfile)), timeout=2)
    assert result.status == "timeout"
    assert result.detail == "no answer to initialize within 2s"  # discover first, then the handshake
    server, child = pids_in(pidfile)  # it ignores SIGTERM, and so does the child it started
    assert server == result.pid
    assert not alive(server) and not alive(child)


def test_server_that_prints_garbage_on_stdout() -> None:
    result = check_one(stdio("chatty", "garbage.py"))
    assert result.status == "unhealthy"
    assert result.detail == ("wrote a line that is not JSON-RPC to stdout during server/discover: "
                             "'Welcome to Example Server 1.0 - listening on stdio!'")


def test_server_with_an_unsupported_protocol_version() -> None:
    result = check_one(stdio("ancient", "bad_version.py"))
    assert result.status == "unhealthy"
    assert result.detail.startswith("unsupported protocol version 1999-01-01 (SkillMeat speaks 2024-11-05")
    assert result.protocol_version == ""


def test_server_that_crashes_after_initialize() -> None:
    result = check_one(stdio("crashy", "crash_mid_session.py"))
    assert result.status == "unhealthy"
    assert (result.era, result.protocol_version, result.server_name) == ("handshake", "2025-11-25", "crashy")
    assert result.detail == "exited with code 1 during ping"
    assert result.stderr[0] == "Traceback (most recent call last):"
    assert "RuntimeError: lost the connection to the database" in result.stderr


def test_command_that_does_not_exist() -> None:
    result = check_one(McpServer("ghost", "stdio", "/nonexistent/mcp-server"))
    assert (result.status, result.pid) == ("error", None)
    assert result.detail == "cannot start '/nonexistent/mcp-server': No such file or directory"


def test_nobody_listening_at_the_url() -> None:
    result = check_one(McpServer("gone", "http", url="http://127.0.0.1:9/mcp"))
    assert result.status == "error"
    assert result.detail.startswith("cannot reach the server")


def test_websocket_servers_are_reported_not_checked() -> None:
    result = check_one(McpServer("socket", "ws", url="ws://127.0.0.1:9/"))
    assert (result.status, result.detail) == ("error", "health checks do not speak the ws transport")


def test_a_definition_that_cannot_be_read_is_an_error_result() -> None:
    (result,) = check_health([Definition("broken", "mcp/broken.toml", problem="invalid TOML")])
    assert (result.name, result.status, result.detail, result.source) == (
        "broken", "error", "invalid TOML", "mcp/broken.toml")


# --- all at once ------------------------------------------------------------------------------------


def test_every_case_at_once_in_order_with_no_process_left(tmp_path: Path, http_url: str) -> None:
    pidfile = str(tmp_path / "pids")
    servers = [stdio("good", "good_stdio.py", MCP_TEST_PIDFILE=pidfile),
               McpServer("web", "http", url=http_url),
               stdio("legacy", "legacy_stdio.py", MCP_TEST_PIDFILE=pidfile),
               stdio("quitter", "exits_at_once.py", MCP_TEST_PIDFILE=pidfile),
               stdio("sleeper", "hangs.py", MCP_TEST_PIDFILE=pidfile),
               stdio("chatty", "garbage.py", MCP_TEST_PIDFILE=pidfile),
               stdio("ancient", "bad_version.py", MCP_TEST_PIDFILE=pidfile),
               stdio("crashy", "crash_mid_session.py", MCP_TEST_PIDFILE=pidfile)]
    results = check(*servers, timeout=10)
    assert [(r.name, r.status) for r in results] == [
        ("good", "healthy"), ("web", "healthy"), ("legacy", "healthy"), ("quitter", "unhealthy"),
        ("sleeper", "timeout"), ("chatty", "unhealthy"), ("ancient", "unhealthy"),
        ("crashy", "unhealthy")]
    started = pids_in(tmp_path / "pids")
    assert len(started) == 8  # seven servers and the child of the hanging one
    assert [pid for pid in started if alive(pid)] == []


def test_servers_are_checked_concurrently(tmp_path: Path) -> None:
    # Each of these answers only once all four run at the same time: one after the other,
    # every check would time out.
    barrier = f"{tmp_path / 'barrier'}:4"
    results = check(*(stdio(f"peer{i}", "legacy_stdio.py", MCP_TEST_BARRIER=barrier) for i in range(4)))
    assert [r.status for r in results] == ["healthy"] * 4


def test_stdio_servers_run_in_cwd_with_the_environment_and_their_env(tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    script = tmp_path / "where.py"
    script.write_text(
        "import json, os, sys\n"
        "keys = ('FROM_DEF', 'FROM_ENV')\n"
        "data = {'cwd': os.getcwd(), **{k: os.environ.get(k) for k in keys}}\n"
        f"open({str(seen)!r}, 'w').write(json.dumps(data))\n")
    server = McpServer("where", "stdio", sys.executable, (str(script),), {"FROM_DEF": "${FROM_ENV}-x"})
    (result,) = check_health([Definition("where", "t", server)], cwd=tmp_path, timeout=GENEROUS,
                             environ={"FROM_ENV": "inherited"})
    assert (result.status, result.detail) == ("unhealthy", "exited with code 0 during server/discover")
    assert json.loads(seen.read_text()) == {"cwd": str(tmp_path), "FROM_DEF": "inherited-x",
                                            "FROM_ENV": "inherited"}


# --- references -------------------------------------------------------------------------------------


def test_references_expand_from_the_environment_with_defaults() -> None:
    server = McpServer("s", "stdio", "${BIN}", ("--token=${TOKEN}", "${MODE:-fast}"),
                       {"KEY": "${TOKEN}", "PLAIN": "x"})
    out = expand(server, {"BIN": "/usr/bin/srv", "TOKEN": "t0k"})
    assert (out.command, out.args, out.env) == ("/usr/bin/srv", ("--token=t0k", "fast"),
                                                {"KEY": "t0k", "PLAIN": "x"})
    assert expand(server, {"BIN": "b", "TOKEN": "t", "MODE": ""}).args == ("--token=t", "")


def test_a_missing_reference_is_an_error_that_names_it() -> None:
    server = McpServer("s", "stdio", "srv", env={"API_KEY": "${SECRET_KEY}"})
    with pytest.raises(BadInputError, match=r"env\.API_KEY needs \$\{SECRET_KEY\}"):
        expand(server, {})
    (result,) = check_health([Definition("s", "t", server)], environ={})
    assert result.status == "error" and "SECRET_KEY" in result.detail


# --- which servers ----------------------------------------------------------------------------------


def _commit(store: CollectionStore, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (store.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (store.path / rel).write_text(text)
    store.repo.commit_paths(list(files), "add mcp servers")


def test_collection_definitions_come_from_head(home: Home, collection: CollectionStore) -> None:
    _commit(collection, {"mcp/good.toml": stdio("good", "good_stdio.py").to_toml(),
                         "mcp/broken.toml": "transport = [\n"})
    (collection.path / "mcp" / "draft.toml").write_text(stdio("d", "good_stdio.py").to_toml())
    found = load_definitions(home)
    assert [(d.name, d.source, d.server is not None) for d in found] == [
        ("broken", "test:mcp/broken.toml", False), ("good", "test:mcp/good.toml", True)]
    assert "invalid TOML" in found[0].problem
    assert load_definitions(home, names=["good"])[0].server == stdio("good", "good_stdio.py")
    with pytest.raises(NotFoundError, match="no MCP server named draft"):
        load_definitions(home, names=["draft"])


def test_an_empty_collection_has_no_servers(home: Home, collection: CollectionStore) -> None:
    assert load_definitions(home) == []


def test_claude_scopes_are_read_from_claude_codes_files(home: Home, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"p": claude_entry("legacy_stdio.py")}}))
    claude_json = Path.home() / ".claude.json"
    claude_json.write_text(json.dumps({
        "numStartups": 12, "mcpServers": {"u": claude_entry("good_stdio.py"), "bad": {"type": "x"}},
        "projects": {str(project): {"mcpServers": {"l": {"type": "http", "url": "http://h/mcp"}}}}}))
    before = claude_json.read_bytes()
    assert [d.name for d in load_definitions(home, "project", project)] == ["p"]
    user = load_definitions(home, "user", project)
    assert [(d.name, d.server is not None) for d in user] == [("u", True), ("bad", False)]
    assert "transport 'x'" in user[1].problem
    (local,) = load_definitions(home, "local", project)
    assert (local.name, local.server and local.server.url) == ("l", "http://h/mcp")
    assert load_definitions(home, "local", tmp_path) == []  # a project Claude does not know
    assert claude_json.read_bytes() == before


def test_claude_files_that_are_missing_or_broken(home: Home, tmp_path: Path) -> None:
    assert load_definitions(home, "project", tmp_path) == []
    (tmp_path / ".mcp.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"\.mcp\.json: cannot read it as JSON"):
        load_definitions(home, "project", tmp_path)
    (tmp_path / ".mcp.json").write_text('{"mcpServers": []}')
    with pytest.raises(ConfigError, match="mcpServers is not an object"):
        load_definitions(home, "project", tmp_path)


def test_results_are_frozen_and_serialise() -> None:
    result = HealthResult("s", "healthy", transport="stdio", tools=2, stderr=("a",))
    with pytest.raises(AttributeError):
        result.status = "timeout"  # type: ignore[misc]
    data = result.to_dict()
    assert data["stderr"] == ["a"] and data["tools"] == 2 and json.loads(json.dumps(data)) == data
