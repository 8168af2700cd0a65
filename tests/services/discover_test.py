from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model.artifact import ArtifactType
from skillmeat.model.errors import BadInputError
from skillmeat.services.discover import Candidate, Discovery, discover, discover_file
from skillmeat.store.tree import FsTree


def make(root: Path, files: dict[str, str | dict[str, Any]]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content) if isinstance(content, dict) else content)
    return root


def skill_md(name: str, description: str = "Does things.") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n\nInstructions for {name}.\n"


def cmd_md(description: str = "A command") -> str:
    return f"---\ndescription: {description}\n---\nRun it.\n"


def run(root: Path, name: str | None = None, **kw: Any) -> Discovery:
    return discover(FsTree(root), name or root.name, **kw)


def ids(found: Discovery) -> list[str]:
    return sorted(str(c.id) for c in found.candidates)


def by_id(found: Discovery) -> dict[str, Candidate]:
    return {str(c.id): c for c in found.candidates}


def toml_of(cand: Candidate) -> dict[str, Any]:
    (plan,) = cand.files
    assert plan.data is not None
    return tomllib.loads(plan.data.decode())


# --- marketplaces ---

@pytest.fixture
def marketplace(tmp_path: Path) -> Path:
    return make(tmp_path / "market", {
        ".claude-plugin/marketplace.json": {
            "name": "market",
            "plugins": [
                {"name": "alpha", "source": "./plugins/alpha", "description": "Alpha tools"},
                {"name": "beta", "source": "./plugins/beta"},
                {"name": "remote", "source": {"source": "git-subdir", "url": "https://x/y.git",
                                               "path": "plugins/remote"}},
                {"name": "gh", "source": {"source": "github", "repo": "o/r"}},
            ],
        },
        "plugins/alpha/.claude-plugin/plugin.json": {"name": "alpha", "version": "1.0.0"},
        "plugins/alpha/skills/review/SKILL.md": skill_md("review", "Alpha review"),
        "plugins/alpha/skills/review/checklist.md": "- check\n",
        "plugins/alpha/commands/deploy.md": cmd_md("Alpha deploy"),
        "plugins/alpha/agents/helper.md": "---\nname: helper\ndescription: Helps\n---\nHelp.\n",
        "plugins/beta/skills/review/SKILL.md": skill_md("review", "Beta review"),
        "plugins/beta/commands/deploy.md": cmd_md("Beta deploy"),
        "plugins/beta/commands/README.md": "# not a command\n",
        "README.md": "# Market\n",
    })


def test_marketplace_plugins_from_relative_dirs_are_namespaced(marketplace: Path) -> None:
    found = run(marketplace)
    assert found.layout == "marketplace"
    assert ids(found) == ["agent/alpha:helper", "command/alpha:deploy", "command/beta:deploy",
                          "skill/alpha:review", "skill/beta:review"]


def test_colliding_names_across_plugins_are_all_kept(marketplace: Path) -> None:
    cands = by_id(run(marketplace))
    assert cands["skill/alpha:review"].description == "Alpha review"
    assert cands["skill/beta:review"].description == "Beta review"
    assert cands["command/alpha:deploy"].description == "Alpha deploy"
    assert cands["command/beta:deploy"].description == "Beta deploy"
    assert cands["skill/alpha:review"].origin == "plugins/alpha/skills/review"
    assert cands["skill/beta:review"].origin == "plugins/beta/skills/review"


def test_marketplace_file_plans_land_in_namespaced_paths(marketplace: Path) -> None:
    cands = by_id(run(marketplace))
    review = cands["skill/alpha:review"]
    assert sorted((f.dest, f.src) for f in review.files) == [
        ("skills/alpha/review/SKILL.md", "plugins/alpha/skills/review/SKILL.md"),
        ("skills/alpha/review/checklist.md", "plugins/alpha/skills/review/checklist.md"),
    ]
    assert [(f.dest, f.src) for f in cands["agent/alpha:helper"].files] == [
        ("agents/alpha/helper.md", "plugins/alpha/agents/helper.md")]


def test_remote_plugin_sources_are_notes_not_crashes(marketplace: Path) -> None:
    notes = [n for n in run(marketplace).notes if n.code == "remote-plugin"]
    assert len(notes) == 2
    assert all(n.level == "warning" and n.path == ".claude-plugin/marketplace.json" for n in notes)
    assert any("'remote'" in n.message and "git-subdir" in n.message for n in notes)
    assert any("'gh'" in n.message and "github" in n.message for n in notes)


