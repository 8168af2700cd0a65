from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from skillmeat.model.errors import LockedError, NotFoundError
from skillmeat.store.collection import CollectionStore
from skillmeat.store.files import atomic_write, process_lock, prune_empty_dirs
from tests.helpers import REPO_ROOT, git, tree_state


def modes(root: Path) -> dict[str, int]:
    return {rel: stat.S_IMODE((root / rel).stat().st_mode) for rel in tree_state(root)}


def dirs(root: Path) -> set[str]:
    out = set()
    for base, names, _ in os.walk(root):
        names[:] = [n for n in names if n != ".git"]
        out |= {os.path.relpath(os.path.join(base, n), root) for n in names}
    return out


def backups(store: CollectionStore) -> list[str]:
    where = store.path / ".git" / "skillmeat"
    return sorted(p.name for p in where.glob("txn-*")) if where.exists() else []


@pytest.fixture
def seeded(collection: CollectionStore) -> CollectionStore:
    with collection.change() as txn:
        txn.write("skills/a/SKILL.md", "---\nname: a\n---\nA\n")
        txn.write("skills/a/scripts/run.sh", "#!/bin/sh\necho a\n", executable=True)
        txn.write("commands/b.md", "B\n")
        txn.write("agents/c.md", "C\n")
        txn.commit("Seed")
    return collection


class Boom(Exception):
    pass


# --- WorktreeChange ---

def test_change_commits_what_it_touched(seeded: CollectionStore) -> None:
    with seeded.change() as txn:
        txn.write("commands/new.md", "new\n")
        txn.remove("agents/c.md")
        oid = txn.commit("Change")
    assert seeded.repo.head() == oid
    assert git("status", "--porcelain", cwd=seeded.path) == ""
    files = git("ls-tree", "-r", "--name-only", "HEAD", cwd=seeded.path).split()
    assert "commands/new.md" in files
    assert "agents/c.md" not in files
    assert not (seeded.path / "agents").exists()
    assert backups(seeded) == []


def test_write_sets_modes(seeded: CollectionStore) -> None:
    assert modes(seeded.path)["skills/a/scripts/run.sh"] == 0o755
    assert modes(seeded.path)["commands/b.md"] == 0o644


def test_undo_restores_the_work_tree_exactly_and_head_does_not_move(
    seeded: CollectionStore, tmp_path: Path
) -> None:
    (seeded.path / "notes.txt").write_text("uncommitted user file\n")
    (seeded.path / "commands/b.md").write_text("B edited but not committed\n")
    head = seeded.repo.head()
    before, before_modes, before_dirs = tree_state(seeded.path), modes(seeded.path), dirs(seeded.path)
    status = git("status", "--porcelain", cwd=seeded.path)
    src = tmp_path / "tool.sh"
    src.write_text("#!/bin/sh\n")
    src.chmod(0o755)

    with pytest.raises(Boom), seeded.change() as txn:
        txn.write("commands/b.md", "overwritten\n")                     # an existing file
        txn.write("skills/new/deep/er/SKILL.md", "new\n")               # new, in new dirs
        txn.copy_file(src, "hooks/h/tool.sh")                           # copied, executable
        txn.copy_file(src, "skills/a/SKILL.md")                         # copied over a file
        txn.write_blob("mcp/m.toml", b"transport = 'stdio'\n", 0o100755)
        txn.remove("skills/a/scripts")                                  # a directory
        txn.remove("agents/c.md")                                       # a file
        txn.remove("does/not/exist.md")                                 # nothing there
        txn.write("agents/c.md", "rewritten after removal\n")           # same path again
        txn.write("notes.txt", "clobbered\n")
        assert (seeded.path / "hooks/h/tool.sh").exists()
        raise Boom

    assert tree_state(seeded.path) == before
    assert modes(seeded.path) == before_modes
    assert dirs(seeded.path) == before_dirs
    assert seeded.repo.head() == head
    assert git("status", "--porcelain", cwd=seeded.path) == status
    assert backups(seeded) == []


def test_undo_after_an_error_from_the_change_itself(seeded: CollectionStore, tmp_path: Path) -> None:
    before, head = tree_state(seeded.path), seeded.repo.head()
    with pytest.raises(FileNotFoundError), seeded.change() as txn:
        txn.write("commands/b.md", "changed\n")
        txn.copy_file(tmp_path / "missing-source", "commands/x.md")
    assert tree_state(seeded.path) == before
    assert seeded.repo.head() == head


def test_undo_when_a_file_and_then_its_directory_are_removed(seeded: CollectionStore) -> None:
    before, head = tree_state(seeded.path), seeded.repo.head()
    with pytest.raises(Boom), seeded.change() as txn:
        txn.remove("skills/a/SKILL.md")
        txn.remove("skills/a")
        assert not (seeded.path / "skills/a").exists()
        raise Boom
    assert tree_state(seeded.path) == before
    assert seeded.repo.head() == head


def test_a_directory_can_be_removed_and_rewritten_in_one_change(seeded: CollectionStore) -> None:
    with seeded.change() as txn:
        txn.remove("skills/a")
        txn.write("skills/a/SKILL.md", "---\nname: a\n---\nA v2\n")
        txn.commit("Replace a")
    assert git("ls-tree", "-r", "--name-only", "HEAD", "skills", cwd=seeded.path).split() == [
        "skills/a/SKILL.md"]
    assert git("status", "--porcelain", cwd=seeded.path) == ""


