"""Git loose blob objects written straight from a bundle member, without recompressing it.

A loose object is ``zlib("blob <size>\\0" + content)``. For a DEFLATE member of a bundle the
member's raw deflate stream is reused as is: a zlib header, one stored block holding the
object header, the member's deflate blocks (byte-aligned at their start, ending with the
final block), and the Adler-32 of header and content. A STORED member becomes stored
blocks. Either way the only work is hashing (SHA-1 for the object id, Adler-32) and
copying, where ``git add`` would deflate every byte again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import BinaryIO

ZLIB_HEADER = b"\x78\x01"
STORED, DEFLATED = 0, 8
_MAX_BLOCK = 0xFFFF


def _stored_block(data: bytes, final: bool) -> bytes:
    return struct.pack("<BHH", 1 if final else 0, len(data), len(data) ^ 0xFFFF) + data


class LooseBlob:
    """Feed it the member's raw bytes (``raw``) and its content (``content``), then ``finish``."""

    def __init__(self, objects: Path, size: int, method: int) -> None:
        if method not in (STORED, DEFLATED):
            raise ValueError(f"unsupported compression method {method}")
        self.objects = objects
        self.method = method
        header = b"blob %d\0" % size
        self.sha1 = hashlib.sha1(header)
        self.adler = zlib.adler32(header)
        fd, name = tempfile.mkstemp(prefix="tmp_obj_", dir=objects)
        self.tmp = Path(name)
        self.out: BinaryIO = os.fdopen(fd, "wb")
        self.out.write(ZLIB_HEADER + _stored_block(header, final=False))

    def raw(self, chunk: bytes) -> None:
        if self.method == DEFLATED:
            self.out.write(chunk)

    def content(self, chunk: bytes) -> None:
        self.sha1.update(chunk)
        self.adler = zlib.adler32(chunk, self.adler)
        if self.method == STORED:
            view = memoryview(chunk)
            for start in range(0, len(view), _MAX_BLOCK):
                self.out.write(_stored_block(bytes(view[start:start + _MAX_BLOCK]), final=False))

    def finish(self) -> str:
        """Close the stream and move it into place; return the blob id."""
        if self.method == STORED:
            self.out.write(_stored_block(b"", final=True))
        self.out.write(struct.pack(">I", self.adler))
        self.out.close()
        oid = self.sha1.hexdigest()
        final = self.objects / oid[:2] / oid[2:]
        try:
            if final.exists():  # git keeps the first copy of an object
                self.tmp.unlink()
            else:
                final.parent.mkdir(exist_ok=True)
                os.chmod(self.tmp, 0o444)
                os.replace(self.tmp, final)
        except BaseException:
            self.abort()
            raise
        return oid

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.out.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()
