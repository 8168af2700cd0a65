"""A collection as a Claude Code plugin marketplace (``export --format claude-marketplace``).

The output directory is what Claude Code's ``/plugin marketplace add DIR`` (or
``claude plugin marketplace add DIR``, or a git repository holding it) reads::

    .claude-plugin/marketplace.json       name, owner {name}, plugins [{name, source, ...}]
    plugins/<plugin>/.claude-plugin/plugin.json   name, description, version, author
    plugins/<plugin>/skills/<name>/...    skill directories, bytes unchanged
    plugins/<plugin>/commands/<name>.md   command files, bytes unchanged
    plugins/<plugin>/agents/<name>.md     agent files, bytes unchanged
    plugins/<plugin>/hooks/hooks.json     every hook artifact's [hooks] table, merged
    plugins/<plugin>/hooks/<name>/...     a hook's script directory, bytes unchanged
    plugins/<plugin>/.mcp.json            {"mcpServers": {<name>: Claude's JSON shape}}
    .skillmeat-export.json                marker: this directory is ours to replace

Layout decision: one plugin per artifact namespace. An artifact named ``plugin:name``
goes into plugin ``plugin`` (so Claude Code shows it as ``plugin:name`` again, exactly the
id it had in the plugin it came from); un-namespaced artifacts go into one plugin named
after the collection (``[collection] name`` in the manifest). Plugin and marketplace names
are made kebab-case (what Claude Code's validator asks for); namespaces that end up with
the same plugin name share that plugin, and two artifacts that would be written to the
same file (or MCP server name) are a conflict, refused before anything is written.

Hooks are converted the way the ``claude_code`` deploy profile converts them into
settings JSON (the TOML's ``[hooks]`` table is Claude Code's hook shape already), and MCP
definitions through :meth:`McpServer.to_claude`. Every plugin gets the collection
manifest's version, so ``claude plugin update`` sees a new release when it is bumped.

The export is read from the collection's last commit (what ``deploy`` reads too), built in
a temporary directory beside ``out`` and then swapped in: ``out`` is replaced only when it
is missing, empty, or a previous export (it holds the marker file).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model.artifact import ArtifactId, ArtifactType, ids_from_paths
from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.model.manifest import Manifest
from skillmeat.model.mcp import McpServer
from skillmeat.services.deploy import artifact_files
from skillmeat.services.profiles.base import Files, hook_groups, moved, single_file
from skillmeat.store.collection import CollectionStore

MARKER = ".skillmeat-export.json"
MARKER_FORMAT = "skillmeat-claude-marketplace/1"
PLUGINS_DIR = "plugins"

_KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Names Claude Code keeps for Anthropic's own marketplaces or for its special ones.
_RESERVED = {
    "inline", "builtin", "skills-dir", "claude-code-marketplace", "claude-code-plugins",
    "claude-plugins-official", "anthropic-marketplace", "anthropic-plugins", "agent-skills",
    "anthropic-agent-skills", "life-sciences", "knowledge-work-plugins", "claude-for-legal",
    "claude-for-financial-services", "financial-services-plugins",
}
_OFFICIAL_LOOKING = re.compile(r"official[^a-z0-9]*(anthropic|claude)|(anthropic|claude)[^a-z0-9]*"
                               r"official|^(anthropic|claude)[^a-z0-9]*(marketplace|plugins|official)",
                               re.IGNORECASE)


@dataclass(frozen=True)
class ClaudeExport:
    out: Path
    marketplace: str
    plugins: dict[str, list[str]]  # plugin name -> artifact ids


@dataclass
class _Plugin:
    name: str
    description: str
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # path in plugin -> data
    owners: dict[str, ArtifactId] = field(default_factory=dict)  # path or "mcp:<name>" -> id
    hooks: dict[str, list[Any]] = field(default_factory=dict)
    mcp: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: list[ArtifactId] = field(default_factory=list)

    def claim(self, key: str, aid: ArtifactId) -> None:
        other = self.owners.get(key)
        if other is not None and other != aid:
            raise ConflictError(f"{aid} and {other} would both be exported to plugin "
                                f"'{self.name}' as {key.removeprefix('mcp:')}",
                                hint="export one of them (name the artifacts to export)")
        self.owners[key] = aid


def kebab(text: str) -> str:
    """``text`` as a kebab-case name: lower case, runs of anything else turned into ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def check_marketplace_name(name: str) -> str:
    if not _KEBAB.match(name) or len(name) > 64:
        raise BadInputError(f"marketplace name '{name}' is not kebab-case",
                            hint="use lower-case letters, digits and '-'")
    if name in _RESERVED or _OFFICIAL_LOOKING.search(name):
        raise BadInputError(f"marketplace name '{name}' is reserved by Claude Code",
                            hint="pass another name")
    return name


