"""Find the artifacts inside a source tree, whatever its layout.

Layouts, tried in order: a Claude Code plugin marketplace (``.claude-plugin/marketplace.json``),
a single plugin (``.claude-plugin/plugin.json``), a project's ``.claude/`` directory, a single
skill (``SKILL.md`` at the root), a collection-like tree (``skills/ commands/ agents/ hooks/
mcp/``), and finally any ``SKILL.md`` anywhere. Plugin artifacts are namespaced by plugin.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

from skillmeat.model import frontmatter
from skillmeat.model.artifact import ArtifactId, ArtifactType, check_part, ids_from_paths
from skillmeat.model.diagnostics import Diagnostic, error, warning
from skillmeat.model.errors import BadInputError
from skillmeat.store.tree import Tree

MARKDOWN_TYPES = (ArtifactType.SKILL, ArtifactType.COMMAND, ArtifactType.AGENT)


@dataclass(frozen=True)
class FilePlan:
    """One file of a candidate: copied from ``src`` in the source, or generated ``data``."""

    dest: str
    src: str = ""
    data: bytes | None = None


@dataclass(frozen=True)
class Candidate:
    id: ArtifactId
    origin: str  # the artifact's path inside the source
    files: tuple[FilePlan, ...]
    description: str = ""
    version: str = ""
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass
class Discovery:
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[Diagnostic] = field(default_factory=list)  # source-level warnings
    layout: str = ""
    seen: set[ArtifactId] = field(default_factory=set)


def discover(tree: Tree, root_name: str, *, force_type: ArtifactType | None = None) -> Discovery:
    files = set(tree.files())
    out = Discovery()
    if ".claude-plugin/marketplace.json" in files:
        out.layout = "marketplace"
        _marketplace(tree, files, out)
    elif ".claude-plugin/plugin.json" in files:
        out.layout = "plugin"
        meta = _read_json(tree, ".claude-plugin/plugin.json", out)
        ns = str(meta.get("name") or root_name)
        _plugin(tree, files, "", _namespace(ns, out), meta, out)
    elif any(f.startswith(".claude/") for f in files):
        out.layout = ".claude directory"
        _standard_dirs(tree, files, ".claude/", "", out)
        _mcp_json(tree, files, ".mcp.json", "", out)
    elif "SKILL.md" in files:
        out.layout = "single skill"
        _add_skill(tree, files, "", root_name, "", out)
    elif _has_layout(files):
        out.layout = "collection tree"
        _collection_tree(tree, files, out)
    else:
        out.layout = "loose skills"
        _loose_skills(tree, files, out)
    if force_type is not None:
        out.candidates = [c for c in out.candidates if c.id.type is force_type]
    return out


def discover_file(tree: Tree, name: str, type_: ArtifactType | None, parent: str) -> Discovery:
    """A source that is one file (the tree holds just it, as ``name``)."""
    out = Discovery(layout="single file")
    if name.endswith(".json"):
        _mcp_json(tree, {name}, name, "", out)
        return out
    stem = posixpath.splitext(name)[0]
    guessed = type_ or _type_from_dir(parent)
    if guessed is None or guessed is ArtifactType.SKILL:
        raise BadInputError(
            f"cannot tell what kind of artifact {name} is",
            hint="pass --type command, agent, hook or mcp (or put it in a commands/ or agents/ folder)",
        )
    _add_single(tree, name, guessed, "", stem, out)
    return out


def _type_from_dir(parent: str) -> ArtifactType | None:
    base = posixpath.basename(parent.rstrip("/"))
    for t in ArtifactType:
        if base == t.directory and t is not ArtifactType.SKILL:
            return t
    return None


def _has_layout(files: set[str]) -> bool:
    return any(f.split("/", 1)[0] in {t.directory for t in ArtifactType} for f in files)


def _namespace(name: str, out: Discovery) -> str:
    try:
        return check_part(name, "plugin name")
    except BadInputError:
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.") or "x"
        out.notes.append(warning(name, 1, "bad-namespace", f"plugin name '{name}' used as '{safe}'"))
        return safe


def _marketplace(tree: Tree, files: set[str], out: Discovery) -> None:
    path = ".claude-plugin/marketplace.json"
    data = _read_json(tree, path, out)
    plugins = data.get("plugins", [])
    if not isinstance(plugins, list):
        out.notes.append(warning(path, 1, "bad-marketplace", "'plugins' is not a list"))
        return
    market = data.get("metadata")
    root = market.get("pluginRoot") if isinstance(market, dict) else data.get("pluginRoot")
    root = root if isinstance(root, str) else ""
    for entry in plugins:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            out.notes.append(warning(path, 1, "bad-plugin", "a plugin entry has no name"))
            continue
        source = entry.get("source")
        if not isinstance(source, str) or source.startswith(("http:", "https:", "git")):
            kind = source.get("source") if isinstance(source, dict) else source
            out.notes.append(warning(
                path, 1, "remote-plugin",
                f"plugin '{entry['name']}' comes from a remote source ({kind}); "
                "not fetched: add it with its own URL"))
            continue
        base = posixpath.normpath(posixpath.join(root, source))
        prefix = "" if base == "." else base.strip("/") + "/"
        if prefix.startswith("../"):
            out.notes.append(warning(path, 1, "bad-plugin", f"plugin '{entry['name']}' points "
                                     "outside the marketplace"))
            continue
        meta_path = prefix + ".claude-plugin/plugin.json"
        meta = _read_json(tree, meta_path, out) if meta_path in files else {}
        merged = {**entry, **{k: v for k, v in meta.items() if k not in entry}}
        _plugin(tree, files, prefix, _namespace(entry["name"], out), merged, out)


def _plugin(
    tree: Tree, files: set[str], prefix: str, ns: str, meta: dict[str, Any], out: Discovery
) -> None:
    before = len(out.candidates)
    _standard_dirs(tree, files, prefix, ns, out)
    for key, type_ in (("commands", ArtifactType.COMMAND), ("agents", ArtifactType.AGENT),
                       ("skills", ArtifactType.SKILL)):
        for extra in _paths(meta.get(key)):
            _extra_path(tree, files, prefix, extra, type_, ns, out)
    hooks_file = prefix + "hooks/hooks.json"
    if hooks_file in files:
        _hooks_json(tree, hooks_file, ns, out)
    _mcp_json(tree, files, prefix + ".mcp.json", ns, out)
    if isinstance(meta.get("mcpServers"), dict):
        _mcp_servers(meta["mcpServers"], prefix + ".claude-plugin/plugin.json", ns, out)
    if len(out.candidates) == before:
        out.notes.append(warning(prefix or ".", 1, "empty-plugin", f"plugin '{ns}' has no artifacts"))


def _paths(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _extra_path(
    tree: Tree, files: set[str], prefix: str, rel: str, type_: ArtifactType, ns: str, out: Discovery
) -> None:
    path = posixpath.normpath(posixpath.join(prefix, rel))
    known = {c.origin for c in out.candidates}
    if path in known or path.startswith("../"):
        return
    if path in files and type_ is not ArtifactType.SKILL:
        stem = posixpath.splitext(posixpath.basename(path))[0]
        _add_single(tree, path, type_, ns, stem, out)
        return
    under = path + "/"
    if type_ is ArtifactType.SKILL:
        for f in sorted(files):
            if f.startswith(under) and f.endswith("/SKILL.md"):
                skill_dir = f[: -len("/SKILL.md")]
                if skill_dir not in known:
                    _add_skill(tree, files, skill_dir + "/", posixpath.basename(skill_dir), ns, out)
    else:
        for f in sorted(files):
            if f.startswith(under) and f.endswith(".md") and f not in known:
                _add_single(tree, f, type_, ns, posixpath.splitext(posixpath.basename(f))[0], out)


def _standard_dirs(tree: Tree, files: set[str], prefix: str, ns: str, out: Discovery) -> None:
    for f in sorted(files):
        if not f.startswith(prefix):
            continue
        rel = f[len(prefix):]
        parts = rel.split("/")
        if parts[0] == "skills" and len(parts) == 3 and parts[2] == "SKILL.md":
            _add_skill(tree, files, prefix + "skills/" + parts[1] + "/", parts[1], ns, out)
        elif parts[0] in ("commands", "agents") and rel.endswith(".md") and len(parts) >= 2:
            type_ = ArtifactType.COMMAND if parts[0] == "commands" else ArtifactType.AGENT
            stem = "-".join([*parts[1:-1], parts[-1][:-3]])
            if parts[-1].lower() == "readme.md":
                continue
            _add_single(tree, f, type_, ns, stem, out)


def _collection_tree(tree: Tree, files: set[str], out: Discovery) -> None:
    groups = ids_from_paths(sorted(files))
    owned = {p for paths in groups.values() for p in paths}
    for path in sorted(files - owned):
        if path.split("/", 1)[0] in {t.directory for t in ArtifactType}:
            out.notes.append(warning(path, 1, "skipped", "skipped: not part of a valid artifact "
                                     "(names are letters, digits, '.', '_', '-')"))
    for aid, paths in sorted(groups.items()):
        dest_root = aid.relpath
        files_plan = tuple(FilePlan(p, src=p) for p in sorted(paths))
        origin = dest_root
        main = _main_file(aid)
        diags, desc, version = _describe(tree, aid.type, main, main, aid.base)
        out.candidates.append(Candidate(aid, origin, files_plan, desc, version, diags))


def _loose_skills(tree: Tree, files: set[str], out: Discovery) -> None:
    roots = sorted(f[: -len("SKILL.md")] for f in files if f.endswith("/SKILL.md"))
    taken: set[str] = set()
    for root in roots:
        if any(root.startswith(t) and root != t for t in taken):
            continue  # a SKILL.md inside another skill belongs to it
        taken.add(root)
        name = posixpath.basename(root.rstrip("/"))
        _add_skill(tree, files, root, name, "", out)


def _main_file(aid: ArtifactId) -> str:
    return aid.relpath + "/SKILL.md" if aid.type is ArtifactType.SKILL else aid.relpath


def _add_skill(
    tree: Tree, files: set[str], root: str, name: str, ns: str, out: Discovery
) -> None:
    aid = _make_id(ArtifactType.SKILL, ns, name, root or ".", out)
    if aid is None:
        return
    dest_root = aid.relpath
    plan = tuple(
        FilePlan(dest_root + "/" + f[len(root):], src=f)
        for f in sorted(files)
        if f.startswith(root)
    )
    diags, desc, version = _describe(tree, aid.type, root + "SKILL.md", dest_root + "/SKILL.md",
                                     name)
    out.candidates.append(Candidate(aid, root.rstrip("/") or ".", plan, desc, version, diags))


def _add_single(
    tree: Tree, src: str, type_: ArtifactType, ns: str, stem: str, out: Discovery
) -> None:
    aid = _make_id(type_, ns, stem, src, out)
    if aid is None:
        return
    diags, desc, version = _describe(tree, type_, src, aid.relpath, stem)
    out.candidates.append(
        Candidate(aid, src, (FilePlan(aid.relpath, src=src),), desc, version, diags))


def _make_id(type_: ArtifactType, ns: str, base: str, where: str, out: Discovery) -> ArtifactId | None:
    name = f"{ns}:{base}" if ns else base
    try:
        aid = ArtifactId(type_, name)
    except BadInputError as exc:
        out.notes.append(warning(where, 1, "bad-name", f"skipped: {exc.message}"))
        return None
    if aid in out.seen:
        out.notes.append(warning(where, 1, "duplicate", f"skipped: {aid} found twice in the source"))
        return None
    out.seen.add(aid)
    return aid


def _describe(
    tree: Tree, type_: ArtifactType, src: str, dest: str, stem: str
) -> tuple[tuple[Diagnostic, ...], str, str]:
    if type_ not in MARKDOWN_TYPES:
        return (), "", ""
    fm = frontmatter.parse(tree.read(src), dest)
    meta = fm.data.get("metadata")
    version = fm.text("version") or (str(meta.get("version", "")) if isinstance(meta, dict) else "")
    return fm.diagnostics, fm.text("description"), version


def _read_json(tree: Tree, path: str, out: Discovery) -> dict[str, Any]:
    try:
        data = json.loads(tree.read(path).decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        out.notes.append(warning(path, getattr(exc, "lineno", 1), "bad-json", f"invalid JSON: {exc}"))
        return {}
    if not isinstance(data, dict):
        out.notes.append(warning(path, 1, "bad-json", "expected a JSON object"))
        return {}
    return data


def _hooks_json(tree: Tree, path: str, ns: str, out: Discovery) -> None:
    import tomlkit

    data = _read_json(tree, path, out)
    hooks = data.get("hooks", data)
    if not isinstance(hooks, dict) or not hooks:
        return
    aid = _make_id(ArtifactType.HOOK, ns, "hooks", path, out)
    if aid is None:
        return
    doc: dict[str, Any] = {}
    if data.get("description"):
        doc["description"] = str(data["description"])
    doc["hooks"] = hooks
    diags: list[Diagnostic] = []
    if "${CLAUDE_PLUGIN_ROOT}" in json.dumps(hooks):
        diags.append(warning(aid.relpath, 1, "plugin-root",
                             "hook commands use ${CLAUDE_PLUGIN_ROOT}: plugin files are not copied"))
    text = tomlkit.dumps(doc).encode()
    out.candidates.append(Candidate(aid, path, (FilePlan(aid.relpath, data=text),),
                                    str(doc.get("description", "")), "", tuple(diags)))


def _mcp_json(tree: Tree, files: set[str], path: str, ns: str, out: Discovery) -> None:
    if path not in files:
        return
    data = _read_json(tree, path, out)
    servers = data.get("mcpServers", data)
    if isinstance(servers, dict):
        _mcp_servers(servers, path, ns, out)


def _mcp_servers(servers: dict[str, Any], path: str, ns: str, out: Discovery) -> None:
    from skillmeat.model.mcp import definition_from_claude

    for name, entry in sorted(servers.items()):
        if not isinstance(entry, dict):
            out.notes.append(warning(path, 1, "bad-mcp", f"server '{name}' is not an object"))
            continue
        aid = _make_id(ArtifactType.MCP, ns, name, path, out)
        if aid is None:
            continue
        try:
            text = definition_from_claude(entry).encode()
        except BadInputError as exc:
            out.notes.append(error(path, 1, "bad-mcp", f"server '{name}' skipped: {exc.message}"))
            out.seen.discard(aid)
            continue
        out.candidates.append(Candidate(aid, f"{path}#{name}", (FilePlan(aid.relpath, data=text),),
                                        str(entry.get("description", "")), ""))
