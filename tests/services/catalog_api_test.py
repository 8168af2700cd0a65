"""The static catalog's JSON API: every document validates against its own schema, the Agent
Skills index's digests match the served files, the catalog feed verifies with ssh-keygen."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from skillmeat.model import catalog_schemas
from skillmeat.model.catalog import (
    CATALOG_FEED_FORMAT,
    CATALOG_FEED_NAMESPACE,
    Catalog,
    CatalogArtifact,
    CatalogCollection,
    CatalogFile,
    CatalogMarket,
)
from skillmeat.model.errors import BadInputError, SkillmeatError
from skillmeat.model.feed import canonical
from skillmeat.services.catalog_api import ApiResult, write_api
from tests.helpers import tree_state
from tests.services.sharing_fixtures import ALICE, MALLORY

SSH_KEYGEN = "/usr/bin/ssh-keygen"
MARKET_FEED = b'{"signatures": [],  "signed": {"format": "skillmeat-feed/1", "name": "m\xc3\xbc"}}'
Blobs = dict[tuple[str, str], bytes]


def _art(collection: str, type_: str, name: str, files: dict[str, bytes], blobs: Blobs,
         *, exec_: tuple[str, ...] = (), **fields: Any) -> CatalogArtifact:
    """An artifact whose files' bytes go into ``blobs`` (what read_file serves)."""
    base = name.replace(":", "/")
    root = f"skills/{base}/" if type_ == "skill" else f"{type_}s/"
    listed = []
    for path, data in sorted(files.items()):
        blobs[(collection, root + path)] = data
        listed.append(CatalogFile(path, root + path, len(data), 0o100755 if path in exec_ else 0o100644,
                                  hashlib.sha256(data).hexdigest()))
    return CatalogArtifact(collection, f"{type_}/{name}", type_, name, name.rpartition(":")[0],
                           root.rstrip("/"), files=listed,
                           content_hash="sha256:" + hashlib.sha256(name.encode()).hexdigest(),
                           **fields)


def make_catalog() -> tuple[Catalog, Blobs]:
    blobs: Blobs = {}
    review = _art(
        "team", "skill", "review",
        {"SKILL.md": b"---\nname: review\ndescription: Review code.\n---\n# Review\n",
         "scripts/x.sh": b"#!/bin/sh\necho hi\n", "references/guide.md": "Gr\u00fc\u00dfe\n".encode()},
        blobs, exec_=("scripts/x.sh",), description="Review code.", version="1.2.0",
        tags=["quality", "review"], license="MIT",
        metadata={"name": "review", "created": datetime.date(2026, 1, 2), 3: {"nested": [1.5, None]},
                  "when": datetime.datetime(2026, 1, 2, 3, 4, 5), "flags": {True: "yes"}},
        upstream={"source": "github:acme/skills", "path": "review", "ref": "main", "pin": False},
        source="https://github.com/acme/skills.git", resolved="a" * 40, signature="verified",
        signature_detail="commit aaaaaaaaaaaa signed by alice",
        install={"skillmeat": ["skillmeat -C team deploy review --project ."],
                 "claude": ["/plugin marketplace add ./claude-marketplace",
                            "/plugin install team@team"]})
    lint = _art("team", "skill", "tools:lint",
                {"SKILL.md": b"---\nname: lint\ndescription: Lint.\n---\nLint it.\n",
                 "notes #1 \u00e9.md": b"odd name\n"},
                blobs, description="Lint things.")
    command = _art("team", "command", "deploy", {"deploy.md": b"Deploy.\n"}, blobs,
                   description="Deploy.")
    mcp = _art("team", "mcp", "github", {"github.toml": b'command = "gh"\n'}, blobs)
    team = CatalogCollection("team", "The team's", "1.0.0", head="b" * 40,
                             artifacts=[command, mcp, review, lint])
    review2 = _art("other", "skill", "review", {"SKILL.md": b"---\nname: review\n---\nOther.\n"},
                   blobs, description="Another review.", version="0.1.0")
    helper = _art("other", "agent", "helper", {"helper.md": b"Help.\n"}, blobs)
    other = CatalogCollection("other", artifacts=[helper, review2])
    markets = [CatalogMarket("mkt", "feed", "https://example.com/feed.json", True, feed=MARKET_FEED),
               CatalogMarket("plain", "git", "https://example.com/x.git", False)]
    catalog = Catalog("Team catalog \u2713", "2026-03-04T05:06:07Z", [team, other], markets=markets,
                      site_url="https://skills.example.com/")
    return catalog, blobs


