"""`mcp add`, `mcp import` and `mcp config` through the real CLI, on real files."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.cli.runner import Result, ok, skillmeat
from tests.helpers import git, tree_state

TOKEN = "ghp_" + "Zy9Xw8Vu7Ts6Rq5Po4Nm" * 2


@pytest.fixture
def coll(tmp_path: Path) -> Path:
    ok("collection", "create", "team")
    return Path(os.environ["SKILLMEAT_HOME"]) / "collections" / "team"


def state(coll: Path) -> tuple[dict[str, bytes], str]:
    return tree_state(coll), git("rev-parse", "HEAD", cwd=coll).strip()


def definition(coll: Path, name: str) -> dict[str, Any]:
    return tomllib.loads((coll / "mcp" / f"{name}.toml").read_text())


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def one_error_line(result: Result, code: int) -> str:
    assert result.code == code, result.err
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillmeat: error: "), result.err
    return lines[0]


def test_add_stdio_and_url_servers_then_show_and_validate(coll: Path) -> None:
    out = ok("mcp", "add", "memory", "--description", "Graph memory", "--env",
             "MEMORY_FILE=${MEMORY_FILE:-/tmp/memory.jsonl}", "--",
             "npx", "-y", "@modelcontextprotocol/server-memory").out
    assert out == "Defined mcp/memory (stdio: npx -y @modelcontextprotocol/server-memory)\n"
    ok("mcp", "add", "docs", "--url", "https://docs.example.com/mcp", "--transport", "streamable-http",
       "--header", "Authorization=Bearer ${DOCS_TOKEN}")
    assert definition(coll, "memory") == {
        "transport": "stdio", "description": "Graph memory", "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-memory"],
        "env": {"MEMORY_FILE": "${MEMORY_FILE:-/tmp/memory.jsonl}"}}
    shown = ok("mcp", "config", "show", "docs").out
    assert shown == (coll / "mcp/docs.toml").read_text()
    as_json = json.loads(ok("mcp", "config", "show", "docs", "--json").out)
    assert as_json["claude"] == {"type": "http", "url": "https://docs.example.com/mcp",
                                 "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}
    assert "0 errors" in ok("validate").err
    listed = json.loads(ok("list", "--type", "mcp", "--json").out)
    assert [e["id"] for e in listed] == ["mcp/docs", "mcp/memory"]
    log = git("log", "--format=%s", cwd=coll).splitlines()
    assert log[:2] == ["Add MCP server mcp/docs", "Add MCP server mcp/memory"]
    lock = tomllib.loads((coll / "skillmeat.lock").read_text())["artifacts"]
    assert set(lock) == {"mcp/docs", "mcp/memory"}
    assert git("status", "--porcelain", cwd=coll) == ""


@pytest.mark.parametrize("args", [
    ("mcp", "add", "x"),
    ("mcp", "add", "x", "--url", "https://x.example", "--", "npx", "pkg"),
    ("mcp", "add", "x", "--env", "A=1", "--url", "https://x.example"),
    ("mcp", "add", "x", "--header", "A=1", "--", "npx"),
    ("mcp", "add", "x", "--env", "NOEQUALS", "--", "npx"),
    ("mcp", "add", "x", "--transport", "pigeon", "--url", "https://x.example"),
])
def test_add_usage_errors_exit_2_and_write_nothing(coll: Path, args: tuple[str, ...]) -> None:
    before = state(coll)
    result = skillmeat(*args)
    assert result.code == 2, result.err
    assert state(coll) == before


@pytest.mark.parametrize("pair", ["DB_PASSWORD=correct-horse-battery", "GITHUB_TOKEN=abc123",
                                  "OPENAI_API_KEY=short"])
def test_add_refuses_a_short_literal_under_a_secret_name(coll: Path, pair: str) -> None:
    before = state(coll)
    line = one_error_line(skillmeat("mcp", "add", "db", "--env", pair, "--", "db-mcp"), 2)
    key, _, value = pair.partition("=")
    assert f"mcp/db: env.{key} looks like a literal secret" in line and value not in line
    assert f"${{{key}}}" in line
    assert state(coll) == before
    ok("mcp", "add", "db", "--env", f"{key}=${{{key}}}", "--env", "DEBUG=true", "--env",
       "DB_PASSWORD_FILE=/run/secrets/db", "--", "db-mcp")


def test_add_refuses_a_literal_secret_unless_allowed(coll: Path) -> None:
    before = state(coll)
    result = skillmeat("mcp", "add", "github", "--env", f"GITHUB_TOKEN={TOKEN}", "--",
                       "npx", "-y", "@modelcontextprotocol/server-github")
    line = one_error_line(result, 2)
    assert "env.GITHUB_TOKEN looks like a literal secret" in line
    assert "${GITHUB_TOKEN}" in line and "--allow-literal-secret" in line
    assert TOKEN not in result.err + result.out
    assert state(coll) == before
    ok("mcp", "add", "github", "--allow-literal-secret", "--env", f"GITHUB_TOKEN={TOKEN}", "--",
       "npx", "-y", "@modelcontextprotocol/server-github")
    assert definition(coll, "github")["env"] == {"GITHUB_TOKEN": TOKEN}


def test_add_an_existing_name(coll: Path) -> None:
    ok("mcp", "add", "memory", "--", "npx", "server-memory")
    same = ok("mcp", "add", "memory", "--", "npx", "server-memory")
    assert "already defined like this" in same.out
    before = state(coll)
    line = one_error_line(skillmeat("mcp", "add", "memory", "--", "uvx", "other"), 1)
    assert "mcp/memory is already defined, differently" in line and "--force" in line
    assert state(coll) == before
    ok("mcp", "add", "memory", "--force", "--", "uvx", "other")
    assert definition(coll, "memory")["command"] == "uvx"


# --- import ---

def test_import_both_mcp_json_shapes(coll: Path, tmp_path: Path) -> None:
    wrapped = write_json(tmp_path / "app" / ".mcp.json", {"mcpServers": {
        "fs": {"type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem",
                                                           "."], "env": {}},
        "api": {"type": "http", "url": "https://api.example.com/mcp", "headers": {"X-Key": "${API_KEY}"}}}})
    bare = write_json(tmp_path / "plugin" / ".mcp.json", {
        "context7": {"command": "npx", "args": ["-y", "@upstash/context7-mcp"]}})
    listed = skillmeat("mcp", "import", str(wrapped))
    assert "holds 2 MCP servers: fs, api" in one_error_line(listed, 2)
    dry = ok("mcp", "import", str(wrapped), "--all", "--dry-run").out
    assert "Would import 2 MCP servers" in dry and "mcp/fs  <- mcpServers.fs" in dry
    assert not (coll / "mcp").exists()
    out = ok("mcp", "import", str(wrapped), "--all").out
    assert out == f"Imported 2 MCP servers from {wrapped} [.mcp.json]: mcp/fs, mcp/api\n"
    ok("mcp", "import", str(bare))
    assert definition(coll, "context7") == {"transport": "stdio", "command": "npx",
                                            "args": ["-y", "@upstash/context7-mcp"]}
    assert definition(coll, "api")["headers"] == {"X-Key": "${API_KEY}"}
    again = ok("mcp", "import", str(wrapped), "--all").out
    assert again.startswith("Nothing to import") and "2 already defined like this" in again


def test_import_a_full_claude_json_from_home(coll: Path, isolated_home: Path) -> None:
    user = isolated_home / "user"
    data = {
        "numStartups": 187, "installMethod": "npm-global", "autoUpdates": True, "theme": "dark",
        "tipsHistory": {"new-user-warmup": 1, "memory-command": 12},
        "userID": "5f0c" * 16, "firstStartTime": "2025-03-01T09:12:44.120Z",
        "mcpServers": {"memory": {"type": "stdio", "command": "npx",
                                  "args": ["-y", "@modelcontextprotocol/server-memory"], "env": {}}},
        "projects": {
            str(user / "code" / "app"): {
                "allowedTools": [], "history": [{"display": "fix the tests", "pastedContents": {}}],
                "mcpContextUris": [], "enabledMcpjsonServers": [], "hasTrustDialogAccepted": True,
                "mcpServers": {"postgres": {"type": "stdio", "command": "npx",
                                            "args": ["-y", "@modelcontextprotocol/server-postgres",
                                                     "postgresql://localhost/app"], "env": {}},
                               "sentry": {"type": "http", "url": "https://mcp.sentry.dev/mcp"}}},
            str(user / "code" / "site"): {"allowedTools": ["Bash(npm test)"], "mcpServers": {}},
        },
    }
    claude_json = write_json(user / ".claude.json", data)
    original = claude_json.read_bytes()
    out = ok("mcp", "import", "~/.claude.json", "--all", "--json").out
    result = json.loads(out)
    assert result["kind"] == "~/.claude.json"
    assert result["imported"] == ["mcp/memory", "mcp/postgres", "mcp/sentry"]
    assert [s["origin"] for s in result["servers"]] == [
        "mcpServers.memory", f'projects["{user / "code" / "app"}"].mcpServers.postgres',
        f'projects["{user / "code" / "app"}"].mcpServers.sentry']
    assert definition(coll, "sentry") == {"transport": "http", "url": "https://mcp.sentry.dev/mcp"}
    assert claude_json.read_bytes() == original  # import only reads it
    assert git("log", "-1", "--format=%s", cwd=coll).strip() == f"Import 3 MCP servers from {claude_json}"


def test_import_claude_json_name_clashes_across_projects(coll: Path, isolated_home: Path) -> None:
    write_json(isolated_home / "user" / ".claude.json", {"projects": {
        "/srv/a": {"mcpServers": {"db": {"command": "pg-mcp"}}},
        "/srv/b": {"mcpServers": {"db": {"command": "mysql-mcp"}}}}})
    before = state(coll)
    line = one_error_line(skillmeat("mcp", "import", "~/.claude.json", "--all"), 2)
    assert "server 'db' is defined differently" in line and "--project PATH" in line
    assert state(coll) == before
    ok("mcp", "import", "~/.claude.json", "--project", "/srv/b")
    assert definition(coll, "db")["command"] == "mysql-mcp"


def test_import_claude_desktop_config(coll: Path, isolated_home: Path) -> None:
    desktop = write_json(isolated_home / "user" / ".config" / "Claude" / "claude_desktop_config.json", {
        "mcpServers": {"filesystem": {"command": "npx", "args": [
            "-y", "@modelcontextprotocol/server-filesystem", "/home/ada/Desktop"]}},
        "globalShortcut": "Alt+Space"})
    out = ok("mcp", "import", str(desktop)).out
    assert "[Claude Desktop config]: mcp/filesystem" in out
    assert definition(coll, "filesystem")["args"][-1] == "/home/ada/Desktop"


SERVER_JSON: dict[str, Any] = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": "io.github.github/github-mcp-server",
    "title": "GitHub",
    "description": "Connect AI assistants to GitHub - manage repos, issues, PRs, and workflows.",
    "repository": {"url": "https://github.com/github/github-mcp-server", "source": "github"},
    "version": "0.26.3",
    "packages": [{
        "registryType": "oci",
        "identifier": "ghcr.io/github/github-mcp-server:0.26.3",
        "transport": {"type": "stdio"},
        "runtimeArguments": [
            {"type": "named", "name": "-e", "value": "GITHUB_TOOLSETS={toolsets}",
             "variables": {"toolsets": {"description": "Toolsets to enable", "default": "default"}}}],
        "environmentVariables": [
            {"name": "GITHUB_PERSONAL_ACCESS_TOKEN", "description": "Your GitHub personal access token",
             "isRequired": True, "isSecret": True, "format": "string"},
            {"name": "GITHUB_HOST", "description": "GitHub Enterprise host", "format": "string"}],
    }],
    "remotes": [{
        "type": "streamable-http",
        "url": "https://api.githubcopilot.com/mcp/",
        "headers": [{"name": "Authorization", "description": "A GitHub personal access token",
                     "value": "Bearer {token}", "isRequired": True, "isSecret": True,
                     "variables": {"token": {"isRequired": True, "isSecret": True}}}],
    }],
    "_meta": {"io.modelcontextprotocol.registry/publisher-provided": {"tool": "mcp-publisher"}},
}


def test_import_a_registry_server_json(coll: Path, tmp_path: Path) -> None:
    src = write_json(tmp_path / "github-mcp-server" / "server.json", SERVER_JSON)
    dry = ok("mcp", "import", str(src.parent), "--all", "--dry-run").out
    assert "mcp/github-mcp-server-oci  <- packages[0]  (stdio: docker run -i --rm" in dry
    assert "mcp/github-mcp-server-http  <- remotes[0]  (http: https://api.githubcopilot.com/mcp/)" in dry
    out = ok("mcp", "import", str(src), "--name", "*-oci", "--as", "github").out
    assert out == f"Imported 1 MCP server from {src} [server.json]: mcp/github\n"
    assert definition(coll, "github") == {
        "transport": "stdio",
        "description": SERVER_JSON["description"],
        "command": "docker",
        "args": ["run", "-i", "--rm", "-e", "GITHUB_TOOLSETS=${TOOLSETS:-default}",
                 "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "-e", "GITHUB_HOST",
                 "ghcr.io/github/github-mcp-server:0.26.3"],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}"}}
    ok("mcp", "import", str(src), "--name", "*-http", "--as", "github-remote")
    assert definition(coll, "github-remote")["headers"] == {"Authorization": "Bearer ${TOKEN}"}
    lock = tomllib.loads((coll / "skillmeat.lock").read_text())["artifacts"]["mcp/github"]
    assert (lock["source"], lock["path"], lock["version"]) == (str(src), "packages[0]", "0.26.3")
    assert "0 errors" in ok("validate").err


def test_import_refuses_a_literal_secret_unless_allowed(coll: Path, tmp_path: Path) -> None:
    src = write_json(tmp_path / ".mcp.json", {"mcpServers": {
        "ok": {"command": "a"},
        "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                   "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": TOKEN}}}})
    before = state(coll)
    result = skillmeat("mcp", "import", str(src), "--all")
    line = one_error_line(result, 2)
    assert "mcp/github: env.GITHUB_PERSONAL_ACCESS_TOKEN looks like a literal secret" in line
    assert "${GITHUB_PERSONAL_ACCESS_TOKEN}" in line and TOKEN not in result.err
    assert state(coll) == before  # all or nothing: "ok" was not written either
    ok("mcp", "import", str(src), "--all", "--allow-literal-secret")
    assert sorted(p.name for p in (coll / "mcp").iterdir()) == ["github.toml", "ok.toml"]


@pytest.mark.parametrize("text", [
    '{"mcpServers": {"fs": {"command": "npx",}}}',
    '{"mcpServers": ',
    "",
    "[]",
])
def test_import_malformed_json_changes_nothing(coll: Path, tmp_path: Path, text: str) -> None:
    src = tmp_path / "project" / ".mcp.json"
    src.parent.mkdir()
    src.write_text(text)
    before = state(coll)
    result = skillmeat("mcp", "import", str(src), "--all")
    line = one_error_line(result, 2)
    assert str(src) in line
    assert result.out == ""
    assert state(coll) == before


def test_import_a_source_that_is_not_there(coll: Path, tmp_path: Path) -> None:
    line = one_error_line(skillmeat("mcp", "import", str(tmp_path / "nope.json")), 1)
    assert "no such file or directory" in line


# --- config ---

EDITOR = """\
import pathlib, sys
path = pathlib.Path(sys.argv[1])
mode = {mode!r}
if mode == "pin":
    path.write_text(path.read_text().replace('"@modelcontextprotocol/server-memory"',
                                             '"@modelcontextprotocol/server-memory@2025.11.25"')
                    + "# pinned by ada\\n")
