from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import (
    AmbiguousError,
    BadInputError,
    ConfigError,
    ConflictError,
    NotFoundError,
    SourceError,
)
from skillmeat.services.artifacts import Selection, add, remove
from skillmeat.services.discover import Candidate
from skillmeat.services.update import UpdatePlan, update
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.helpers import git, tree_state

GREETER = "---\nname: greeter\ndescription: Greets people politely.\n---\n\nSay hello.\n"


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def manifest_entries(store: CollectionStore) -> dict[str, Any]:
    arts: dict[str, Any] = tomllib.loads(store.manifest_path.read_text()).get("artifacts", {})
    return arts


def lock_entries(store: CollectionStore) -> dict[str, Any]:
    arts: dict[str, Any] = tomllib.loads(store.lock_path.read_text()).get("artifacts", {})
    return arts


def head_files(store: CollectionStore) -> list[str]:
    return git("ls-tree", "-r", "--name-only", "HEAD", cwd=store.path).split()


def clean(store: CollectionStore) -> bool:
    return git("status", "--porcelain", "--untracked-files=all", cwd=store.path) == ""


def aid(text: str) -> ArtifactId:
    return ArtifactId.parse(text)


def url(repo: Path) -> str:
    return f"file://{repo}"


def commit_upstream(repo: Path, files: dict[str, str], message: str = "change") -> str:
    make(repo, files)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", message, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo).strip()


@pytest.fixture
def skill_dir(tmp_path: Path) -> Path:
    return make(tmp_path / "src" / "pdf", {
        "SKILL.md": "---\nname: pdf\ndescription: Reads PDF files.\n---\n\nUse pdftotext.\n",
        "scripts/extract.py": "print('x')\n",
    })


# --- add from a local directory ---

def test_add_a_local_skill_dir_copies_commits_and_records_it(
    home: Home, collection: CollectionStore, skill_dir: Path
) -> None:
    result = add(home, collection, str(skill_dir))
    assert result.layout == "single skill"
    assert result.added == [aid("skill/pdf")]
    assert result.unchanged == []
    assert collection.repo.head() == result.commit
    assert (collection.path / "skills/pdf/scripts/extract.py").read_text() == "print('x')\n"
    assert "skills/pdf/SKILL.md" in head_files(collection)
    assert clean(collection)
    assert manifest_entries(collection) == {"skill/pdf": {"source": str(skill_dir), "path": ""}}
    locked = lock_entries(collection)["skill/pdf"]
    assert locked["source"] == str(skill_dir)
    assert locked["hash"].startswith("sha256:")
    assert "commit" not in locked  # a plain directory has no commit
    assert git("log", "-1", "--format=%s", cwd=collection.path).strip() == (
        f"Add 1 artifact from {skill_dir}")


def test_add_with_tags_records_them(home: Home, collection: CollectionStore, skill_dir: Path) -> None:
    add(home, collection, str(skill_dir), tags=("docs", "pdf"))
    assert manifest_entries(collection)["skill/pdf"]["tags"] == ["docs", "pdf"]
    assert collection.manifest().artifacts["skill/pdf"].tags == ("docs", "pdf")


def test_add_keeps_the_executable_bit(home: Home, collection: CollectionStore, skill_dir: Path) -> None:
    (skill_dir / "scripts/extract.py").chmod(0o755)
    add(home, collection, str(skill_dir))
    mode = git("ls-tree", "HEAD", "skills/pdf/scripts/extract.py", cwd=collection.path).split()[0]
    assert mode == "100755"


