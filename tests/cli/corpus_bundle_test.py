"""The whole real marketplace corpus travels as one bundle: export, verify, import into an empty
collection, and every artifact's content hash is the same on both sides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.helpers import CORPUS, isolate_env

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def _lock_hashes(collection: Path) -> dict[str, str]:
    import tomllib

    data = tomllib.loads((collection / "skillmeat.lock").read_text())
    return {aid: entry["hash"] for aid, entry in data["artifacts"].items()}


def test_corpus_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch, tmp_path / "home")
    ok("collection", "create", "corpus")
    ok("add", str(CORPUS), "--all")
    ok("keys", "generate", "--comment", "me@example.com")
    pub = tmp_path / "me.pub"
    pub.write_text(ok("keys", "export", "--public").out)
    ok("keys", "trust", str(pub), "--principal", "me@example.com")
    pack = tmp_path / "corpus.skillmeat-pack"
    ok("export", "--all", "-o", str(pack), "--version", "1.0.0")
    verified = json.loads(ok("verify", str(pack), "--json").out)
    assert verified["signature"]["status"] == "good"
    ok("collection", "create", "empty")
    result = json.loads(ok("-C", "empty", "import", str(pack), "--json").out)
    collections = tmp_path / "home" / "skillmeat" / "collections"
    source, target = _lock_hashes(collections / "corpus"), _lock_hashes(collections / "empty")
    assert len(source) > 400 and len(result["items"]) == len(source)
    assert target == source
    assert {i["action"] for i in result["items"]} == {"add"}
