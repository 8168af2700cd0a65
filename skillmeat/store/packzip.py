"""The archive layer of ``.skillmeat-pack`` bundles: a deterministic ZIP writer and a strict reader.

``PackWriter`` writes the ZIP format by hand so that the archive's bytes depend only on the
(name, mode, content) of its members: fixed timestamps, Unix attributes, no extra fields
(except ZIP64 where a size or offset needs it), no comments, no directory entries, no data
descriptors, and a compression method chosen from the content alone (DEFLATE when it makes
the member smaller, STORED otherwise).

``PackReader`` refuses anything but a canonical archive before a single byte is extracted:
no prepended, interleaved or trailing data, no overlapping members, local headers that agree
with the central directory, safe and non-colliding member names, regular files only, and
sizes within ``Limits``. While streaming it never trusts the declared sizes: inflating past
them, a CRC mismatch or truncated data is refused. Every problem with the input is a
``PackError``; memory stays flat (1 MiB chunks) whatever the size of the members.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from skillmeat.model.pack import MODES, Limits, PackError, collision_key, unsafe_member
from skillmeat.store.looseobj import LooseBlob

CHUNK = 1 << 20
STORED = 0
DEFLATED = 8

_LOCAL = struct.Struct("<IHHHHHIIIHH")            # local file header, 30 bytes
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")    # central directory entry, 46 bytes
_EOCD = struct.Struct("<IHHHHIIH")                # end of central directory, 22 bytes
_EOCD64 = struct.Struct("<IQHHIIQQQQ")            # ZIP64 end of central directory, 56 bytes
_LOCATOR = struct.Struct("<IIQI")                 # ZIP64 end locator, 20 bytes
_SIG_LOCAL = 0x04034B50
_SIG_CENTRAL = 0x02014B50
_SIG_EOCD = 0x06054B50
_SIG_EOCD64 = 0x06064B50
_SIG_LOCATOR = 0x07064B50
_EXTRA_ZIP64 = 0x0001
_EXTRA_UNICODE_PATH = 0x7075

_FLAG_ENCRYPTED = 0x0001 | 0x0040 | 0x2000        # traditional, strong, masked central directory
_FLAG_DESCRIPTOR = 0x0008
_FLAG_UTF8 = 0x0800
_DOS_TIME = 0                                     # 00:00:00
_DOS_DATE = (1 << 5) | 1                          # 1980-01-01
_MADE_BY = (3 << 8) | 45                          # Unix, ZIP spec 4.5
_VERSION = 20
_VERSION_ZIP64 = 45
_MAX32 = 0xFFFF_FFFF                              # a 32-bit field set to this means "see ZIP64"
_MAX16 = 0xFFFF
_ZIP64_AT = _MAX32                                # sizes/offsets from here on go to ZIP64 fields
_ZIP64_COUNT_AT = _MAX16                          # entry counts from here on need the ZIP64 end
_DEFAULT_LIMITS = Limits()

_TYPE_NAMES = {stat.S_IFLNK: "symbolic link", stat.S_IFDIR: "directory", stat.S_IFCHR: "character device",
               stat.S_IFBLK: "block device", stat.S_IFIFO: "FIFO", stat.S_IFSOCK: "socket"}


# --------------------------------------------------------------------------------------------
# Writer
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Written:
    """A finished member, as the central directory records it."""

    name: bytes
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int
    mode: int


class PackWriter:
    """Write a bundle ZIP whose bytes depend only on (name, mode, content) of its members."""

    def __init__(self, dest: Path, *, level: int = 6) -> None:
        if not 0 <= level <= 9:
            raise ValueError(f"compression level {level} is not in 0..9")
        self.dest = Path(dest)
        self.level = level
        self._tmp, fd = _create_temp(self.dest)
        self._fh: BinaryIO = os.fdopen(fd, "w+b")
        self._written: list[_Written] = []
        self._last: str | None = None
        self._keys: dict[str, str] = {}
        self._done = False

    def __enter__(self) -> PackWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._done:
            self.close()

    def add_file(self, name: str, src: Path, mode: int) -> tuple[int, str]:
        """Stream ``src`` into member ``name``; return (size, sha256 hex) of what was stored."""
        self._check(name, mode)
        with open(src, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"{src} is not a regular file")

            def chunks() -> Iterator[bytes]:
                fh.seek(0)
                while chunk := fh.read(CHUNK):
                    yield chunk

            return self._add(name, mode, chunks, info.st_size)

    def add_bytes(self, name: str, data: bytes, mode: int = 0o100644) -> tuple[int, str]:
        """Store ``data`` as member ``name``; return (size, sha256 hex)."""
        self._check(name, mode)
        view = memoryview(data)

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(view), CHUNK):
                yield bytes(view[start:start + CHUNK])

        return self._add(name, mode, chunks, len(view))

    def close(self) -> str:
        """Finish the archive, move it onto ``dest`` atomically; return its sha256 hex."""
        if self._done:
            raise ValueError("the pack writer is already closed")
        try:
            cd_offset = self._fh.tell()
            for member in self._written:
                self._fh.write(_central_entry(member))
            cd_size = self._fh.tell() - cd_offset
            self._fh.write(_end_records(len(self._written), cd_offset, cd_size))
            self._fh.flush()
            os.fsync(self._fh.fileno())
            digest = _sha256_of(self._fh)
            self._fh.close()
            os.replace(self._tmp, self.dest)
            _fsync_dir(self.dest.parent)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return digest

    def abort(self) -> None:
        """Give up: close and remove the temporary file; ``dest`` is left untouched."""
        self._done = True
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)

    def _check(self, name: str, mode: int) -> None:
        if self._done:
            raise ValueError("the pack writer is closed")
        reason = unsafe_member(name)
        if reason:
            raise ValueError(f"member {name!r}: {reason}")
        if self._last is not None and name <= self._last:
            raise ValueError(f"member {name!r} added after {self._last!r} "
                             "(names must be added in strictly increasing order)")
        other = self._keys.get(collision_key(name))
        if other is not None:
            raise ValueError(f"member {name!r} collides with {other!r}")
        if mode not in MODES:
            raise ValueError(f"member {name!r}: mode {mode:o} is not 100644 or 100755")

    def _add(self, name: str, mode: int, chunks: Callable[[], Iterator[bytes]],
             size_hint: int) -> tuple[int, str]:
        raw = name.encode("utf-8")
        flags = 0 if name.isascii() else _FLAG_UTF8
        offset = self._fh.tell()
        zip64 = size_hint >= _ZIP64_AT
        try:
            method = DEFLATED
            size, crc, digest, compressed = self._member(raw, flags, method, zip64, chunks)
            if compressed >= size:
                self._fh.seek(offset)
                self._fh.truncate()
                method = STORED
                again = self._member(raw, flags, method, zip64, chunks)
                if again[:3] != (size, crc, digest):
                    raise ValueError(f"{name!r}: the source changed while it was being read")
                compressed = again[3]
            if (size >= _ZIP64_AT) != zip64:
                raise ValueError(f"{name!r}: the source changed size while it was being read")
            self._patch(offset, raw, zip64, crc, compressed, size)
        except BaseException:
            self.abort()
            raise
        self._written.append(_Written(raw, flags, method, crc, compressed, size, offset, mode))
        self._last = name
        self._keys[collision_key(name)] = name
        return size, digest

    def _member(self, raw: bytes, flags: int, method: int, zip64: bool,
                chunks: Callable[[], Iterator[bytes]]) -> tuple[int, int, str, int]:
        """Write a local header (sizes to be patched) and the data: (size, crc, sha256, compressed)."""
        extra = struct.pack("<HHQQ", _EXTRA_ZIP64, 16, 0, 0) if zip64 else b""
        placeholder = _MAX32 if zip64 else 0
        self._fh.write(_LOCAL.pack(_SIG_LOCAL, _VERSION_ZIP64 if zip64 else _VERSION, flags, method,
                                   _DOS_TIME, _DOS_DATE, 0, placeholder, placeholder,
                                   len(raw), len(extra)) + raw + extra)
        sha = hashlib.sha256()
        crc = size = compressed = 0
        packer = zlib.compressobj(self.level, zlib.DEFLATED, -15) if method == DEFLATED else None
        for chunk in chunks():
            sha.update(chunk)
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out = packer.compress(chunk) if packer else chunk
            self._fh.write(out)
            compressed += len(out)
        if packer:
            out = packer.flush()
            self._fh.write(out)
            compressed += len(out)
        return size, crc, sha.hexdigest(), compressed

    def _patch(self, offset: int, raw: bytes, zip64: bool, crc: int, compressed: int, size: int) -> None:
        end = self._fh.tell()
        self._fh.seek(offset + 14)
        if zip64:
            self._fh.write(struct.pack("<I", crc))
            self._fh.seek(offset + _LOCAL.size + len(raw) + 4)
            self._fh.write(struct.pack("<QQ", size, compressed))
        else:
            self._fh.write(struct.pack("<III", crc, compressed, size))
        self._fh.seek(end)


def _create_temp(dest: Path) -> tuple[Path, int]:
    """A new file next to ``dest`` named like ``.dest.xxxx.tmp`` (mode 0o666 minus the umask)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = dest.parent / f".{dest.name}.{secrets.token_hex(4)}.tmp"
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file next to {dest}")


