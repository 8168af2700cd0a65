"""skillmeat-mcp-check: mcp/*.toml definitions and .mcp.json files, transport fields and no
literal secrets; one line per problem, ``path: server NAME: ...``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.helpers import tree_state
from tests.hooks.teamrepo import hook, team_repo, write

TOKEN = "ghp_" + "a1B2c3D4e5" * 4


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return team_repo(tmp_path)


def test_definitions_made_by_skillmeat_pass(team: Path) -> None:
    ok("mcp", "add", "gh", "--env", "GITHUB_TOKEN=${GITHUB_TOKEN}", "--", "npx", "gh-mcp", cwd=team)
    ok("mcp", "add", "api", "--url", "https://example.com/mcp", "--header",
       "Authorization=Bearer ${API_TOKEN}", cwd=team)
    write(team, "mcp/acme/notes.toml", "command = 'notes-server'\n")  # plugin-namespaced
    write(team, ".mcp.json", json.dumps({"mcpServers": {
        "local": {"type": "stdio", "command": "npx", "args": ["-y", "x"],
                  "env": {"TOKEN": "${TOKEN:-}"}},
        "remote": {"type": "http", "url": "https://example.com/mcp",
                   "headers": {"X-Api-Key": "${API_KEY}"}}}}))
    files = [p.relative_to(team).as_posix() for p in (team / "mcp").rglob("*.toml")]
    before = tree_state(team)
    ran = hook("mcp-check", *files, ".mcp.json", cwd=team)
    assert (ran.code, ran.out, ran.err) == (0, "", ""), ran
    assert len(files) == 5
    assert tree_state(team) == before


def test_each_problem_is_one_line_naming_the_server(team: Path) -> None:
    write(team, "mcp/gh.toml", f"command = 'npx'\n[env]\nGITHUB_TOKEN = '{TOKEN}'\n")
    write(team, "mcp/acme/pigeon.toml", "transport = 'carrier-pigeon'\n")
    write(team, "mcp/web.toml", "transport = 'sse'\n")
    write(team, "mcp/ftp.toml", "transport = 'http'\nurl = 'ftp://example.com'\n")
    write(team, "mcp/broken.toml", "transport = \n")
    write(team, "project/.mcp.json", json.dumps({"mcpServers": {
        "api": {"type": "http", "url": "https://example.com",
                "headers": {"Authorization": "Bearer sk-ant-" + "x1Y2z3" * 5}},
        "odd": 3, "no-url": {"type": "http"}}}))
    ran = hook("mcp-check", "mcp/gh.toml", "mcp/acme/pigeon.toml", "mcp/web.toml",
               "mcp/ftp.toml", "mcp/broken.toml", "project/.mcp.json", cwd=team)
    assert ran.code == 1 and ran.err == "", ran
    lines = ran.out.splitlines()
    assert lines == [
        "mcp/gh.toml: server gh: env.GITHUB_TOKEN looks like a literal secret (hint: write a "
        "reference such as ${GITHUB_TOKEN} instead (Claude Code expands it from the environment); "
        "a literal stays in the repository's history)",
        "mcp/acme/pigeon.toml: server acme:pigeon: transport 'carrier-pigeon' is not one of stdio, "
        "http (streamable-http), sse, ws (hint: stdio needs command (and args); http, sse and ws "
        "need url)",
        "mcp/web.toml: server web: an sse server needs a 'url' (hint: stdio needs command (and "
        "args); http, sse and ws need url)",
        "mcp/ftp.toml: server ftp: url 'ftp://example.com' is not an http(s):// or ws(s):// URL "
        "(hint: stdio needs command (and args); http, sse and ws need url)",
        lines[4],
        "project/.mcp.json: server api: headers.Authorization looks like a literal secret (hint: "
        "write a reference such as Bearer ${API_TOKEN} instead (Claude Code expands it from the "
        "environment); a literal stays in the repository's history)",
        "project/.mcp.json: server odd: not a JSON object (hint: give it type and command (stdio) "
        "or url (http, sse))",
        "project/.mcp.json: server no-url: an http server needs a 'url' (hint: stdio needs command "
        "(and args); http, sse and ws need url)",
    ]
    assert lines[4].startswith("mcp/broken.toml: invalid TOML (") and "(hint: fix the TOML" in lines[4]
    assert TOKEN not in ran.out  # the secret itself is never echoed


@pytest.mark.parametrize("text, words", [
    ("[", "invalid JSON"),
    ('{"servers": {}}', 'no "mcpServers" object'),
    ('["a"]', 'no "mcpServers" object'),
])
def test_malformed_mcp_json(team: Path, text: str, words: str) -> None:
    write(team, ".mcp.json", text)
    ran = hook("mcp-check", ".mcp.json", cwd=team)
    assert ran.code == 1 and ran.out.startswith(".mcp.json: ") and words in ran.out, ran
    assert ran.out.count("\n") == 1


def test_short_literals_under_secret_names_are_secrets(team: Path) -> None:
    """Review finding 18: low entropy does not make a password safe to commit."""
    write(team, "mcp/db.toml", "command = 'db-mcp'\n[env]\nDB_PASSWORD = 'correct-horse-battery'\n"
          "GITHUB_TOKEN = 'abc123'\nDATABASE_URL = 'postgres://app:hunter2@db/app'\n"
          "DB_PASSWORD_FILE = '/run/secrets/db'\nAUTH_URL = 'https://auth.example.com'\n"
          "TOKEN_TTL = '3600'\nDEBUG = 'true'\nPRIVATE_MODE = '1'\nAPI_KEY = ''\n")
    write(team, ".mcp.json", json.dumps({"mcpServers": {"api": {
        "type": "http", "url": "https://user:pw@example.com/mcp",
        "headers": {"x-api-key": "s3cr3t", "Authorization": "Bearer abc", "Accept": "json"}}}}))
    ran = hook("mcp-check", "mcp/db.toml", ".mcp.json", cwd=team)
    assert ran.code == 1, ran
    flagged = [ln.split(" looks like")[0] for ln in ran.out.splitlines()]
    assert flagged == ["mcp/db.toml: server db: env.DB_PASSWORD",
                       "mcp/db.toml: server db: env.GITHUB_TOKEN",
                       "mcp/db.toml: server db: env.DATABASE_URL",
                       ".mcp.json: server api: headers.x-api-key",
                       ".mcp.json: server api: headers.Authorization",
                       ".mcp.json: server api: url"]
    for secret in ("correct-horse", "abc123", "hunter2", "s3cr3t"):
        assert secret not in ran.out
    write(team, "mcp/db.toml", "command = 'db-mcp'\n[env]\nDB_PASSWORD = '${DB_PASSWORD}'\n"
          "GITHUB_TOKEN = '${GITHUB_TOKEN:-}'\nDATABASE_URL = 'postgres://app:${DB_PASSWORD}@db/app'\n")
    assert hook("mcp-check", "mcp/db.toml", cwd=team).code == 0
