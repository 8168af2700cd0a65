"""Deployment targets on disk: the record of what SkillMeat deployed, the deployed files,
and agents' JSON settings files (read and rewritten keeping every key we do not own)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillmeat.model.deployment import RECORD_FORMAT, Deployment
from skillmeat.model.errors import BadInputError, ConfigError
from skillmeat.store.files import atomic_write, read_record
from skillmeat.store.statcache import StatCache


class DeployRecord:
    """``<project>/.skillmeat/deployed.json`` (or the user-level one in SKILLMEAT_HOME)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Deployment]:
        hint = "restore it from version control, or delete it and redeploy"
        items = read_record(self.path, RECORD_FORMAT, "deployment record", hint)
        try:
            return {d.key: d for d in (Deployment.from_dict(x) for x in items)}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(str(self.path), f"unreadable deployment record ({exc})",
                              hint=hint) from None

    def render(self, deployments: dict[str, Deployment]) -> str:
        items = [deployments[k].to_dict() for k in sorted(deployments)]
        return json.dumps({"format": RECORD_FORMAT, "deployments": items}, indent=2) + "\n"

    def save(self, deployments: dict[str, Deployment]) -> None:
        atomic_write(self.path, self.render(deployments))


def files_under(root: Path | str, rel: str) -> Iterator[str]:
    """Every file at or under ``root/rel`` (relative to root); nothing when it is absent."""
    base = str(root)
    if rel.endswith((".md", ".toml", ".json")):  # a single-file placement: the caller stats it
        yield rel
        return
    try:
        entries = list(os.scandir(os.path.join(base, rel)))
    except NotADirectoryError:
        yield rel
        return
    except FileNotFoundError:
        return
    for entry in entries:
        child = f"{rel}/{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            yield from files_under(base, child)
        elif entry.is_file():
            yield child


def file_entries(root: Path, rels: list[str],
                 cache: StatCache | None = None) -> list[tuple[str, int, str]]:
    """(path, git mode, sha256) of each file, for content hashes of deployed files."""
    cache = cache or StatCache(None)
    base = str(root)
    out = []
    for rel in rels:
        try:
            mode, digest = cache.digest(os.path.join(base, rel))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue  # absent: the hash shows it
        out.append((rel, mode, digest))
    return out


def read_settings(path: Path) -> dict[str, Any]:
    """A JSON settings file (``{}`` when missing); anything else than an object is refused."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path} is not valid JSON ({exc})",
                            hint="fix it by hand; SkillMeat left it untouched") from None
    if not isinstance(data, dict):
        raise BadInputError(f"{path} is not a JSON object", hint="fix it by hand")
    return data


def render_settings(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def scan(root: Path, rel: str, single_suffix: str | None) -> list[str]:
    """Artifact roots under ``root/rel``: skill dirs (with SKILL.md) or ``*.md`` files."""
    base = os.path.join(root, rel)
    try:
        entries = list(os.scandir(base))
    except (FileNotFoundError, NotADirectoryError):
        return []
    if single_suffix is None:
        return sorted(f"{rel}/{e.name}" for e in entries if e.is_dir()
                      and os.path.isfile(os.path.join(base, e.name, "SKILL.md")))
    out = []
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            out += scan(root, f"{rel}/{e.name}", single_suffix)
        elif e.name.endswith(single_suffix):
            out.append(f"{rel}/{e.name}")
    return sorted(out)
