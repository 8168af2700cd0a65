"""``skillmeat mcp health`` as a user runs it: real CLI subprocesses, real server processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.cli.runner import skillmeat
from tests.mcp_servers import alive, claude_entry, stdio, wait_for_pids

LIMIT = 60  # seconds a whole CLI run may take before the test gives up (a limit, not a measure)


def _commit_servers(store: CollectionStore, **servers: str) -> None:
    (store.path / "mcp").mkdir(exist_ok=True)
    for name, script in servers.items():
        (store.path / "mcp" / f"{name}.toml").write_text(stdio(name, script).to_toml())
    store.repo.commit_paths([f"mcp/{name}.toml" for name in servers], "mcp servers")


def _mcp_json(project: Path, **entries: dict[str, object]) -> None:
    project.mkdir(parents=True, exist_ok=True)
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": entries}))


def test_collection_servers_table_and_exit_code(home: Home, collection: CollectionStore) -> None:
    _commit_servers(collection, good="good_stdio.py", quitter="exits_at_once.py")
    result = skillmeat("mcp", "health", "--timeout", "30")
    assert result.code == 1
    header, good, quitter, *rest = result.out.splitlines()
    assert header.split() == ["STATUS", "NAME", "TRANSPORT", "LATENCY", "PROTOCOL", "SERVER", "TOOLS",
                              "DETAIL"]
    assert good.split()[:2] == ["healthy", "good"] and "2026-07-28  good-stdio 1.2.3  2" in good
    assert quitter.split()[:3] == ["unhealthy", "quitter", "stdio"]
    assert quitter.endswith("exited with code 3 during server/discover")
    assert rest == ["", "quitter stderr:", "  error: EXAMPLE_API_KEY is not set",
                    "  see https://example.invalid/setup"]
    assert result.err == "1 healthy, 1 unhealthy\n"


def test_named_servers_json_and_exit_zero(home: Home, collection: CollectionStore) -> None:
    _commit_servers(collection, good="good_stdio.py", quitter="exits_at_once.py")
    result = skillmeat("mcp", "health", "good", "--json", "--timeout", "30")
    assert result.code == 0, result.err
    (data,) = json.loads(result.out)
    assert {k: data[k] for k in ("name", "status", "era", "protocol_version", "tools", "source")} == {
        "name": "good", "status": "healthy", "era": "stateless", "protocol_version": "2026-07-28",
        "tools": 2, "source": "test:mcp/good.toml"}
    assert not alive(data["pid"])


def test_unknown_name_and_bad_scope(home: Home, collection: CollectionStore) -> None:
    _commit_servers(collection, good="good_stdio.py")
    result = skillmeat("mcp", "health", "nope")
    assert result.code == 1
    assert result.err.startswith("skillmeat: error: no MCP server named nope in the collection test")
    assert skillmeat("mcp", "health", "--scope", "galaxy").code == 2


def test_no_servers_is_not_a_failure(home: Home, collection: CollectionStore) -> None:
    result = skillmeat("mcp", "health")
    assert (result.code, result.out, result.err) == (0, "", "no MCP servers to check\n")


def test_claude_code_scopes_read_only(home: Home, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    _mcp_json(project, legacy=claude_entry("legacy_stdio.py"))
    claude_json = Path.home() / ".claude.json"
    claude_json.write_text(json.dumps({
        "theme": "dark", "mcpServers": {"ancient": claude_entry("bad_version.py")},
        "projects": {str(project): {"mcpServers": {"local-one": claude_entry("legacy_stdio.py")}}}},
        indent=2))
    before = claude_json.read_bytes()

    result = skillmeat("mcp", "health", "--scope", "project", "--json", cwd=project)
    assert result.code == 0, result.err
    assert [(d["name"], d["status"], d["era"]) for d in json.loads(result.out)] == [
        ("legacy", "healthy", "handshake")]
    result = skillmeat("mcp", "health", "--scope", "user", "--json")
    assert result.code == 1
    assert [(d["name"], d["status"]) for d in json.loads(result.out)] == [("ancient", "unhealthy")]
    result = skillmeat("mcp", "health", "--scope", "local", "--project", str(project), "--json")
    assert [(d["name"], d["status"]) for d in json.loads(result.out)] == [("local-one", "healthy")]
    assert claude_json.read_bytes() == before


def test_ctrl_c_exits_130_and_leaves_no_server_running(home: Home, tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    _mcp_json(tmp_path / "proj", sleeper=claude_entry("hangs.py", MCP_TEST_PIDFILE=str(pidfile)),
              good=claude_entry("legacy_stdio.py", MCP_TEST_PIDFILE=str(pidfile)))
    proc = subprocess.Popen([sys.executable, "-m", "skillmeat", "mcp", "health", "--scope", "project",
                             "--timeout", "600"], cwd=tmp_path / "proj", text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        started = wait_for_pids(pidfile, 3)  # both servers and the hanging one's child
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=LIMIT)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err.strip() == "interrupted" and out == ""
    assert [pid for pid in started if alive(pid)] == []


def test_watch_checks_again_until_interrupted(home: Home, tmp_path: Path) -> None:
    _mcp_json(tmp_path / "proj", legacy=claude_entry("legacy_stdio.py"))
    proc = subprocess.Popen([sys.executable, "-m", "skillmeat", "mcp", "health", "--scope", "project",
                             "--watch", "--interval", "0.5", "--json"], cwd=tmp_path / "proj",
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        rounds = [json.loads(proc.stdout.readline()) for _ in range(2)]
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=LIMIT)
    finally:
        proc.kill()
    assert [[r["status"] for r in round_] for round_ in rounds] == [["healthy"], ["healthy"]]
    assert proc.returncode == 130


def test_the_mcp_sdk_loads_only_when_a_check_runs() -> None:
    code = ("import sys, skillmeat.cli.main, skillmeat.cli.mcp_cmds, skillmeat.cli.mcp_health_cmds; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types', 'anyio')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
