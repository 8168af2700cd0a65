"""JSON Schemas (draft 2020-12) of the static catalog's JSON API, as plain dicts.

Written beside the API as ``api/schemas/*.schema.json`` (each ``$id`` is relative, so the
schemas resolve from wherever the site is served) and used by the tests to check that every
document the API writes validates against its own schema:

- ``index.schema.json``: ``api/index.json``, every collection and artifact in one file;
- ``artifact.schema.json``: ``api/artifacts/<type>/<slug>.json``, one artifact in full;
- ``feed.schema.json``: ``api/feed.json``, the signed catalog feed (SSHSIG, namespace
  ``skillmeat-catalog``, over the canonical JSON of ``signed``);
- ``agent-skills.schema.json``: ``.well-known/agent-skills/index.json`` as this site writes it
  (the Agent Skills Discovery index, v0.2.0 shape, plus a ``files`` list per skill).
"""

from __future__ import annotations

from typing import Any

from skillmeat.model.catalog import CATALOG_FEED_FORMAT

DRAFT = "https://json-schema.org/draft/2020-12/schema"
INDEX_FORMAT = "skillmeat-catalog/1"
AGENT_SKILLS_SCHEMA_URL = "https://schemas.agentskills.io/discovery/0.2.0/schema.json"
INDEX_SCHEMA = "index.schema.json"
ARTIFACT_SCHEMA = "artifact.schema.json"
FEED_SCHEMA = "feed.schema.json"
AGENT_SKILLS_SCHEMA = "agent-skills.schema.json"

TYPES = ["skill", "command", "agent", "hook", "mcp"]
SIGNATURE_STATUSES = ["verified", "unverified", "unsigned"]
_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
NAME_PATTERN = rf"^(?:{_PART}:)?{_PART}$"
ID_PATTERN = rf"^(?:{'|'.join(TYPES)})/(?:{_PART}:)?{_PART}$"
SHA256_HEX = r"^[0-9a-f]{64}$"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
CONTENT_HASH_PATTERN = r"^(?:sha256:[0-9a-f]{64})?$"  # "" when unknown
TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
# A relative '/'-separated path that stays where it is put: no leading '/', no '.' or '..'
# segment, no empty segment, no backslash, no control character.
_REL = r"(?!/)(?!(?:.*/)?\.{1,2}(?:/|$))(?!.*//)(?!.*/$)[^\\\x00-\x1f\x7f]+"
REL_PATH_PATTERN = f"^{_REL}$"
FINGERPRINT_PATTERN = r"^SHA256:[A-Za-z0-9+/]{43}$"
SSHSIG_PATTERN = r"^-----BEGIN SSH SIGNATURE-----\n[A-Za-z0-9+/=\n]+\n-----END SSH SIGNATURE-----\n$"


def _string(pattern: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", **extra}
    if pattern is not None:
        out["pattern"] = pattern
    return out


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = (), **extra: Any
            ) -> dict[str, Any]:
    """A closed object: every property listed is required unless named in ``optional``."""
    return {"type": "object", "additionalProperties": False,
            "required": [k for k in properties if k not in optional],
            "properties": properties, **extra}


def _strings(**extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, **extra}


_COUNT = {"type": "integer", "minimum": 0}
_TIME = _string(TIME_PATTERN, format="date-time")
_PAGE = _string(rf"^(?=.*\.html$){_REL}$",
                description="the artifact's HTML page, relative to the site root")


def index_schema() -> dict[str, Any]:
    collection = _object({
        "name": _string(r"^[^/\\\x00-\x1f\x7f]+$"),
        "description": _string(),
        "version": _string(),
        "head": _string(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})?$", description="last commit, '' when empty"),
        "counts": {"type": "object", "propertyNames": {"enum": TYPES},
                   "additionalProperties": _COUNT},
        "artifacts": _COUNT,
        "page": _PAGE,
    })
    artifact = _object({
        "id": _string(ID_PATTERN),
        "collection": _string(),
        "type": {"enum": TYPES},
        "name": _string(NAME_PATTERN),
        "description": _string(),
        "version": _string(),
        "tags": _strings(),
        "content_hash": _string(CONTENT_HASH_PATTERN),
        "url": _string(rf"^artifacts/(?=.*\.json$){_REL}$",
                       description="the artifact's document, relative to api/ (shared by every "
                       "collection holding the id; the first collection's)"),
        "page": _PAGE,
    })
    market = _object({
        "name": _string(r"^[^/\\\x00-\x1f\x7f]+$"),
        "broker": _string(),
        "source": _string(),
        "verified": {"type": "boolean"},
        "feed": {"anyOf": [_string(r"^feeds/[^/\\\x00-\x1f\x7f]+\.json$"), {"type": "null"}],
                 "description": "its signed feed, verbatim, relative to api/ (null: none)"},
    })
    return {
        "$schema": DRAFT,
        "$id": INDEX_SCHEMA,
        "title": "SkillMeat catalog index (api/index.json)",
        **_object({
            "$schema": {"const": f"schemas/{INDEX_SCHEMA}"},
            "format": {"const": INDEX_FORMAT},
            "title": _string(),
            "generated": _TIME,
            "feed": {"const": "feed.json"},
            "agent_skills": {"const": "../.well-known/agent-skills/index.json"},
            "collections": {"type": "array", "items": collection},
            "artifacts": {"type": "array", "items": artifact},
            "markets": {"type": "array", "items": market},
        }),
    }