def reader(blobs: Blobs) -> Any:
    def read_file(art: CatalogArtifact, file: CatalogFile) -> bytes:
        return blobs[(art.collection, file.repo_path)]
    return read_file


def build(tmp_path: Path, signer: Any = ALICE, name: str = "site") -> tuple[Path, ApiResult]:
    catalog, blobs = make_catalog()
    site = tmp_path / name
    return site, write_api(catalog, site, reader(blobs), signer)


def validator(name: str) -> Draft202012Validator:
    schema = catalog_schemas.all_schemas()[name]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def load(path: Path) -> Any:
    data = path.read_bytes()
    assert data.endswith(b"}\n") and b"\n" not in data[:-1]  # compact, one trailing newline
    return json.loads(data)


def test_every_document_validates_against_its_own_schema(tmp_path: Path) -> None:
    site, result = build(tmp_path)
    api = site / "api"
    for name, schema in catalog_schemas.all_schemas().items():
        assert json.loads((api / "schemas" / name).read_bytes()) == schema
    validator("index.schema.json").validate(load(api / "index.json"))
    docs = sorted((api / "artifacts").rglob("*.json"))
    assert [p.relative_to(api).as_posix() for p in docs] == [
        "artifacts/agent/helper.json", "artifacts/command/deploy.json", "artifacts/mcp/github.json",
        "artifacts/skill/review.json", "artifacts/skill/tools/lint.json"]
    for path in docs:
        doc = load(path)
        validator("artifact.schema.json").validate(doc)
        assert (path.parent / doc["$schema"]).resolve() == (api / "schemas/artifact.schema.json").resolve()
    validator("feed.schema.json").validate(load(api / "feed.json"))
    validator("agent-skills.schema.json").validate(load(site / ".well-known/agent-skills/index.json"))
    assert (result.artifacts, result.skills, result.feed_signed) == (5, 2, True)
    assert result.signer == ALICE.public.fingerprint()
    assert result.files == sum(1 for p in site.rglob("*") if p.is_file())
    assert result.notes == []


def test_a_wrong_document_fails_its_schema(tmp_path: Path) -> None:
    site, _ = build(tmp_path)
    doc = load(site / "api/artifacts/skill/review.json")
    doc["files"][0]["sha256"] = "XYZ"
    assert not validator("artifact.schema.json").is_valid(doc)
    index = load(site / ".well-known/agent-skills/index.json")
    index["skills"][0]["files"][0]["path"] = "../etc/passwd"
    assert not validator("agent-skills.schema.json").is_valid(index)
    index = load(site / "api/index.json")
    index["surprise"] = 1
    assert not validator("index.schema.json").is_valid(index)


