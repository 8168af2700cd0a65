"""A collection exported as a Claude Code marketplace, judged by Claude Code's own CLI:
``claude plugin validate`` on the marketplace and on each plugin, then
``claude plugin marketplace add`` and ``claude plugin install`` in an isolated home, offline
(proxies point at a closed port), with the installed files compared to the collection's.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.model.mcp import McpServer
from skillmeat.services.artifacts import Selection, add
from skillmeat.services.claude_export import (
    MARKER,
    ClaudeExport,
    export_claude_marketplace,
    kebab,
)
from skillmeat.services.collections import create_collection
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.helpers import CORPUS, EXAMPLES, claude_cli

CORPUS_PLUGINS = ("backend-development:*", "protect-mcp:*")
GUARD_TOML = ('description = "Stop guard"\n\n[[hooks.Stop]]\n\n[[hooks.Stop.hooks]]\n'
              'type = "command"\ncommand = "${CLAUDE_PLUGIN_ROOT}/hooks/guard/run.sh"\n')
MALFORMED = "command/deploy-check"  # invalid YAML frontmatter on purpose (examples/README.md)


def aid(text: str) -> ArtifactId:
    return ArtifactId.parse(text)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def store(home: Home, tmp_path: Path) -> CollectionStore:
    """Examples, a hook with an executable script, and two plugins from the shared corpus."""
    store = create_collection(home, "team-tools")
    add(home, store, str(EXAMPLES), selection=Selection(all=True))
    src = write(tmp_path / "guard-src", {"hooks/guard.toml": GUARD_TOML,
                                         "hooks/guard/run.sh": "#!/bin/sh\nexit 0\n"})
    (src / "hooks/guard/run.sh").chmod(0o755)
    add(home, store, str(src))
    assert CORPUS.is_dir(), f"the shared corpus is needed at {CORPUS}"
    add(home, store, str(CORPUS), selection=Selection(names=CORPUS_PLUGINS))
    return store


def claude(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(claude_cli()), *args], capture_output=True, text=True,
                          timeout=60, check=False, env=env or offline_env())


def offline_env() -> dict[str, str]:
    """Claude Code in the test's HOME, with updates, telemetry and the network shut off."""
    home = Path(os.environ["HOME"])
    dead = "http://127.0.0.1:9"
    return {**os.environ, "CLAUDE_CONFIG_DIR": str(home / ".claude"), "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "HTTPS_PROXY": dead,
            "HTTP_PROXY": dead, "https_proxy": dead, "http_proxy": dead, "NO_PROXY": "",
            "no_proxy": ""}


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def expected_plugin_files(store: CollectionStore, done: ClaudeExport, plugin: str) -> dict[str, bytes]:
    """What the plugin must hold, byte for byte, straight from the collection's files."""
    out: dict[str, bytes] = {}
    for text in done.plugins[plugin]:
        a = aid(text)
        parent = store.path / a.relpath.rsplit("/", 1)[0]
        if a.type is ArtifactType.SKILL:
            for path, data in files_under(store.path / a.relpath).items():
                out[f"skills/{a.base}/{path}"] = data
        elif a.type in (ArtifactType.COMMAND, ArtifactType.AGENT):
            out[f"{a.type.directory}/{a.base}.md"] = (store.path / a.relpath).read_bytes()
        elif a.type is ArtifactType.HOOK and (parent / a.base).is_dir():
            for path, data in files_under(parent / a.base).items():
                out[f"hooks/{a.base}/{path}"] = data
    return out