def _central_entry(m: _Written) -> bytes:
    big: list[int] = []
    size, compressed, offset = m.size, m.compressed, m.offset
    if size >= _ZIP64_AT:
        big.append(size)
        size = _MAX32
    if compressed >= _ZIP64_AT:
        big.append(compressed)
        compressed = _MAX32
    if offset >= _ZIP64_AT:
        big.append(offset)
        offset = _MAX32
    extra = struct.pack(f"<HH{len(big)}Q", _EXTRA_ZIP64, 8 * len(big), *big) if big else b""
    attr = (stat.S_IFREG | (0o755 if m.mode == 0o100755 else 0o644)) << 16
    return _CENTRAL.pack(_SIG_CENTRAL, _MADE_BY, _VERSION_ZIP64 if big else _VERSION, m.flags, m.method,
                         _DOS_TIME, _DOS_DATE, m.crc, compressed, size, len(m.name), len(extra),
                         0, 0, 0, attr, offset) + m.name + extra


def _end_records(count: int, cd_offset: int, cd_size: int) -> bytes:
    head = b""
    if count >= _ZIP64_COUNT_AT or cd_offset >= _ZIP64_AT or cd_size >= _ZIP64_AT:
        head = (_EOCD64.pack(_SIG_EOCD64, _EOCD64.size - 12, _MADE_BY, _VERSION_ZIP64, 0, 0,
                             count, count, cd_size, cd_offset)
                + _LOCATOR.pack(_SIG_LOCATOR, 0, cd_offset + cd_size, 1))
    count = min(count, _MAX16)
    return head + _EOCD.pack(_SIG_EOCD, 0, 0, count, count, min(cd_size, _MAX32), min(cd_offset, _MAX32), 0)


