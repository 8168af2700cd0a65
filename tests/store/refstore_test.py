"""Signed commits under refs/skillmeat/, moved only by compare-and-swap, also between processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pygit2
import pytest

from skillmeat.model import sshsig
from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.store.refstore import PREFIX, RefStore, check_ref_name, tree_with_files
from tests.helpers import git

KEY = PrivateKey(bytes([5]) * 32, "alice@example.com")
WHO = pygit2.Signature("Alice", "alice@example.com", 1_700_000_000, 0)
FEED = "refs/skillmeat/feed"


def sign(payload: bytes) -> str:
    return sshsig.sign(KEY, payload, "git")


def add_files(files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    def build(repo: Any, parent: str | None) -> str:
        return tree_with_files(repo, str(repo[parent].tree_id) if parent else None, files)
    return build


def files_in(repo: pygit2.Repository, tree: Any, prefix: str = "") -> dict[str, bytes]:
    out = {}
    for entry in tree:
        obj = repo[entry.id]
        if isinstance(obj, pygit2.Tree):
            out.update(files_in(repo, obj, f"{prefix}{entry.name}/"))
        else:
            out[prefix + entry.name] = obj.data
    return out


def unsigned_commit(repo: pygit2.Repository, files: dict[str, bytes], parents: list[str]) -> str:
    tree = tree_with_files(repo, str(repo[parents[0]].tree_id) if parents else None, files)
    return str(repo.create_commit(None, WHO, WHO, "by hand", tree, parents))


@pytest.fixture
def repo(tmp_path: Path) -> pygit2.Repository:
    return pygit2.init_repository(str(tmp_path / "repo.git"), bare=True)


@pytest.fixture
def refs(repo: pygit2.Repository) -> RefStore:
    return RefStore(repo)


# --------------------------------------------------------------------------- ref names


@pytest.mark.parametrize("name", [
    "refs/skillmeat/feed", "refs/skillmeat/snapshots/v1.2", "refs/skillmeat/a-b_c",
    "refs/skillmeat/incoming/origin/feed", "refs/skillmeat/x.locked",
])
def test_good_ref_names(name: str) -> None:
    assert check_ref_name(name) == name


@pytest.mark.parametrize("name", [
    "refs/heads/main", "refs/tags/v1", "skillmeat/feed", "feed", "refs/skillmeat", "refs/skillmeat/",
    "refs/skillmeatx/feed", "refs/skillmeat/../heads/main", "refs/skillmeat/a..b",
    "refs/skillmeat/x@{1}", "refs/skillmeat/a b", "refs/skillmeat/a\tb", "refs/skillmeat/a\nb",
    "refs/skillmeat/x.lock", "refs/skillmeat/x.lock/y", "refs/skillmeat/.hidden",
    "refs/skillmeat/a/.b", "refs/skillmeat//x", "refs/skillmeat/x/", "refs/skillmeat/a~1",
    "refs/skillmeat/a^", "refs/skillmeat/a:b", "refs/skillmeat/a?", "refs/skillmeat/a*",
    "refs/skillmeat/a[b", "refs/skillmeat/a\\b",
    "refs/skillmeat/feed.",      # git: a ref name cannot end with a dot
    "refs/skillmeat/a\x7fb",     # git: no DEL (0x7f) in ref names
])
def test_bad_ref_names(name: str) -> None:
    with pytest.raises(BadInputError):
        check_ref_name(name)


def test_every_name_check_ref_name_allows_git_allows_too() -> None:
    chars = [chr(c) for c in range(0x20, 0x80)] + ["\x01", "\x1f"]
    shapes = ["a{}b", "{}a", "a{}", "a/{}b", "a{}/b", "{}{}"]
    names = {PREFIX + shape.replace("{}", c) for c in chars for shape in shapes}
    names |= {PREFIX + n for n in ("a.lock", "a.", "a/b.", ".a", "a//b", "/a", "a/", "@", "a@{b",
                                   "a..b", "a/.b", "a.lock/b", "-a", "a.b")}
    accepted_by_us_not_git = []
    for name in sorted(names):
        try:
            check_ref_name(name)
        except BadInputError:
            continue
        done = subprocess.run(["git", "check-ref-format", name], capture_output=True, check=False)
        if done.returncode != 0:
            accepted_by_us_not_git.append(name)
    assert accepted_by_us_not_git == []


def test_update_refuses_bad_names_without_writing(refs: RefStore, repo: pygit2.Repository) -> None:
    for name in ("refs/heads/main", "refs/skillmeat/../x", "refs/skillmeat/feed."):
        with pytest.raises(BadInputError):
            refs.update(name, add_files({"a": b"1"}), "m", sign, WHO, attempts=2)
    assert list(repo.references) == []


# --------------------------------------------------------------------------- update


def test_update_creates_then_appends_signed_commits(refs: RefStore, repo: pygit2.Repository) -> None:
    assert refs.read(FEED) is None
    first = refs.update(FEED, add_files({"a.txt": b"A"}), "first\n\nbody", sign, WHO)
    second = refs.update(FEED, add_files({"dir/b.txt": b"B"}), "second", sign, WHO)
    assert refs.read(FEED) == second
    assert refs.names() == [FEED]
    tip = refs.commit(second)
    assert tip.parents == (first,)
    assert tip.summary == "second"
    assert tip.author == "Alice"
    assert refs.commit(first).parents == ()
    assert refs.commit(first).summary == "first"
    assert files_in(repo, repo[second].tree) == {"a.txt": b"A", "dir/b.txt": b"B"}
    for oid in (first, second):
        c = refs.commit(oid)
        assert c.signature is not None
        assert sshsig.verify(c.signature, c.payload, "git").public_key.raw == KEY.public.raw


def test_signature_covers_exactly_the_stored_commit(refs: RefStore, repo: pygit2.Repository) -> None:
    oid = refs.update(FEED, add_files({"a": b"1"}), "m", sign, WHO)
    c = refs.commit(oid)
    raw = repo.odb.read(oid)[1]
    assert b"\ngpgsig -----BEGIN SSH SIGNATURE-----\n" in raw
    # The payload is the object without its gpgsig header: what git verify-commit checks.
    head, _, body = raw.partition(b"\n\n")
    unsigned = b"\n".join(ln for ln in head.split(b"\n") if not ln.startswith((b"gpgsig ", b" "))) \
        + b"\n\n" + body
    assert c.payload == unsigned


def test_update_passes_the_tip_it_builds_on(refs: RefStore) -> None:
    seen: list[str | None] = []

    def build(repo: Any, parent: str | None) -> str:
        seen.append(parent)
        return add_files({f"f{len(seen)}": b"x"})(repo, parent)

    a = refs.update(FEED, build, "a", sign, WHO)
    b = refs.update(FEED, build, "b", sign, WHO)
    assert seen == [None, a]
    assert refs.read(FEED) == b


def test_update_rebuilds_on_a_tip_another_writer_moved(refs: RefStore, repo: pygit2.Repository) -> None:
    base = refs.update(FEED, add_files({"base": b"0"}), "base", sign, WHO)
    theirs: list[str] = []
    parents: list[str | None] = []

    def build(r: Any, parent: str | None) -> str:
        parents.append(parent)
        if not theirs:  # another writer wins the race, after we read the ref
            theirs.append(unsigned_commit(repo, {"theirs": b"T"}, [base]))
            repo.references[FEED].set_target(theirs[0])
        return add_files({"mine": b"M"})(r, parent)

    mine = refs.update(FEED, build, "mine", sign, WHO)
    assert parents == [base, theirs[0]]
    assert refs.read(FEED) == mine
    assert refs.commit(mine).parents == (theirs[0],)
    assert files_in(repo, repo[mine].tree) == {"base": b"0", "theirs": b"T", "mine": b"M"}


def test_update_rebuilds_when_another_writer_created_the_ref(refs: RefStore, repo: pygit2.Repository) -> None:
    theirs: list[str] = []

    def build(r: Any, parent: str | None) -> str:
        if not theirs:
            theirs.append(unsigned_commit(repo, {"theirs": b"T"}, []))
            repo.references.create(FEED, theirs[0])
        return add_files({"mine": b"M"})(r, parent)

    mine = refs.update(FEED, build, "mine", sign, WHO)
    assert refs.commit(mine).parents == (theirs[0],)
    assert files_in(repo, repo[mine].tree) == {"theirs": b"T", "mine": b"M"}


def test_update_gives_up_when_the_ref_keeps_moving(refs: RefStore, repo: pygit2.Repository) -> None:
    base = refs.update(FEED, add_files({"base": b"0"}), "base", sign, WHO)
    moved: list[str] = []

    def build(r: Any, parent: str | None) -> str:
        moved.append(unsigned_commit(repo, {f"t{len(moved)}": b"T"}, [parent or base]))
        repo.references[FEED].set_target(moved[-1])
        return add_files({"mine": b"M"})(r, parent)

    with pytest.raises(ConflictError) as err:
        refs.update(FEED, build, "mine", sign, WHO, attempts=3)
    assert "3 attempts" in err.value.message
    assert len(moved) == 3
    assert refs.read(FEED) == moved[-1]


# --------------------------------------------------------------------------- set_if


def test_set_if_creates_and_moves(refs: RefStore, repo: pygit2.Repository) -> None:
    a = unsigned_commit(repo, {"a": b"1"}, [])
    b = unsigned_commit(repo, {"b": b"2"}, [a])
    refs.set_if(FEED, a, None)
    assert refs.read(FEED) == a
    refs.set_if(FEED, b, a)
    assert refs.read(FEED) == b


def test_set_if_refuses_when_the_ref_moved(refs: RefStore, repo: pygit2.Repository) -> None:
    a = unsigned_commit(repo, {"a": b"1"}, [])
    b = unsigned_commit(repo, {"b": b"2"}, [a])
    c = unsigned_commit(repo, {"c": b"3"}, [a])
    refs.set_if(FEED, a, None)
    refs.set_if(FEED, b, a)          # someone else moved it on
    with pytest.raises(ConflictError) as err:
        refs.set_if(FEED, c, a)      # we still expect a
    assert "moved" in err.value.message
    assert refs.read(FEED) == b
    with pytest.raises(ConflictError):
        refs.set_if(FEED, c, None)   # we expect it absent
    assert refs.read(FEED) == b
    with pytest.raises(ConflictError):
        refs.set_if("refs/skillmeat/other", c, a)  # we expect it present
    assert refs.read("refs/skillmeat/other") is None


def test_set_if_checks_the_name(refs: RefStore, repo: pygit2.Repository) -> None:
    a = unsigned_commit(repo, {"a": b"1"}, [])
    with pytest.raises(BadInputError):
        refs.set_if("refs/heads/main", a, None)
    assert "refs/heads/main" not in list(repo.references)


# --------------------------------------------------------------------------- reading


def test_commit_refuses_unknown_and_non_commits(refs: RefStore, repo: pygit2.Repository) -> None:
    a = unsigned_commit(repo, {"a": b"1"}, [])
    with pytest.raises(NotFoundError):
        refs.commit("0" * 40)
    with pytest.raises(NotFoundError):
        refs.commit(str(repo[a].tree_id))
    with pytest.raises(NotFoundError):
        refs.commit("not-an-id")
    assert refs.commit(a).signature is None


def test_walk_and_ancestry(refs: RefStore) -> None:
    ids = [refs.update(FEED, add_files({f"f{i}": b"x"}), f"c{i}", sign, WHO) for i in range(5)]
    assert [c.id for c in refs.walk(ids[-1])] == ids[::-1]
    assert [c.summary for c in refs.walk(ids[-1], stop=ids[1])] == ["c4", "c3", "c2"]
    assert list(refs.walk(ids[2], stop=ids[2])) == []
    assert refs.is_ancestor(ids[0], ids[4])
    assert refs.is_ancestor(ids[3], ids[3])
    assert not refs.is_ancestor(ids[4], ids[0])


# --------------------------------------------------------------------------- trees


def test_tree_with_files(repo: pygit2.Repository, tmp_path: Path) -> None:
    base = tree_with_files(repo, None, {"top.txt": b"top", "a/b/c.txt": b"deep", "a/x.txt": b"x"})
    assert files_in(repo, repo[base]) == {"top.txt": b"top", "a/b/c.txt": b"deep", "a/x.txt": b"x"}
    changed = tree_with_files(repo, base, {"a/b/d.txt": b"new", "top.txt": b"changed", "z": b""})
    assert files_in(repo, repo[changed]) == {
        "top.txt": b"changed", "a/b/c.txt": b"deep", "a/b/d.txt": b"new", "a/x.txt": b"x", "z": b""}
    assert files_in(repo, repo[base])["top.txt"] == b"top"  # the base is untouched
    assert tree_with_files(repo, base, {}) == base
    # git itself reads the tree
    listing = git("ls-tree", "-r", "--name-only", changed, cwd=Path(repo.path))
    assert listing.split() == ["a/b/c.txt", "a/b/d.txt", "a/x.txt", "top.txt", "z"]


# --------------------------------------------------------------------------- two processes


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import pygit2
    from skillmeat.model import sshsig
    from skillmeat.model.sshkeys import PrivateKey
    from skillmeat.store.refstore import RefStore, tree_with_files

    path, seed, tag, rounds, gate = sys.argv[1:6]
    key = PrivateKey(bytes.fromhex(seed))
    refs = RefStore(pygit2.Repository(path))
    who = pygit2.Signature(tag, tag + "@example.com", 1_700_000_000, 0)
    Path(gate + "." + tag).touch()
    while not Path(gate).exists():
        time.sleep(0.001)
    for i in range(int(rounds)):
        name = f"{tag}/{i:03d}.txt"
        def build(repo, parent, name=name):
            base = str(repo[parent].tree_id) if parent else None
            return tree_with_files(repo, base, {name: name.encode()})
        refs.update("refs/skillmeat/feed", build, name, lambda p: sshsig.sign(key, p, "git"), who)
""")


