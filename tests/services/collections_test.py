from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from skillmeat.model.errors import BadInputError, ConfigError, ConflictError, NotFoundError
from skillmeat.services.collections import (
    create_collection,
    init_collection,
    list_collections,
    remove_collection,
    use_collection,
)
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.manifest import load_lock
from tests.helpers import git


def test_create_makes_a_committed_git_collection_under_home(home: Home) -> None:
    store = create_collection(home, "team")
    assert store.name == "team"
    assert store.path == home.paths.collections / "team"
    assert git("ls-tree", "--name-only", "HEAD", cwd=store.path).split() == [
        ".gitignore", "skillmeat.lock", "skillmeat.toml"]
    assert git("status", "--porcelain", cwd=store.path) == ""
    assert git("log", "--format=%s", cwd=store.path).splitlines() == [
        "Initialize SkillMeat collection 'team'"]
    assert store.manifest().name == "team"
    assert store.manifest().artifacts == {}
    assert load_lock(store.lock_path) == {}
    assert tomllib.loads(store.lock_path.read_text())["format"] == "skillmeat-lock/1"


def test_the_first_collection_becomes_active_and_later_ones_do_not(home: Home) -> None:
    create_collection(home, "one")
    create_collection(home, "two")
    infos = {c.name: c for c in list_collections(home)}
    assert infos["one"].active and not infos["two"].active
    assert all(c.exists for c in infos.values())
    assert [c.name for c in list_collections(home)] == ["one", "two"]
    assert infos["two"].to_dict()["path"] == str(home.paths.collections / "two")


def test_registration_is_in_the_user_config(home: Home) -> None:
    create_collection(home, "team")
    config = tomllib.loads(home.paths.config.read_text())
    assert config["active"] == "team"
    assert config["collections"]["team"]["path"] == str(home.paths.collections / "team")


def test_creating_a_collection_that_exists_is_a_conflict(home: Home) -> None:
    store = create_collection(home, "team")
    head = store.repo.head()
    with pytest.raises(ConflictError) as info:
        create_collection(home, "team")
    assert str(store.path) in str(info.value)
    assert store.repo.head() == head
    assert home.collections() == {"team": store.path}


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden", "with space", "x" * 200])
def test_bad_collection_names_are_rejected_and_nothing_is_made(home: Home, name: str) -> None:
    with pytest.raises(BadInputError):
        create_collection(home, name)
    assert list_collections(home) == []
    assert not home.paths.collections.exists() or list(home.paths.collections.iterdir()) == []


def test_init_an_existing_git_repository_keeps_its_history_and_files(home: Home, tmp_path: Path) -> None:
    repo = tmp_path / "mine"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / "README.md").write_text("hello\n")
    (repo / ".gitignore").write_text("*.log\n")
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "mine", cwd=repo)
    store = init_collection(home, repo)
    assert store.name == "mine"
    assert git("log", "--format=%s", cwd=repo).splitlines() == [
        "Initialize SkillMeat collection 'mine'", "mine"]
    assert (repo / ".gitignore").read_text() == "*.log\n"
    assert (repo / "README.md").read_text() == "hello\n"
    assert home.collections() == {"mine": repo}


def test_init_twice_is_a_conflict(home: Home, tmp_path: Path) -> None:
    init_collection(home, tmp_path / "c")
    with pytest.raises(ConflictError, match="already a collection"):
        init_collection(home, tmp_path / "c")


def test_init_with_a_name_taken_elsewhere_is_a_conflict(home: Home, tmp_path: Path) -> None:
    init_collection(home, tmp_path / "a", name="shared")
    with pytest.raises(ConflictError, match="already exists"):
        init_collection(home, tmp_path / "b", name="shared")
    assert not (tmp_path / "b" / "skillmeat.toml").exists()
    assert home.collections() == {"shared": tmp_path / "a"}


