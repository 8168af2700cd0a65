"""The .skillmeat-pack archive layer: a deterministic writer and a reader that refuses hostile ZIPs."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import stat
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from skillmeat.model.pack import Limits, PackError
from skillmeat.store import packzip
from skillmeat.store.packzip import DEFLATED, STORED, Member, PackReader, PackWriter

ROOT = Path(__file__).resolve().parents[2]
needs_unzip = pytest.mark.skipif(shutil.which("unzip") is None, reason="needs Info-ZIP unzip")

TEXT = b"# A skill\n\nSay hello politely, then explain what you are doing.\n" * 400
RANDOM = random.Random(42).randbytes(70_000)
MEMBERS: dict[str, tuple[bytes, int]] = {
    "artifacts/skills/greeter/SKILL.md": (TEXT, 0o100644),
    "artifacts/skills/greeter/blob.bin": (RANDOM, 0o100644),
    "artifacts/skills/greeter/empty": (b"", 0o100644),
    "artifacts/skills/greeter/run.sh": (b"#!/bin/sh\necho hello\n", 0o100755),
    "artifacts/skills/greeter/\u00e9t\u00e9.md": ("\u00e9t\u00e9\n".encode() * 50, 0o100644),
    "skillmeat-pack.json": (b'{"format": "skillmeat-pack/1"}\n', 0o100644),
}


# -- helpers -------------------------------------------------------------------------------------

def write_pack(dest: Path, members: dict[str, tuple[bytes, int]] = MEMBERS) -> str:
    with PackWriter(dest) as writer:
        for name in sorted(members):
            data, mode = members[name]
            assert writer.add_bytes(name, data, mode) == (len(data), hashlib.sha256(data).hexdigest())
        return writer.close()


def make_tree(root: Path, mtime: float) -> None:
    for name, (data, mode) in MEMBERS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755 if mode == 0o100755 else 0o644)
        os.utime(path, (mtime, mtime))


def zip_with(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]], *,
             compression: int = zipfile.ZIP_DEFLATED, comment: bytes = b"") -> Path:
    """A ZIP built by Python's zipfile, with full control over each ZipInfo."""
    with zipfile.ZipFile(path, "w", compression) as zf:
        for info, data in entries:
            if isinstance(info, str):
                info = info_for(info)
            zf.writestr(info, data, compress_type=compression)
        zf.comment = comment
    return path


def info_for(name: str, kind: int = stat.S_IFREG, perm: int = 0o644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = (kind | perm) << 16
    return info


def central_entries(data: bytes | bytearray) -> list[tuple[int, int]]:
    """(central directory entry offset, local header offset) of each member (no ZIP64)."""
    count, _, cd_offset = struct.unpack_from("<HII", data, len(data) - 12)
    out, pos = [], cd_offset
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        out.append((pos, struct.unpack_from("<I", data, pos + 42)[0]))
        pos += 46 + name_len + extra_len + comment_len
    return out


def data_offset(data: bytes | bytearray, local: int) -> int:
    name_len, extra_len = struct.unpack_from("<HH", data, local + 26)
    return local + 30 + int(name_len) + int(extra_len)


def refused(path: Path, word: str, limits: Limits | None = None) -> PackError:
    with pytest.raises(PackError) as info:
        PackReader(path, limits or Limits())
    assert word in info.value.detail, info.value.detail
    assert str(path) in str(info.value)
    return info.value


def refused_while_streaming(path: Path, name: str, word: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with PackReader(path) as reader:
        for read in (lambda: reader.hash_member(name), lambda: reader.read_small(name, 1 << 30),
                     lambda: reader.extract(name, out / "artifacts" / "deep" / "file")):
            with pytest.raises(PackError) as info:
                read()
            assert word in info.value.detail, info.value.detail
    assert list(out.iterdir()) == []


# -- writer ---------------------------------------------------------------------------------------

def test_round_trip_keeps_content_modes_and_hashes(tmp_path: Path) -> None:
    pack = tmp_path / "b.skillmeat-pack"
    digest = write_pack(pack)
    assert digest == hashlib.sha256(pack.read_bytes()).hexdigest()
    out = tmp_path / "out"
    with PackReader(pack) as reader:
        assert list(reader.members) == sorted(MEMBERS)
        for name, (data, mode) in MEMBERS.items():
            member = reader.members[name]
            assert (member.name, member.size, member.mode) == (name, len(data), mode)
            sha = hashlib.sha256(data).hexdigest()
            assert reader.hash_member(name) == (len(data), sha)
            assert reader.read_small(name, len(data)) == data
            assert reader.extract(name, out / name) == (len(data), sha)
            assert (out / name).read_bytes() == data
            assert (out / name).stat().st_mode & 0o111 == (0o111 if mode == 0o100755 else 0)
    with zipfile.ZipFile(pack) as zf:
        assert zf.testzip() is None
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.create_system, info.extra, info.comment) == (3, b"", b"")
            assert info.external_attr >> 16 == MEMBERS[info.filename][1]
            assert info.flag_bits == (0 if info.filename.isascii() else 0x800)
            assert zf.read(info) == MEMBERS[info.filename][0]


@needs_unzip
def test_unzip_tests_and_extracts_with_permissions(tmp_path: Path) -> None:
    pack = tmp_path / "b.skillmeat-pack"
    write_pack(pack)
    subprocess.run(["unzip", "-t", str(pack)], check=True, capture_output=True)
    subprocess.run(["unzip", "-q", "-d", str(tmp_path / "x"), str(pack)], check=True)
    for name, (data, mode) in MEMBERS.items():
        path = tmp_path / "x" / name
        assert path.read_bytes() == data
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if mode == 0o100755 else 0o644)