def test_export_writes_a_marketplace_of_one_plugin_per_namespace(
    store: CollectionStore, tmp_path: Path
) -> None:
    done = export_claude_marketplace(store, tmp_path / "market")
    out = tmp_path / "market"
    assert done.out == out and done.marketplace == "team-tools"
    assert sorted(done.plugins) == ["backend-development", "protect-mcp", "team-tools"]
    assert "agent/code-reviewer" in done.plugins["team-tools"]
    assert "hook/guard" in done.plugins["team-tools"]
    assert all(i.startswith(("agent/backend-development:", "command/backend-development:",
                             "skill/backend-development:"))
               for i in done.plugins["backend-development"])

    catalog = json.loads((out / ".claude-plugin/marketplace.json").read_text())
    assert catalog["name"] == "team-tools" and catalog["owner"] == {"name": "team-tools"}
    assert [(p["name"], p["source"], p["version"]) for p in catalog["plugins"]] == [
        (name, f"./plugins/{name}", "0.1.0") for name in sorted(done.plugins)]
    for name in done.plugins:
        root = out / "plugins" / name
        meta = json.loads((root / ".claude-plugin/plugin.json").read_text())
        assert meta["name"] == name and meta["version"] == "0.1.0"
        assert meta["author"] == {"name": "team-tools"} and meta["description"]
        got = {k: v for k, v in files_under(root).items()
               if not k.startswith(".claude-plugin/") and k not in ("hooks/hooks.json", ".mcp.json")}
        assert got == expected_plugin_files(store, done, name)

    team = out / "plugins/team-tools"
    assert os.access(team / "hooks/guard/run.sh", os.X_OK)
    hooks = json.loads((team / "hooks/hooks.json").read_text())["hooks"]
    fmt = tomllib.loads((store.path / "hooks/format-on-save.toml").read_text())["hooks"]
    guard = tomllib.loads(GUARD_TOML)["hooks"]
    assert hooks == {**fmt, **guard}
    servers = json.loads((team / ".mcp.json").read_text())["mcpServers"]
    assert servers == {n: McpServer.from_toml(n, (store.path / f"mcp/{n}.toml").read_text())
                       .to_claude() for n in ("docs-search", "filesystem")}
    protect = json.loads((out / "plugins/protect-mcp/hooks/hooks.json").read_text())
    assert set(protect["hooks"]) == {"PreToolUse", "PostToolUse"}
    assert not (out / "plugins/backend-development/hooks").exists()
    assert not (out / "plugins/backend-development/.mcp.json").exists()
    assert json.loads((out / MARKER).read_text())["commit"] == store.repo.head()


def test_claude_validates_the_marketplace_and_every_plugin(
    store: CollectionStore, tmp_path: Path
) -> None:
    ids = [a for a in store.artifacts_in_worktree() if str(a) != MALFORMED]
    done = export_claude_marketplace(store, tmp_path / "market", ids=ids)
    assert MALFORMED not in done.plugins["team-tools"]
    for path in [done.out, *(done.out / "plugins" / p for p in done.plugins)]:
        result = claude("plugin", "validate", str(path))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Validation passed" in result.stdout
        assert "warning" not in result.stdout.lower(), result.stdout


def test_claude_flags_the_malformed_example_it_was_given_unchanged(
    store: CollectionStore, tmp_path: Path
) -> None:
    done = export_claude_marketplace(store, tmp_path / "market")
    assert claude("plugin", "validate", str(done.out)).returncode == 0  # the catalog only
    result = claude("plugin", "validate", str(done.out / "plugins/team-tools"))
    assert result.returncode == 1
    assert "commands/deploy-check.md" in result.stdout and "review.md" not in result.stdout
    assert ((done.out / "plugins/team-tools/commands/deploy-check.md").read_bytes()
            == (store.path / "commands/deploy-check.md").read_bytes())


