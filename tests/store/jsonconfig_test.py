from __future__ import annotations

import os
from pathlib import Path

import pytest

from skillmeat.model.errors import ConfigError, ConflictError
from skillmeat.store.jsonconfig import (
    Backup,
    Backups,
    is_backup_id,
    read_json_config,
    slug_for,
    write_json_config,
)


def test_invalid_json_is_refused_with_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    for raw in (b'{"a": 1,,}', b"[1]", b"\xff\xfe{}"):
        path.write_bytes(raw)
        with pytest.raises(ConfigError) as err:
            read_json_config(path)
        assert str(path) in err.value.message and "\n" not in err.value.message
        assert path.read_bytes() == raw
        assert read_json_config(path, require_valid=False).raw == raw


def test_absent_and_blank_files_read_as_empty(tmp_path: Path) -> None:
    assert read_json_config(tmp_path / "none.json").raw is None
    (tmp_path / "blank.json").write_text("\n")
    assert read_json_config(tmp_path / "blank.json").data == {}


def test_writes_go_through_symlinks_and_keep_the_mode(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "claude.json"
    real.parent.mkdir()
    real.write_text("{}")
    real.chmod(0o640)
    link = tmp_path / ".claude.json"
    link.symlink_to(os.path.relpath(real, tmp_path))
    assert write_json_config(read_json_config(link), b'{"a": 1}')
    assert link.is_symlink() and real.read_bytes() == b'{"a": 1}'
    assert real.stat().st_mode & 0o777 == 0o640


def test_unchanged_bytes_are_not_written(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{}")
    before = path.stat().st_mtime_ns, path.stat().st_ino
    assert not write_json_config(read_json_config(path), b"{}")
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{}")
    seen = read_json_config(path)
    path.write_text('{"claude": "wrote this"}')
    with pytest.raises(ConflictError):
        write_json_config(seen, b'{"ours": 1}')
    assert path.read_text() == '{"claude": "wrote this"}'


def test_new_files_get_the_mode_asked_for_and_none_removes(tmp_path: Path) -> None:
    path = tmp_path / "new" / "c.json"
    write_json_config(read_json_config(path), b"{}", new_mode=0o600)
    assert path.stat().st_mode & 0o777 == 0o600
    write_json_config(read_json_config(path), None)
    assert not path.exists()


def test_backups_keep_bytes_and_prune_the_oldest(tmp_path: Path) -> None:
    store = Backups(tmp_path / "backups", keep=3)
    file = tmp_path / ".claude.json"
    saved = [store.save(file, f"v{i}".encode(), Backup("", "deploy", ("s",))) for i in range(5)]
    saved.append(store.save(file, None, Backup("", "deploy")))
    found = store.load(slug_for(file))
    assert found is not None and found.file == file
    assert [b.id for b in found.backups] == [b.id for b in saved[-3:]]
    assert len({b.id for b in saved}) == 6 and all(is_backup_id(b.id) for b in saved)
    assert [store.read(found.slug, b) for b in found.backups] == [b"v3", b"v4", None]
    folder = tmp_path / "backups" / found.slug
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["index.json", f"{saved[3].id}.json", f"{saved[4].id}.json"])
    assert (folder / f"{saved[4].id}.json").stat().st_mode & 0o777 == 0o600


def test_slugs_are_readable_and_unique_per_path(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / ".mcp.json", tmp_path / "b" / ".mcp.json"
    assert slug_for(a).startswith("a-mcp.json-") and slug_for(a) != slug_for(b)
    assert slug_for(tmp_path / ".claude.json").startswith("claude.json-")
