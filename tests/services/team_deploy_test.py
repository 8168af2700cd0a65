"""Redeploying a followed collection into projects: in sync, removals, drift, signed HEADs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skillmeat.model import deployment as states
from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.errors import NotFoundError, SignatureError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services import projects, team_deploy
from skillmeat.services.deploy import target_for
from skillmeat.services.history import snapshot
from skillmeat.services.refs import git_signer
from skillmeat.services.status import status
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.services.sharing_fixtures import ALICE, MALLORY, edit, examples_collection

CLAUDE_ITEMS = ["agent/code-reviewer", "command/deploy-check", "command/review",
                "hook/format-on-save", "skill/commit-message", "skill/pdf-summary"]


@pytest.fixture
def team(home: Home, tmp_path: Path) -> tuple[CollectionStore, Path]:
    store = examples_collection(home)
    project = tmp_path / "proj"
    project.mkdir()
    projects.add_project(home, project, ["team"])
    return store, project


def _files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file with its bytes and mtime: a run that writes nothing leaves both alone."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[str(path.relative_to(root))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


def _servers(project: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((project / ".mcp.json").read_text())["mcpServers"]
    return data


def test_deploys_everything_then_writes_nothing(team, home: Home) -> None:  # type: ignore[no-untyped-def]
    store, project = team
    first = team_deploy.redeploy(home, store, project)
    assert first.deployed == CLAUDE_ITEMS and not first.drift
    assert first.mcp_written == ["docs-search", "filesystem"]
    assert (project / ".claude/skills/pdf-summary/SKILL.md").is_file()
    assert set(_servers(project)) == {"docs-search", "filesystem"}
    assert {a.state for a in status(home, target_for(home, project)).artifacts} == {states.IN_SYNC}
    before = _files(project)
    record = (home.paths.state / "mcp-deployed.json").read_bytes()
    again = team_deploy.redeploy(home, store, project)
    assert not again.changed and again.unchanged == len(CLAUDE_ITEMS) and not again.drift
    assert _files(project) == before
    assert (home.paths.state / "mcp-deployed.json").read_bytes() == record


def test_what_the_collection_dropped_is_undeployed(team, home: Home) -> None:  # type: ignore[no-untyped-def]
    store, project = team
    team_deploy.redeploy(home, store, project)
    (project / "notes.md").write_text("the user's own file\n")
    (store.path / "commands/review.md").unlink()
    (store.path / "mcp/filesystem.toml").unlink()
    snapshot(home, store, "drop review and filesystem")
    report = team_deploy.redeploy(home, store, project)
    assert (report.removed, report.mcp_removed, report.drift) == (["command/review"], ["filesystem"], [])
    assert not (project / ".claude/commands/review.md").exists()
    assert set(_servers(project)) == {"docs-search"}
    assert (project / "notes.md").read_text() == "the user's own file\n"


def test_drift_is_left_alone_and_the_rest_is_deployed(team, home: Home) -> None:  # type: ignore[no-untyped-def]
    store, project = team
    team_deploy.redeploy(home, store, project)
    skill = project / ".claude/skills/pdf-summary/SKILL.md"
    skill.write_text(skill.read_text() + "my local tweak\n")
    (project / ".claude/commands/review.md").write_text("mine now\n")
    doc = json.loads((project / ".mcp.json").read_text())
    doc["mcpServers"]["docs-search"]["url"] = "https://mine.example.invalid/mcp"
    (project / ".mcp.json").write_text(json.dumps(doc, indent=2))
    (project / ".claude/agents/linter.md").parent.mkdir(parents=True, exist_ok=True)
    (project / ".claude/agents/linter.md").write_text("the user's own agent\n")
    edit(store, "skills/pdf-summary/SKILL.md", "---\nname: pdf-summary\ndescription: New.\n---\nNew.\n")
    edit(store, "agents/code-reviewer.md", "---\nname: code-reviewer\ndescription: Reviews.\n---\nv2\n")
    edit(store, "agents/linter.md", "---\nname: linter\ndescription: Lints.\n---\nLint.\n")
    edit(store, "mcp/docs-search.toml", 'transport = "http"\nurl = "https://v2.example.invalid/mcp"\n')
    (store.path / "commands/review.md").unlink()
    snapshot(home, store, "drop review")
    report = team_deploy.redeploy(home, store, project)
    drifted = {line.split(":", 1)[0] for line in report.drift}
    assert drifted == {"skill/pdf-summary", "agent/linter", "mcp/docs-search", "command/review"}
    assert any("conflict" in line for line in report.drift)
    assert report.deployed == ["agent/code-reviewer"]
    assert "v2" in (project / ".claude/agents/code-reviewer.md").read_text()
    assert skill.read_text().endswith("my local tweak\n")
    assert (project / ".claude/commands/review.md").read_text() == "mine now\n"
    assert (project / ".claude/agents/linter.md").read_text() == "the user's own agent\n"
    assert _servers(project)["docs-search"] == {"type": "http", "url": "https://mine.example.invalid/mcp",
                                                 "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}


def test_following(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    examples_collection(home, "other")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    projects.add_project(home, a, ["team"])
    projects.add_project(home, a, ["other", "team"])
    projects.add_project(home, b)
    assert projects.following(home, a.resolve()) == ["team", "other"]
    assert projects.followers(home, "team") == [a.resolve()]
    assert team_deploy.targets(home, store, [b]) == [a.resolve(), b.resolve()]
    with pytest.raises(NotFoundError, match="no collection named 'nope'"):
        projects.add_project(home, b, ["nope"])
    assert projects.following(home, b.resolve()) == []
    unregistered = CollectionStore("crew", tmp_path / "crew")
    with pytest.raises(NotFoundError, match="not a registered collection") as caught:
        team_deploy.registered_store(home, unregistered)
    assert "skillmeat init . --name crew" in str(caught.value.hint)


def _sign_head(store: CollectionStore, key: PrivateKey) -> None:
    """A new HEAD commit (same tree) signed with ``key`` in git's own format."""
    repo = store.repo.repo
    head = repo[repo.head.target]
    payload = repo.create_commit_string(head.author, head.committer, "signed\n", head.tree_id,
                                        [head.id])
    oid = repo.create_commit_with_signature(payload, git_signer(key)(payload.encode()).rstrip("\n"))
    repo.references[repo.head.name].set_target(oid)


