from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model.errors import BadInputError, ConfigError, ConflictError, NotFoundError
from skillmeat.services import mcp_deploy as svc
from skillmeat.services.artifacts import Selection, add
from skillmeat.services.mcp_status import ServerView, list_servers
from skillmeat.services.mcp_targets import desktop_config, target_for
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.mcp_record import McpRecord

TINY = ('transport = "stdio"\ncommand = "python"\nargs = ["server.py", "--quiet"]\n\n'
        '[env]\nTOKEN = "${TOKEN}"\n')
WEB = 'transport = "http"\nurl = "https://docs.example.invalid/mcp"\n'
TINY_ENTRY = {"type": "stdio", "command": "python", "args": ["server.py", "--quiet"],
              "env": {"TOKEN": "${TOKEN}"}}
USERS_OWN = {"type": "stdio", "command": "node", "args": ["mine.js"], "env": {}}


@pytest.fixture
def store(home: Home, collection: CollectionStore, tmp_path: Path) -> CollectionStore:
    src = tmp_path / "src" / "mcp"
    src.mkdir(parents=True)
    (src / "tiny.toml").write_text(TINY)
    (src / "web.toml").write_text(WEB)
    add(home, collection, str(src.parent), selection=Selection(all=True))
    return collection


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


def claude_json() -> Path:
    return Path.home() / ".claude.json"


def write_claude_json(data: dict[str, Any]) -> bytes:
    raw = json.dumps(data, indent=2, ensure_ascii=False).encode()
    claude_json().write_bytes(raw)
    return raw


def backups_of(home: Home, path: Path) -> list[str]:
    sets = svc.backup_sets(home)
    return [b.id for s in sets if s.file == path for b in s.backups]


def test_deploy_writes_claudes_entry_records_it_and_is_idempotent(home: Home, store: CollectionStore
                                                                  ) -> None:
    original = write_claude_json({"numStartups": 7, "mcpServers": {"mine": USERS_OWN}})
    target = target_for(home, "user")
    change = svc.deploy(home, store, ["tiny"], target)
    assert change.changed and change.written == ["tiny"] and change.backup is not None
    assert change.backup.read_bytes() == original
    data = json.loads(claude_json().read_text())
    assert data["mcpServers"] == {"mine": USERS_OWN, "tiny": TINY_ENTRY}
    (dep,) = McpRecord(svc.record_path(home)).load().values()
    assert (dep.server, dep.artifact, dep.scope, dep.entry) == ("tiny", "mcp/tiny", "user", TINY_ENTRY)
    after, record = claude_json().read_bytes(), svc.record_path(home).read_bytes()
    again = svc.deploy(home, store, ["mcp/tiny"], target)
    assert not again.changed and again.unchanged == ["tiny"] and again.diff == ""
    assert claude_json().read_bytes() == after and svc.record_path(home).read_bytes() == record
    assert len(backups_of(home, claude_json())) == 1


def test_the_diff_is_shown_before_anything_is_written(home: Home, store: CollectionStore,
                                                      project: Path) -> None:
    seen: list[tuple[str, bool]] = []
    target = target_for(home, "project", project)
    svc.deploy(home, store, ["tiny", "web"], target,
               show=lambda diff: seen.append((diff, (project / ".mcp.json").exists())))
    ((diff, existed),) = seen
    assert not existed and diff.startswith(f"--- /dev/null\n+++ {project / '.mcp.json'}\n")
    assert '+      "url": "https://docs.example.invalid/mcp"' in diff
    written = json.loads((project / ".mcp.json").read_text())
    assert written == {"mcpServers": {"tiny": TINY_ENTRY, "web": {
        "type": "http", "url": "https://docs.example.invalid/mcp"}}}
    assert (project / ".mcp.json").stat().st_mode & 0o777 == 0o644


def test_dry_run_writes_nothing(home: Home, store: CollectionStore) -> None:
    change = svc.deploy(home, store, ["tiny"], target_for(home, "user"), dry_run=True)
    assert '+  "mcpServers": {' in change.diff and not change.changed
    assert not claude_json().exists() and not svc.record_path(home).exists()
    assert svc.backup_sets(home) == []


