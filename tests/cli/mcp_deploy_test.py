"""MCP deploy end to end: the real CLI writes Claude Code's files, and Claude Code's own CLI
(`claude mcp list/get`, offline) reads back what SkillMeat wrote, with a real stdio server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import ok, skillmeat
from tests.helpers import claude_cli

SERVER = '''from mcp.server import MCPServer

app = MCPServer("tiny", version="1.0.0")


@app.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


if __name__ == "__main__":
    app.run()
'''


@pytest.fixture(autouse=True)
def _claude_config_in_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)


@pytest.fixture
def server(tmp_path: Path) -> Path:
    """A collection defining `tiny`, a real MCP server (the mcp SDK over stdio)."""
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    src = tmp_path / "src" / "mcp"
    src.mkdir(parents=True)
    (src / "tiny.toml").write_text(
        f'description = "A tiny echo server"\ntransport = "stdio"\ncommand = {json.dumps(sys.executable)}\n'
        f'args = [{json.dumps(str(script))}, "--quiet"]\n\n[env]\nGREETING = "hello"\n'
        'TOKEN = "${TINY_TOKEN:-none}"\n')
    ok("collection", "create", "c")
    ok("add", str(src.parent), "--all")
    return script


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


def claude(*args: str, cwd: Path) -> str:
    proc = subprocess.run([str(claude_cli()), "mcp", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "DISABLE_AUTOUPDATER": "1"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def claude_json() -> Path:
    return Path.home() / ".claude.json"


def rich_claude_json(project: Path) -> bytes:
    """A ~/.claude.json as Claude Code keeps it: settings, caches, many projects, own servers."""
    data = {
        "numStartups": 214, "installMethod": "npm-global", "autoUpdates": False, "theme": "dark",
        "tipsHistory": {"new-user-warmup": 1, "memory-command": 187, "shift-enter": 12},
        "mcpServers": {"github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/",
                                  "headers": {"Authorization": "Bearer ${GITHUB_TOKEN}"}}},
        "projects": {
            str(project): {"allowedTools": [], "history": [
                {"display": "fix the flaky test — ünïcode ✓", "pastedContents": {}}],
                "mcpContextUris": [], "mcpServers": {}, "enabledMcpjsonServers": [],
                "hasTrustDialogAccepted": True, "lastCost": 0.4211, "lastDuration": 91234},
            **{f"/home/me/src/repo{i}": {"allowedTools": ["Bash(npm test:*)"], "history": [],
                                         "lastSessionId": f"{i:08x}-aaaa-bbbb-cccc-dddddddddddd"}
               for i in range(40)}},
        "oauthAccount": {"emailAddress": "me@example.com", "organizationRole": "admin"},
        "cachedChangelog": "# Changelog\n\n## 2.1.0\n- \"quoted\" things\n",
        "userID": "5cddff465ca840494f035eb57aed058df8d8dfe6f49b023852ff45b672c519c4",
        "firstStartTime": "2025-03-01T09:15:00.000Z",
    }
    raw = json.dumps(data, indent=2, ensure_ascii=False).encode()
    claude_json().write_bytes(raw)
    return raw


def test_claude_code_connects_to_and_shows_the_user_scope_server(server: Path, tmp_path: Path) -> None:
    result = ok("mcp", "deploy", "tiny", "--scope", "user")
    assert result.out.startswith(f"--- /dev/null\n+++ {claude_json()}\n")
    assert "deployed tiny to ~/.claude.json (user)" in result.out
    listed = claude("list", cwd=tmp_path)
    assert f"tiny: {sys.executable} {server} --quiet - ✔ Connected" in listed
    shown = claude("get", "tiny", cwd=tmp_path)
    assert "Scope: User config" in shown and "Status: ✔ Connected" in shown
    assert f"Command: {sys.executable}\n" in shown and f"Args: {server} --quiet\n" in shown
    assert "GREETING=hello" in shown and "TOKEN=${TINY_TOKEN:-none}" in shown


def test_claude_code_lists_the_project_scope_server_from_mcp_json(server: Path, project: Path) -> None:
    ok("deploy", "mcp", "tiny", "--scope", "project", "--project", str(project))
    written = json.loads((project / ".mcp.json").read_text())
    assert written["mcpServers"]["tiny"]["args"] == [str(server), "--quiet"]
    listed = claude("list", cwd=project)
    # Claude Code asks before it starts a server a project shares with it: listed, pending approval.
    assert f"tiny: {sys.executable} {server} --quiet - ⏸ Pending approval" in listed
    shown = claude("get", "tiny", cwd=project)
    assert "Scope: Project config (shared via .mcp.json)" in shown
    assert f"Args: {server} --quiet\n" in shown and "GREETING=hello" in shown


def test_what_mcp_list_says_claude_uses_is_what_claude_uses(server: Path, project: Path) -> None:
    for scope in ("user", "project", "local"):
        ok("mcp", "deploy", "tiny", "--scope", scope, "--project", str(project))

    def agree(scope: str, claude_says: str) -> None:
        (view,) = json.loads(ok("mcp", "list", "--project", str(project), "--json").out)
        assert view["effective"] == scope
        assert f"Scope: {claude_says}" in claude("get", "tiny", cwd=project)

    agree("local", "Local config")
    ok("mcp", "undeploy", "tiny", "--scope", "local", "--project", str(project))
    # A project server nobody approved yet loses to the user's definition of the same name.
    agree("user", "User config")
    table = ok("mcp", "list", "--project", str(project)).out.splitlines()
    assert table[1].split() == ["tiny", "mcp/tiny", "-", "deployed", "(pending)", "deployed", "-",
                                "user"]
    data = json.loads(claude_json().read_text())
    data["projects"][str(project)]["hasTrustDialogAccepted"] = True
    claude_json().write_text(json.dumps(data, indent=2))
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.local.json").write_text('{"enabledMcpjsonServers": ["tiny"]}')
    agree("project", "Project config")
    ok("mcp", "undeploy", "tiny", "--scope", "user")
    agree("project", "Project config")


def test_a_full_claude_json_comes_back_byte_identical_after_deploy_and_rollback(
        server: Path, project: Path) -> None:
    original = rich_claude_json(project)
    ok("mcp", "deploy", "tiny", "--scope", "user")
    ok("mcp", "deploy", "tiny", "--scope", "local", "--project", str(project))
    deployed = json.loads(claude_json().read_text())
    assert set(deployed["mcpServers"]) == {"github", "tiny"}
    assert set(deployed["projects"][str(project)]["mcpServers"]) == {"tiny"}
    ok("mcp", "rollback", "--target", "local", "--project", str(project))
    restored = ok("mcp", "rollback", "--target", "user")
    assert "restored ~/.claude.json from backup" in restored.out
    assert claude_json().read_bytes() == original
    listed = json.loads(ok("mcp", "list", "--project", str(project), "--json").out)
    assert {v["name"]: v["scopes"] for v in listed}["tiny"] == {}


def test_deploy_then_undeploy_changes_only_our_entry(server: Path, project: Path) -> None:
    original = rich_claude_json(project)
    ok("mcp", "deploy", "tiny", "--scope", "user")
    deployed = claude_json().read_bytes()
    assert deployed.startswith(original[:original.index(b'"github"')])
    assert deployed.endswith(original[original.index(b'\n  },\n  "projects"'):])
    second = ok("mcp", "deploy", "tiny", "--scope", "user")
    assert second.out == "no change: tiny already in ~/.claude.json (user)\n"
    assert claude_json().read_bytes() == deployed
    assert len(json.loads(ok("mcp", "rollback", "--list", "--json").out)[0]["backups"]) == 1
    ok("mcp", "undeploy", "tiny", "--scope", "user")
    assert claude_json().read_bytes() == original


def test_dry_run_prints_the_diff_and_writes_nothing(server: Path, project: Path) -> None:
    result = ok("mcp", "deploy", "tiny", "--scope", "project", "--project", str(project), "--dry-run")
    assert '+      "command": ' in result.out and "dry run: nothing written" in result.out
    assert not (project / ".mcp.json").exists()
    assert ok("mcp", "rollback", "--list").out == "no MCP config backups yet\n"


def test_invalid_json_is_refused_untouched_with_one_line(server: Path) -> None:
    claude_json().write_bytes(b'{"numStartups": 3,\n  "theme": }\n')
    result = skillmeat("mcp", "deploy", "tiny", "--scope", "user")
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and "is not valid JSON" in result.err
    assert str(claude_json()) in result.err and "Traceback" not in result.err
    assert claude_json().read_bytes() == b'{"numStartups": 3,\n  "theme": }\n'


def test_a_symlinked_claude_json_is_written_through_and_keeps_its_mode(server: Path,
                                                                       tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "claude.json"
    real.parent.mkdir()
    real.write_text('{\n    "theme": "light"\n}\n')
    real.chmod(0o640)
    claude_json().symlink_to(real)
    ok("mcp", "deploy", "tiny", "--scope", "user")
    assert claude_json().is_symlink() and os.readlink(claude_json()) == str(real)
    assert real.stat().st_mode & 0o777 == 0o640
    text = real.read_text()
    assert text.startswith('{\n    "theme": "light",\n    "mcpServers": {\n        "tiny": {\n')
    assert text.endswith("\n}\n")  # the file's own 4-space style and final newline
    ok("mcp", "rollback")
    assert claude_json().is_symlink() and real.read_text() == '{\n    "theme": "light"\n}\n'


def test_backups_are_pruned_to_the_configured_count(server: Path) -> None:
    config = Path(os.environ["SKILLMEAT_HOME"]) / "config.toml"
    config.write_text(config.read_text() + "\n[mcp]\nbackups = 3\n")
    for _ in range(3):
        ok("mcp", "deploy", "tiny", "--scope", "user")
        ok("mcp", "undeploy", "tiny", "--scope", "user")
    (listing,) = json.loads(ok("mcp", "rollback", "--list", "--json").out)
    assert [b["action"] for b in listing["backups"]] == ["undeploy", "deploy", "undeploy"]
    folder = Path(os.environ["SKILLMEAT_HOME"]) / "state" / "backups" / listing["slug"]
    assert len(list(folder.glob("2*.json"))) == 3


def test_concurrent_deploys_are_serialized(server: Path, tmp_path: Path) -> None:
    src = tmp_path / "more" / "mcp"
    src.mkdir(parents=True)
    for i in range(6):
        (src / f"s{i}.toml").write_text(f'command = "python3"\nargs = ["s{i}.py"]\n')
    ok("add", str(src.parent), "--all")
    procs = [subprocess.Popen([sys.executable, "-m", "skillmeat", "mcp", "deploy", f"s{i}",
                               "--scope", "user"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(6)]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    for p in procs:
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()
    assert [code for code, _ in outcomes] == [0] * 6, outcomes
    servers = json.loads(claude_json().read_text())["mcpServers"]
    assert sorted(servers) == [f"s{i}" for i in range(6)]
    (listing,) = json.loads(ok("mcp", "rollback", "--list", "--json").out)
    assert len(listing["backups"]) == 6


def test_list_shows_defined_and_deployed_per_scope(server: Path, project: Path) -> None:
    claude_json().write_text(json.dumps({"mcpServers": {"mine": {"command": "node"}}}, indent=2))
    ok("mcp", "deploy", "tiny", "--scope", "project", "--project", str(project))
    lines = ok("mcp", "list", "--project", str(project)).out.splitlines()
    assert lines[0].split() == ["SERVER", "DEFINED", "LOCAL", "PROJECT", "USER", "DESKTOP", "CLAUDE",
                                "CODE", "USES"]
    assert lines[1].split() == ["mine", "-", "-", "-", "unmanaged", "-", "user"]
    assert lines[2].split() == ["tiny", "mcp/tiny", "-", "deployed", "(pending)", "-", "-", "project",
                                "(pending)"]
    refused = skillmeat("mcp", "undeploy", "mine", "--scope", "user")
    assert refused.code == 1 and "did not deploy 'mine'" in refused.err


def test_claude_config_dir_moves_the_user_file_for_both(server: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir = tmp_path / "claude-config"
    config_dir.mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config_dir))
    result = ok("mcp", "deploy", "tiny", "--scope", "user")
    assert f"+++ {config_dir / '.claude.json'}" in result.out and not claude_json().exists()
    assert "Scope: User config" in claude("get", "tiny", cwd=tmp_path)