def _sha256_of(fh: BinaryIO) -> str:
    sha = hashlib.sha256()
    fh.seek(0)
    while chunk := fh.read(CHUNK):
        sha.update(chunk)
    return sha.hexdigest()


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    """A member of a bundle as its central directory declares it."""

    name: str
    size: int           # uncompressed bytes
    compressed: int     # bytes stored in the archive
    mode: int           # 0o100644 or 0o100755


@dataclass(frozen=True)
class _Entry:
    member: Member
    raw_name: bytes
    flags: int
    method: int
    crc: int
    offset: int         # of the local header


class PackReader:
    """A ``.skillmeat-pack`` archive opened for reading, its whole structure checked up front."""

    def __init__(self, path: Path, limits: Limits = _DEFAULT_LIMITS, where: str | None = None) -> None:
        self.path = Path(path)
        self.limits = limits
        self.where = where if where is not None else str(path)
        try:
            self._fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise self._error(f"cannot read ({exc.strerror or exc})") from None
        try:
            self._size = os.fstat(self._fh.fileno()).st_size
            self._entries, self._data_at = self._load()
        except OSError as exc:
            self._fh.close()
            raise self._error(f"cannot read ({exc.strerror or exc})") from None
        except BaseException:
            self._fh.close()
            raise
        self.members: dict[str, Member] = {name: e.member for name, e in self._entries.items()}

    def __enter__(self) -> PackReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._fh.close()

    def read_small(self, name: str, cap: int) -> bytes:
        """The whole content of a member, refused when its declared size is above ``cap``."""
        entry = self._get(name)
        if entry.member.size > cap:
            raise self._error(f"member {name!r} is too large ({entry.member.size} bytes; "
                              f"the limit is {cap})")
        return b"".join(self._content(entry))

    def hash_member(self, name: str) -> tuple[int, str]:
        """(size, sha256 hex) of a member's content, inflated on the fly and checked."""
        sha = hashlib.sha256()
        size = 0
        for chunk in self._content(self._get(name)):
            sha.update(chunk)
            size += len(chunk)
        return size, sha.hexdigest()

    def extract_with_blob(self, name: str, dest: Path, objects: Path) -> tuple[int, str, str]:
        """``extract``, and write the content as a git loose blob into ``objects`` as it goes
        (reusing the member's compressed bytes); return (size, sha256 hex, blob id)."""
        entry = self._get(name)
        blob = LooseBlob(objects, entry.member.size, entry.method)
        try:
            size, sha = self._extract(entry, Path(dest), blob)
            return size, sha, blob.finish()
        except BaseException:
            blob.abort()
            raise

    def extract(self, name: str, dest: Path) -> tuple[int, str]:
        """Stream a member into the new file ``dest`` (parents created); return (size, sha256 hex).

        ``dest`` must not exist and is never followed if it is a symlink; on any failure it is
        removed, along with the parent directories this call created. Errors writing ``dest``
        are ``OSError``; everything wrong with the archive is ``PackError``.
        """
        return self._extract(self._get(name), Path(dest), None)

    def _extract(self, entry: _Entry, dest: Path, blob: LooseBlob | None) -> tuple[int, str]:
        created = _make_parents(dest.parent)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        perm = 0o755 if entry.member.mode == 0o100755 else 0o644
        try:
            fd = os.open(dest, flags, perm)
        except BaseException:
            _remove_dirs(created)
            raise
        sha = hashlib.sha256()
        size = 0
        try:
            with open(fd, "wb") as out:
                for chunk in self._content(entry, blob.raw if blob is not None else None):
                    out.write(chunk)
                    sha.update(chunk)
                    size += len(chunk)
                    if blob is not None:
                        blob.content(chunk)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(dest)
            _remove_dirs(created)
            raise
        return size, sha.hexdigest()

    # -- structure ---------------------------------------------------------------------------

    def _error(self, detail: str) -> PackError:
        return PackError(self.where, detail)

    def _read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset + length > self._size:
            raise self._error("truncated or corrupt archive (a record runs past the end of the file)")
        self._fh.seek(offset)
        data = self._fh.read(length)
        if len(data) != length:
            raise self._error("truncated archive (unexpected end of file)")
        return data

    def _load(self) -> tuple[dict[str, _Entry], dict[str, int]]:
        cd_offset, cd_size, count = self._end_records()
        if count > self.limits.max_entries:
            raise self._error(f"too many members ({count}; the limit is {self.limits.max_entries})")
        entries = self._central_directory(cd_offset, cd_size, count)
        return entries, self._check_layout(entries, cd_offset)

    def _end_records(self) -> tuple[int, int, int]:
        """(central directory offset, its size, entry count), all checked for consistency."""
        if self._size < _EOCD.size:
            raise self._no_end_record()
        end = self._size - _EOCD.size
        sig, disk, cd_disk, here, total, cd_size, cd_offset, comment = _EOCD.unpack(self._read_at(end, 22))
        if sig != _SIG_EOCD or comment:
            raise self._no_end_record()
        if disk or cd_disk or here != total:
            raise self._error("multi-disk archives are not supported")
        if end >= _LOCATOR.size and self._read_at(end - _LOCATOR.size, 4) == struct.pack("<I", _SIG_LOCATOR):
            end, total, cd_size, cd_offset = self._zip64_end(end, total, cd_size, cd_offset)
        if cd_offset + cd_size < end:
            raise self._error(f"{end - cd_offset - cd_size} bytes of unexpected data in the archive "
                              "(junk prepended, or inserted before its end)")
        if cd_offset + cd_size > end:
            raise self._error("corrupt archive (the central directory runs past its end record)")
        return cd_offset, cd_size, total

    def _zip64_end(self, end: int, total: int, cd_size: int, cd_offset: int) -> tuple[int, int, int, int]:
        _, disk, record_at, disks = _LOCATOR.unpack(self._read_at(end - _LOCATOR.size, _LOCATOR.size))
        start = end - _LOCATOR.size - _EOCD64.size
        if disk or disks != 1 or record_at != start or start < 0:
            raise self._error("corrupt archive (bad ZIP64 end locator)")
        sig, length, _, _, disk, cd_disk, here, total64, size64, offset64 = _EOCD64.unpack(
            self._read_at(start, _EOCD64.size))
        if sig != _SIG_EOCD64 or length != _EOCD64.size - 12:
            raise self._error("corrupt archive (bad ZIP64 end record)")
        if disk or cd_disk or here != total64:
            raise self._error("multi-disk archives are not supported")
        if (total not in (_MAX16, total64) or cd_size not in (_MAX32, size64)
                or cd_offset not in (_MAX32, offset64)):
            raise self._error("corrupt archive (the two end records disagree)")
        return start, total64, size64, offset64

    def _no_end_record(self) -> PackError:
        """The error for a file whose last 22 bytes are not a bare end record."""
        window = min(self._size, (1 << 16) + _EOCD.size)
        tail = self._read_at(self._size - window, window) if window else b""
        at = tail.rfind(b"PK\x05\x06")
        if at >= 0 and at + _EOCD.size <= len(tail):
            if _EOCD.unpack(tail[at:at + _EOCD.size])[-1]:
                return self._error("the archive has a comment (not allowed in a .skillmeat-pack)")
            return self._error(f"{len(tail) - at - _EOCD.size} bytes of trailing data after the archive")
        if self._size >= 4 and self._read_at(0, 4) == b"PK\x03\x04":
            return self._error("not a .skillmeat-pack (truncated ZIP archive: no end of central directory)")
        return self._error("not a .skillmeat-pack (not a ZIP archive)")

    def _central_directory(self, cd_offset: int, cd_size: int, count: int) -> dict[str, _Entry]:
        if count * _CENTRAL.size > cd_size:
            raise self._error(f"corrupt archive (a central directory of {cd_size} bytes "
                              f"cannot hold {count} entries)")
        entries: dict[str, _Entry] = {}
        keys: dict[str, str] = {}
        total = 0
        pos, end = cd_offset, cd_offset + cd_size
        for _ in range(count):
            fields = _CENTRAL.unpack(self._read_at(pos, _CENTRAL.size))
            name_len, extra_len, comment_len = fields[10:13]
            var = self._read_at(pos + _CENTRAL.size, name_len + extra_len + comment_len)
            pos += _CENTRAL.size + len(var)
            if fields[0] != _SIG_CENTRAL or pos > end:
                raise self._error("corrupt archive (bad central directory entry)")
            entry = self._entry(fields, var[:name_len], var[name_len:name_len + extra_len], comment_len)
            name = entry.member.name
            if name in entries:
                raise self._error(f"duplicate member {name!r}")
            other = keys.setdefault(collision_key(name), name)
            if other != name:
                raise self._error(f"member {name!r} collides with {other!r} (the same file on "
                                  "case-insensitive or Unicode-normalising file systems)")
            total += entry.member.size
            if total > self.limits.max_total:
                raise self._error(f"members too large in total (over {self.limits.max_total} bytes "
                                  "uncompressed; possible zip bomb)")
            entries[name] = entry
        if pos != end:
            raise self._error(f"{end - pos} bytes of unexpected data in the central directory")
        if total > self.limits.ratio_floor and total > self.limits.max_ratio * max(cd_offset, 1):
            raise self._error(f"members expand to {total} bytes from {cd_offset} (ratio over "
                              f"{self.limits.max_ratio}:1 in all; possible zip bomb)")
        return entries

    def _entry(self, fields: tuple[int, ...], raw: bytes, extra: bytes, comment_len: int) -> _Entry:
        (_, made_by, _, flags, method, _, _, crc, compressed, size, _, _, _, disk, _, attr, offset) = fields
        name = self._decode_name(raw, flags)
        label = f"member {name!r}"
        reason = unsafe_member(name)
        if reason:
            raise self._error(f"{label}: unsafe path ({reason})")
        if flags & _FLAG_ENCRYPTED:
            raise self._error(f"{label} is encrypted")
        if method not in (STORED, DEFLATED):
            raise self._error(f"{label} uses unsupported compression method {method} "
                              "(only stored and deflated)")
        if flags & _FLAG_DESCRIPTOR:
            raise self._error(f"{label} uses a data descriptor (not a canonical bundle)")
        if comment_len:
            raise self._error(f"{label} has a comment (not a canonical bundle)")
        if disk:
            raise self._error("multi-disk archives are not supported")
        size, compressed, offset = self._zip64_fields(label, extra, [size, compressed, offset])
        mode = self._mode(label, made_by, attr)
        self._check_sizes(label, method, size, compressed)
        return _Entry(Member(name, size, compressed, mode), raw, flags, method, crc, offset)

    def _decode_name(self, raw: bytes, flags: int) -> str:
        if flags & _FLAG_UTF8:
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise self._error(f"member name {raw!r} is not valid UTF-8") from None
        if not raw.isascii():
            raise self._error(f"member name {raw!r} is not ASCII and lacks the UTF-8 flag")
        return raw.decode("ascii")

    def _zip64_fields(self, label: str, extra: bytes, values: list[int]) -> list[int]:
        """``values`` with each 0xFFFFFFFF replaced from the ZIP64 extra field, in order."""
        pos, seen = 0, False
        while pos < len(extra):
            if pos + 4 > len(extra):
                raise self._error(f"{label}: malformed extra field")
            tag, length = struct.unpack_from("<HH", extra, pos)
            body = extra[pos + 4:pos + 4 + length]
            pos += 4 + length
            if len(body) != length:
                raise self._error(f"{label}: malformed extra field")
            if tag == _EXTRA_UNICODE_PATH:
                raise self._error(f"{label}: a Unicode path extra field (another name) is not allowed")
            if tag == _EXTRA_ZIP64:
                if seen:
                    raise self._error(f"{label}: repeated ZIP64 extra field")
                seen = True
                values = self._apply_zip64(label, body, values)
        return values

    def _apply_zip64(self, label: str, body: bytes, values: list[int]) -> list[int]:
        out, pos = [], 0
        for value in values:
            if value == _MAX32:
                if pos + 8 > len(body):
                    raise self._error(f"{label}: ZIP64 extra field too short")
                value = struct.unpack_from("<Q", body, pos)[0]
                pos += 8
            out.append(value)
        return out

    def _mode(self, label: str, made_by: int, attr: int) -> int:
        unix = attr >> 16
        kind = stat.S_IFMT(unix)
        if kind == stat.S_IFDIR or (kind == 0 and attr & 0x10):
            raise self._error(f"{label} is a directory (only regular files are allowed)")
        if kind not in (0, stat.S_IFREG):
            raise self._error(f"{label} is a {_TYPE_NAMES.get(kind, 'special file')} "
                              "(only regular files are allowed)")
        if kind == 0 or made_by >> 8 != 3:
            return 0o100644
        return 0o100755 if unix & 0o111 else 0o100644

    def _check_sizes(self, label: str, method: int, size: int, compressed: int) -> None:
        limits = self.limits
        if size > limits.max_file:
            raise self._error(f"{label} is too large ({size} bytes; the limit is {limits.max_file})")
        if method == STORED and compressed != size:
            raise self._error(f"{label} is corrupt (stored, but its two sizes differ)")
        if size > limits.ratio_floor and size > limits.max_ratio * compressed:
            raise self._error(f"{label} expands {size} bytes from {compressed} (ratio over "
                              f"{limits.max_ratio}:1; possible zip bomb)")

    def _check_layout(self, entries: dict[str, _Entry], cd_offset: int) -> dict[str, int]:
        """Members back to back from offset 0 up to the central directory; their data offsets."""
        data_at: dict[str, int] = {}
        expected = 0
        for entry in sorted(entries.values(), key=lambda e: e.offset):
            label = f"member {entry.member.name!r}"
            if entry.offset > expected:
                place = f"before {label}" if expected else "at the start of the archive (junk prepended?)"
                raise self._error(f"{entry.offset - expected} bytes of unexpected data {place}")
            if entry.offset < expected:
                raise self._error(f"{label} overlaps the previous member (possible zip bomb)")
            data_at[entry.member.name] = self._check_local(label, entry)
            expected = data_at[entry.member.name] + entry.member.compressed
        if expected < cd_offset:
            raise self._error(f"{cd_offset - expected} bytes of unexpected data after the last member")
        if expected > cd_offset:
            raise self._error("the last member overlaps the central directory (corrupt archive)")
        return data_at

    def _check_local(self, label: str, entry: _Entry) -> int:
        """Check a local header against the central directory; return where its data starts."""
        fields: tuple[int, ...] = _LOCAL.unpack(self._read_at(entry.offset, _LOCAL.size))
        sig, _, flags, method, _, _, crc, compressed, size, name_len, extra_len = fields
        if sig != _SIG_LOCAL:
            raise self._error(f"{label}: no local header where the central directory says (corrupt)")
        var = self._read_at(entry.offset + _LOCAL.size, name_len + extra_len)
        if var[:name_len] != entry.raw_name:
            raise self._error(f"{label}: its local header names it {var[:name_len]!r} "
                              "(local header and central directory disagree)")
        size, compressed = self._zip64_fields(label, var[name_len:], [size, compressed])
        m = entry.member
        if (flags, method, crc, compressed, size) != (entry.flags, entry.method, entry.crc,
                                                       m.compressed, m.size):
            raise self._error(f"{label}: local header and central directory disagree "
                              "(flags, method, CRC or sizes)")
        return entry.offset + _LOCAL.size + name_len + extra_len

    # -- content -----------------------------------------------------------------------------

    def _get(self, name: str) -> _Entry:
        entry = self._entries.get(name)
        if entry is None:
            raise self._error(f"no member {name!r} in the archive")
        return entry

    def _content(self, entry: _Entry, raw_sink: Callable[[bytes], None] | None = None
                 ) -> Iterator[bytes]:
        """A member's content in chunks of at most 1 MiB, checked against its size and CRC;
        ``raw_sink`` sees every compressed chunk before it is inflated."""
        m = entry.member
        label = f"member {m.name!r}"
        crc = count = 0
        try:
            raw = self._raw(entry) if raw_sink is None else _tee(self._raw(entry), raw_sink)
            for chunk in raw if entry.method == STORED else _inflate(raw):
                count += len(chunk)
                if count > m.size:
                    raise self._error(f"{label} inflates past its declared size of {m.size} bytes "
                                      "(possible zip bomb)")
                crc = zlib.crc32(chunk, crc)
                yield chunk
        except zlib.error as exc:
            raise self._error(f"{label} is corrupt ({exc})") from None
        except OSError as exc:
            raise self._error(f"cannot read {label} ({exc.strerror or exc})") from None
        if count != m.size:
            raise self._error(f"{label} is corrupt ({count} bytes instead of the declared {m.size})")
        if crc != entry.crc:
            raise self._error(f"{label} is corrupt (CRC mismatch)")

    def _raw(self, entry: _Entry) -> Iterator[bytes]:
        pos = self._data_at[entry.member.name]
        left = entry.member.compressed
        while left:
            step = min(left, CHUNK)
            chunk = self._read_at(pos, step)
            pos += step
            left -= step
            yield chunk


def _tee(chunks: Iterator[bytes], sink: Callable[[bytes], None]) -> Iterator[bytes]:
    for chunk in chunks:
        sink(chunk)
        yield chunk


def _inflate(raw: Iterator[bytes]) -> Iterator[bytes]:
    """Raw DEFLATE, at most 1 MiB out per step; zlib.error unless the stream ends exactly."""
    inflater = zlib.decompressobj(-15)
    for chunk in raw:
        if inflater.eof:
            raise zlib.error("data after the end of the deflate stream")
        data = chunk
        while True:
            out = inflater.decompress(data, CHUNK)
            data = inflater.unconsumed_tail
            if out:
                yield out
            if inflater.eof:
                if data or inflater.unused_data:
                    raise zlib.error("data after the end of the deflate stream")
                break
            if not data and len(out) < CHUNK:
                break
    if not inflater.eof:
        raise zlib.error("truncated deflate stream")


def _make_parents(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents; return those created, outermost first."""
    missing: list[Path] = []
    probe = directory
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    directory.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _remove_dirs(created: list[Path]) -> None:
    for directory in reversed(created):
        with contextlib.suppress(OSError):
            directory.rmdir()