def test_local_scope_goes_under_the_projects_real_path(home: Home, store: CollectionStore,
                                                       project: Path, tmp_path: Path) -> None:
    write_claude_json({"projects": {str(project): {"allowedTools": ["Bash"]}}})
    link = tmp_path / "link"
    link.symlink_to(project)
    svc.deploy(home, store, ["tiny"], target_for(home, "local", link))
    data = json.loads(claude_json().read_text())
    assert data["projects"] == {str(project): {"allowedTools": ["Bash"],
                                               "mcpServers": {"tiny": TINY_ENTRY}}}


def test_deploy_then_rollbacks_give_back_the_exact_bytes_and_record(home: Home, store: CollectionStore,
                                                                     project: Path) -> None:
    original = write_claude_json({
        "numStartups": 120, "autoUpdates": False, "oauthAccount": {"emailAddress": "me@example.com"},
        "mcpServers": {"mine": USERS_OWN},
        "projects": {str(project): {"allowedTools": [], "history": [{"display": "héllo"}]},
                     "/elsewhere": {"mcpServers": {"x": {"type": "sse", "url": "https://x"}}}},
        "cachedChangelog": "# 2.1\n- things\n"})
    svc.deploy(home, store, ["tiny"], target_for(home, "user"))
    svc.deploy(home, store, ["tiny"], target_for(home, "local", project))
    assert len(McpRecord(svc.record_path(home)).load()) == 2
    first = svc.rollback(home)
    assert first.changed and first.restored == backups_of(home, claude_json())[1]
    assert len(McpRecord(svc.record_path(home)).load()) == 1
    svc.rollback(home, target_for(home, "user"))
    assert claude_json().read_bytes() == original
    assert McpRecord(svc.record_path(home)).load() == {}
    with pytest.raises(NotFoundError, match="nothing older"):
        svc.rollback(home)


def test_rollback_to_a_named_backup_and_of_a_broken_file(home: Home, store: CollectionStore) -> None:
    original = write_claude_json({"theme": "light"})
    svc.deploy(home, store, ["tiny"], target_for(home, "user"))
    first = backups_of(home, claude_json())[0]
    claude_json().write_text('{"theme": "light", oops')
    with pytest.raises(ConfigError, match="not valid JSON"):
        svc.deploy(home, store, ["web"], target_for(home, "user"))
    change = svc.rollback(home, to=first[:15])
    assert change.restored == first and claude_json().read_bytes() == original
    with pytest.raises(NotFoundError, match="no backup 'nope'"):
        svc.rollback(home, to="nope")


def test_a_rollback_can_itself_be_rolled_back(home: Home, store: CollectionStore) -> None:
    write_claude_json({"theme": "light"})
    svc.deploy(home, store, ["tiny"], target_for(home, "user"))
    deployed = claude_json().read_bytes()
    svc.rollback(home)
    undo = backups_of(home, claude_json())[-1]
    svc.rollback(home, to=undo)
    assert claude_json().read_bytes() == deployed
    assert list(McpRecord(svc.record_path(home)).load()) == [
        (target_for(home, "user").key, "tiny")]


def test_a_new_file_rolls_back_to_no_file(home: Home, store: CollectionStore, project: Path) -> None:
    svc.deploy(home, store, ["tiny"], target_for(home, "project", project))
    change = svc.rollback(home, target_for(home, "project", project))
    assert change.changed and not (project / ".mcp.json").exists()


def test_invalid_json_is_refused_untouched(home: Home, store: CollectionStore, project: Path) -> None:
    path = project / ".mcp.json"
    path.write_bytes(b'{"mcpServers": {"a": }')
    with pytest.raises(ConfigError) as err:
        svc.deploy(home, store, ["tiny"], target_for(home, "project", project))
    assert str(path) in err.value.message and "untouched" in err.value.message
    assert path.read_bytes() == b'{"mcpServers": {"a": }'
    assert svc.backup_sets(home) == [] and not svc.record_path(home).exists()
    path.write_text('{"mcpServers": ["not", "an", "object"]}')
    with pytest.raises(ConfigError, match="mcpServers is not an object"):
        svc.deploy(home, store, ["tiny"], target_for(home, "project", project))


