"""Three-way merge of an artifact's file set (text files line by line, via git merge-file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from skillmeat.store import gitcli

Side = dict[str, bytes]


@dataclass
class MergeResult:
    files: dict[str, bytes | None] = field(default_factory=dict)  # None: deleted
    conflicts: dict[str, bytes] = field(default_factory=dict)  # path -> text with markers

    @property
    def clean(self) -> bool:
        return not self.conflicts


def merge_sets(base: Side, ours: Side, theirs: Side, labels: tuple[str, str, str]) -> MergeResult:
    """Merge per path: one side's change wins; both changed -> text merge or a conflict."""
    out = MergeResult()
    for path in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if o == t or b == t:
            out.files[path] = o
        elif b == o:
            out.files[path] = t
        elif o is not None and t is not None and _text(o, b, t):
            merged, conflicts = gitcli.merge_file(o, b or b"", t, labels)
            if conflicts:
                out.conflicts[path] = merged
            else:
                out.files[path] = merged
        else:
            out.conflicts[path] = _describe(o, t, labels)
    return out


def _text(*blobs: bytes | None) -> bool:
    try:
        for blob in blobs:
            if blob is not None:
                blob.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _describe(ours: bytes | None, theirs: bytes | None, labels: tuple[str, str, str]) -> bytes:
    def state(blob: bytes | None) -> str:
        return "deleted" if blob is None else "changed"

    return (f"{labels[0]}: {state(ours)}; {labels[2]}: {state(theirs)} "
            "(binary, or deleted on one side)\n").encode()