def test_marketplace_with_url_source_and_a_plugin_outside(tmp_path: Path) -> None:
    root = make(tmp_path / "m", {
        ".claude-plugin/marketplace.json": {"plugins": [
            {"name": "web", "source": "https://example.com/plugin.git"},
            {"name": "escape", "source": "../../elsewhere"},
            {"source": "./plugins/anon"},
            {"name": "ok", "source": "./ok"},
        ]},
        "ok/commands/hi.md": cmd_md(),
    })
    found = run(root)
    assert ids(found) == ["command/ok:hi"]
    assert sorted(n.code for n in found.notes) == ["bad-plugin", "bad-plugin", "remote-plugin"]


def test_marketplace_metadata_plugin_root_is_prepended_to_relative_sources(tmp_path: Path) -> None:
    # Claude Code's marketplace schema keeps the base directory in metadata.pluginRoot.
    root = make(tmp_path / "m", {
        ".claude-plugin/marketplace.json": {"name": "m", "metadata": {"pluginRoot": "./plugins"},
                                            "plugins": [{"name": "one", "source": "./one"}]},
        "plugins/one/commands/hi.md": cmd_md(),
    })
    found = run(root)
    assert ids(found) == ["command/one:hi"]
    assert found.notes == []


def test_marketplace_plugin_with_explicit_component_paths(tmp_path: Path) -> None:
    root = make(tmp_path / "m", {
        ".claude-plugin/marketplace.json": {"plugins": [
            {"name": "p", "source": "./p", "commands": ["./extra/cmds"], "skills": "./more-skills"},
        ]},
        "p/extra/cmds/one.md": cmd_md(),
        "p/more-skills/s1/SKILL.md": skill_md("s1"),
    })
    assert ids(run(root)) == ["command/p:one", "skill/p:s1"]


def test_empty_plugin_and_invalid_marketplace_json_are_notes(tmp_path: Path) -> None:
    root = make(tmp_path / "m", {
        ".claude-plugin/marketplace.json": {"plugins": [{"name": "empty", "source": "./empty"}]},
        "empty/README.md": "nothing\n",
    })
    found = run(root)
    assert found.candidates == []
    assert [n.code for n in found.notes] == ["empty-plugin"]
    (root / ".claude-plugin/marketplace.json").write_text("{not json")
    broken = run(root)
    assert broken.candidates == []
    assert [n.code for n in broken.notes] == ["bad-json"]


# --- a single plugin ---

@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    return make(tmp_path / "plug-dir", {
        ".claude-plugin/plugin.json": {"name": "toolkit", "version": "2.0.0"},
        "commands/lint.md": cmd_md("Lint code"),
        "commands/git/commit.md": cmd_md("Nested commit"),
        "agents/reviewer.md": "---\nname: reviewer\ndescription: Reviews\n---\nReview.\n",
        "skills/pdf/SKILL.md": skill_md("pdf"),
        "hooks/hooks.json": {"description": "Guards", "hooks": {"PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command",
                                           "command": "${CLAUDE_PLUGIN_ROOT}/guard.sh"}]}]}},
        ".mcp.json": {"mcpServers": {
            "files": {"command": "npx", "args": ["-y", "@mcp/files"], "env": {"ROOT": "${HOME}"}},
            "web": {"type": "http", "url": "https://mcp.example.com/mcp",
                    "headers": {"Authorization": "Bearer ${TOKEN}"}},
        }},
    })


def test_plugin_layout_namespaces_by_plugin_name(plugin: Path) -> None:
    found = run(plugin)
    assert found.layout == "plugin"
    assert ids(found) == ["agent/toolkit:reviewer", "command/toolkit:git-commit",
                          "command/toolkit:lint", "hook/toolkit:hooks", "mcp/toolkit:files",
                          "mcp/toolkit:web", "skill/toolkit:pdf"]


def test_plugin_hooks_json_becomes_a_hook_definition(plugin: Path) -> None:
    hook = by_id(run(plugin))["hook/toolkit:hooks"]
    assert hook.origin == "hooks/hooks.json"
    assert [f.dest for f in hook.files] == ["hooks/toolkit/hooks.toml"]
    data = toml_of(hook)
    assert data["description"] == "Guards"
    assert data["hooks"]["PreToolUse"][0]["hooks"][0]["command"] == "${CLAUDE_PLUGIN_ROOT}/guard.sh"
    assert [d.code for d in hook.diagnostics] == ["plugin-root"]