def test_servers_skillmeat_did_not_write_are_never_touched_without_force(
        home: Home, store: CollectionStore) -> None:
    write_claude_json({"mcpServers": {"tiny": USERS_OWN, "mine": USERS_OWN}})
    target = target_for(home, "user")
    with pytest.raises(ConflictError, match="did not write"):
        svc.deploy(home, store, ["tiny"], target)
    with pytest.raises(NotFoundError, match="did not deploy 'mine'"):
        svc.undeploy(home, ["mine"], target)
    svc.deploy(home, store, ["tiny"], target, force=True)
    assert json.loads(claude_json().read_text())["mcpServers"]["tiny"] == TINY_ENTRY
    removed = svc.undeploy(home, ["tiny"], target)
    assert removed.removed == ["tiny"] and removed.artifacts == ["mcp/tiny"]
    assert json.loads(claude_json().read_text())["mcpServers"] == {"mine": USERS_OWN}


def test_entries_edited_since_deploy_are_kept_unless_forced(home: Home, store: CollectionStore) -> None:
    target = target_for(home, "user")
    svc.deploy(home, store, ["tiny"], target)
    data = json.loads(claude_json().read_text())
    data["mcpServers"]["tiny"]["args"].append("--verbose")
    claude_json().write_text(json.dumps(data, indent=2))
    for action in (lambda: svc.deploy(home, store, ["tiny"], target),
                   lambda: svc.undeploy(home, ["tiny"], target)):
        with pytest.raises(ConflictError, match="edited since"):
            action()
    svc.undeploy(home, ["tiny"], target, force=True)
    assert json.loads(claude_json().read_text())["mcpServers"] == {}


def test_undeploying_a_server_already_gone_forgets_it(home: Home, store: CollectionStore) -> None:
    target = target_for(home, "user")
    svc.deploy(home, store, ["tiny"], target)
    claude_json().write_text('{"mcpServers": {}}')
    change = svc.undeploy(home, ["tiny"], target)
    assert change.gone == ["tiny"] and not change.changed
    assert McpRecord(svc.record_path(home)).load() == {}


def test_desktop_takes_stdio_servers_in_its_own_shape(home: Home, store: CollectionStore) -> None:
    target = target_for(home, "desktop")
    assert target.file == Path.home() / ".config" / "Claude" / "claude_desktop_config.json"
    with pytest.raises(BadInputError, match="stdio servers only"):
        svc.deploy(home, store, ["web"], target)
    svc.deploy(home, store, ["tiny"], target)
    assert json.loads(target.file.read_text()) == {"mcpServers": {"tiny": {
        "command": "python", "args": ["server.py", "--quiet"], "env": {"TOKEN": "${TOKEN}"}}}}


