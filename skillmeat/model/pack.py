"""The ``.skillmeat-pack`` bundle: its manifest, its member-name rules and its limits.

A bundle is a deterministic ZIP holding ``skillmeat-pack.json`` (this manifest),
``skillmeat-pack.sig`` (an armored SSHSIG over the manifest's exact bytes, namespace
``skillmeat-pack``) and ``artifacts/`` laid out like a collection
(``artifacts/skills/<name>/...``, ``artifacts/commands/<name>.md``, ...). Every member
name is checked here before anything is written anywhere.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from skillmeat.model import strictjson
from skillmeat.model.artifact import TYPE_BY_DIR, ArtifactId, ArtifactType, check_part, ids_from_paths
from skillmeat.model.errors import BadInputError
from skillmeat.model.hashing import content_hash

FORMAT = "skillmeat-pack/1"
NAMESPACE = "skillmeat-pack"
MANIFEST = "skillmeat-pack.json"
SIGNATURE = "skillmeat-pack.sig"
ARTIFACTS = "artifacts/"
SUFFIX = ".skillmeat-pack"
MODES = (0o100644, 0o100755)

_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_RESERVED = {"con", "prn", "aux", "nul", "conin$", "conout$",
             *(f"com{i}" for i in "0123456789¹²³"), *(f"lpt{i}" for i in "0123456789¹²³")}
_FORBIDDEN_CHARS = set('\\:<>"|?*') | {chr(c) for c in range(32)} | {"\x7f"}


class PackError(BadInputError):
    """A bundle that is refused: malformed, unsafe, unverifiable or not what it claims."""

    def __init__(self, where: str, detail: str, *, hint: str | None = None) -> None:
        super().__init__(f"{where}: {detail}",
                         hint=hint or "nothing was written; ask the publisher for a good bundle")
        self.where = where
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """Caps against archive bombs and oversized input (all checked while streaming too)."""

    max_entries: int = 100_000
    max_total: int = 8 << 30          # uncompressed bytes in all members
    max_file: int = 2 << 30           # uncompressed bytes in one member
    max_ratio: int = 200              # uncompressed / compressed, for members above ratio_floor
    ratio_floor: int = 1 << 20
    max_manifest: int = 64 << 20
    max_signature: int = 64 << 10


def check_version(version: str) -> str:
    if not _VERSION_RE.match(version) or ".." in version or version.endswith((".", ".lock")):
        raise BadInputError(f"invalid bundle version '{version}'",
                            hint="use letters, digits, '.', '_', '+' and '-', e.g. 1.2.0")
    return version


def unsafe_member(name: str) -> str | None:
    """Why ``name`` may not be a member of a bundle, or None when it is safe."""
    if not name:
        return "empty member name"
    if any("\ud800" <= c <= "\udfff" for c in name):
        return "name is not valid Unicode (lone surrogate)"
    if len(name.encode("utf-8")) > 1024:
        return "member name too long"
    if name.startswith("/"):
        return "absolute path"
    if re.match(r"^[A-Za-z]:", name):
        return "drive letter"
    if "\\" in name:
        return "backslash in name"
    bad = sorted({c for c in name if c in _FORBIDDEN_CHARS})
    if bad:
        return f"forbidden character {bad[0]!r}"
    if name.endswith("/"):
        return "directory entry"
    if name != unicodedata.normalize("NFC", name):
        return "name not in Unicode NFC form"
    for part in name.split("/"):
        if part in ("", ".", ".."):
            return "'..', '.' or empty path component"
        if len(part.encode()) > 255:
            return "path component too long"
        if part.casefold().rstrip(". ") in (".git", "git~1"):
            return "'.git' path"
        if part.endswith((".", " ")):
            return "component ending in '.' or space"
        if part.split(".", 1)[0].casefold().rstrip(" ") in _RESERVED:
            return "Windows reserved name"
    if name not in (MANIFEST, SIGNATURE) and not name.startswith(ARTIFACTS):
        return f"outside {ARTIFACTS}"
    return None


def collision_key(name: str) -> str:
    """Names that one file system or another would treat as the same file."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFD", name)).casefold()


def member_prefix(aid: ArtifactId) -> str:
    """The member-name prefix cut to get an artifact's content-hash paths."""
    parent = aid.relpath.rpartition("/")[0]
    return f"{ARTIFACTS}{parent}/"