def _team_file(store: CollectionStore, name: str, text: str) -> None:
    path = store.path / ".skillmeat" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    snapshot(Home.from_env(), store, f"team {name}")


def test_require_signed(home: Home) -> None:
    store = examples_collection(home)
    with pytest.raises(SignatureError, match="unsigned commit"):
        team_deploy.check_signed(home, store)
    # the team file names Alice, in the very commit she signs: not trusted by itself
    _team_file(store, "allowed_signers", AllowedSigner(("alice@x",), ALICE.public).format() + "\n")
    _sign_head(store, ALICE)
    with pytest.raises(SignatureError, match="unknown key"):
        team_deploy.check_signed(home, store)
    home.trust.add_signer(AllowedSigner(("alice@example.com",), ALICE.public))
    assert team_deploy.check_signed(home, store).principal == "alice@example.com"
    _sign_head(store, MALLORY)
    with pytest.raises(SignatureError, match="unknown key"):
        team_deploy.check_signed(home, store)
    _team_file(store, "revoked", f"# revoked 2026-01-01: lost laptop\n{ALICE.public.openssh()}\n")
    _sign_head(store, ALICE)
    with pytest.raises(SignatureError, match="revoked") as caught:
        team_deploy.check_signed(home, store)
    assert "nothing was deployed" in caught.value.message
    os.remove(store.path / ".skillmeat" / "revoked")
    home.trust.revoke(ALICE.public, "left the team")
    with pytest.raises(SignatureError, match="revoked"):
        team_deploy.check_signed(home, store)


def test_clashes_are_left_out_and_a_moved_artifact_takes_its_path(team, home: Home) -> None:  # type: ignore[no-untyped-def]
    store, project = team
    team_deploy.redeploy(home, store, project)
    agent = "---\nname: code-reviewer\ndescription: Reviews.\n---\n{}\n"
    # moved into a plugin folder: same deployed file, new id; the old one is taken back first
    os.remove(store.path / "agents/code-reviewer.md")
    edit(store, "agents/review/code-reviewer.md", agent.format("moved"))
    report = team_deploy.redeploy(home, store, project)
    assert (report.removed, report.deployed) == (["agent/code-reviewer"], ["agent/review:code-reviewer"])
    assert not report.drift and not report.clashes
    assert "moved" in (project / ".claude/agents/code-reviewer.md").read_text()
    # a second plugin ships the same name: it is left out, the deployed one is kept as it is
    edit(store, "agents/other/code-reviewer.md", agent.format("other"))
    edit(store, "commands/extra.md", "---\ndescription: Extra.\n---\nExtra.\n")
    edit(store, "mcp/a/search.toml", 'transport = "stdio"\ncommand = "a"\n')
    assert team_deploy.redeploy(home, store, project).mcp_written == ["search"]
    edit(store, "mcp/b/search.toml", 'transport = "stdio"\ncommand = "b"\n')
    report = team_deploy.redeploy(home, store, project)
    assert report.clashes == [
        "agent/other:code-reviewer: .claude/agents/code-reviewer.md already holds "
        "agent/review:code-reviewer of this collection, so it was not deployed; keep one in the "
        "collection (`skillmeat remove agent/other:code-reviewer`)",
        "mcp/a:search and mcp/b:search: all would be 'search' in .mcp.json, so none of them was "
        "deployed; keep one in the collection (`skillmeat remove mcp/b:search`)"]
    assert report.deployed == [] and not report.drift and not report.mcp_removed
    assert "moved" in (project / ".claude/agents/code-reviewer.md").read_text()
    assert (project / ".claude/commands/extra.md").is_file()
    assert _servers(project)["search"] == {"type": "stdio", "command": "a", "args": []}  # kept
