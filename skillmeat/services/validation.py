"""Validating artifacts wherever they are: a collection, any source tree, one file."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skillmeat.model import frontmatter, rules
from skillmeat.model.artifact import TYPE_BY_DIR, ArtifactId, ArtifactType, ids_from_paths
from skillmeat.model.diagnostics import Diagnostic, error, warning
from skillmeat.model.errors import ConfigError, SourceError
from skillmeat.model.filenames import file_name_problem, shown
from skillmeat.model.manifest import MANIFEST_NAME, Manifest
from skillmeat.services.discover import Candidate, FilePlan, discover, discover_file
from skillmeat.store.tree import FsTree, Tree


@dataclass
class Report:
    root: str
    artifacts: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(d.level == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.level == "warning" for d in self.diagnostics)


def validate_path(path: Path, *, strict: bool = False, type_: ArtifactType | None = None,
                  promote: frozenset[str] = frozenset()) -> Report:
    """Check every artifact under ``path`` (any layout) or the one file it is. Findings whose
    code is in ``promote`` (e.g. ``rules.UNLOADABLE``) count as errors."""
    if not path.exists():
        raise SourceError(str(path), "no such file or directory")
    level: rules.Level = "spec" if strict else "claude-code"
    if path.name == "SKILL.md":
        path = path.parent  # a skill is its folder
    links: list[str] = []
    if path.is_file():
        tree = FsTree(path.parent, only=[path.name])
        found = discover_file(tree, path.name, type_ or _type_of_file(path), str(path.parent))
        report = Report(str(path.parent))
    else:
        tree = FsTree(path)
        found = discover(tree, path.resolve().name)
        report = Report(str(path))
        if (path / MANIFEST_NAME).is_file():  # a collection: its files are what git stores
            from skillmeat.store.tracked import walk

            links = walk(path, TYPE_BY_DIR).links
            report.diagnostics += _manifest(path / MANIFEST_NAME)
            report.diagnostics += strays(tree) + symlinks(links)
    report.diagnostics += notes(found.notes)
    for cand in found.candidates:
        report.artifacts += 1
        report.diagnostics += check_candidate(tree, cand, level, links)
    return finish(report, strict=strict, promote=promote)


def finish(report: Report, *, strict: bool, promote: frozenset[str] = frozenset()) -> Report:
    """Levels (``strict``: every finding is an error; ``promote``: those codes are), paths
    shown on one printable line, sorted."""
    report.diagnostics = sorted(
        Diagnostic(shown(d.path), d.line, "error" if strict or d.code in promote else d.level,
                   d.message, d.code)
        for d in report.diagnostics)
    return report


def _type_of_file(path: Path) -> ArtifactType | None:
    return TYPE_BY_DIR.get(path.parent.name)


def notes(found: list[Diagnostic]) -> list[Diagnostic]:
    """Discovery's notes, a skipped file shaped like an artifact said to be a bad name."""
    out = []
    for d in found:
        bad = rules.bad_artifact_name(d.path) if d.code == "skipped" else None
        out.append(bad or d)
    return out


def symlinks(links: list[str]) -> list[Diagnostic]:
    return [error(p, 1, "symlink", "is a symlink: bundles, export and deploy take only regular "
                  "files (replace it with a copy of its target)") for p in links]


def _under(path: str, links: Sequence[str]) -> bool:
    return any(path == link or path.startswith(link + "/") for link in links)


def check_candidate(tree: Tree, cand: Candidate, level: rules.Level,
                    links: Sequence[str] = ()) -> list[Diagnostic]:
    """The rules of the candidate's type, plus its file names as bundles take them; files
    behind symlinks (reported apart) are never read."""
    diags = [error(f.src or cand.origin, 1, "bad-file-name", f"{problem}: bundles, export and "
                   "deploy refuse this file name (rename it)")
             for f in cand.files if (problem := file_name_problem(f.dest))]
    if links:
        kept = tuple(f for f in cand.files if not (f.src and _under(f.src, links)))
        if len(kept) < len(cand.files) and _main(cand.id, kept) is None:
            return diags  # the main file is a symlink: that error says it
        cand = dataclasses.replace(cand, files=kept)
    return diags + _check(tree, cand, level)


def _main(aid: ArtifactId, files: Sequence[FilePlan]) -> FilePlan | None:
    return next((f for f in files if f.dest.endswith(("/SKILL.md", ".md", ".toml"))
                 and (aid.type is not ArtifactType.SKILL or f.dest.endswith("/SKILL.md"))), None)


def _check(tree: Tree, cand: Candidate, level: rules.Level) -> list[Diagnostic]:
    aid = cand.id
    generated = {f.dest: f.data for f in cand.files if f.data is not None}
    main = _main(aid, cand.files)
    if main is None:
        return [error(cand.origin, 1, "no-main-file", f"{aid} has no main file")]
    shown = main.src or cand.origin
    raw = generated.get(main.dest) or tree.read(main.src)
    if aid.type in (ArtifactType.HOOK, ArtifactType.MCP):
        import tomllib  # here: most artifacts are Markdown (start-up time of the validate hook)

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return [error(shown, getattr(exc, "lineno", 1) or 1, "bad-toml", f"invalid TOML: {exc}")]
        check = rules.check_hook if aid.type is ArtifactType.HOOK else rules.check_mcp
        return check(data, shown)
    stem = aid.base
    fm = frontmatter.parse(raw, shown)
    return rules.check_markdown(aid.type, fm, shown, stem, level)


def _manifest(path: Path) -> list[Diagnostic]:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        Manifest.from_dict(data, MANIFEST_NAME)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        return [error(MANIFEST_NAME, int(found.group(1)) if found else 1, "bad-manifest", str(exc))]
    except ConfigError as exc:
        detail = exc.message.removeprefix(f"{MANIFEST_NAME}: ")
        return [error(MANIFEST_NAME, 1, "bad-manifest", detail)]
    except (UnicodeDecodeError, OSError) as exc:
        return [error(MANIFEST_NAME, 1, "bad-manifest", str(exc))]
    return []


def strays(tree: Tree) -> list[Diagnostic]:
    """Files under the artifact directories that belong to no artifact."""
    files = tree.files()
    owned = {p for paths in ids_from_paths(files).values() for p in paths}
    return [
        warning(p, 1, "stray-file", "belongs to no artifact (check its folder and name)")
        for p in files
        if p.split("/", 1)[0] in TYPE_BY_DIR and p not in owned
    ]