def member_roots(aid: ArtifactId) -> tuple[str, ...]:
    """Member names (or directory prefixes ending in '/') an artifact's files live under."""
    root = ARTIFACTS + aid.relpath
    if aid.type is ArtifactType.SKILL:
        return (root + "/",)
    extra = (ARTIFACTS + aid.extra_dir + "/",) if aid.extra_dir else ()
    return (root, *extra)


def belongs(aid: ArtifactId, member: str) -> bool:
    return any(member == r or (r.endswith("/") and member.startswith(r)) for r in member_roots(aid))


@dataclass(frozen=True)
class PackFile:
    path: str
    size: int
    sha256: str
    mode: int = 0o100644

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "mode": f"{self.mode:o}"}


@dataclass(frozen=True)
class PackArtifact:
    type: ArtifactType
    name: str
    version: str
    hash: str
    files: tuple[PackFile, ...]

    @property
    def id(self) -> ArtifactId:
        return ArtifactId(self.type, self.name)

    @property
    def path(self) -> str:
        return ARTIFACTS + self.id.relpath

    def computed_hash(self) -> str:
        cut = len(member_prefix(self.id))
        return content_hash((f.path[cut:], f.mode, f.sha256) for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type.value, "name": self.name, "version": self.version,
                "path": self.path, "hash": self.hash,
                "files": [f.to_dict() for f in sorted(self.files, key=lambda f: f.path)]}


