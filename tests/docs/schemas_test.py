"""The JSON Schemas of docs/schemas/ describe what SkillMeat really writes and reads.

Real documents come from the CLI in a subprocess: a collection with the examples and two MCP
servers, a signed bundle, a vault and a file:// feed marketplace (published, draft, yanked).
Each validates against its schema (draft 2020-12, with the format checker). Obviously wrong
documents are refused by the schema and by SkillMeat's own reader alike.
"""

from __future__ import annotations

import json
import re
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.cli.runner import ok
from tests.helpers import EXAMPLES, REPO_ROOT

SCHEMAS = REPO_ROOT / "docs" / "schemas"
FORMATS_PAGE = REPO_ROOT / "docs" / "reference" / "formats.md"


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(name: str, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(name).iter_errors(doc)]


@pytest.fixture
def written(tmp_path: Path, isolated_home: Path) -> dict[str, list[tuple[str, Any]]]:
    """Every document kind, as SkillMeat itself writes it: (label, parsed document) lists."""
    ok("collection", "create", "demo")
    ok("add", str(EXAMPLES), "--all")
    ok("mcp", "add", "notes", "--description", "Notes", "--env", "NOTES_DIR=${NOTES_DIR:-/tmp}",
       "--", "python3", "notes.py")
    ok("mcp", "add", "docs", "--url", "https://docs.example.invalid/mcp", "--header",
       "Authorization=Bearer ${DOCS_TOKEN}")
    ok("keys", "generate", "--comment", "ada@example.com")
    pub = tmp_path / "ada.pub"
    pub.write_text(ok("keys", "export", "--public").out)
    ok("keys", "trust", str(pub), "--principal", "ada@example.com")
    bundle = tmp_path / "demo.skillmeat-pack"
    ok("export", "--all", "-o", str(bundle), "--version", "1.0.0")
    ok("vault", "add", "team", str(tmp_path / "vault"))
    ok("export", "pdf-summary", "review", "--name", "starter", "--version", "1.0.0", "--to", "team")
    market = tmp_path / "market"
    ok("marketplace", "add", "m", market.as_uri(), "--type", "feed")
    ok("publish", "pdf-summary", "--marketplace", "m", "--version", "1.0.0")
    ok("publish", "review", "--marketplace", "m", "--version", "0.1.0", "--draft")
    ok("publish", "--all", "--name", "everything", "--marketplace", "m", "--version", "2.0.0")
    ok("marketplace", "yank", "m:pdf-summary@1.0.0", "--reason", "superseded")
    coll = isolated_home / "skillmeat" / "collections" / "demo"
    with zipfile.ZipFile(bundle) as zf:
        pack = json.loads(zf.read("skillmeat-pack.json"))
    return {
        "manifest.schema.json": [("skillmeat.toml", _toml(coll / "skillmeat.toml"))],
        "lock.schema.json": [("skillmeat.lock", _toml(coll / "skillmeat.lock"))],
        "pack-manifest.schema.json": [("skillmeat-pack.json", pack)],
        "feed.schema.json": [("market feed", json.loads((market / "feed.json").read_bytes())),
                             ("vault feed", json.loads((tmp_path / "vault/feed.json").read_bytes()))],
        "mcp-server.schema.json": [(p.name, _toml(p)) for p in sorted((coll / "mcp").glob("*.toml"))],
    }


def _toml(path: Path) -> Any:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_documents_skillmeat_writes_validate(written: dict[str, list[tuple[str, Any]]]) -> None:
    assert sorted(written) == sorted(p.name for p in SCHEMAS.glob("*.schema.json"))
    mcp = dict(written["mcp-server.schema.json"])
    assert {"notes.toml", "docs.toml", "filesystem.toml", "docs-search.toml"} <= set(mcp)
    feed = dict(written["feed.schema.json"])["market feed"]["signed"]
    assert {e["status"] for e in feed["listings"]} == {"yanked", "draft", "published"}
    assert written["lock.schema.json"][0][1]["artifacts"]
    for schema, docs in written.items():
        for label, doc in docs:
            assert problems(schema, doc) == [], f"{label} does not match {schema}"


WRONG: dict[str, Any] = {
    "manifest.schema.json": {"collection": {"version": "1.0"}},
    "lock.schema.json": {"format": "skillmeat-lock/1", "artifacts": {"skill/x": "sha256:00"}},
    "pack-manifest.schema.json": {
        "format": "skillmeat-pack/1", "name": "x", "version": "1.0", "publisher": {},
        "artifacts": [{"type": "skill", "name": "x", "hash": "md5:0", "files": []}]},
    "feed.schema.json": {
        "signed": {"format": "skillmeat-feed/1", "name": "m", "version": "7",
                   "expires": "2030-01-01T00:00:00Z", "listings": []},
        "signatures": []},
    "mcp-server.schema.json": {"transport": "stdio", "args": ["server.py"]},
}


def _reader_refuses(schema: str, doc: Any, tmp_path: Path) -> bool:
    """SkillMeat's own reader of that format refuses the document too."""
    from skillmeat.model.errors import SkillmeatError
    from skillmeat.model.feed import parse as parse_feed
    from skillmeat.model.manifest import Manifest
    from skillmeat.model.mcp import McpServer
    from skillmeat.model.pack import PackManifest
    from skillmeat.store.manifest import load_lock

    lock = tmp_path / "skillmeat.lock"
    lock.write_text('format = "skillmeat-lock/1"\n[artifacts]\n"skill/x" = "sha256:00"\n')
    readers = {
        "manifest.schema.json": lambda: Manifest.from_dict(doc, "skillmeat.toml"),
        "lock.schema.json": lambda: load_lock(lock),
        "pack-manifest.schema.json": lambda: PackManifest.parse(json.dumps(doc).encode()),
        "feed.schema.json": lambda: parse_feed(json.dumps(doc).encode(), "feed.json"),
        "mcp-server.schema.json": lambda: McpServer.from_dict("x", doc),
    }
    try:
        readers[schema]()
    except SkillmeatError:
        return True
    return False


@pytest.mark.parametrize("schema", sorted(WRONG))
def test_wrong_documents_are_refused(schema: str, tmp_path: Path) -> None:
    assert problems(schema, WRONG[schema]), f"{schema} accepts an obviously wrong document"
    assert _reader_refuses(schema, WRONG[schema], tmp_path), "SkillMeat reads what the schema refuses"


def test_formats_page_links_every_schema_and_names_every_namespace() -> None:
    from skillmeat.model import catalog, feed, pack
    from skillmeat.services import refs, trust

    page = FORMATS_PAGE.read_text()
    for path in SCHEMAS.glob("*.schema.json"):
        assert f"../schemas/{path.name}" in page, f"{path.name} is not linked from formats.md"
    namespaces = {pack.NAMESPACE, feed.NAMESPACE, catalog.CATALOG_FEED_NAMESPACE,
                  trust.ROTATION_NAMESPACE, refs.GIT_NAMESPACE}
    for ns in namespaces:
        assert re.search(rf"`{re.escape(ns)}`", page), f"namespace {ns} is not documented"