def test_index_and_artifact_documents(tmp_path: Path) -> None:
    site, _ = build(tmp_path)
    index = load(site / "api/index.json")
    assert index["$schema"] == "schemas/index.schema.json"
    assert index["format"] == "skillmeat-catalog/1"
    assert index["title"] == "Team catalog \u2713"
    assert "\u2713".encode() in (site / "api/index.json").read_bytes()  # UTF-8, not \u-escaped
    assert index["collections"][0] == {
        "name": "team", "description": "The team's", "version": "1.0.0", "head": "b" * 40,
        "counts": {"command": 1, "mcp": 1, "skill": 2}, "artifacts": 4,
        "page": "collections/team.html"}
    rows = {(a["collection"], a["id"]): a for a in index["artifacts"]}
    assert len(rows) == 6
    assert rows[("team", "skill/tools:lint")]["url"] == "artifacts/skill/tools/lint.json"
    assert rows[("team", "skill/tools:lint")]["page"] == "artifacts/team/skill/tools/lint.html"
    # the same id in two collections: one entry each, one shared document
    assert rows[("other", "skill/review")]["url"] == rows[("team", "skill/review")]["url"]
    assert rows[("other", "skill/review")]["version"] == "0.1.0"
    for row in index["artifacts"]:
        assert (site / "api" / row["url"]).is_file()
    assert index["markets"] == [
        {"name": "mkt", "broker": "feed", "source": "https://example.com/feed.json", "verified": True,
         "feed": "feeds/mkt.json"},
        {"name": "plain", "broker": "git", "source": "https://example.com/x.git", "verified": False,
         "feed": None}]
    assert (site / "api" / index["feed"]).is_file()
    assert (site / "api" / index["agent_skills"]).is_file()

    doc = load(site / "api/artifacts/skill/review.json")
    assert doc["collection"] == "team" and doc["collections"] == ["team", "other"]
    assert doc["version"] == "1.2.0"  # the first collection owns the document
    skill_md = b"---\nname: review\ndescription: Review code.\n---\n# Review\n"
    assert doc["files"] == [
        {"path": "SKILL.md", "size": len(skill_md), "mode": "100644",
         "sha256": hashlib.sha256(skill_md).hexdigest()},
        {"path": "references/guide.md", "size": 8, "mode": "100644",
         "sha256": hashlib.sha256("Gr\u00fc\u00dfe\n".encode()).hexdigest()},
        {"path": "scripts/x.sh", "size": 18, "mode": "100755",
         "sha256": hashlib.sha256(b"#!/bin/sh\necho hi\n").hexdigest()}]
    assert doc["metadata"] == {"name": "review", "created": "2026-01-02", "3": {"nested": [1.5, None]},
                               "when": "2026-01-02T03:04:05", "flags": {"true": "yes"}}
    assert doc["signature"] == {"status": "verified", "detail": "commit aaaaaaaaaaaa signed by alice"}
    assert doc["install"]["skillmeat"] == ["skillmeat -C team deploy review --project ."]
    assert doc["upstream"]["source"] == "github:acme/skills"
    assert doc["page"] == "artifacts/team/skill/review.html"
    lint = load(site / "api/artifacts/skill/tools/lint.json")
    assert (lint["name"], lint["namespace"], lint["$schema"]) == (
        "tools:lint", "tools", "../../../schemas/artifact.schema.json")
    assert lint["install"] == {"skillmeat": [], "claude": []}


def test_agent_skills_digests_match_the_served_files(tmp_path: Path) -> None:
    site, _ = build(tmp_path)
    root = site / ".well-known/agent-skills"
    index = load(root / "index.json")
    assert index["$schema"] == "https://schemas.agentskills.io/discovery/0.2.0/schema.json"
    by_name = {s["name"]: s for s in index["skills"]}
    # plugin:name does not follow the Agent Skills name rule: served as plugin-name, id kept
    assert sorted(by_name) == ["review", "tools-lint"]
    assert by_name["tools-lint"]["id"] == "skill/tools:lint"
    assert by_name["tools-lint"]["url"] == "tools-lint/SKILL.md"
    assert by_name["review"]["description"] == "Review code."  # the first collection's
    for skill in index["skills"]:
        assert skill["type"] == "skill-md"
        served = (root / unquote(skill["url"])).read_bytes()
        assert skill["digest"] == "sha256:" + hashlib.sha256(served).hexdigest()
        assert skill["files"][0]["path"] == "SKILL.md" and skill["files"][0]["url"] == skill["url"]
        for f in skill["files"]:
            data = (root / unquote(f["url"])).read_bytes()
            assert f["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert f["size"] == len(data)
            assert unquote(f["url"]).endswith("/" + f["path"])
    odd = by_name["tools-lint"]["files"][1]
    assert odd["path"] == "notes #1 \u00e9.md"
    assert odd["url"] == "tools-lint/notes%20%231%20%C3%A9.md"  # a URL, percent-encoded
    assert (root / "review/scripts/x.sh").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert not (root / "deploy").exists()  # only skills are served


def feed_parts(data: bytes) -> tuple[list[dict[str, str]], bytes]:
    """The signatures and the exact bytes of "signed", as a verifier cuts them out."""
    head, mid = b'{"signatures":', b',"signed":'
    assert data.startswith(head) and data.endswith(b"}\n")
    sigs, end = json.JSONDecoder().raw_decode(data.decode(), len(head))
    assert data[end:end + len(mid)] == mid
    return sigs, data[end + len(mid):-2]


def keygen_verify(tmp_path: Path, armored: str, message: bytes, namespace: str = CATALOG_FEED_NAMESPACE
                  ) -> subprocess.CompletedProcess[bytes]:
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"principal {ALICE.public.openssh()}\n")
    sigfile = tmp_path / "feed.sig"
    sigfile.write_text(armored)
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run([SSH_KEYGEN, "-Y", "verify", "-n", namespace, "-f", str(signers),
                           "-I", "principal", "-s", str(sigfile)], input=message,
                          capture_output=True, env=env, check=False)