def export_claude_marketplace(
    store: CollectionStore,
    out: Path,
    *,
    ids: Sequence[ArtifactId] | None = None,
    name: str | None = None,
    owner: str = "",
) -> ClaudeExport:
    """Write the collection's artifacts (all, or ``ids``) to ``out`` as a Claude Code marketplace."""
    manifest = store.manifest()
    marketplace = check_marketplace_name(name if name is not None else kebab(manifest.name))
    default_plugin = kebab(manifest.name)
    if not default_plugin:
        raise BadInputError(f"collection name '{manifest.name}' gives no plugin name",
                            hint="rename the collection in skillmeat.toml")
    head = store.repo.head()
    tree = store.tree_at(head) if head else None
    groups = ids_from_paths(tree.files()) if tree is not None else {}
    chosen = sorted(groups) if ids is None else sorted(set(ids))
    missing = [str(a) for a in chosen if a not in groups]
    if missing:
        raise NotFoundError(f"not in the collection's last commit: {', '.join(missing)}",
                            hint="see `skillmeat list`; commit or add the artifact first")
    plugins: dict[str, _Plugin] = {}
    for aid in chosen:
        assert tree is not None
        plugin_name = kebab(aid.namespace) if aid.namespace else default_plugin
        if not plugin_name:
            raise BadInputError(f"{aid}: namespace '{aid.namespace}' gives no plugin name")
        plugin = plugins.get(plugin_name)
        if plugin is None:
            plugin = plugins[plugin_name] = _Plugin(plugin_name, _describe(
                manifest, aid.namespace if aid.namespace else ""))
        _place(plugin, aid, artifact_files(tree, aid, groups[aid]))
    author = _person(owner or (manifest.maintainers[0] if manifest.maintainers else "")
                     or manifest.name)
    files = _render(manifest, marketplace, author, plugins)
    files[MARKER] = (_json({"format": MARKER_FORMAT, "collection": manifest.name,
                            "commit": head or "", "marketplace": marketplace}), 0o100644)
    final = _write_swapped(out, files)
    return ClaudeExport(final, marketplace,
                        {p.name: [str(a) for a in p.ids] for p in sorted(
                            plugins.values(), key=lambda p: p.name)})


def _describe(manifest: Manifest, namespace: str) -> str:
    if namespace:
        return f"{namespace} artifacts from the {manifest.name} collection"
    return manifest.description or f"Artifacts from the {manifest.name} collection"


def _person(text: str) -> dict[str, str]:
    """``Name <email>`` (or a bare name) as Claude Code's author/owner object."""
    found = re.fullmatch(r"\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*", text)
    if found and found.group(1):
        return {"name": found.group(1), "email": found.group(2)}
    return {"name": text.strip()}


def _place(plugin: _Plugin, aid: ArtifactId, files: Files) -> None:
    base = aid.base
    placed: Files
    if aid.type is ArtifactType.SKILL:
        placed = moved(files, base, f"skills/{base}")
    elif aid.type in (ArtifactType.COMMAND, ArtifactType.AGENT):
        placed = {f"{aid.type.directory}/{base}.md": single_file(aid, files)}
    elif aid.type is ArtifactType.HOOK:
        placed = moved(files, base, f"hooks/{base}")
        for event, groups in hook_groups(aid, files).items():
            plugin.hooks.setdefault(event, []).extend(groups)
    else:
        text = single_file(aid, files)[0].decode("utf-8", errors="replace")
        plugin.claim(f"mcp:{base}", aid)
        plugin.mcp[base] = McpServer.from_toml(base, text, aid.relpath).to_claude()
        placed = {}
    for path, item in placed.items():
        if path == "hooks/hooks.json" or path.startswith("hooks/hooks.json/"):
            raise ConflictError(f"{aid}: its files would overwrite the plugin's hooks/hooks.json",
                                hint="rename the hook")
        plugin.claim(path, aid)
        plugin.files[path] = item
    plugin.ids.append(aid)


def _render(manifest: Manifest, marketplace: str, author: dict[str, str],
            plugins: dict[str, _Plugin]) -> dict[str, tuple[bytes, int]]:
    out: dict[str, tuple[bytes, int]] = {}
    entries = []
    for plugin in sorted(plugins.values(), key=lambda p: p.name):
        root = f"{PLUGINS_DIR}/{plugin.name}"
        meta = {"name": plugin.name, "description": plugin.description,
                "version": manifest.version, "author": author}
        out[f"{root}/.claude-plugin/plugin.json"] = (_json(meta), 0o100644)
        for path, item in plugin.files.items():
            out[f"{root}/{path}"] = item
        if plugin.hooks:
            out[f"{root}/hooks/hooks.json"] = (_json({"hooks": plugin.hooks}), 0o100644)
        if plugin.mcp:
            out[f"{root}/.mcp.json"] = (_json({"mcpServers": plugin.mcp}), 0o100644)
        entries.append({"name": plugin.name, "source": f"./{root}",
                        "description": plugin.description, "version": manifest.version})
    catalog: dict[str, Any] = {
        "name": marketplace, "owner": author,
        "metadata": {"description": manifest.description
                     or f"Claude Code plugins from the {manifest.name} collection",
                     "version": manifest.version},
        "plugins": entries}
    out[".claude-plugin/marketplace.json"] = (_json(catalog), 0o100644)
    return out


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_swapped(out: Path, files: dict[str, tuple[bytes, int]]) -> Path:
    """Build the export beside ``out``, then put it in place of ``out`` (ours or empty only)."""
    out = Path(os.path.abspath(out))
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    old: Path | None = None
    try:
        for rel, (data, mode) in sorted(files.items()):
            path = build / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.chmod(path, 0o755 if mode & 0o111 else 0o644)
        os.chmod(build, 0o755)
        if out.exists():
            _check_replaceable(out)
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "export")
        try:
            os.replace(build, out)
        except BaseException:
            if old is not None:
                os.replace(old / "export", out)
            raise
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


def _check_replaceable(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ConflictError(f"{out} exists and is not a directory",
                            hint="pick another -o DIR")
    if out.is_dir():
        with contextlib.suppress(StopIteration):
            next(out.iterdir())
            if not (out / MARKER).is_file():
                raise ConflictError(f"{out} is not empty and is not a previous SkillMeat export "
                                    f"(no {MARKER})", hint="pick another -o DIR, or empty it")
