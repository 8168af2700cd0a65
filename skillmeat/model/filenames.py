"""File names as SkillMeat shows them and as bundles and deploys accept them.

A collection's file names end up as bundle members (``artifacts/<collection path>``), so the
bundle's member-name rule (``pack.unsafe_member``) is the rule for every artifact file: one
rule, checked when committing (validate) and when exporting. Names read from disk or git
that are not UTF-8 arrive as surrogate escapes (``os.fsdecode``); they are shown escaped.
"""

from __future__ import annotations

from skillmeat.model.pack import ARTIFACTS, unsafe_member

_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _plain(c: str) -> bool:
    return c not in _ESCAPES and " " <= c != "\x7f" and not "\udc80" <= c <= "\udcff"


def shown(path: str) -> str:
    """``path`` as one printable line: as it is, or in double quotes with control characters,
    quotes, backslashes and non-UTF-8 bytes escaped (``"skills/x/caf\\xe9.md"``), as git
    quotes names."""
    if all(_plain(c) for c in path):
        return path
    out = []
    for c in path:
        if "\udc80" <= c <= "\udcff":  # a byte that was not UTF-8
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif c < " " or c == "\x7f":
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def not_utf8(path: str) -> bool:
    return not path.isascii() and any("\udc80" <= c <= "\udcff" for c in path)


def file_name_problem(path: str) -> str | None:
    """Why a bundle (and so export, publish and deploy) refuses the collection file ``path``
    (posix, relative), or None when it is accepted."""
    if not_utf8(path):
        return "the file name is not UTF-8"
    return unsafe_member(ARTIFACTS + path)