def test_plugin_mcp_json_with_the_mcpservers_wrapper(plugin: Path) -> None:
    cands = by_id(run(plugin))
    files = toml_of(cands["mcp/toolkit:files"])
    assert files == {"transport": "stdio", "command": "npx", "args": ["-y", "@mcp/files"],
                     "env": {"ROOT": "${HOME}"}}
    web = toml_of(cands["mcp/toolkit:web"])
    assert web == {"transport": "http", "url": "https://mcp.example.com/mcp",
                   "headers": {"Authorization": "Bearer ${TOKEN}"}}
    assert cands["mcp/toolkit:web"].origin == ".mcp.json#web"
    assert [f.dest for f in cands["mcp/toolkit:web"].files] == ["mcp/toolkit/web.toml"]


def test_plugin_mcp_json_without_the_wrapper(tmp_path: Path) -> None:
    root = make(tmp_path / "p", {
        ".claude-plugin/plugin.json": {"name": "bare"},
        ".mcp.json": {"db": {"command": "db-mcp"}, "broken": "not an object"},
    })
    found = run(root)
    assert ids(found) == ["mcp/bare:db"]
    assert toml_of(by_id(found)["mcp/bare:db"]) == {"transport": "stdio", "command": "db-mcp"}
    assert [n.code for n in found.notes] == ["bad-mcp"]


def test_plugin_mcp_servers_inline_in_plugin_json(tmp_path: Path) -> None:
    root = make(tmp_path / "p", {
        ".claude-plugin/plugin.json": {"name": "inline", "mcpServers": {"s": {"command": "srv"}}},
    })
    assert ids(run(root)) == ["mcp/inline:s"]


def test_plugin_without_a_name_uses_the_directory_and_bad_names_are_made_safe(tmp_path: Path) -> None:
    root = make(tmp_path / "dir-name", {
        ".claude-plugin/plugin.json": {},
        "commands/a.md": cmd_md(),
    })
    assert ids(run(root)) == ["command/dir-name:a"]
    (root / ".claude-plugin/plugin.json").write_text(json.dumps({"name": "My Plugin!"}))
    found = run(root)
    assert ids(found) == ["command/My-Plugin:a"]
    assert [n.code for n in found.notes] == ["bad-namespace"]


# --- a project's .claude directory ---

def test_claude_directory(tmp_path: Path) -> None:
    root = make(tmp_path / "project", {
        ".claude/skills/notes/SKILL.md": skill_md("notes"),
        ".claude/skills/notes/template.md": "T\n",
        ".claude/commands/ship.md": cmd_md(),
        ".claude/agents/bot.md": "---\nname: bot\ndescription: d\n---\nx\n",
        ".claude/settings.json": "{}",
        ".mcp.json": {"mcpServers": {"gh": {"command": "gh-mcp"}}},
        "src/main.py": "print()\n",
    })
    found = run(root)
    assert found.layout == ".claude directory"
    assert ids(found) == ["agent/bot", "command/ship", "mcp/gh", "skill/notes"]
    assert sorted(f.dest for f in by_id(found)["skill/notes"].files) == [
        "skills/notes/SKILL.md", "skills/notes/template.md"]


# --- a single skill ---

def test_single_skill_directory_is_named_after_the_directory(tmp_path: Path) -> None:
    root = make(tmp_path / "pdf-tools", {
        "SKILL.md": skill_md("pdf-tools", "Works with PDFs"),
        "scripts/extract.py": "pass\n",
        "reference/forms.md": "forms\n",
    })
    found = run(root)
    assert found.layout == "single skill"
    (cand,) = found.candidates
    assert str(cand.id) == "skill/pdf-tools"
    assert cand.origin == "."
    assert cand.description == "Works with PDFs"
    assert sorted((f.dest, f.src) for f in cand.files) == [
        ("skills/pdf-tools/SKILL.md", "SKILL.md"),
        ("skills/pdf-tools/reference/forms.md", "reference/forms.md"),
        ("skills/pdf-tools/scripts/extract.py", "scripts/extract.py"),
    ]


def test_skill_version_comes_from_metadata(tmp_path: Path) -> None:
    root = make(tmp_path / "v", {"SKILL.md": "---\nname: v\ndescription: d\nmetadata:\n  version: '3.1'\n"
                                             "---\nx\n"})
    assert run(root).candidates[0].version == "3.1"


def test_skill_frontmatter_warnings_are_carried_with_the_candidate(tmp_path: Path) -> None:
    text = "---\nname: s\nargument-hint: [a] | b\ndescription: d\n---\nx\n"
    root = make(tmp_path / "s", {"SKILL.md": text})
    (cand,) = run(root).candidates
    assert cand.description == "d"
    assert [(d.path, d.line, d.code) for d in cand.diagnostics] == [("skills/s/SKILL.md", 3, "invalid-yaml")]


# --- a collection-like tree ---

