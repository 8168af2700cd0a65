"""The static catalog's JSON API, written beside the built pages (``web build``).

Under the built site directory::

    api/index.json                           every collection and artifact, one file
    api/artifacts/<type>/<slug>.json         one artifact in full (slug: plugin:name -> plugin/name)
    api/feed.json                            the signed catalog feed (SSHSIG, skillmeat-catalog)
    api/feeds/<market>.json                  each marketplace's signed feed, verbatim
    api/schemas/{index,artifact,feed,agent-skills}.schema.json
    .well-known/agent-skills/index.json      the Agent Skills discovery index (v0.2.0 shape)
    .well-known/agent-skills/<slug>/<path>   every skill's files, served as committed, except
                                             those a browser would run (ACTIVE_EXTENSIONS)

One document per artifact id: when the same id is in several collections, the FIRST
collection in catalog order owns ``api/artifacts/<type>/<slug>.json`` (and, for a skill, its
directory under ``.well-known/agent-skills/``); the document's ``collections`` lists every
collection holding the id, and ``api/index.json`` keeps one entry per collection.

Artifacts can come from marketplaces, so names and file paths are untrusted: everything is
checked before anything is written, and a path that could leave the site (``..``, absolute,
backslash, control characters) is refused with a one-line error.

JSON is deterministic: sorted keys, UTF-8 (not \\u-escaped), one trailing newline. The API
documents are compact (no indentation): ``json`` only uses its C encoder without ``indent``
(about three times faster on an artifact document, and a sixth smaller); ``jq .``
pretty-prints them. The schemas, small and meant for people, are indented. Files are
written plainly (no fsync, no rename): the site directory is a fresh build output that is
swapped in whole.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from skillmeat.model import catalog_schemas as schemas
from skillmeat.model import sshsig
from skillmeat.model.artifact import SPEC_NAME_RE, ArtifactId, ArtifactType
from skillmeat.model.catalog import (
    AGENT_SKILLS_DIR,
    API_DIR,
    CATALOG_FEED_FORMAT,
    CATALOG_FEED_NAMESPACE,
    SCHEMA_DIR,
    Catalog,
    CatalogArtifact,
    CatalogFile,
    built,
)
from skillmeat.model.errors import BadInputError, SkillmeatError
from skillmeat.model.feed import canonical
from skillmeat.model.sshkeys import PrivateKey

ReadFile = Callable[[CatalogArtifact, CatalogFile], bytes]
SKILL_MD = "SKILL.md"
# frontmatter is untrusted YAML: aliases can nest it without end or blow it up in size
MAX_DEPTH = 32
MAX_NODES = 20_000
_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F))
_SHA256_HEX = frozenset("0123456789abcdef")
# A skill's files are served on the catalog's own origin, typed by their extension (GitHub
# Pages, ``web start``). These extensions are mapped (mime-db, nginx, /etc/mime.types) to types
# a browser opens as an active document, able to run scripts on that origin: HTML, XHTML, SVG,
# XML and every ``+xml`` type, XSLT, MIME messages (MHTML), plus legacy HTA, HTC, XBL and SWF.
# Some look inert and are not: ``.rs`` is application/rls-services+xml there, ``.pkg`` and
# ``.dist`` Apple installer XML. Files with these extensions, or any extension ending in
# ``xml``, compared case-insensitively, are never served.
_ACTIVE = """
    htm html shtm shtml xht xhtm xhtml xhvml hta htc mht mhtml eml mail art nws u8dsn u8hdr u8mdn
    u8msg bmed vpm svg svgz xml xsl xslt xsd xbl xul swf rdf rss atom atomcat atomdeleted atomsrv
    atomsvc mml smi smil sml 1km apxml atxml bmml ccmp ccxml cdfx cdxml cellml cl clue cpl csl dae
    davmount dd2 ddf dist distz dwd emma emotionml es3 et3 fdt fo gml gpx grxml gsheet hal held ink
    inkml irp its kml lasxml lbe lgr link66 lostsyncxml lostxml mads maei meta4 mets mods moml mpd
    mpkg mrcx musd mxl mxml obgx odd opf osm pkg provx pskcxml rapd relo rfcxml rif rl rld rs rsat
    rsheet rusd s1h scl sdkd sdkm senmlx sensmlx shf sls sru srx ssml stml stpx swidtag td tei
    teicorpus tfi ttml uis uo uoml uvt uvvt vxml wadl wbs wif wsdl wspolicy x3d x3dz xav xca xcs xdf
    xdm xdp xdssc xel xer xlf xliff xmls xns xop xpdl xsf xsm xspf xvm xvml yin zaz zmm
    """
ACTIVE_EXTENSIONS = frozenset(_ACTIVE.split())


@dataclass
class ApiResult:
    files: int = 0  # files written (JSON documents and served skill files)
    artifacts: int = 0  # documents under api/artifacts/ (one per distinct id)
    skills: int = 0  # entries in .well-known/agent-skills/index.json
    feed_signed: bool = False
    signer: str = ""  # the feed signer's fingerprint (SHA256:...), "" when unsigned
    notes: list[str] = field(default_factory=list)  # one line each: what was left out, and why


def write_api(catalog: Catalog, site: Path, read_file: ReadFile, signer: PrivateKey | None
              ) -> ApiResult:
    """Write the JSON API, the signed catalog feed and the Agent Skills index under ``site``
    (the built site directory). ``read_file`` gives a file's committed bytes; ``signer``
    signs ``api/feed.json`` (None: written with no signatures, i.e. unsigned)."""
    _check(catalog)
    result = ApiResult()
    out = _Writer(site)
    owners = _owners(catalog)
    served = _served_skills(owners, result.notes)
    for art, names in owners.values():
        out.write(art.api_path(), _dump(_artifact_doc(art, names, result.notes)))
        result.artifacts += 1
    skills = [_serve_skill(out, art, slug, read_file, result.notes) for art, slug in served]
    out.write(f"{AGENT_SKILLS_DIR}/index.json", _dump(
        {"$schema": schemas.AGENT_SKILLS_SCHEMA_URL, "skills": skills}))
    result.skills = len(skills)
    feeds = _write_market_feeds(out, catalog)
    out.write(f"{API_DIR}/index.json", _dump(_index_doc(catalog, feeds)))
    feed, result.signer = _feed(catalog, signer)
    out.write(f"{API_DIR}/feed.json", feed)
    result.feed_signed = signer is not None
    for name, schema in schemas.all_schemas().items():
        out.write(f"{SCHEMA_DIR}/{name}", _dump(schema, indent=2))
    result.files = out.count
    return result


class _Writer:
    """Plain writes (no fsync, no rename), each directory made once: string paths, since
    pathlib's per-call overhead is a fifth of the time on a 10,000-artifact catalog."""

    def __init__(self, root: Path) -> None:
        self.root = os.fspath(root)
        self.dirs: set[str] = set()
        self.count = 0

    def write(self, rel: str, data: bytes) -> None:
        path = f"{self.root}/{rel}"
        parent = path.rpartition("/")[0]
        if parent not in self.dirs:
            os.makedirs(parent, exist_ok=True)
            self.dirs.add(parent)
        with open(path, "wb") as fh:
            fh.write(data)
        self.count += 1