def test_keyboard_interrupt_is_undone_too(seeded: CollectionStore) -> None:
    before = tree_state(seeded.path)
    with pytest.raises(KeyboardInterrupt), seeded.change() as txn:
        txn.write("commands/b.md", "half-done\n")
        raise KeyboardInterrupt
    assert tree_state(seeded.path) == before


def test_open_needs_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no skillmeat\.toml"):
        CollectionStore.open("x", tmp_path)


def test_artifacts_in_worktree(seeded: CollectionStore) -> None:
    found = {str(a): files for a, files in seeded.artifacts_in_worktree().items()}
    assert found == {
        "agent/c": ["agents/c.md"],
        "command/b": ["commands/b.md"],
        "skill/a": ["skills/a/SKILL.md", "skills/a/scripts/run.sh"],
    }


def test_index_cache_round_trip_and_corruption(collection: CollectionStore) -> None:
    assert collection.load_index() is None
    collection.save_index("abc", {"skill/a": {"id": "skill/a"}})
    assert collection.load_index() == ("abc", {"skill/a": {"id": "skill/a"}})
    index = collection.path / ".git" / "skillmeat" / "index.marshal"
    index.write_bytes(b"\x00garbage")
    assert collection.load_index() is None


# --- process_lock ---

HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from skillmeat.model.errors import LockedError
    from skillmeat.store.files import process_lock

    path, timeout = Path(sys.argv[1]), float(sys.argv[2])
    try:
        with process_lock(path, timeout=timeout):
            print("locked", flush=True)
            sys.stdin.readline()
    except LockedError as exc:
        print("busy:", exc, flush=True)
        sys.exit(3)
""")


def start_holder(lock: Path, timeout: float = 10.0) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen([sys.executable, "-c", HOLDER, str(lock), str(timeout)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)


def test_lock_held_by_another_process_raises_locked_error_after_the_timeout(tmp_path: Path) -> None:
    lock = tmp_path / "state" / "lock"
    holder = start_holder(lock)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError) as info, process_lock(lock, timeout=0.2):
            pytest.fail("acquired a lock another process holds")
        assert str(lock) in str(info.value)
        assert info.value.hint
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0
    with process_lock(lock, timeout=0.2):
        pass  # free again once the holder is gone


def test_a_second_process_is_blocked_while_we_hold_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    with process_lock(lock):
        blocked = start_holder(lock, timeout=0.2)
        out, _ = blocked.communicate("\n", timeout=60)
        assert blocked.returncode == 3
        assert out.startswith("busy: another skillmeat process holds")
    after = start_holder(lock, timeout=5)
    out, _ = after.communicate("\n", timeout=60)
    assert after.returncode == 0
    assert out.strip() == "locked"


def test_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    with pytest.raises(Boom), process_lock(lock):
        raise Boom
    other = start_holder(lock, timeout=0.2)
    out, _ = other.communicate("\n", timeout=60)
    assert other.returncode == 0, out


def test_lock_creates_its_directory(tmp_path: Path) -> None:
    lock = tmp_path / "a" / "b" / "lock"
    with process_lock(lock):
        assert lock.exists()


# --- atomic_write ---

def test_atomic_write_creates_with_0644_and_parents(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "f.txt"
    old = os.umask(0o077)
    try:
        atomic_write(path, "héllo")
    finally:
        os.umask(old)
    assert path.read_bytes() == "héllo".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.parametrize("mode", [0o755, 0o600, 0o640])
def test_atomic_write_keeps_the_mode_of_an_existing_file(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "f"
    path.write_text("old")
    path.chmod(mode)
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_atomic_write_with_an_explicit_mode(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("old")
    path.chmod(0o644)
    atomic_write(path, "new", mode=0o700)
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_atomic_write_replaces_the_inode_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("old")
    inode = path.stat().st_ino
    atomic_write(path, "new")
    assert path.stat().st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_failed_atomic_write_keeps_the_old_content_and_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("old")
    with pytest.raises(TypeError):
        atomic_write(path, 12345)  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_prune_empty_dirs_stops_at_the_root_and_at_non_empty_dirs(tmp_path: Path) -> None:
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "a" / "keep.txt").write_text("x")
    prune_empty_dirs(tmp_path / "a" / "b" / "c", tmp_path)
    assert (tmp_path / "a").is_dir()
    assert not (tmp_path / "a" / "b").exists()
    (tmp_path / "a" / "keep.txt").unlink()
    prune_empty_dirs(tmp_path / "a", tmp_path)
    assert tmp_path.is_dir()
    assert not (tmp_path / "a").exists()


def test_a_failure_after_the_commit_takes_the_commit_back(collection) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import git, tree_state

    head = git("rev-parse", "HEAD", cwd=collection.path).strip()
    before = tree_state(collection.path)
    with pytest.raises(RuntimeError), collection.change() as txn:
        txn.write("commands/late.md", "---\ndescription: x\n---\nbody\n")
        txn.commit("Add late")
        raise RuntimeError("the step after the commit failed")
    assert git("rev-parse", "HEAD", cwd=collection.path).strip() == head
    assert tree_state(collection.path) == before
    assert git("status", "--porcelain", cwd=collection.path) == ""
