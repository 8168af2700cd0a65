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
from skillmeat.model.diagnostics import Diagnostic
from skillmeat.services.discover import Candidate, FilePlan, discover
from skillmeat.services.validation import Report, check_candidate, strays
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
                   strict: bool = False) -> Report:
    """Check the artifacts ``files`` (relative to the collection ``root``) belong to."""
    level: rules.Level = "spec" if strict else "claude-code"
    picked, loose = owners(files, every)
    report = Report(str(root), artifacts=len(picked))
    if loose:  # the same two warnings a whole-collection run gives a stray file
        tree = FsTree(root, only=loose)
        report.diagnostics += discover(tree, root.name).notes + strays(tree)
    tree = FsTree(root, only=[p for paths in picked.values() for p in paths])
    for aid, paths in sorted(picked.items()):
        cand = Candidate(aid, aid.relpath, tuple(FilePlan(p, src=p) for p in sorted(paths)))
        report.diagnostics += check_candidate(tree, cand, level)
    if strict:
        report.diagnostics = [Diagnostic(d.path, d.line, "error", d.message, d.code)
                              for d in report.diagnostics]
    report.diagnostics.sort()
    return report
