"""The real marketplace corpus: one command imports everything, warnings name real files,
every same-named artifact stays addressable."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.runner import ok, skillmeat
from tests.helpers import CORPUS, isolate_env

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def _corpus_counts() -> Counter[str]:
    counts: Counter[str] = Counter()
    data = json.loads((CORPUS / ".claude-plugin" / "marketplace.json").read_text())
    for plugin in data["plugins"]:
        if not isinstance(plugin["source"], str):
            continue
        root = CORPUS / plugin["source"]
        counts["skill"] += len(list(root.glob("skills/*/SKILL.md")))
        counts["agent"] += len([p for p in root.glob("agents/**/*.md")])
        counts["command"] += len([p for p in root.glob("commands/**/*.md")])
        counts["hook"] += (root / "hooks" / "hooks.json").is_file()
    return counts


@pytest.fixture(scope="module")
def corpus_collection(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    # Module-scoped: one import of the whole corpus serves every test below.
    base = tmp_path_factory.mktemp("corpus-home")
    with pytest.MonkeyPatch.context() as mp:
        isolate_env(mp, base)
        ok("collection", "create", "corpus")
        added = skillmeat("add", str(CORPUS), "--all")
        listed = json.loads(ok("list", "--json").out)
        validated = skillmeat("validate", "--json")
    return {"added": added, "listed": listed, "validated": validated, "base": base}


def test_add_all_imports_every_artifact_in_one_command(corpus_collection: dict) -> None:
    added = corpus_collection["added"]
    assert added.code == 0, added.err
    counts = _corpus_counts()
    listed = corpus_collection["listed"]
    by_type = Counter(e["type"] for e in listed)
    for type_ in ("skill", "agent", "command", "hook"):
        assert by_type[type_] == counts[type_], type_
    total = sum(counts.values())
    assert len(listed) == total
    assert re.search(rf"^Added {total} artifacts \(", added.out, re.M)


def test_one_warning_line_per_malformed_file_and_a_count(corpus_collection: dict) -> None:
    added = corpus_collection["added"]
    lines = [ln for ln in added.err.splitlines() if ": warning: " in ln]
    files = [ln.split(":", 1)[0] for ln in lines]
    assert len(files) == len(set(files)), "one line per file"
    assert re.search(rf"; {len(lines)} warnings$", added.out.strip())
    no_fm = [f for f in files if f.startswith(("commands/", "agents/", "skills/"))]
    assert no_fm, "the corpus has files without frontmatter"
    # the one remote plugin (git-subdir source) is named, not silently dropped
    assert any("remote source" in ln for ln in lines)


def test_validate_reports_the_files_the_warnings_named(corpus_collection: dict) -> None:
    added = corpus_collection["added"]
    warned = {ln.split(":", 1)[0] for ln in added.err.splitlines()
              if ": warning: " in ln and ln.startswith(("commands/", "agents/", "skills/"))}
    report = json.loads(corpus_collection["validated"].out)
    reported = {d["path"] for d in report["diagnostics"]}
    assert warned <= reported
    assert corpus_collection["validated"].code == 0  # warnings only at the Claude Code level


def test_colliding_names_are_all_kept_and_addressable(corpus_collection: dict) -> None:
    listed = corpus_collection["listed"]
    bases = Counter((e["type"], e["name"].rpartition(":")[2]) for e in listed)
    collisions = [k for k, n in bases.items() if n > 1]
    assert len(collisions) >= 24, "dozens of agent and command names repeat across plugins"
    ids = {e["id"] for e in listed}
    assert "agent/backend-development:backend-architect" in ids
    assert "agent/api-scaffolding:backend-architect" in ids


def test_show_by_full_id_and_ambiguous_short_name(corpus_collection: dict,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    base: Path = corpus_collection["base"]  # type: ignore[assignment]
    isolate_env(monkeypatch, base)
    shown = json.loads(ok("show", "agent/backend-development:backend-architect", "--json").out)
    assert shown["path"] == "agents/backend-development/backend-architect.md"
    assert shown["upstream"]["path"] == "plugins/backend-development/agents/backend-architect.md"
    assert ok("show", "backend-development:backend-architect").code == 0
    ambiguous = skillmeat("show", "backend-architect")
    assert ambiguous.code == 2
    assert "matches 6 artifacts" in ambiguous.err and ambiguous.err.count("\n") == 1