def _dump(value: Any, indent: int | None = None) -> bytes:
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent,
                      separators=separators, allow_nan=False)
    return (text + "\n").encode("utf-8", "replace")  # a lone surrogate becomes '?'


# --- checks: before anything is written ---------------------------------------------------------


def _clip(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _segment(text: str, what: str) -> None:
    """One path segment (a collection or marketplace name) that stays where it is put."""
    if not text or text in (".", "..") or "/" in text or "\\" in text or _CONTROL.intersection(text):
        raise BadInputError(f"unsafe {what} name {_clip(text)} in the catalog",
                            hint="names may not be empty, '.', '..' or hold '/', '\\' or control "
                            "characters")


def _rel_path(path: str, where: str) -> None:
    """A relative '/'-separated file path that cannot leave the directory it is written in."""
    bad = (not path or path.startswith("/") or "\\" in path or _CONTROL.intersection(path)
           or any(part in ("", ".", "..") for part in path.split("/")))
    if bad:
        raise BadInputError(f"{where}: unsafe file path {_clip(path)}",
                            hint="a file path must be relative, '/'-separated, with no '..', "
                            "empty segment, backslash or control character")


def _check(catalog: Catalog) -> None:
    for coll in catalog.collections:
        _segment(coll.name, "collection")
        for art in coll.artifacts:
            _check_artifact(art)
    for market in catalog.markets:
        if market.feed is not None:
            _segment(market.name, "marketplace")


def _check_artifact(art: CatalogArtifact) -> None:
    where = f"{art.collection}:{art.id}"
    _segment(art.collection, "collection")
    try:
        aid = ArtifactId(ArtifactType(art.type), art.name)
    except (ValueError, BadInputError):
        raise BadInputError(f"{_clip(where)}: not a valid artifact type and name",
                            hint="names are letters, digits, '.', '_' and '-', as plugin:name "
                            "at most") from None
    if str(aid) != art.id:
        raise BadInputError(f"{_clip(where)}: id does not match type {art.type!r} and name "
                            f"{art.name!r}")
    seen: set[str] = set()
    dirs: set[str] = set()
    for f in art.files:
        _rel_path(f.path, where)
        parents = {f.path[:i] for i, ch in enumerate(f.path) if ch == "/"}
        if f.path in seen or f.path in dirs or parents & seen:
            raise BadInputError(f"{where}: file path {_clip(f.path)} is listed twice or is "
                                "both a file and a directory")
        seen.add(f.path)
        dirs |= parents
        if len(f.sha256) != 64 or not _SHA256_HEX.issuperset(f.sha256):
            raise BadInputError(f"{where}: {_clip(f.path)} has no valid sha256")
        if not 0 <= f.mode <= 0o777777 or f.size < 0:
            raise BadInputError(f"{where}: {_clip(f.path)} has an invalid mode or size")


# --- documents ------------------------------------------------------------------------------------


def _owners(catalog: Catalog) -> dict[str, tuple[CatalogArtifact, list[str]]]:
    """Each id with the artifact that owns its document (the first collection's) and every
    collection holding it, in catalog order."""
    out: dict[str, tuple[CatalogArtifact, list[str]]] = {}
    for art in catalog.artifacts():
        found = out.get(art.id)
        if found is None:
            out[art.id] = (art, [art.collection])
        elif art.collection not in found[1]:
            found[1].append(art.collection)
    return out


def _artifact_doc(art: CatalogArtifact, collections: list[str], notes: list[str]) -> dict[str, Any]:
    depth = art.api_path().count("/") - 1  # directories below api/
    return {
        "$schema": "../" * depth + f"schemas/{schemas.ARTIFACT_SCHEMA}",
        "id": art.id,
        "collection": art.collection,
        "collections": collections,
        "type": art.type,
        "name": art.name,
        "namespace": art.namespace,
        "description": art.description,
        "version": art.version,
        "tags": list(art.tags),
        "license": art.license,
        "metadata": safe_object(art.metadata, f"{art.id}: frontmatter", notes),
        "content_hash": art.content_hash,
        "files": [{"path": f.path, "size": f.size, "mode": f"{f.mode:06o}", "sha256": f.sha256}
                  for f in art.files],
        "upstream": safe_object(art.upstream, f"{art.id}: upstream", notes),
        "source": art.source,
        "resolved": art.resolved,
        "signature": {"status": art.signature, "detail": art.signature_detail},
        "install": {key: [str(c) for c in art.install.get(key, [])] for key in ("skillmeat", "claude")},
        "page": built(art.page()),
    }


def _index_doc(catalog: Catalog, feeds: dict[str, str]) -> dict[str, Any]:
    return {
        "$schema": f"schemas/{schemas.INDEX_SCHEMA}",
        "format": schemas.INDEX_FORMAT,
        "title": catalog.title,
        "generated": catalog.generated,
        "feed": "feed.json",
        "agent_skills": f"../{AGENT_SKILLS_DIR}/index.json",
        "collections": [{"name": c.name, "description": c.description, "version": c.version,
                         "head": c.head, "counts": c.counts(), "artifacts": len(c.artifacts),
                         "page": built(c.page())} for c in catalog.collections],
        "artifacts": [{"id": a.id, "collection": a.collection, "type": a.type, "name": a.name,
                       "description": a.description, "version": a.version, "tags": list(a.tags),
                       "content_hash": a.content_hash,
                       "url": a.api_path().removeprefix(API_DIR + "/"), "page": built(a.page())}
                      for a in catalog.artifacts()],
        "markets": [{"name": m.name, "broker": m.broker, "source": m.source, "verified": m.verified,
                     "feed": feeds.get(m.name)} for m in catalog.markets],
    }


def _feed(catalog: Catalog, signer: PrivateKey | None) -> tuple[bytes, str]:
    """``api/feed.json`` laid out as a marketplace feed is (``feed.Feed.to_json``), so the
    bytes after ``"signed":`` are exactly the canonical JSON the signatures cover."""
    signed = canonical({
        "format": CATALOG_FEED_FORMAT, "name": catalog.title, "generated": catalog.generated,
        "artifacts": [{"id": a.id, "collection": a.collection, "version": a.version,
                       "content_hash": a.content_hash, "url": a.api_path()}
                      for a in catalog.artifacts()]})
    sigs: list[dict[str, str]] = []
    fingerprint = ""
    if signer is not None:
        fingerprint = signer.public.fingerprint()
        sigs.append({"keyid": fingerprint, "sig": sshsig.sign(signer, signed, CATALOG_FEED_NAMESPACE)})
    return b'{"signatures":' + canonical(sigs) + b',"signed":' + signed + b"}\n", fingerprint


def _write_market_feeds(out: _Writer, catalog: Catalog) -> dict[str, str]:
    """Each marketplace's feed bytes, verbatim (their signatures stay valid); the first of a
    name wins. Returns name -> URL relative to api/."""
    urls: dict[str, str] = {}
    for market in catalog.markets:
        if market.feed is None or market.name in urls:
            continue
        out.write(f"{API_DIR}/feeds/{market.name}.json", market.feed)
        urls[market.name] = "feeds/" + quote(market.name, safe="") + ".json"
    return urls


# --- the Agent Skills index -----------------------------------------------------------------------


def _served_skills(owners: dict[str, tuple[CatalogArtifact, list[str]]], notes: list[str]
                   ) -> list[tuple[CatalogArtifact, str]]:
    """The skills served under .well-known/agent-skills/, each with its directory. A skill is
    left out (with a note) when it has no SKILL.md, or when its directory would be inside
    another's or hold another's (``x`` and ``x:y``: first wins; compared case-insensitively,
    as a case-insensitive file system would)."""
    out: list[tuple[CatalogArtifact, str]] = []
    taken: dict[str, str] = {}  # directory (casefolded) -> the id served there
    holding: dict[str, str] = {}  # every parent of a taken directory -> an id below it
    for art, _ in owners.values():
        if art.type != ArtifactType.SKILL.value:
            continue
        if not any(f.path == SKILL_MD for f in art.files):
            notes.append(f"{art.id}: no {SKILL_MD}; left out of the Agent Skills index")
            continue
        slug = skill_dir_name(art.name)
        key = slug.casefold()
        parts = key.split("/")
        parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
        clash = taken.get(key) or holding.get(key) or next(
            (taken[p] for p in parents if p in taken), None)
        if clash is None and parts[0] == "index.json":
            clash = "the index itself"
        if clash is not None:
            notes.append(f"{art.id}: its directory {AGENT_SKILLS_DIR}/{slug}/ clashes with "
                         f"{clash}; left out of the Agent Skills index")
            continue
        taken[key] = art.id
        for p in parents:
            holding.setdefault(p, art.id)
        out.append((art, slug))
    return out


def skill_dir_name(name: str) -> str:
    """The name a skill is served under: its own when it follows the Agent Skills rule
    (lower-case words joined by '-', at most 64), else that rule applied (``plugin:Name`` ->
    ``plugin-name``), since discovery clients reject, or skip, any other name."""
    if SPEC_NAME_RE.match(name) and len(name) <= 64:
        return name
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-") or "skill"


def runs_in_browser(path: str) -> bool:
    """Whether a browser would open ``path`` as an active document (see ACTIVE_EXTENSIONS;
    a bare ``.html`` counts too, as servers see it)."""
    base = path.rpartition("/")[2]
    ext = base.rpartition(".")[2].casefold() if "." in base else ""
    return ext in ACTIVE_EXTENSIONS or ext.endswith("xml")


def _serve_skill(out: _Writer, art: CatalogArtifact, slug: str, read_file: ReadFile,
                 notes: list[str]) -> dict[str, Any]:
    """Write the skill's files under its directory, except those a browser would run (they
    would be active content on the catalog's origin): left out of ``files``, with a note."""
    files = sorted(art.files, key=lambda f: (f.path != SKILL_MD, f.path))
    held = [f.path for f in files if runs_in_browser(f.path)]  # never SKILL.md
    entries = []
    for f in files:
        if runs_in_browser(f.path):
            continue
        data = read_file(art, f)
        hexdigest = hashlib.sha256(data).hexdigest()
        if hexdigest != f.sha256:
            raise SkillmeatError(f"{art.collection}:{art.id}: {f.path} read back with another "
                                 "sha256 than the catalog recorded",
                                 hint="the collection changed during the build; build again")
        out.write(f"{AGENT_SKILLS_DIR}/{slug}/{f.path}", data)
        entries.append({"path": f.path, "url": quote(f"{slug}/{f.path}"),
                        "digest": f"sha256:{hexdigest}", "size": len(data)})
    if held:
        shown = ", ".join(_clip(p) for p in held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3
                                                         else "")
        notes.append(f"{art.id}: {shown} not served under {AGENT_SKILLS_DIR}/{slug}/ (a browser "
                     "would run it); get the whole skill with skillmeat")
    description = " ".join(art.description.split())[:1024] or f"The {art.name} skill."
    return {"name": slug, "id": art.id, "type": "skill-md", "description": description,
            "url": entries[0]["url"], "digest": entries[0]["digest"], "files": entries}


# --- frontmatter as JSON --------------------------------------------------------------------------


class _TooBig(Exception):
    pass


def safe_object(value: dict[str, Any], what: str, notes: list[str]) -> dict[str, Any]:
    """``value`` as JSON can hold it (dates and odd keys become strings); {} with a note when
    it is nested deeper than MAX_DEPTH or holds more than MAX_NODES values (YAML aliases)."""
    try:
        out = _json_safe(value, [MAX_NODES], 0)
    except _TooBig:
        notes.append(f"{what} is nested too deep or too large for the JSON API; left out")
        return {}
    return out if isinstance(out, dict) else {}


def _json_safe(value: Any, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise _TooBig
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {_key(k): _json_safe(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v, budget, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        items = [_json_safe(v, budget, depth + 1) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, allow_nan=False))
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, datetime.date | datetime.time):
        return key.isoformat()
    return str(key)