def test_desktop_config_path_per_os() -> None:
    home = Path.home()
    name = "claude_desktop_config.json"
    assert desktop_config("darwin", {}) == home / "Library/Application Support/Claude" / name
    assert desktop_config("win32", {"APPDATA": "C:/Users/me/AppData/Roaming"}) == Path(
        "C:/Users/me/AppData/Roaming/Claude") / name
    assert desktop_config("linux", {}) == home / ".config/Claude" / name
    assert desktop_config("linux", {"XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/Claude") / name


def test_unknown_names_and_clashing_names_are_refused(home: Home, store: CollectionStore) -> None:
    with pytest.raises(NotFoundError, match="did you mean tiny"):
        svc.deploy(home, store, ["tin"], target_for(home, "user"))
    for plugin in ("p1", "p2"):
        (store.path / "mcp" / plugin).mkdir()
        (store.path / "mcp" / plugin / "tiny.toml").write_text(TINY)
    store.repo.commit_paths(["mcp/p1/tiny.toml", "mcp/p2/tiny.toml"], "two plugins' tiny")
    with pytest.raises(BadInputError, match="would both be deployed as 'tiny'"):
        svc.deploy(home, store, ["p1:tiny", "p2:tiny"], target_for(home, "user"))
    assert not claude_json().exists()


def test_backups_are_pruned_to_the_configured_count(home: Home, store: CollectionStore) -> None:
    home.config.set("mcp.backups", 2)
    target = target_for(home, "user")
    for _ in range(3):
        svc.deploy(home, store, ["tiny", "web"], target)
        svc.undeploy(home, ["tiny", "web"], target)
    assert len(backups_of(home, claude_json())) == 2
    home.config.set("mcp.backups", 0)
    with pytest.raises(ConfigError, match=r"\[mcp\] backups = 0"):
        svc.deploy(home, store, ["tiny"], target)


def test_concurrent_deploys_are_serialized(home: Home, store: CollectionStore, tmp_path: Path) -> None:
    src = tmp_path / "more" / "mcp"
    src.mkdir(parents=True)
    for i in range(6):
        (src / f"s{i}.toml").write_text(f'command = "python"\nargs = ["{i}"]\n')
    add(home, store, str(src.parent), selection=Selection(all=True))
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            svc.deploy(Home.from_env(), store, [f"s{i}"], target_for(home, "user"))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(json.loads(claude_json().read_text())["mcpServers"]) == [f"s{i}" for i in range(6)]
    assert len(McpRecord(svc.record_path(home)).load()) == 6
    assert len(backups_of(home, claude_json())) == 6


def test_list_tells_defined_deployed_and_what_claude_uses(home: Home, store: CollectionStore,
                                                          project: Path) -> None:
    write_claude_json({"mcpServers": {"mine": USERS_OWN}})
    svc.deploy(home, store, ["tiny"], target_for(home, "user"))
    svc.deploy(home, store, ["tiny"], target_for(home, "project", project))
    svc.deploy(home, store, ["web"], target_for(home, "local", project))
    views = {v.name: v for v in list_servers(home, store, project)}
    assert set(views) == {"mine", "tiny", "web"}
    assert views["mine"].artifact == "" and views["mine"].scopes["user"].state == "unmanaged"
    assert views["mine"].effective == "user"
    tiny = views["tiny"]
    assert {s: p.state for s, p in tiny.scopes.items()} == {"project": "deployed", "user": "deployed"}
    assert tiny.effective == "user"  # the project's copy waits for the user's approval
    assert tiny.to_dict()["effective_entry"] == TINY_ENTRY
    assert views["web"].effective == "local"
    data = json.loads((project / ".mcp.json").read_text())
    data["mcpServers"]["tiny"]["args"] = ["edited.py"]
    (project / ".mcp.json").write_text(json.dumps(data))
    data = json.loads(claude_json().read_text())
    del data["mcpServers"]["tiny"]
    claude_json().write_text(json.dumps(data))
    (store.path / "mcp" / "web.toml").write_text(WEB.replace("docs.", "docs2."))
    store.repo.commit_paths(["mcp/web.toml"], "move docs")
    views = {v.name: v for v in list_servers(home, store, project)}
    assert views["tiny"].scopes["project"].state == "modified"
    assert views["tiny"].scopes["user"].state == "missing" and views["tiny"].effective == "project"
    assert views["web"].scopes["local"].state == "outdated"
    assert list_servers(home, None, project)[1].artifact == ""


def test_a_rejected_or_pending_project_server_is_not_what_claude_uses(home: Home, store: CollectionStore,
                                                                      project: Path) -> None:
    def tiny() -> ServerView:
        return {v.name: v for v in list_servers(home, store, project)}["tiny"]

    svc.deploy(home, store, ["tiny"], target_for(home, "project", project))
    assert tiny().effective == "project" and tiny().scopes["project"].approval == "pending"
    svc.deploy(home, store, ["tiny"], target_for(home, "user"))
    assert tiny().effective == "user"
    settings = Path.home() / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"enabledMcpjsonServers": ["tiny"]}')  # the user's own settings count
    assert tiny().effective == "project"
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.local.json").write_text('{"disabledMcpjsonServers": ["tiny"]}')
    assert tiny().effective == "user"
    assert tiny().to_dict()["scopes"]["project"]["approval"] == "rejected"
