"""The content hash of an artifact: stable across machines and checkouts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def content_hash(entries: Iterable[tuple[str, int, str]]) -> str:
    """sha256 over the sorted (relative path, git mode, file sha256) list.

    Paths are relative to the directory holding the artifact, so a skill's files
    read ``<name>/SKILL.md`` and a command's ``<name>.md``.
    """
    h = hashlib.sha256()
    for path, mode, digest in sorted(entries):
        h.update(f"{path}\0{mode:o}\0{digest}\n".encode())
    return "sha256:" + h.hexdigest()