def test_collection_tree_with_namespaces(tmp_path: Path) -> None:
    root = make(tmp_path / "coll", {
        "skillmeat.toml": "[collection]\nname = 'x'\n",
        "skills/a/SKILL.md": skill_md("a"),
        "skills/a/ref.md": "r\n",
        "skills/team/b/SKILL.md": skill_md("b"),
        "commands/c.md": cmd_md("C"),
        "commands/team/c.md": cmd_md("Team C"),
        "agents/d.md": "---\nname: d\ndescription: D\n---\nx\n",
        "hooks/guard.toml": "[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ntype = 'command'\ncommand = 'x'\n",
        "hooks/guard/run.sh": "#!/bin/sh\n",
        "mcp/srv.toml": "command = 'srv'\n",
        "README.md": "# readme\n",
    })
    found = run(root)
    assert found.layout == "collection tree"
    assert ids(found) == ["agent/d", "command/c", "command/team:c", "hook/guard", "mcp/srv",
                          "skill/a", "skill/team:b"]
    cands = by_id(found)
    assert cands["command/team:c"].description == "Team C"
    assert sorted(f.dest for f in cands["hook/guard"].files) == ["hooks/guard.toml", "hooks/guard/run.sh"]
    assert sorted(f.dest for f in cands["skill/a"].files) == ["skills/a/SKILL.md", "skills/a/ref.md"]
    assert all(f.src == f.dest for c in found.candidates for f in c.files)


def test_force_type_keeps_only_that_type(tmp_path: Path) -> None:
    root = make(tmp_path / "coll", {"skills/a/SKILL.md": skill_md("a"), "commands/c.md": cmd_md()})
    assert ids(run(root, force_type=ArtifactType.COMMAND)) == ["command/c"]


# --- loose SKILL.md files ---

def test_loose_skills_anywhere(tmp_path: Path) -> None:
    root = make(tmp_path / "repo", {
        "docs/guide.md": "# guide\n",
        "tools/pdf/SKILL.md": skill_md("pdf"),
        "tools/pdf/examples/SKILL.md": "nested example, part of pdf\n",
        "more/deep/excel/SKILL.md": skill_md("excel"),
        "more/deep/excel/data.csv": "a,b\n",
    })
    found = run(root)
    assert found.layout == "loose skills"
    assert ids(found) == ["skill/excel", "skill/pdf"]
    cands = by_id(found)
    assert cands["skill/pdf"].origin == "tools/pdf"
    assert sorted(f.dest for f in cands["skill/pdf"].files) == [
        "skills/pdf/SKILL.md", "skills/pdf/examples/SKILL.md"]


def test_loose_skills_with_the_same_folder_name_keep_one_and_note_the_other(tmp_path: Path) -> None:
    root = make(tmp_path / "repo", {"a/pdf/SKILL.md": skill_md("pdf"), "b/pdf/SKILL.md": skill_md("pdf")})
    found = run(root)
    assert ids(found) == ["skill/pdf"]
    assert [n.code for n in found.notes] == ["duplicate"]


def test_invalid_names_are_skipped_with_a_note(tmp_path: Path) -> None:
    root = make(tmp_path / "repo", {"x/bad name/SKILL.md": skill_md("bad"),
                                    "y/good/SKILL.md": skill_md("good")})
    found = run(root)
    assert ids(found) == ["skill/good"]
    assert [n.code for n in found.notes] == ["bad-name"]


def test_nothing_at_all(tmp_path: Path) -> None:
    root = make(tmp_path / "empty", {"README.md": "hi\n"})
    found = run(root)
    assert found.candidates == []


# --- a single file ---

def test_discover_file_by_directory_or_forced_type(tmp_path: Path) -> None:
    root = make(tmp_path / "commands", {"ship.md": cmd_md("Ship it")})
    found = discover_file(FsTree(root, only=["ship.md"]), "ship.md", None, str(root))
    assert ids(found) == ["command/ship"]
    assert found.candidates[0].description == "Ship it"
    other = make(tmp_path / "misc", {"bot.md": "---\nname: bot\n---\nx\n"})
    forced = discover_file(FsTree(other, only=["bot.md"]), "bot.md", ArtifactType.AGENT, str(other))
    assert ids(forced) == ["agent/bot"]
    with pytest.raises(BadInputError, match="cannot tell"):
        discover_file(FsTree(other, only=["bot.md"]), "bot.md", None, str(other))


def test_discover_file_of_an_mcp_json(tmp_path: Path) -> None:
    root = make(tmp_path / "p", {"servers.json": {"mcpServers": {"a": {"command": "a"}}}})
    found = discover_file(FsTree(root, only=["servers.json"]), "servers.json", None, str(root))
    assert ids(found) == ["mcp/a"]