@dataclass(frozen=True)
class PackManifest:
    name: str
    version: str
    created: str
    publisher_name: str
    publisher_key: str
    artifacts: tuple[PackArtifact, ...]
    source_repo: str = ""
    source_commit: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def files(self) -> dict[str, PackFile]:
        return {f.path: f for a in self.artifacts for f in a.files}

    @property
    def total_size(self) -> int:
        return sum(f.size for a in self.artifacts for f in a.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "name": self.name, "version": self.version, "created": self.created,
            "publisher": {"name": self.publisher_name, "key": self.publisher_key},
            "artifacts": [a.to_dict() for a in sorted(self.artifacts, key=lambda a: str(a.id))],
            "source": {"repo": self.source_repo, "commit": self.source_commit},
        }

    def to_json(self) -> bytes:
        """The exact bytes stored and signed: sorted keys, two-space indent, one final newline."""
        return (json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

    @classmethod
    def parse(cls, data: bytes, where: str = MANIFEST) -> PackManifest:
        return _parse_manifest(data, where)



def _field(obj: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise PackError(where, f"missing '{key}'")
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PackError(where, f"'{key}' must be a {kind.__name__}")
    return value


def _parse_manifest(data: bytes, where: str) -> PackManifest:
    try:
        raw = strictjson.loads(data)
    except UnicodeDecodeError:
        raise PackError(where, "manifest is not UTF-8") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError, and so is a duplicate key
        raise PackError(where, f"manifest is not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise PackError(where, "manifest must be a JSON object")
    fmt = _field(raw, "format", str, where)
    if fmt != FORMAT:
        raise PackError(where, f"unsupported format '{fmt}' (expected {FORMAT})",
                        hint="upgrade SkillMeat, or ask for a bundle in a format it reads")
    try:
        name = check_part(_field(raw, "name", str, where), "bundle name")
        version = check_version(_field(raw, "version", str, where))
    except PackError:
        raise
    except BadInputError as exc:
        raise PackError(where, exc.message) from None
    publisher = _field(raw, "publisher", dict, where)
    source = raw.get("source", {})
    if not isinstance(source, dict):
        raise PackError(where, "'source' must be an object")
    arts = [_parse_artifact(a, f"{where} artifacts[{i}]")
            for i, a in enumerate(_field(raw, "artifacts", list, where))]
    seen_ids: set[ArtifactId] = set()
    seen_files: dict[str, str] = {}
    for art in arts:
        if art.id in seen_ids:
            raise PackError(where, f"{art.id} listed twice")
        seen_ids.add(art.id)
        for f in art.files:
            key = collision_key(f.path)
            if key in seen_files:
                raise PackError(where, f"'{f.path}' collides with '{seen_files[key]}'")
            seen_files[key] = f.path
    _check_owners(where, arts)
    commit = _text(source, "commit", where)
    if commit and not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
        raise PackError(where, "'source.commit' must be a git commit id")
    known = {"format", "name", "version", "created", "publisher", "artifacts", "source"}
    return PackManifest(
        name, version, _text(raw, "created", where),
        _text(publisher, "name", where), _text(publisher, "key", where), tuple(arts),
        _text(source, "repo", where), commit,
        {k: v for k, v in raw.items() if k not in known},
    )


def _text(obj: dict[str, Any], key: str, where: str, limit: int = 1024) -> str:
    """An optional free-text field: a string, one line, no control characters, bounded."""
    value = obj.get(key, "")
    if not isinstance(value, str):
        raise PackError(where, f"'{key}' must be a string")
    if len(value) > limit or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise PackError(where, f"'{key}' holds control characters or is too long")
    return value


def _check_owners(where: str, arts: list[PackArtifact]) -> None:
    """Each listed file belongs to its artifact by the collection's own layout rules, so no
    artifact can reach into another's directory (``skills/a/b/SKILL.md`` is not ``a``'s)."""
    rels = {f.path[len(ARTIFACTS):]: a.id for a in arts for f in a.files}
    for owner, paths in ids_from_paths(list(rels)).items():
        for rel in paths:
            if rels[rel] != owner:
                raise PackError(where, f"'{ARTIFACTS}{rel}' is listed under {rels[rel]} but lies "
                                f"inside {owner}")
    owned = {p for paths in ids_from_paths(list(rels)).values() for p in paths}
    stray = sorted(set(rels) - owned)
    if stray:
        raise PackError(where, f"'{ARTIFACTS}{stray[0]}' belongs to no artifact of {rels[stray[0]]}'s "
                        "layout")


def _parse_artifact(raw: Any, where: str) -> PackArtifact:
    try:
        aid = ArtifactId(ArtifactType.parse(_field(raw, "type", str, where)),
                         _field(raw, "name", str, where))
    except PackError:
        raise
    except BadInputError as exc:
        raise PackError(where, exc.message) from None
    where = f"{where.rsplit(' ', 1)[0]} {aid}"
    path = raw.get("path", ARTIFACTS + aid.relpath)
    if path != ARTIFACTS + aid.relpath:
        raise PackError(where, f"path '{path}' does not match the artifact (expected "
                        f"{ARTIFACTS + aid.relpath})")
    digest = _field(raw, "hash", str, where)
    if not _HASH_RE.match(digest):
        raise PackError(where, f"bad hash '{digest}'")
    files = []
    for i, f in enumerate(_field(raw, "files", list, where)):
        fwhere = f"{where} files[{i}]"
        path = _field(f, "path", str, fwhere)
        reason = unsafe_member(path)
        if reason or path in (MANIFEST, SIGNATURE):
            raise PackError(fwhere, f"unsafe path {path!r} ({reason or 'reserved name'})")
        if not belongs(aid, path):
            raise PackError(fwhere, f"'{path}' is not inside {aid.relpath}")
        size = _field(f, "size", int, fwhere)
        sha = _field(f, "sha256", str, fwhere)
        if size < 0 or not _SHA_RE.match(sha):
            raise PackError(fwhere, "bad size or sha256")
        mode_text = f.get("mode", "100644")
        try:
            mode = int(mode_text, 8) if isinstance(mode_text, str) else -1
        except ValueError:
            mode = -1
        if mode not in MODES:
            raise PackError(fwhere, f"bad mode {mode_text!r} (100644 or 100755)")
        files.append(PackFile(path, size, sha, mode))
    if not files:
        raise PackError(where, "lists no files")
    if aid.type is ArtifactType.SKILL and f"{ARTIFACTS}{aid.relpath}/SKILL.md" not in {
            f.path for f in files}:
        raise PackError(where, "a skill without SKILL.md")
    if aid.type is not ArtifactType.SKILL and ARTIFACTS + aid.relpath not in {f.path for f in files}:
        raise PackError(where, f"missing {ARTIFACTS + aid.relpath}")
    return PackArtifact(aid.type, aid.name, _text(raw, "version", where, 128),
                        digest, tuple(sorted(files, key=lambda f: f.path)))


def artifact_type_of(member: str) -> ArtifactType | None:
    """The type of the artifact a member belongs to, from its directory."""
    if not member.startswith(ARTIFACTS):
        return None
    return TYPE_BY_DIR.get(member[len(ARTIFACTS):].split("/", 1)[0])