def test_claude_adds_the_marketplace_and_installs_every_plugin_offline(
    store: CollectionStore, tmp_path: Path
) -> None:
    done = export_claude_marketplace(store, tmp_path / "market")
    added = claude("plugin", "marketplace", "add", str(done.out))
    assert added.returncode == 0, added.stdout + added.stderr
    config = Path(os.environ["HOME"]) / ".claude"
    known = json.loads((config / "plugins/known_marketplaces.json").read_text())
    assert known["team-tools"]["source"] == {"source": "directory", "path": str(done.out)}
    for plugin in done.plugins:
        result = claude("plugin", "install", f"{plugin}@{done.marketplace}")
        assert result.returncode == 0, result.stdout + result.stderr
    installed = json.loads((config / "plugins/installed_plugins.json").read_text())["plugins"]
    assert sorted(installed) == sorted(f"{p}@team-tools" for p in done.plugins)
    for plugin in done.plugins:
        where = Path(installed[f"{plugin}@team-tools"][0]["installPath"])
        assert where.is_relative_to(config / "plugins")
        got = files_under(where)
        for path, data in expected_plugin_files(store, done, plugin).items():
            assert got.get(path) == data, f"{plugin}: {path} differs from the collection's"
        assert got == files_under(done.out / "plugins" / plugin)
    details = claude("plugin", "details", "team-tools@team-tools").stdout
    lines = {line.split("(")[0].strip(): line for line in details.splitlines()}
    assert "PostToolUse" in lines["Hooks"] and "Stop" in lines["Hooks"]
    assert "docs-search" in lines["MCP servers"] and "filesystem" in lines["MCP servers"]
    assert "code-reviewer" in lines["Agents"] and "pdf-summary" in lines["Skills"]


def test_a_new_export_replaces_the_previous_one_only(store: CollectionStore, tmp_path: Path) -> None:
    out = tmp_path / "market"
    export_claude_marketplace(store, out)
    (out / "plugins/team-tools/stale.txt").write_text("left from before")
    done = export_claude_marketplace(store, out, ids=[aid("agent/code-reviewer")])
    assert done.plugins == {"team-tools": ["agent/code-reviewer"]}
    assert sorted(p.name for p in (out / "plugins").iterdir()) == ["team-tools"]
    assert not (out / "plugins/team-tools/stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left

    empty = tmp_path / "empty"
    empty.mkdir()
    export_claude_marketplace(store, empty, ids=[aid("agent/code-reviewer")])
    assert (empty / MARKER).is_file()

    foreign = write(tmp_path / "foreign", {"notes.txt": "mine"})
    with pytest.raises(ConflictError, match="not a previous SkillMeat export"):
        export_claude_marketplace(store, foreign)
    assert files_under(foreign) == {"notes.txt": b"mine"}
    afile = write(tmp_path, {"afile": "x"}) / "afile"
    with pytest.raises(ConflictError, match="not a directory"):
        export_claude_marketplace(store, afile)


def test_unknown_ids_and_bad_names_are_refused(store: CollectionStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="agent/ghost"):
        export_claude_marketplace(store, tmp_path / "a", ids=[aid("agent/ghost")])
    for name in ("Team Tools", "claude-official", "anthropic-plugins", "inline"):
        with pytest.raises(BadInputError):
            export_claude_marketplace(store, tmp_path / "b", name=name)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    done = export_claude_marketplace(store, tmp_path / "c", name="acme", owner="Ann <ann@x.io>",
                                     ids=[aid("skill/commit-message")])
    catalog = json.loads((done.out / ".claude-plugin/marketplace.json").read_text())
    assert catalog["name"] == "acme" and catalog["owner"] == {"name": "Ann", "email": "ann@x.io"}
    assert kebab("My_Plugin.v2") == "my-plugin-v2"


def test_a_namespace_named_like_the_collection_shares_its_plugin(
    home: Home, tmp_path: Path
) -> None:
    store = create_collection(home, "kit")
    src = write(tmp_path / "p", {".claude-plugin/plugin.json": json.dumps({"name": "kit"}),
                                 "agents/a.md": "---\nname: a\n---\nA\n"})
    add(home, store, str(src), selection=Selection(all=True))
    add(home, store, str(write(tmp_path / "q", {"agents/b.md": "---\nname: b\n---\nB\n"})))
    done = export_claude_marketplace(store, tmp_path / "out")
    assert done.plugins == {"kit": ["agent/b", "agent/kit:a"]}
    add(home, store, str(write(tmp_path / "r", {"agents/a.md": "---\nname: a\n---\nother\n"})))
    with pytest.raises(ConflictError, match="agent/kit:a and agent/a would both"):
        export_claude_marketplace(store, tmp_path / "out")
    assert sorted(files_under(tmp_path / "out/plugins/kit/agents")) == ["a.md", "b.md"]
