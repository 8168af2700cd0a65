"""JSON config files other programs own (``~/.claude.json``, ``.mcp.json``, Claude Desktop's),
read and written with care, and the backups SkillMeat keeps of them.

A file that is not valid JSON is refused and left untouched. Writes go through symlinks
(the link stays, the file it points at is replaced), keep the file's mode, and are atomic;
callers hold the process lock. Backups live in ``state/backups/<slug>/<id>.json`` beside an
``index.json`` that says what each one was taken before.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from skillmeat.model.errors import ConfigError, ConflictError, NotFoundError
from skillmeat.model.json_edit import parse_object
from skillmeat.store.files import atomic_write

BACKUPS_FORMAT = "skillmeat-mcp-backups/1"
_ID = re.compile(r"^\d{8}T\d{12}Z(?:-\d+)?$")


@dataclass(frozen=True)
class JsonFile:
    path: Path  # as the user names it (may be a symlink)
    real: Path  # the file that is read and replaced
    raw: bytes | None  # None: the file does not exist
    data: dict[str, Any]

    @property
    def text(self) -> str:
        return (self.raw or b"").decode("utf-8", errors="replace")


def read_json_config(path: Path, *, require_valid: bool = True) -> JsonFile:
    """Read a config file; an invalid one is refused with one line (and left untouched).

    ``require_valid=False`` reads any bytes (its data is then empty): for a rollback.
    """
    real = Path(os.path.realpath(path))
    try:
        raw: bytes | None = real.read_bytes()
    except FileNotFoundError:
        raw = None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read it ({exc.strerror})") from None
    try:
        data = parse_object((raw or b"").decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError is one too
        if not require_valid:
            return JsonFile(path, real, raw, {})
        what = "is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else f"is not valid JSON ({exc})"
        raise ConfigError(str(path), f"{what}; SkillMeat left it untouched",
                          hint="fix or move the file, then retry") from None
    return JsonFile(path, real, raw, data)


def write_json_config(current: JsonFile, new: bytes | None, *, new_mode: int = 0o644) -> bool:
    """Replace the file (None removes it); False when the bytes would not change.

    Refuses when the file changed since ``current`` was read (another program wrote it).
    """
    if new == current.raw:
        return False
    try:
        now: bytes | None = current.real.read_bytes()
    except FileNotFoundError:
        now = None
    if now != current.raw:
        raise ConflictError(f"{current.path} changed while SkillMeat was editing it; nothing written",
                            hint="retry")
    if new is None:
        current.real.unlink()
        return True
    mode = current.real.stat().st_mode & 0o7777 if now is not None else new_mode
    atomic_write(current.real, new, mode=mode)
    return True


def slug_for(path: Path) -> str:
    """The backup folder of one config file: readable, and unique per absolute path."""
    absolute = os.path.abspath(path)
    name = path.name.lstrip(".")
    if name == "mcp.json":
        name = f"{path.parent.name}-mcp.json"
    digest = hashlib.sha256(absolute.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', name)}-{digest}"


@dataclass(frozen=True)
class Backup:
    id: str  # a UTC timestamp: ids sort by time
    action: str  # deploy, undeploy, rollback
    servers: tuple[str, ...] = ()
    existed: bool = True  # False: the file did not exist before the change
    size: int = 0
    restored: str = ""  # for a rollback: the backup it restored
    record: list[dict[str, Any]] = field(default_factory=list, compare=False)  # what SkillMeat
    # had written into this file before the change

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "servers": list(self.servers),
                "existed": self.existed, "size": self.size, "restored": self.restored,
                "record": self.record}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Backup:
        return cls(str(data["id"]), str(data["action"]), tuple(data.get("servers", ())),
                   bool(data.get("existed", True)), int(data.get("size", 0)),
                   str(data.get("restored", "")), list(data.get("record", [])))


@dataclass(frozen=True)
class BackupSet:
    """The backups of one config file, oldest first."""

    slug: str
    file: Path
    backups: tuple[Backup, ...]


class Backups:
    """``$SKILLMEAT_HOME/state/backups``: per config file, its earlier versions."""

    def __init__(self, root: Path, keep: int = 20) -> None:
        self.root = root
        self.keep = keep

    def load(self, slug: str) -> BackupSet | None:
        index = self.root / slug / "index.json"
        if not index.is_file():
            return None
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
            if data.get("format") != BACKUPS_FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, expected {BACKUPS_FORMAT}")
            backups = tuple(Backup.from_dict(b) for b in data["backups"])
            return BackupSet(slug, Path(data["file"]), backups)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(str(index), f"unreadable backup index ({exc})",
                              hint="move the folder away; its backups stay readable as files",
                              ) from None

    def all(self) -> list[BackupSet]:
        if not self.root.is_dir():
            return []
        sets = (self.load(p.name) for p in sorted(self.root.iterdir()) if p.is_dir())
        return [s for s in sets if s is not None and s.backups]

    def save(self, file: Path, raw: bytes | None, backup: Backup) -> Backup:
        """Keep ``raw`` (the file before a change) as a new backup; prune the oldest."""
        slug = slug_for(file)
        folder = self.root / slug
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        known = self.load(slug)
        backups = list(known.backups) if known else []
        backup = replace(backup, id=_new_id({b.id for b in backups}), existed=raw is not None,
                         size=len(raw or b""))
        if raw is not None:
            atomic_write(folder / f"{backup.id}.json", raw, mode=0o600)
        backups.append(backup)
        for old in backups[:-self.keep]:
            with contextlib.suppress(FileNotFoundError):
                (folder / f"{old.id}.json").unlink()
        self._write_index(folder, file, backups[-self.keep:])
        return backup

    def read(self, slug: str, backup: Backup) -> bytes | None:
        if not backup.existed:
            return None
        path = self.root / slug / f"{backup.id}.json"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"backup file {path} is missing", hint="see `skillmeat mcp rollback "
                                "--list`") from None

    def path_of(self, file: Path, backup: Backup) -> Path | None:
        """Where a backup's bytes are (None for "the file did not exist")."""
        return self.root / slug_for(file) / f"{backup.id}.json" if backup.existed else None

    def _write_index(self, folder: Path, file: Path, backups: list[Backup]) -> None:
        data = {"format": BACKUPS_FORMAT, "file": os.path.abspath(file),
                "backups": [b.to_dict() for b in backups]}
        atomic_write(folder / "index.json", json.dumps(data, indent=2) + "\n", mode=0o600)


def is_backup_id(text: str) -> bool:
    return bool(_ID.match(text))


def _new_id(taken: set[str]) -> str:
    now = datetime.datetime.now(datetime.UTC)
    base = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond:06d}Z"
    candidate, n = base, 0
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