def test_use_collection(home: Home) -> None:
    create_collection(home, "one")
    create_collection(home, "two")
    use_collection(home, "two")
    assert [c.name for c in list_collections(home) if c.active] == ["two"]
    assert home.collection().name == "two"
    with pytest.raises(NotFoundError, match="no collection named 'three'") as info:
        use_collection(home, "three")
    assert info.value.hint


def test_remove_unregisters_but_keeps_files(home: Home) -> None:
    store = create_collection(home, "one")
    assert remove_collection(home, "one") == store.path
    assert list_collections(home) == []
    assert (store.path / "skillmeat.toml").is_file()
    assert home.config.active() is None


def test_remove_with_delete_deletes_the_directory(home: Home) -> None:
    store = create_collection(home, "one")
    create_collection(home, "two")
    remove_collection(home, "one", delete=True)
    assert not store.path.exists()
    assert [c.name for c in list_collections(home)] == ["two"]


def test_remove_with_delete_refuses_a_directory_that_is_not_a_collection(home: Home) -> None:
    store = create_collection(home, "one")
    (store.path / "skillmeat.toml").unlink()
    (store.path / "precious.txt").write_text("keep")
    with pytest.raises(BadInputError, match="does not look like a collection"):
        remove_collection(home, "one", delete=True)
    assert (store.path / "precious.txt").read_text() == "keep"
    assert "one" in home.collections()


def test_remove_unknown(home: Home) -> None:
    with pytest.raises(NotFoundError):
        remove_collection(home, "ghost")


def test_a_registered_collection_whose_directory_is_gone_is_listed_as_missing(home: Home) -> None:
    store = create_collection(home, "one")
    shutil.rmtree(store.path)
    (info,) = list_collections(home)
    assert not info.exists


# --- which collection a command works on ---

def test_selection_by_name_enclosing_directory_active_and_only(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(NotFoundError, match="no collection yet"):
        home.collection()
    one = create_collection(home, "one")
    assert home.collection().name == "one"                  # the only one (and active)
    two = create_collection(home, "two")
    assert home.collection().name == "one"                  # the active one
    assert home.collection("two").path == two.path          # by name
    (two.path / "skills" / "x").mkdir(parents=True)
    inside = Home(home.paths, two.path / "skills" / "x")
    assert inside.collection().name == "two"                # the one around cwd
    assert isinstance(inside.collection(), CollectionStore)
    with pytest.raises(NotFoundError, match="no collection named"):
        home.collection("nope")
    assert one.path != two.path


def test_no_active_and_several_collections_needs_a_choice(home: Home) -> None:
    create_collection(home, "one")
    create_collection(home, "two")
    create_collection(home, "three")
    remove_collection(home, "one")  # the active one: now none is active
    assert home.config.active() is None
    with pytest.raises(NotFoundError, match="no collection selected") as info:
        home.collection()
    assert "collection use" in (info.value.hint or "")


def test_a_malformed_user_config_is_a_config_error_naming_it(home: Home) -> None:
    home.paths.config.parent.mkdir(parents=True, exist_ok=True)
    home.paths.config.write_text("collections = [\n")
    with pytest.raises(ConfigError) as info:
        create_collection(home, "x")
    assert info.value.path == str(home.paths.config)


def test_a_forgotten_collection_can_be_registered_again(home: Home) -> None:
    store = create_collection(home, "team")
    head = store.repo.head()
    remove_collection(home, "team")
    again = create_collection(home, "team")
    assert again.path == store.path
    assert again.repo.head() == head
    assert home.collections() == {"team": store.path}


def test_delete_refuses_a_collection_that_lives_outside_home(home: Home, tmp_path: Path) -> None:
    store = init_collection(home, tmp_path / "mine")
    with pytest.raises(BadInputError):
        remove_collection(home, "mine", delete=True)
    assert (store.path / "skillmeat.toml").is_file()
    assert "mine" in home.collections()