def test_compression_is_chosen_from_the_content(tmp_path: Path) -> None:
    pack = tmp_path / "b.skillmeat-pack"
    write_pack(pack)
    with zipfile.ZipFile(pack) as zf:
        methods = {i.filename: i.compress_type for i in zf.infolist()}
    assert methods["artifacts/skills/greeter/SKILL.md"] == DEFLATED
    assert methods["artifacts/skills/greeter/blob.bin"] == STORED
    assert methods["artifacts/skills/greeter/empty"] == STORED
    with PackReader(pack) as reader:
        assert reader.members["artifacts/skills/greeter/SKILL.md"].compressed < len(TEXT) // 10
        assert reader.members["artifacts/skills/greeter/blob.bin"] == Member(
            "artifacts/skills/greeter/blob.bin", len(RANDOM), len(RANDOM), 0o100644)
        assert reader.members["artifacts/skills/greeter/empty"].compressed == 0


WRITER_SCRIPT = """
import os, sys
from pathlib import Path
os.umask(int(sys.argv[3], 8))
from skillmeat.store.packzip import PackWriter
src, dest = Path(sys.argv[1]), Path(sys.argv[2])
files = sorted((p.relative_to(src).as_posix(), p) for p in src.rglob("*") if p.is_file())
writer = PackWriter(dest)
for name, path in files:
    writer.add_file(name, path, 0o100755 if path.stat().st_mode & 0o111 else 0o100644)
print(writer.close())
"""


def test_bytes_depend_only_on_names_modes_and_content(tmp_path: Path) -> None:
    runs = [("one", 1_000_000_000.0, "UTC", "022"), ("two", 1_700_000_000.0, "Asia/Tokyo", "077")]
    digests = []
    for where, mtime, tz, umask in runs:
        src = tmp_path / where / "src"
        make_tree(src, mtime)
        env = {**os.environ, "TZ": tz, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", WRITER_SCRIPT, str(src), str(tmp_path / where / "p"),
                               umask], env=env, cwd=tmp_path / where, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        digests.append(done.stdout.strip())
        assert digests[-1] == hashlib.sha256((tmp_path / where / "p").read_bytes()).hexdigest()
    assert digests[0] == digests[1] == write_pack(tmp_path / "in-process")


def test_writer_refuses_bad_names_order_and_modes(tmp_path: Path) -> None:
    with PackWriter(tmp_path / "p") as writer:
        writer.add_bytes("artifacts/b", b"x")
        for name, word in [("artifacts/a", "increasing order"), ("artifacts/b", "increasing order"),
                           ("artifacts/../c", "'..'"), ("artifacts/B", "increasing order"),
                           ("artifacts/\ud800", "surrogate"), ("/etc/passwd", "absolute"),
                           ("artifacts/c/", "directory")]:
            with pytest.raises(ValueError) as info:
                writer.add_bytes(name, b"x")
            assert word in str(info.value)
        with pytest.raises(ValueError, match="mode"):
            writer.add_bytes("artifacts/c", b"x", 0o100600)
        with pytest.raises(ValueError, match="collides"):
            writer.add_bytes("artifacts/\u00df", b"x")  # fine on its own ...
            writer.add_bytes("artifacts/\u1e9e", b"x")  # ... but capital sharp s folds the same
        writer.add_bytes("artifacts/\u4e2d.md", b"still usable")
    with PackReader(tmp_path / "p") as reader:
        assert list(reader.members) == ["artifacts/b", "artifacts/\u00df", "artifacts/\u4e2d.md"]