def artifact_schema() -> dict[str, Any]:
    file = _object({
        "path": _string(REL_PATH_PATTERN, description="relative to the artifact's root"),
        "size": _COUNT,
        "mode": _string(r"^[0-7]{6}$", description="git mode in octal: 100644, 100755, 120000"),
        "sha256": _string(SHA256_HEX),
    })
    return {
        "$schema": DRAFT,
        "$id": ARTIFACT_SCHEMA,
        "title": "SkillMeat catalog artifact (api/artifacts/<type>/<slug>.json)",
        "description": "When the same id is in several collections, the first collection in "
                       "catalog order owns this document; 'collections' lists them all.",
        **_object({
            "$schema": _string(r"^(?:\.\./)+schemas/" + ARTIFACT_SCHEMA.replace(".", r"\.") + "$"),
            "id": _string(ID_PATTERN),
            "collection": _string(),
            "collections": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                            "uniqueItems": True},
            "type": {"enum": TYPES},
            "name": _string(NAME_PATTERN),
            "namespace": _string(),
            "description": _string(),
            "version": _string(),
            "tags": _strings(),
            "license": _string(),
            "metadata": {"type": "object", "description": "the frontmatter, as JSON can hold it"},
            "content_hash": _string(CONTENT_HASH_PATTERN),
            "files": {"type": "array", "items": file},
            "upstream": {"type": "object"},
            "source": _string(),
            "resolved": _string(),
            "signature": _object({"status": {"enum": SIGNATURE_STATUSES}, "detail": _string()}),
            "install": _object({"skillmeat": _strings(), "claude": _strings()}),
            "page": _PAGE,
        }),
    }


def feed_schema() -> dict[str, Any]:
    entry = _object({
        "id": _string(ID_PATTERN),
        "collection": _string(),
        "version": _string(),
        "content_hash": _string(CONTENT_HASH_PATTERN),
        "url": _string(rf"^api/artifacts/(?=.*\.json$){_REL}$",
                       description="the artifact's document, relative to the site root"),
    })
    return {
        "$schema": DRAFT,
        "$id": FEED_SCHEMA,
        "title": "SkillMeat signed catalog feed (api/feed.json)",
        "description": "Each signature is an armored SSHSIG (namespace skillmeat-catalog) over the "
                       "exact bytes of 'signed' in the file (canonical JSON: sorted keys, no "
                       "whitespace, UTF-8). No signatures: the catalog is unsigned.",
        **_object({
            "signatures": {"type": "array", "items": _object({
                "keyid": _string(FINGERPRINT_PATTERN), "sig": _string(SSHSIG_PATTERN)})},
            "signed": _object({
                "format": {"const": CATALOG_FEED_FORMAT},
                "name": _string(),
                "generated": _TIME,
                "artifacts": {"type": "array", "items": entry},
            }),
        }),
    }


def agent_skills_schema() -> dict[str, Any]:
    file = _object({
        "path": _string(REL_PATH_PATTERN, description="relative to the skill's directory"),
        "url": _string(REL_PATH_PATTERN, description="relative to the index, percent-encoded"),
        "digest": _string(DIGEST_PATTERN),
        "size": _COUNT,
    })
    skill = _object({
        "name": _string(r"^[a-z0-9]+(-[a-z0-9]+)*$",
                        description="the Agent Skills name rule; also the skill's directory"),
        "id": _string(ID_PATTERN, description="the SkillMeat artifact id (plugin:name kept)"),
        "type": {"const": "skill-md"},
        "description": {"type": "string", "minLength": 1, "maxLength": 1024},
        "url": _string(rf"^(?=.*/SKILL\.md$){_REL}$",
                       description="the skill's SKILL.md, relative to the index"),
        "digest": _string(DIGEST_PATTERN, description="sha256 of the SKILL.md bytes served at url"),
        "files": {"type": "array", "items": file, "minItems": 1,
                  "description": "every file of the skill, SKILL.md first"},
    })
    return {
        "$schema": DRAFT,
        "$id": AGENT_SKILLS_SCHEMA,
        "title": "Agent Skills discovery index (.well-known/agent-skills/index.json)",
        "description": "The Agent Skills Discovery v0.2.0 shape as this site writes it, with a "
                       "'files' list per skill (each file served beside SKILL.md).",
        **_object({
            "$schema": {"const": AGENT_SKILLS_SCHEMA_URL},
            "skills": {"type": "array", "items": skill},
        }),
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema by its file name (under ``api/schemas/``)."""
    return {INDEX_SCHEMA: index_schema(), ARTIFACT_SCHEMA: artifact_schema(),
            FEED_SCHEMA: feed_schema(), AGENT_SKILLS_SCHEMA: agent_skills_schema()}
