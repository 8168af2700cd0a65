"""Git's conflict markers in a text file: the two sides a merge could not join."""

from __future__ import annotations


def _marker(line: str, sign: str) -> bool:
    return line.startswith(sign * 7) and line[7:8] in ("", " ", "\n", "\r")


def conflict_sides(text: str) -> tuple[str, str] | None:
    """``(ours, theirs)``: the text with each conflict replaced by one side (a diff3 base
    section dropped), or None when ``text`` holds no conflict markers."""
    lines = text.splitlines(keepends=True)
    if not any(_marker(line, "<") for line in lines):
        return None
    ours: list[str] = []
    theirs: list[str] = []
    part = ""  # "" outside a conflict, else "ours", "base" or "theirs"
    for line in lines:
        if not part and _marker(line, "<"):
            part = "ours"
        elif part == "ours" and _marker(line, "|"):
            part = "base"
        elif part in ("ours", "base") and _marker(line, "="):
            part = "theirs"
        elif part == "theirs" and _marker(line, ">"):
            part = ""
        else:
            if part in ("", "ours"):
                ours.append(line)
            if part in ("", "theirs"):
                theirs.append(line)
    return "".join(ours), "".join(theirs)