def test_failed_write_leaves_dest_untouched_and_no_temp_file(tmp_path: Path) -> None:
    dest = tmp_path / "b.skillmeat-pack"
    dest.write_bytes(b"the old bundle")
    with pytest.raises(RuntimeError), PackWriter(dest) as writer:
        writer.add_bytes("artifacts/a", TEXT)
        assert [p.name.startswith(".b.skillmeat-pack.") and p.name.endswith(".tmp")
                for p in tmp_path.iterdir() if p != dest] == [True]
        raise RuntimeError("boom")
    assert dest.read_bytes() == b"the old bundle"
    assert [p.name for p in tmp_path.iterdir()] == [dest.name]
    with pytest.raises(FileNotFoundError), PackWriter(dest) as writer:
        writer.add_file("artifacts/a", tmp_path / "missing", 0o100644)
    assert [p.name for p in tmp_path.iterdir()] == [dest.name]


def test_add_file_streams_from_disk(tmp_path: Path) -> None:
    src = tmp_path / "big.txt"
    src.write_bytes(TEXT * 10)  # then 1.4 MB more: enough to cross 1 MiB chunk boundaries
    with src.open("ab") as fh:
        fh.write(RANDOM * 20)
    with PackWriter(tmp_path / "p") as writer:
        size, sha = writer.add_file("artifacts/big.txt", src, 0o100644)
    assert (size, sha) == (src.stat().st_size, hashlib.sha256(src.read_bytes()).hexdigest())
    with PackReader(tmp_path / "p") as reader:
        assert reader.hash_member("artifacts/big.txt") == (size, sha)