def test_the_feed_verifies_with_ssh_keygen(tmp_path: Path) -> None:
    site, _ = build(tmp_path)
    data = (site / "api/feed.json").read_bytes()
    sigs, signed_bytes = feed_parts(data)
    signed = json.loads(signed_bytes)
    assert signed_bytes == canonical(signed) and json.loads(data)["signed"] == signed
    assert signed["format"] == CATALOG_FEED_FORMAT and signed["name"] == "Team catalog \u2713"
    assert signed["generated"] == "2026-03-04T05:06:07Z"
    assert {"id": "skill/tools:lint", "collection": "team", "version": "", "content_hash":
            "sha256:" + hashlib.sha256(b"tools:lint").hexdigest(),
            "url": "api/artifacts/skill/tools/lint.json"} in signed["artifacts"]
    assert len(signed["artifacts"]) == 6
    assert [s["keyid"] for s in sigs] == [ALICE.public.fingerprint()]
    done = keygen_verify(tmp_path, sigs[0]["sig"], signed_bytes)
    assert done.returncode == 0, done.stderr
    assert b"Good" in done.stdout
    tampered = signed_bytes.replace(b'"version":"1.2.0"', b'"version":"9.9.9"')
    assert tampered != signed_bytes
    assert keygen_verify(tmp_path, sigs[0]["sig"], tampered).returncode != 0
    assert keygen_verify(tmp_path, sigs[0]["sig"], signed_bytes, "skillmeat-feed").returncode != 0


def test_a_feed_signed_by_another_key_does_not_verify_as_alice(tmp_path: Path) -> None:
    site, result = build(tmp_path, MALLORY)
    sigs, signed_bytes = feed_parts((site / "api/feed.json").read_bytes())
    assert result.signer == MALLORY.public.fingerprint() == sigs[0]["keyid"]
    assert keygen_verify(tmp_path, sigs[0]["sig"], signed_bytes).returncode != 0


def test_unsigned_feed(tmp_path: Path) -> None:
    site, result = build(tmp_path, None)
    data = load(site / "api/feed.json")
    assert data["signatures"] == [] and (result.feed_signed, result.signer) == (False, "")
    validator("feed.schema.json").validate(data)


def test_market_feeds_are_copied_verbatim(tmp_path: Path) -> None:
    site, _ = build(tmp_path)
    assert (site / "api/feeds/mkt.json").read_bytes() == MARKET_FEED
    assert sorted(p.name for p in (site / "api/feeds").iterdir()) == ["mkt.json"]


def test_two_writes_are_byte_identical(tmp_path: Path) -> None:
    one, _ = build(tmp_path, name="one")
    two, _ = build(tmp_path, name="two")
    assert tree_state(one) == tree_state(two)
    three, _ = build(tmp_path, None, name="three")
    four, _ = build(tmp_path, None, name="four")
    assert tree_state(three) == tree_state(four)


def hostile(tmp_path: Path, change: Any) -> str:
    catalog, blobs = make_catalog()
    change(catalog)
    site = tmp_path / "hostile"
    with pytest.raises(BadInputError) as err:
        write_api(catalog, site, reader(blobs), None)
    assert not site.exists()  # refused before anything is written
    assert "\n" not in str(err.value)
    return str(err.value)


def _file(catalog: Catalog, path: str, index: int = 0) -> None:
    art = catalog.collections[0].artifacts[2]
    art.files[index] = CatalogFile(path, art.files[index].repo_path, art.files[index].size,
                                   art.files[index].mode, art.files[index].sha256)


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/etc/passwd", "a\\..\\x", "a//b", "./x",
                                  "a/", "", "a\nb"])
def test_a_hostile_file_path_is_refused(tmp_path: Path, path: str) -> None:
    assert "unsafe file path" in hostile(tmp_path, lambda c: _file(c, path))


def test_hostile_names_are_refused(tmp_path: Path) -> None:
    def name(c: Catalog) -> None:
        art = c.collections[0].artifacts[2]
        art.name, art.id = "../../x", "skill/../../x"

    def market(c: Catalog) -> None:
        c.markets[0].name = "../../index"

    def collection(c: Catalog) -> None:
        c.collections[1].name = ".."

    def mismatch(c: Catalog) -> None:
        c.collections[0].artifacts[2].id = "skill/other"

    def clash(c: Catalog) -> None:
        _file(c, "SKILL.md/x", 1)

    assert "not a valid artifact type and name" in hostile(tmp_path, name)
    assert "unsafe marketplace name" in hostile(tmp_path, market)
    assert "unsafe collection name" in hostile(tmp_path, collection)
    assert "does not match" in hostile(tmp_path, mismatch)
    assert "both a file and a directory" in hostile(tmp_path, clash)