elif mode == "break":
    path.write_text('transport = "stdio"\\nargs = "not a list"\\n')
elif mode == "secret":
    path.write_text(path.read_text() + '\\n[env]\\nTOKEN = "{token}"\\n')
elif mode == "fail":
    sys.exit(3)
"""


def editor(tmp_path: Path, mode: str) -> dict[str, str]:
    script = tmp_path / f"editor-{mode}.py"
    script.write_text(EDITOR.format(mode=mode, token=TOKEN))
    return {"EDITOR": f"{sys.executable} {script}", "VISUAL": ""}


def run_with(env: dict[str, str], *args: str) -> Result:
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "skillmeat", *args], env={**os.environ, **env},
                          capture_output=True, text=True, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_config_edit_commits_a_valid_change_and_refuses_an_invalid_one(coll: Path, tmp_path: Path) -> None:
    ok("mcp", "add", "memory", "--", "npx", "-y", "@modelcontextprotocol/server-memory")
    unchanged = run_with(editor(tmp_path, "nothing"), "mcp", "config", "edit", "memory")
    assert unchanged.code == 0 and unchanged.out == "mcp/memory: unchanged\n"
    before = state(coll)
    broken = run_with(editor(tmp_path, "break"), "mcp", "config", "edit", "memory")
    line = one_error_line(broken, 2)
    assert "'args' must be an array of strings; nothing was written" in line
    assert state(coll) == before
    secret = run_with(editor(tmp_path, "secret"), "mcp", "config", "edit", "memory")
    assert "env.TOKEN looks like a literal secret" in one_error_line(secret, 2)
    assert state(coll) == before
    failed = run_with(editor(tmp_path, "fail"), "mcp", "config", "edit", "memory")
    assert "Editing failed; nothing was written" in one_error_line(failed, 1)
    assert state(coll) == before
    edited = run_with(editor(tmp_path, "pin"), "mcp", "config", "edit", "memory")
    assert edited.code == 0 and edited.out.startswith("mcp/memory: edited (commit ")
    text = (coll / "mcp/memory.toml").read_text()
    assert text.endswith("# pinned by ada\n") and "server-memory@2025.11.25" in text
    assert git("log", "-1", "--format=%s", cwd=coll).strip() == "mcp/memory: edit"
    assert git("status", "--porcelain", cwd=coll) == ""


def test_config_set_and_unset(coll: Path) -> None:
    ok("mcp", "add", "memory", "--", "npx", "-y", "@modelcontextprotocol/server-memory")
    assert ok("mcp", "config", "set", "memory", "env.MEMORY_FILE", "${MEMORY_FILE}").out.startswith(
        "mcp/memory: set env.MEMORY_FILE (commit ")
    ok("mcp", "config", "set", "memory", "args", '["-y", "@modelcontextprotocol/server-memory@1"]')
    assert ok("mcp", "config", "set", "memory", "command", "npx").out == "mcp/memory: unchanged\n"
    before = state(coll)
    assert "env.T looks like a literal secret" in one_error_line(
        skillmeat("mcp", "config", "set", "memory", "env.T", TOKEN), 2)
    assert "unknown key 'colour'" in one_error_line(
        skillmeat("mcp", "config", "set", "memory", "colour", "red"), 2)
    assert "needs a 'url'" in one_error_line(
        skillmeat("mcp", "config", "set", "memory", "transport", "http"), 2)
    assert "no artifact 'nope'" in one_error_line(skillmeat("mcp", "config", "show", "nope"), 1)
    assert state(coll) == before
    ok("mcp", "config", "unset", "memory", "env.MEMORY_FILE")
    assert definition(coll, "memory") == {"transport": "stdio", "command": "npx",
                                          "args": ["-y", "@modelcontextprotocol/server-memory@1"]}
    subjects = git("log", "--format=%s", cwd=coll).splitlines()
    assert subjects[:3] == ["mcp/memory: unset env.MEMORY_FILE", "mcp/memory: set args",
                            "mcp/memory: set env.MEMORY_FILE"]