def run_writers(script: str, args: list[list[str]], gate: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", script, *a, str(gate)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for a in args]
    try:
        ready = [gate.with_name(f"{gate.name}.{a[2]}") for a in args]
        while not all(r.exists() for r in ready):
            for p in procs:
                if p.poll() is not None:
                    raise AssertionError(p.communicate()[1].decode())
            time.sleep(0.01)
        gate.touch()  # both processes start their loops together
        for p in procs:
            _, err = p.communicate(timeout=300)
            assert p.returncode == 0, err.decode()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    stream.close()


def test_two_processes_update_one_ref_and_lose_nothing(repo: pygit2.Repository, tmp_path: Path) -> None:
    rounds = 40
    run_writers(WRITER, [[repo.path, KEY.seed.hex(), tag, str(rounds)] for tag in ("one", "two")],
                tmp_path / "go")
    refs = RefStore(repo)
    tip = refs.read(FEED)
    assert tip is not None
    history = list(refs.walk(tip))
    expected = {f"{t}/{i:03d}.txt" for t in ("one", "two") for i in range(rounds)}
    assert len(history) == 2 * rounds
    assert {c.summary for c in history} == expected
    assert {p: d.decode() for p, d in files_in(repo, repo[tip].tree).items()} == {e: e for e in expected}
    assert history[-1].parents == ()
    # every commit adds exactly its own file on top of its parent's tree: no update was lost
    for c in history:
        mine = set(files_in(repo, repo[c.id].tree))
        before = set(files_in(repo, repo[c.parents[0]].tree)) if c.parents else set()
        assert mine - before == {c.summary}
        assert before <= mine
        assert c.signature is not None
        assert sshsig.verify(c.signature, c.payload, "git").public_key.raw == KEY.public.raw
    # each writer's own commits are in its own order
    for tag in ("one", "two"):
        mine = [c.summary for c in reversed(history) if c.summary.startswith(tag)]
        assert mine == sorted(mine)
    assert git("rev-list", "--count", FEED, cwd=Path(repo.path)).strip() == str(2 * rounds)
    git("fsck", "--strict", "--no-dangling", cwd=Path(repo.path))


def test_names_lists_only_skillmeat_refs(refs: RefStore, repo: pygit2.Repository) -> None:
    a = unsigned_commit(repo, {"a": b"1"}, [])
    repo.references.create("refs/heads/main", a)
    repo.references.create("refs/skillmeat/z", a)
    repo.references.create("refs/skillmeat/snapshots/v1", a)
    assert refs.names() == ["refs/skillmeat/snapshots/v1", "refs/skillmeat/z"]
    assert PREFIX == "refs/skillmeat/"
