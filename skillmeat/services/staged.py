"""Validate the artifacts some files belong to: what the commit-stage hook checks.

A file deep in ``skills/x/`` stands for skill ``x`` (plugin namespaces included), so the
whole artifact is checked, with the same rules and the same diagnostics as ``skillmeat
validate`` gives for it when it checks the whole collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from skillmeat.model import rules
from skillmeat.model.artifact import TYPE_BY_DIR, ArtifactId, ids_from_paths
from skillmeat.services.discover import Candidate, FilePlan, discover
from skillmeat.services.validation import Report, check_candidate, finish, notes, strays, symlinks
from skillmeat.store.tree import FsTree


def owners(files: Sequence[str], every: Sequence[str]) -> tuple[dict[ArtifactId, list[str]], list[str]]:
    """The artifacts (with all their files) that ``files`` belong to, among ``every`` file
    of the collection, and the files under the artifact directories that belong to none."""
    groups = ids_from_paths(sorted({*every, *files}))
    owner = {p: aid for aid, paths in groups.items() for p in paths}
    picked: dict[ArtifactId, list[str]] = {}
    loose: list[str] = []
    for path in dict.fromkeys(files):
        aid = owner.get(path)
        if aid is not None:
            picked[aid] = groups[aid]
        elif path.split("/", 1)[0] in TYPE_BY_DIR:
            loose.append(path)
    return picked, loose


def validate_files(root: Path, files: Sequence[str], every: Sequence[str], *,
                   strict: bool = False, links: Sequence[str] = (),
                   promote: frozenset[str] = frozenset()) -> Report:
    """Check the artifacts ``files`` (relative to the collection ``root``) belong to.

    ``every`` holds the collection's entries, ``links`` those of them that are symlinks
    (errors: bundles refuse them; never read through). Codes in ``promote`` count as errors.
    """
    level: rules.Level = "spec" if strict else "claude-code"
    picked, loose = owners(files, every)
    report = Report(str(root), artifacts=len(picked))
    if loose:  # the same two warnings a whole-collection run gives a stray file
        tree = FsTree(root, only=loose)
        report.diagnostics += notes(discover(tree, root.name).notes) + strays(tree)
    owned = [p for paths in picked.values() for p in paths]
    linked = set(links)
    report.diagnostics += symlinks(sorted(p for p in {*owned, *loose} if p in linked))
    tree = FsTree(root, only=[p for p in owned if p not in linked])
    for aid, paths in sorted(picked.items()):
        cand = Candidate(aid, aid.relpath, tuple(FilePlan(p, src=p) for p in sorted(paths)))
        report.diagnostics += check_candidate(tree, cand, level, links)
    return finish(report, strict=strict, promote=promote)