def test_add_a_single_command_file(home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    src = make(tmp_path / "x" / "commands", {"ship.md": "---\ndescription: Ship\n---\nShip it.\n"})
    result = add(home, collection, str(src / "ship.md"))
    assert result.added == [aid("command/ship")]
    assert (collection.path / "commands/ship.md").read_text() == "---\ndescription: Ship\n---\nShip it.\n"
    assert manifest_entries(collection)["command/ship"] == {"source": str(src / "ship.md"), "path": ""}


def test_add_a_local_dir_inside_a_git_repo_records_its_commit(
    home: Home, collection: CollectionStore, upstream_repo: Path
) -> None:
    head = git("rev-parse", "HEAD", cwd=upstream_repo).strip()
    add(home, collection, str(upstream_repo / "skills" / "greeter"))
    assert lock_entries(collection)["skill/greeter"]["commit"] == head


def test_a_dirty_local_checkout_records_no_commit(
    home: Home, collection: CollectionStore, upstream_repo: Path
) -> None:
    # The content does not match HEAD, so HEAD must not be recorded as where it came from.
    (upstream_repo / "skills/greeter/SKILL.md").write_text(GREETER + "Uncommitted edit.\n")
    add(home, collection, str(upstream_repo / "skills" / "greeter"))
    assert "commit" not in lock_entries(collection)["skill/greeter"]


def test_dry_run_changes_nothing(home: Home, collection: CollectionStore, skill_dir: Path) -> None:
    before, head = tree_state(collection.path), collection.repo.head()
    result = add(home, collection, str(skill_dir), dry_run=True)
    assert result.added == [aid("skill/pdf")]
    assert result.commit == ""
    assert tree_state(collection.path) == before
    assert collection.repo.head() == head


# --- add from a git URL ---

def test_add_from_a_file_url_records_upstream_and_resolved_commit(
    home: Home, collection: CollectionStore, upstream_repo: Path
) -> None:
    head = git("rev-parse", "HEAD", cwd=upstream_repo).strip()
    result = add(home, collection, url(upstream_repo), selection=Selection(all=True))
    assert result.layout == "collection tree"
    assert sorted(result.added) == [aid("command/wave"), aid("skill/greeter")]
    assert (collection.path / "skills/greeter/SKILL.md").read_text() == GREETER
    assert manifest_entries(collection) == {
        "command/wave": {"source": url(upstream_repo), "path": "commands/wave.md"},
        "skill/greeter": {"source": url(upstream_repo), "path": "skills/greeter"},
    }
    lock = lock_entries(collection)
    assert lock["skill/greeter"]["commit"] == head
    assert lock["command/wave"]["commit"] == head
    assert lock["skill/greeter"]["path"] == "skills/greeter"
    assert clean(collection)
    body = git("log", "-1", "--format=%B", cwd=collection.path)
    assert "- skill/greeter" in body and "- command/wave" in body


def test_add_from_a_url_at_a_ref(home: Home, collection: CollectionStore, upstream_repo: Path) -> None:
    first = git("rev-parse", "HEAD", cwd=upstream_repo).strip()
    git("tag", "v1", cwd=upstream_repo)
    commit_upstream(upstream_repo, {"skills/greeter/SKILL.md": GREETER + "Later.\n"})
    add(home, collection, url(upstream_repo), ref="v1", selection=Selection(names=("greeter",)))
    assert (collection.path / "skills/greeter/SKILL.md").read_text() == GREETER
    assert manifest_entries(collection)["skill/greeter"]["ref"] == "v1"
    assert lock_entries(collection)["skill/greeter"]["commit"] == first


def test_add_from_a_url_that_does_not_exist(home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    before = tree_state(collection.path)
    with pytest.raises(SourceError):
        add(home, collection, url(tmp_path / "nowhere"))
    assert tree_state(collection.path) == before


def test_ref_on_a_local_source_is_bad_input(home: Home, collection: CollectionStore, skill_dir: Path) -> None:
    with pytest.raises(BadInputError, match="--ref"):
        add(home, collection, str(skill_dir), ref="main")


# --- selecting what to add ---

def test_several_artifacts_need_a_choice(
    home: Home, collection: CollectionStore, upstream_repo: Path
) -> None:
    head = collection.repo.head()
    with pytest.raises(BadInputError, match="holds 2 artifacts"):
        add(home, collection, str(upstream_repo))
    assert collection.repo.head() == head


def test_the_chooser_picks(home: Home, collection: CollectionStore, upstream_repo: Path) -> None:
    offered: list[list[str]] = []

    def choose(cands: list[Candidate]) -> list[Candidate]:
        offered.append(sorted(str(c.id) for c in cands))
        return [c for c in cands if c.id.type is ArtifactType.COMMAND]

    result = add(home, collection, str(upstream_repo), choose=choose)
    assert offered == [["command/wave", "skill/greeter"]]
    assert result.added == [aid("command/wave")]


def test_select_by_type_and_by_name_glob(
    home: Home, collection: CollectionStore, upstream_repo: Path
) -> None:
    assert add(home, collection, str(upstream_repo),
               selection=Selection(types=(ArtifactType.SKILL,))).added == [aid("skill/greeter")]
    assert add(home, collection, str(upstream_repo),
               selection=Selection(names=("wa*",))).added == [aid("command/wave")]
    with pytest.raises(NotFoundError, match="no artifact matching nope"):
        add(home, collection, str(upstream_repo), selection=Selection(names=("nope",)))


def test_a_source_without_artifacts(home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    src = make(tmp_path / "empty", {"README.md": "nothing\n"})
    with pytest.raises(NotFoundError, match="no artifacts found"):
        add(home, collection, str(src))


# --- adding twice, conflicts ---

def test_adding_the_same_thing_twice_is_a_no_op(
    home: Home, collection: CollectionStore, upstream_repo: Path
) -> None:
    add(home, collection, url(upstream_repo), selection=Selection(all=True))
    before, head = tree_state(collection.path), collection.repo.head()
    again = add(home, collection, url(upstream_repo), selection=Selection(all=True))
    assert again.added == []
    assert sorted(again.unchanged) == [aid("command/wave"), aid("skill/greeter")]
    assert again.commit == ""
    assert collection.repo.head() == head
    assert tree_state(collection.path) == before


def test_the_same_content_from_another_source_is_a_no_op(
    home: Home, collection: CollectionStore, upstream_repo: Path
) -> None:
    add(home, collection, url(upstream_repo), selection=Selection(all=True))
    head = collection.repo.head()
    again = add(home, collection, str(upstream_repo / "skills" / "greeter"))
    assert again.unchanged == [aid("skill/greeter")]
    assert collection.repo.head() == head


def test_a_conflicting_add_raises_and_changes_nothing(
    home: Home, collection: CollectionStore, upstream_repo: Path, tmp_path: Path
) -> None:
    add(home, collection, url(upstream_repo), selection=Selection(all=True))
    other = make(tmp_path / "other", {
        "skills/greeter/SKILL.md": "---\nname: greeter\ndescription: Rude.\n---\nGo away.\n",
        "skills/fresh/SKILL.md": "---\nname: fresh\ndescription: New.\n---\nNew.\n",
    })
    before, head = tree_state(collection.path), collection.repo.head()
    with pytest.raises(ConflictError, match="skill/greeter") as info:
        add(home, collection, str(other), selection=Selection(all=True))
    assert info.value.hint
    assert collection.repo.head() == head
    assert tree_state(collection.path) == before
    assert clean(collection)


def test_a_malformed_manifest_stops_add_before_anything_is_written(
    home: Home, collection: CollectionStore, skill_dir: Path
) -> None:
    collection.manifest_path.write_text("[collection\nname = 'x'\n")
    before = tree_state(collection.path)
    with pytest.raises(ConfigError) as info:
        add(home, collection, str(skill_dir))
    assert info.value.path == str(collection.manifest_path)
    assert tree_state(collection.path) == before


# --- namespaced sources ---

def test_colliding_plugin_artifacts_are_all_added_with_plugin_ids(
    home: Home, collection: CollectionStore, tmp_path: Path
) -> None:
    market = make(tmp_path / "market", {
        ".claude-plugin/marketplace.json": json.dumps({"plugins": [
            {"name": "alpha", "source": "./alpha"}, {"name": "beta", "source": "./beta"}]}),
        "alpha/commands/deploy.md": "---\ndescription: Alpha\n---\nA\n",
        "beta/commands/deploy.md": "---\ndescription: Beta\n---\nB\n",
    })
    result = add(home, collection, str(market), selection=Selection(all=True))
    assert sorted(result.added) == [aid("command/alpha:deploy"), aid("command/beta:deploy")]
    assert (collection.path / "commands/alpha/deploy.md").read_text().endswith("A\n")
    assert (collection.path / "commands/beta/deploy.md").read_text().endswith("B\n")
    assert manifest_entries(collection)["command/beta:deploy"]["path"] == "beta/commands/deploy.md"


# --- remove ---

def test_remove_deletes_files_and_entries_in_one_commit(
    home: Home, collection: CollectionStore, upstream_repo: Path
) -> None:
    add(home, collection, url(upstream_repo), selection=Selection(all=True), tags=("t",))
    head = collection.repo.head()
    removed = remove(home, collection, ["greeter"])
    assert removed == [aid("skill/greeter")]
    assert not (collection.path / "skills").exists()
    assert list(manifest_entries(collection)) == ["command/wave"]
    assert list(lock_entries(collection)) == ["command/wave"]
    assert git("rev-parse", "HEAD~1", cwd=collection.path).strip() == head
    assert "skills/greeter/SKILL.md" not in head_files(collection)
    assert git("log", "-1", "--format=%s", cwd=collection.path).strip() == "Remove skill/greeter"
    assert clean(collection)


def test_remove_a_hook_takes_its_script_dir(home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    src = make(tmp_path / "src", {
        "hooks/guard.toml": "[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ntype = 'command'\ncommand = 'x'\n",
        "hooks/guard/run.sh": "#!/bin/sh\n",
    })
    add(home, collection, str(src))
    assert "hooks/guard/run.sh" in head_files(collection)
    remove(home, collection, ["hook/guard"])
    assert not (collection.path / "hooks").exists()
    assert [f for f in head_files(collection) if f.startswith("hooks/")] == []
    assert clean(collection)


def test_remove_several_and_namespaced(home: Home, collection: CollectionStore, tmp_path: Path) -> None:
    src = make(tmp_path / "p", {
        ".claude-plugin/plugin.json": json.dumps({"name": "kit"}),
        "commands/a.md": "A\n", "commands/b.md": "B\n", "agents/c.md": "---\nname: c\n---\nC\n",
    })
    add(home, collection, str(src), selection=Selection(all=True))
    assert sorted(remove(home, collection, ["kit:a", "command/kit:b"])) == [
        aid("command/kit:a"), aid("command/kit:b")]
    assert not (collection.path / "commands").exists()
    assert list(manifest_entries(collection)) == ["agent/kit:c"]


def test_remove_unknown_or_ambiguous_changes_nothing(
    home: Home, collection: CollectionStore, tmp_path: Path
) -> None:
    src = make(tmp_path / "m", {
        ".claude-plugin/marketplace.json": json.dumps({"plugins": [
            {"name": "alpha", "source": "./alpha"}, {"name": "beta", "source": "./beta"}]}),
        "alpha/commands/deploy.md": "A\n",
        "beta/commands/deploy.md": "B\n",
    })
    add(home, collection, str(src), selection=Selection(all=True))
    before, head = tree_state(collection.path), collection.repo.head()
    with pytest.raises(AmbiguousError):
        remove(home, collection, ["deploy"])
    with pytest.raises(NotFoundError):
        remove(home, collection, ["alpha:deploy", "ghost"])
    assert tree_state(collection.path) == before
    assert collection.repo.head() == head


# --- update ---

class Recorder:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls: list[list[UpdatePlan]] = []

    def __call__(self, plans: list[UpdatePlan]) -> bool:
        self.calls.append(plans)
        return self.answer


@pytest.fixture
def tracked(home: Home, collection: CollectionStore, upstream_repo: Path) -> CollectionStore:
    add(home, collection, url(upstream_repo), selection=Selection(all=True))
    return collection


def test_update_with_nothing_new_does_not_ask(home: Home, tracked: CollectionStore) -> None:
    confirm = Recorder(True)
    result = update(home, tracked, confirm=confirm)
    assert sorted((str(p.id), p.status) for p in result.plans) == [
        ("command/wave", "up-to-date"), ("skill/greeter", "up-to-date")]
    assert confirm.calls == []
    assert result.commit == ""


def test_update_applies_a_changed_upstream_when_confirmed(
    home: Home, tracked: CollectionStore, upstream_repo: Path
) -> None:
    head = tracked.repo.head()
    new_commit = commit_upstream(upstream_repo, {
        "skills/greeter/SKILL.md": GREETER + "Bow.\n",
        "skills/greeter/extra.md": "Extra.\n",
    })
    confirm = Recorder(True)
    result = update(home, tracked, confirm=confirm)
    (plans,) = confirm.calls
    changed = [p for p in plans if p.status == "changed"]
    assert [str(p.id) for p in changed] == ["skill/greeter"]
    assert "+Bow." in changed[0].diff
    assert "b/skills/greeter/extra.md" in changed[0].diff
    assert result.applied == [aid("skill/greeter")]
    assert tracked.repo.head() == result.commit
    assert git("rev-parse", "HEAD~1", cwd=tracked.path).strip() == head
    assert (tracked.path / "skills/greeter/SKILL.md").read_text().endswith("Bow.\n")
    assert (tracked.path / "skills/greeter/extra.md").read_text() == "Extra.\n"
    lock = lock_entries(tracked)
    assert lock["skill/greeter"]["commit"] == new_commit
    assert lock["skill/greeter"]["source"] == url(upstream_repo)
    assert lock["command/wave"]["commit"] != new_commit
    assert clean(tracked)


def test_update_removes_files_the_upstream_removed(
    home: Home, tracked: CollectionStore, upstream_repo: Path
) -> None:
    commit_upstream(upstream_repo, {"skills/greeter/extra.md": "Extra.\n"})
    update(home, tracked, confirm=Recorder(True))
    assert (tracked.path / "skills/greeter/extra.md").exists()
    (upstream_repo / "skills/greeter/extra.md").unlink()
    git("commit", "-qam", "drop extra", cwd=upstream_repo)
    result = update(home, tracked, ["greeter"], confirm=Recorder(True))
    assert result.applied == [aid("skill/greeter")]
    assert not (tracked.path / "skills/greeter/extra.md").exists()
    assert "skills/greeter/extra.md" not in head_files(tracked)
    assert clean(tracked)


def test_update_does_nothing_when_not_confirmed(
    home: Home, tracked: CollectionStore, upstream_repo: Path
) -> None:
    commit_upstream(upstream_repo, {"skills/greeter/SKILL.md": GREETER + "Bow.\n"})
    before, head = tree_state(tracked.path), tracked.repo.head()
    confirm = Recorder(False)
    result = update(home, tracked, confirm=confirm)
    assert len(confirm.calls) == 1
    assert [p.status for p in result.plans if str(p.id) == "skill/greeter"] == ["changed"]
    assert result.applied == []
    assert result.commit == ""
    assert tracked.repo.head() == head
    assert tree_state(tracked.path) == before


def test_update_leaves_local_changes_alone_unless_forced(
    home: Home, tracked: CollectionStore, upstream_repo: Path
) -> None:
    with tracked.change() as txn:
        txn.write("skills/greeter/SKILL.md", GREETER + "Our own line.\n")
        txn.commit("Local tweak")
    commit_upstream(upstream_repo, {"skills/greeter/SKILL.md": GREETER + "Bow.\n"})
    head = tracked.repo.head()
    result = update(home, tracked, ["greeter"], confirm=Recorder(True))
    (plan,) = result.plans
    assert plan.status == "modified-locally"
    assert "-Our own line." in plan.diff
    assert tracked.repo.head() == head
    forced = update(home, tracked, ["greeter"], confirm=Recorder(True), force=True)
    assert forced.applied == [aid("skill/greeter")]
    assert (tracked.path / "skills/greeter/SKILL.md").read_text().endswith("Bow.\n")


def test_update_reports_gone_pinned_and_no_upstream(
    home: Home, tracked: CollectionStore, upstream_repo: Path
) -> None:
    (upstream_repo / "commands/wave.md").unlink()
    git("commit", "-qam", "drop wave", cwd=upstream_repo)
    text = tracked.manifest_path.read_text().replace(
        '[artifacts."skill/greeter"]\n', '[artifacts."skill/greeter"]\npin = true\n')
    with tracked.change() as txn:
        txn.write("skillmeat.toml", text)
        txn.write("agents/mine.md", "---\nname: mine\ndescription: d\n---\nx\n")
        txn.commit("Pin greeter, add an agent by hand")
    result = update(home, tracked, ["greeter", "wave", "mine"], confirm=Recorder(True))
    assert {str(p.id): p.status for p in result.plans} == {
        "skill/greeter": "pinned", "command/wave": "gone", "agent/mine": "no-upstream"}
    assert result.applied == []
