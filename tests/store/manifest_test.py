from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model.errors import ConfigError
from skillmeat.model.manifest import LOCK_FORMAT, LockEntry, Manifest, ManifestEntry, Upstream
from skillmeat.store.manifest import (
    load_lock,
    load_manifest,
    read_toml,
    render_lock,
    render_manifest_update,
    render_new_manifest,
)

HAND_WRITTEN = """\
# My collection, curated by hand.
[collection]
name = "mine"  # do not rename
version = "1.2.0"
description = "Tools I use"

# Vendored from the team repo.
[artifacts."skill/a"]
tags = ["x"]  # tags first, on purpose
source = "github:o/r"  # where from
path = "skills/a"

# Local command, keep pinned.
[artifacts."command/b"]
source = "/src"
path = "commands/b.md"
pin = true

# trailing comment
"""


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "skillmeat.toml"
    path.write_text(HAND_WRITTEN)
    return path


def entry(source: str, path: str, ref: str = "", **kw: object) -> ManifestEntry:
    return ManifestEntry(Upstream(source, path, ref), **kw)  # type: ignore[arg-type]


def artifacts_of(text: str) -> dict[str, Any]:
    arts: dict[str, Any] = tomllib.loads(text)["artifacts"]
    return arts


# --- new manifests ---

def test_new_manifest_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text(render_new_manifest('we"ird \\ name', "d"))
    m = load_manifest(path)
    assert m == Manifest('we"ird \\ name', "0.1.0", "d", "", (), {})


# --- adding ---

def test_add_appends_and_keeps_everything_above_byte_identical(manifest: Path) -> None:
    text = render_manifest_update(manifest, add={
        "agent/p:c": entry("/x", "agents/c.md", tags=("t1", "t2")),
        "mcp/srv": entry("github:o/m", ".mcp.json#srv", "v1"),
    })
    assert text.startswith(HAND_WRITTEN)
    arts = artifacts_of(text)
    assert list(arts) == ["skill/a", "command/b", "agent/p:c", "mcp/srv"]
    assert arts["agent/p:c"] == {"source": "/x", "path": "agents/c.md", "tags": ["t1", "t2"]}
    assert arts["mcp/srv"] == {"source": "github:o/m", "path": ".mcp.json#srv", "ref": "v1"}


def test_add_to_a_file_without_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text('[collection]\nname = "x"')
    text = render_manifest_update(path, add={"skill/a": entry("/s", "a")})
    assert artifacts_of(text) == {"skill/a": {"source": "/s", "path": "a"}}


def test_adding_an_entry_with_nothing_to_record_writes_nothing(manifest: Path) -> None:
    assert render_manifest_update(manifest, add={"skill/local": ManifestEntry()}) == HAND_WRITTEN


def test_no_changes_gives_the_same_text(manifest: Path) -> None:
    assert render_manifest_update(manifest) == HAND_WRITTEN


# --- removing ---

def test_remove_drops_only_that_entry_and_keeps_the_other_entries_comments(manifest: Path) -> None:
    text = render_manifest_update(manifest, remove={"skill/a"})
    assert list(artifacts_of(text)) == ["command/b"]
    assert "# My collection, curated by hand." in text
    assert 'name = "mine"  # do not rename' in text
    assert "# Local command, keep pinned." in text
    assert "# trailing comment" in text


def test_remove_of_the_last_entry(manifest: Path) -> None:
    text = render_manifest_update(manifest, remove={"command/b"})
    assert list(artifacts_of(text)) == ["skill/a"]
    assert "# Vendored from the team repo." in text
    assert '"github:o/r"  # where from' in text


def test_remove_of_an_unknown_entry_changes_nothing(manifest: Path) -> None:
    assert render_manifest_update(manifest, remove={"skill/zz"}) == HAND_WRITTEN