def test_zip64_fields_are_written_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lowered thresholds exercise the ZIP64 paths that real archives need above 4 GiB."""
    monkeypatch.setattr(packzip, "_ZIP64_AT", 1000)
    monkeypatch.setattr(packzip, "_ZIP64_COUNT_AT", 2)
    members = {"artifacts/a": (TEXT, 0o100644), "artifacts/b": (RANDOM[:3000], 0o100755),
               "artifacts/c": (b"small", 0o100644)}
    pack = tmp_path / "p"
    write_pack(pack, members)
    data = pack.read_bytes()
    assert data[-42:-38] == b"PK\x06\x07"
    with zipfile.ZipFile(pack) as zf:
        assert {i.filename: zf.read(i) for i in zf.infolist()} == {n: d for n, (d, _) in members.items()}
    with PackReader(pack) as reader:
        for name, (content, mode) in members.items():
            assert reader.read_small(name, 1 << 20) == content
            assert reader.members[name].mode == mode
    if shutil.which("unzip"):
        subprocess.run(["unzip", "-t", str(pack)], check=True, capture_output=True)


# -- reader: what it reads ------------------------------------------------------------------------

def test_reader_accepts_zipfile_archives_and_normalises_modes(tmp_path: Path) -> None:
    dos = zipfile.ZipInfo("artifacts/dos.md", date_time=(2020, 5, 5, 1, 2, 3))
    dos.create_system, dos.external_attr = 0, 0x20
    pack = zip_with(tmp_path / "z", [("artifacts/a.md", TEXT), (info_for("artifacts/x", perm=0o4750), b"x"),
                                     (dos, b"dos")])
    with PackReader(pack, where="bundle 'z'") as reader:
        assert {n: m.mode for n, m in reader.members.items()} == {
            "artifacts/a.md": 0o100644, "artifacts/x": 0o100755, "artifacts/dos.md": 0o100644}
        assert reader.read_small("artifacts/a.md", len(TEXT)) == TEXT
        with pytest.raises(PackError, match="too large") as info:
            reader.read_small("artifacts/a.md", 10)
        assert str(info.value).startswith("bundle 'z': ")
        with pytest.raises(PackError, match="no member"):
            reader.hash_member("artifacts/missing")


def test_extract_never_overwrites(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    name = "artifacts/skills/greeter/run.sh"
    target = tmp_path / "target"
    target.write_bytes(b"keep")
    (tmp_path / "link").symlink_to(target)
    with PackReader(pack) as reader:
        for dest in (target, tmp_path / "link"):
            with pytest.raises(FileExistsError):
                reader.extract(name, dest)
    assert target.read_bytes() == b"keep"


# -- reader: hostile archives ----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "word"), [
    ("artifacts/../x", "'..', '.' or empty path component"),
    ("/abs", "absolute path"),
    ("C:x", "drive letter"),
    ("artifacts/a\\b", "backslash"),
    ("artifacts/CON.md", "Windows reserved name"),
    ("artifacts/aux.txt", "Windows reserved name"),
    ("artifacts/.git/config", "'.git' path"),
    ("artifacts/d/", "directory entry"),
    ("artifacts/e\u0301.md", "NFC"),
    ("elsewhere/x", "outside artifacts/"),
])
def test_unsafe_member_names_are_refused(tmp_path: Path, name: str, word: str) -> None:
    pack = zip_with(tmp_path / "z", [("artifacts/ok", b"fine"), (name, b"x")])
    error = refused(pack, word)
    assert error.detail.startswith(f"member {name!r}: unsafe path (")


@pytest.mark.parametrize(("kind", "word"), [
    (stat.S_IFLNK, "symbolic link"), (stat.S_IFCHR, "character device"), (stat.S_IFBLK, "block device"),
    (stat.S_IFIFO, "FIFO"), (stat.S_IFSOCK, "socket"), (stat.S_IFDIR, "directory"),
])
def test_special_files_are_refused(tmp_path: Path, kind: int, word: str) -> None:
    pack = zip_with(tmp_path / "z", [(info_for("artifacts/special", kind, 0o777), b"/etc/passwd")])
    assert "regular files" in refused(pack, word).detail


@pytest.mark.parametrize(("first", "second"), [
    ("artifacts/A.md", "artifacts/a.md"),
    ("artifacts/file.md", "artifacts/\ufb01le.md"),  # the "fi" ligature folds to "fi"
    ("artifacts/STRASSE", "artifacts/stra\u00dfe"),
])
def test_colliding_names_are_refused(tmp_path: Path, first: str, second: str) -> None:
    refused(zip_with(tmp_path / "z", [(first, b"1"), (second, b"2")]), "collides")


def test_nfc_and_nfd_spellings_are_refused(tmp_path: Path) -> None:
    pack = zip_with(tmp_path / "z", [("artifacts/\u00e9.md", b"1"), ("artifacts/e\u0301.md", b"2")])
    refused(pack, "NFC")


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns "Duplicate name"
        pack = zip_with(tmp_path / "z", [("artifacts/a", b"1"), ("artifacts/a", b"2")])
    refused(pack, "duplicate member 'artifacts/a'")


def test_encrypted_members_are_refused(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    data = bytearray(pack.read_bytes())
    for central, local in central_entries(data)[:1]:
        data[central + 8] |= 1
        data[local + 6] |= 1
    pack.write_bytes(bytes(data))
    refused(pack, "is encrypted")


def test_unsupported_compression_is_refused(tmp_path: Path) -> None:
    pack = zip_with(tmp_path / "z", [("artifacts/a", TEXT)], compression=zipfile.ZIP_BZIP2)
    refused(pack, "compression method 12")


def test_bomb_by_ratio_is_refused(tmp_path: Path) -> None:
    pack = zip_with(tmp_path / "z", [("artifacts/zeros", bytes(20 << 20))])
    refused(pack, "possible zip bomb", Limits(ratio_floor=1 << 20))
    with PackReader(pack, Limits(max_ratio=2000)) as reader:  # allowed by a looser limit
        assert reader.members["artifacts/zeros"].size == 20 << 20


def test_size_and_count_caps(tmp_path: Path) -> None:
    pack = zip_with(tmp_path / "z", [(f"artifacts/{i:02}", bytes(600)) for i in range(11)])
    refused(pack, "too many members (11; the limit is 10)", Limits(max_entries=10))
    refused(pack, "in total", Limits(max_total=1000))
    refused(pack, "too large (600 bytes; the limit is 100)", Limits(max_file=100))
    PackReader(pack, Limits(max_entries=11, max_total=6600, max_file=600)).close()


def test_size_lie_in_both_headers_is_caught_while_inflating(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    data = bytearray(pack.read_bytes())
    central, local = central_entries(data)[0]  # SKILL.md, deflated
    struct.pack_into("<I", data, central + 24, 1000)
    struct.pack_into("<I", data, local + 22, 1000)
    pack.write_bytes(bytes(data))
    refused_while_streaming(pack, "artifacts/skills/greeter/SKILL.md", "declared size of 1000", tmp_path)


@pytest.mark.parametrize("where", ["central", "local"])
def test_size_lie_in_one_header_is_refused_at_open(tmp_path: Path, where: str) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    data = bytearray(pack.read_bytes())
    central, local = central_entries(data)[0]
    struct.pack_into("<I", data, central + 24 if where == "central" else local + 22, 1000)
    pack.write_bytes(bytes(data))
    refused(pack, "disagree")


def test_crc_mismatch_is_caught_while_streaming(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    data = bytearray(pack.read_bytes())
    _, local = central_entries(data)[1]  # blob.bin, stored
    data[data_offset(data, local) + 100] ^= 0xFF
    pack.write_bytes(bytes(data))
    refused_while_streaming(pack, "artifacts/skills/greeter/blob.bin", "CRC mismatch", tmp_path)


def test_corrupt_deflate_data_is_caught_while_streaming(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    data = bytearray(pack.read_bytes())
    _, local = central_entries(data)[0]  # SKILL.md, deflated
    start = data_offset(data, local)
    data[start:start + 8] = b"\xff" * 8
    pack.write_bytes(bytes(data))
    refused_while_streaming(pack, "artifacts/skills/greeter/SKILL.md", "corrupt", tmp_path)


def test_junk_prepended_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    pack.write_bytes(b"junk" + pack.read_bytes())
    with zipfile.ZipFile(pack) as zf:  # zipfile alone would shift the offsets and accept it
        assert zf.infolist()[0].header_offset == 4
    refused(pack, "4 bytes of unexpected data")


def test_trailing_junk_and_comments_are_refused(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    good = pack.read_bytes()
    pack.write_bytes(good + b"junk")
    refused(pack, "4 bytes of trailing data")
    refused(zip_with(tmp_path / "z", [("artifacts/a", b"1")], comment=b"hello"), "comment")


def test_data_between_members_and_directory_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    data = bytearray(pack.read_bytes())
    cd_offset = struct.unpack_from("<I", data, len(data) - 6)[0]
    data[cd_offset:cd_offset] = b"hidden"
    struct.pack_into("<I", data, len(data) - 6, cd_offset + 6)
    pack.write_bytes(bytes(data))
    refused(pack, "6 bytes of unexpected data after the last member")


def test_overlapping_members_are_refused(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    data = bytearray(pack.read_bytes())
    central, _ = central_entries(data)[2]
    struct.pack_into("<I", data, central + 42, 0)
    pack.write_bytes(bytes(data))
    refused(pack, "overlaps")


def test_local_and_central_names_must_agree(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    data = bytearray(pack.read_bytes())
    _, local = central_entries(data)[0]
    data[local + 30 + len("artifacts/")] = ord("X")
    pack.write_bytes(bytes(data))
    refused(pack, "local header names it b'artifacts/Xkills")


@pytest.mark.parametrize(("content", "word"), [
    (b"", "not a ZIP archive"),
    (b"hello, world\n" * 100, "not a ZIP archive"),
    (None, "truncated"),
])
def test_non_archives_are_refused(tmp_path: Path, content: bytes | None, word: str) -> None:
    pack = tmp_path / "p"
    write_pack(pack)
    pack.write_bytes(pack.read_bytes()[:3000] if content is None else content)
    refused(pack, word)


def test_unreadable_paths_are_refused(tmp_path: Path) -> None:
    refused(tmp_path / "missing", "cannot read")
    refused(tmp_path, "cannot read")


def test_no_other_exception_escapes_for_any_bytes(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    write_pack(pack, {"artifacts/a": (TEXT[:3000], 0o100644), "artifacts/b": (RANDOM[:300], 0o100755),
                      "artifacts/c": (b"", 0o100644)})
    good = pack.read_bytes()
    rng = random.Random(7)
    variants = [good[:n] for n in range(0, len(good), 7)]
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.choice([0, 0xFF, rng.randrange(256)])
        variants.append(bytes(data))
    for variant in variants:
        pack.write_bytes(variant)
        try:
            with PackReader(pack) as reader:
                for name in reader.members:
                    reader.hash_member(name)
        except PackError:
            pass