def test_a_file_read_back_with_another_digest_is_an_error(tmp_path: Path) -> None:
    catalog, blobs = make_catalog()
    blobs[("team", "skills/review/SKILL.md")] = b"changed\n"
    with pytest.raises(SkillmeatError, match="another sha256"):
        write_api(catalog, tmp_path / "site", reader(blobs), None)


def test_skills_left_out_of_the_agent_skills_index(tmp_path: Path) -> None:
    catalog, blobs = make_catalog()
    team = catalog.collections[0]
    # 'tools-lint' is the directory tools:lint is served under; a skill without SKILL.md
    team.artifacts.append(_art("team", "skill", "tools-lint", {"SKILL.md": b"x\n"}, blobs))
    team.artifacts.append(_art("team", "skill", "bare", {"README.md": b"x\n"}, blobs))
    alias: dict[str, Any] = {}
    alias["self"] = alias  # what a YAML alias can build
    team.artifacts[2].metadata = alias
    result = write_api(catalog, tmp_path / "site", reader(blobs), None)
    assert result.skills == 2
    assert result.notes == [
        "skill/tools-lint: its directory .well-known/agent-skills/tools-lint/ clashes with "
        "skill/tools:lint; "
        "left out of the Agent Skills index",
        "skill/bare: no SKILL.md; left out of the Agent Skills index",
        "skill/review: frontmatter is nested too deep or too large for the JSON API; left out"]
    doc = load(tmp_path / "site/api/artifacts/skill/review.json")
    assert doc["metadata"] == {}
    validator("artifact.schema.json").validate(doc)
    assert (tmp_path / "site/api/artifacts/skill/tools-lint.json").is_file()  # still documented


def test_files_a_browser_would_run_are_not_served(tmp_path: Path) -> None:
    """A skill's HTML, SVG or XML would be active content on the catalog's origin (served as
    text/html, image/svg+xml...): left out of .well-known/agent-skills/, with a note."""
    catalog, blobs = make_catalog()
    active = {"helper.html": b"<script>alert(1)</script>", "assets/logo.SVG": b'<svg onload="alert(2)"/>',
              "a/page.XHTML": b"<x/>", "feed.xml": b"<x/>", "lib.rs": b"<x/>", ".htm": b"<x/>",
              "doc.mhtml": b"x", "style.xsl": b"<x/>", "data.kml": b"<x/>", "odd.fooxml": b"<x/>"}
    inert = {"SKILL.md": b"---\nname: webby\n---\nHi.\n", "notes.md": b"n\n", "run.py": b"print()\n",
             "guide.pdf": b"%PDF-1.4\n", "Makefile": b"all:\n", "page.html.txt": b"<b>\n"}
    catalog.collections[0].artifacts.append(_art("team", "skill", "webby", {**active, **inert}, blobs))
    site = tmp_path / "site"
    result = write_api(catalog, site, reader(blobs), None)
    root = site / ".well-known/agent-skills"
    index = load(root / "index.json")
    validator("agent-skills.schema.json").validate(index)
    webby = next(s for s in index["skills"] if s["name"] == "webby")
    assert sorted(f["path"] for f in webby["files"]) == sorted(inert)
    assert webby["url"] == "webby/SKILL.md"
    for path in active:
        assert not (root / "webby" / path).exists(), path
    for path, data in inert.items():
        assert (root / "webby" / path).read_bytes() == data
    served = [p for p in site.rglob("*") if p.is_file()]
    assert not [p for p in served if p.suffix.lower() in (".html", ".svg", ".xhtml", ".xml")
                and ".well-known" in p.parts]
    assert result.files == len(served)
    [note] = [n for n in result.notes if n.startswith("skill/webby:")]
    assert "'.htm', 'a/page.XHTML', 'assets/logo.SVG' and 7 more not served under " \
           ".well-known/agent-skills/webby/ (a browser would run it); get the whole skill with " \
           "skillmeat" in note
    # the artifact's own document still lists every file (with its digest), served or not
    doc = load(site / "api/artifacts/skill/webby.json")
    assert sorted(f["path"] for f in doc["files"]) == sorted({**active, **inert})