def test_remove_when_there_are_no_artifacts(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text(render_new_manifest("c"))
    assert render_manifest_update(path, remove={"skill/a"}) == render_new_manifest("c")


# --- replacing ---

def test_replace_changes_values_in_place_keeping_key_order_and_comments(manifest: Path) -> None:
    text = render_manifest_update(manifest, replace={
        "skill/a": entry("github:o/NEW", "skills/a", tags=("x", "y")),
    })
    arts = artifacts_of(text)
    assert list(arts) == ["skill/a", "command/b"]
    assert list(arts["skill/a"]) == ["tags", "source", "path"]
    assert arts["skill/a"] == {"tags": ["x", "y"], "source": "github:o/NEW", "path": "skills/a"}
    assert "# Vendored from the team repo." in text
    assert "# where from" in text
    assert 'path = "skills/a"' in text
    assert text.count("# Local command, keep pinned.") == 1


def test_replace_drops_keys_the_entry_no_longer_has(manifest: Path) -> None:
    text = render_manifest_update(manifest, replace={"command/b": entry("/src", "commands/b.md")})
    assert artifacts_of(text)["command/b"] == {"source": "/src", "path": "commands/b.md"}
    assert artifacts_of(text)["skill/a"]["tags"] == ["x"]


def test_replace_adding_keys_keeps_the_next_entrys_comment_above_it(manifest: Path) -> None:
    text = render_manifest_update(manifest, replace={
        "skill/a": entry("github:o/r", "skills/a", "v2", pin=True, tags=("x",)),
    })
    arts = artifacts_of(text)
    assert arts["skill/a"] == {"tags": ["x"], "source": "github:o/r", "path": "skills/a",
                               "ref": "v2", "pin": True}
    assert arts["command/b"]["pin"] is True
    assert '# Local command, keep pinned.\n[artifacts."command/b"]' in text


def test_replace_of_an_entry_not_yet_there_appends_it(manifest: Path) -> None:
    text = render_manifest_update(manifest, replace={"skill/z": entry("/z", "skills/z")})
    assert text.startswith(HAND_WRITTEN)
    assert artifacts_of(text)["skill/z"] == {"source": "/z", "path": "skills/z"}


def test_replace_in_a_manifest_without_artifacts(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text(render_new_manifest("c"))
    text = render_manifest_update(path, replace={"skill/z": entry("/z", "skills/z")})
    assert text.startswith(render_new_manifest("c"))
    assert artifacts_of(text) == {"skill/z": {"source": "/z", "path": "skills/z"}}


def test_add_remove_and_replace_together(manifest: Path) -> None:
    text = render_manifest_update(
        manifest, add={"agent/n": entry("/n", "agents/n.md")}, remove={"command/b"},
        replace={"skill/a": entry("github:o/r", "skills/a", "main", tags=("x",))})
    arts = artifacts_of(text)
    assert list(arts) == ["skill/a", "agent/n"]
    assert arts["skill/a"]["ref"] == "main"
    assert "# My collection, curated by hand." in text


def test_updated_manifest_loads_as_a_manifest(manifest: Path) -> None:
    manifest.write_text(render_manifest_update(manifest, add={"agent/n": entry("/n", "agents/n.md")}))
    m = load_manifest(manifest)
    assert m.name == "mine"
    assert m.version == "1.2.0"
    assert m.artifacts["command/b"] == ManifestEntry(Upstream("/src", "commands/b.md"), pin=True)
    assert m.artifacts["skill/a"].tags == ("x",)
    assert m.artifacts["agent/n"].upstream == Upstream("/n", "agents/n.md")


# --- the lock ---

LOCK = {
    "skill/zeta": LockEntry("sha256:" + "1" * 64, "github:o/r", "skills/zeta", "a" * 40, "1.0"),
    "agent/p:alpha": LockEntry("sha256:" + "2" * 64),
    "command/mid": LockEntry("sha256:" + "3" * 64, "/local/src", "commands/mid.md"),
}


def test_lock_renders_sorted_with_a_format_and_a_header() -> None:
    text = render_lock(LOCK)
    assert text.startswith("# Generated by SkillMeat")
    data = tomllib.loads(text)
    assert data["format"] == LOCK_FORMAT
    assert list(data["artifacts"]) == ["agent/p:alpha", "command/mid", "skill/zeta"]
    assert data["artifacts"]["agent/p:alpha"] == {"hash": "sha256:" + "2" * 64}


def test_lock_rendering_is_deterministic_whatever_the_insertion_order() -> None:
    assert render_lock(LOCK) == render_lock(dict(reversed(list(LOCK.items()))))


def test_lock_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.lock"
    path.write_text(render_lock(LOCK))
    assert load_lock(path) == LOCK


def test_empty_lock_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.lock"
    path.write_text(render_lock({}))
    assert load_lock(path) == {}


def test_missing_lock_is_empty(tmp_path: Path) -> None:
    assert load_lock(tmp_path / "skillmeat.lock") == {}


# --- malformed files ---

BROKEN = '[collection]\nname = "x"\n[artifacts."a"\nsource = 1\n'


def test_malformed_manifest_raises_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text(BROKEN)
    with pytest.raises(ConfigError) as info:
        load_manifest(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert "line 3" in str(info.value)
    assert info.value.exit_code == 2


def test_malformed_lock_raises_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.lock"
    path.write_text('format = "skillmeat-lock/1"\n[artifacts."x"]\nhash = \n')
    with pytest.raises(ConfigError) as info:
        load_lock(path)
    assert info.value.path == str(path)


@pytest.mark.parametrize("text, message", [
    ('format = "skillmeat-lock/1"\nartifacts = "nope"\n', "'artifacts' must hold one table"),
    ('format = "skillmeat-lock/1"\n[artifacts]\nx = 3\n', "'artifacts' must hold one table"),
    ('version = 1\n[artifacts]\n', "format is None, expected 'skillmeat-lock/1'"),
])
def test_lock_of_the_wrong_shape_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "skillmeat.lock"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_lock(path)
    assert info.value.path == str(path)


def test_read_toml_of_a_missing_or_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        read_toml(tmp_path / "nope.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8") as info:
        read_toml(bad)
    assert info.value.path == str(bad)


@pytest.mark.parametrize(("text", "detail"), [
    ('[collection]\nversion = "1"\n', "missing [collection] name"),
    ('name = "x"\n', "missing [collection] name"),
    ('[collection]\nname = "x"\n[artifacts]\n"skill/a" = 3\n', "must be a table"),
    ('[collection]\nname = "x"\n[artifacts."skill/a"]\ntags = "one"\n', "'tags' must be an array"),
    ('[collection]\nname = "x"\n[artifacts."skill/a"]\npin = "yes"\n', "'pin' must be true or false"),
    ('[collection]\nname = "x"\n[artifacts."skill/a"]\nsource = 1\n', "'source' must be a string"),
    ('artifacts = 1\n[collection]\nname = "x"\n', "'artifacts' must be a table"),
])
def test_invalid_manifest_values_raise_config_error_naming_file_and_key(
    tmp_path: Path, text: str, detail: str
) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(detail)) as info:
        load_manifest(path)
    assert str(path) in str(info.value)


def test_invalid_entry_error_names_the_artifact(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text('[collection]\nname = "x"\n[artifacts."skill/a"]\ntags = "one"\n')
    with pytest.raises(ConfigError) as info:
        load_manifest(path)
    assert 'artifacts."skill/a"' in str(info.value)


@pytest.mark.parametrize("change", ["add", "remove", "replace"])
def test_rendering_an_update_of_a_malformed_manifest_raises_config_error(
    tmp_path: Path, change: str
) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text(BROKEN)
    changes: dict[str, dict[str, Any]] = {
        "add": {"add": {"skill/q": entry("/q", "q")}},
        "remove": {"remove": {"a"}},
        "replace": {"replace": {"a": entry("/q", "q")}},
    }
    with pytest.raises(ConfigError) as info:
        render_manifest_update(path, **changes[change])
    assert info.value.path == str(path)


def test_comments_outside_a_removed_table_survive_add_then_remove(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text(render_new_manifest("c") + "# TODO: fill maintainers\n\n# Team policy: keep it short.\n")
    path.write_text(render_manifest_update(path, add={"skill/a": entry("/src", "skills/a")}))
    text = path.read_text()
    path.write_text(text.replace('path = "skills/a"', 'path = "skills/a"\n# note inside a'))
    path.write_text(render_manifest_update(path, remove={"skill/a"}))
    final = path.read_text()
    assert "skill/a" not in tomllib.loads(final).get("artifacts", {})
    for note in ("# TODO: fill maintainers", "# Team policy: keep it short.", "# note inside a"):
        assert note in final
    assert final.endswith("\n")


def test_a_comment_block_attached_to_a_header_goes_with_its_table(tmp_path: Path) -> None:
    path = tmp_path / "skillmeat.toml"
    path.write_text(render_new_manifest("c") + '\n# about a\n[artifacts."skill/a"]\nsource = "/s"\n'
                    '\n# about b\n[artifacts."skill/b"]\nsource = "/s"\n')
    final = render_manifest_update(path, remove={"skill/a"})
    assert "# about a" not in final and "# about b" in final
    assert list(artifacts_of(final)) == ["skill/b"]
