"""``skillmeat duplicates`` through the real CLI: examples, crafted copies, projects, the corpus."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests.cli.runner import ok, skillmeat
from tests.helpers import CORPUS, EXAMPLES, isolate_env

REVIEW = (EXAMPLES / "commands" / "review.md").read_text()
LONG_REVIEW = REVIEW + "".join(f"Check the {w} handling, name the file and line, and propose a fix.\n"
                               for w in ("error", "timeout", "retry", "logging", "config", "input"))


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def copies(tmp_path: Path) -> Path:
    """A collection of the examples plus crafted copies of a command."""
    ok("collection", "create", "c")
    ok("add", str(EXAMPLES), "--all")
    src = write(tmp_path / "copies", {
        "commands/review-long.md": LONG_REVIEW,
        "commands/review-longer.md": LONG_REVIEW.replace("timeout handling", "timeout and deadline handling"),
        "commands/deploy-check-copy.md": (EXAMPLES / "commands" / "deploy-check.md").read_text(),
    })
    ok("add", str(src), "--all")
    return tmp_path


def pairs(*args: str) -> list[dict[str, Any]]:
    report: list[dict[str, Any]] = json.loads(ok("duplicates", "--json", *args).out)["pairs"]
    return report


def test_empty_collection_and_plain_examples_have_none(tmp_path: Path) -> None:
    ok("collection", "create", "c")
    empty = ok("duplicates")
    assert empty.out == "No near-duplicates above 0.80.\n"
    assert json.loads(ok("duplicates", "--json").out) == {"threshold": 0.8, "compared": 0, "pairs": []}
    ok("add", str(EXAMPLES), "--all")
    assert ok("duplicates", "--threshold", "0.5").out == "No near-duplicates above 0.50.\n"


def test_crafted_copies_are_found_and_explained(copies: Path) -> None:
    result = ok("duplicates")
    lines = result.out.splitlines()
    assert lines[0].split() == ["1.00", "exact", "command/deploy-check", "~", "command/deploy-check-copy"]
    assert lines[1].strip() == "identical files, 7 lines"
    near = next(i for i, line in enumerate(lines) if "command/review-long  ~  command/review-longer" in line)
    assert lines[near].split()[1] == "near"
    assert lines[near + 1].split() == ["lines", "14", "/", "14,", "words", "103", "/", "105",
                                       "(b", "is", "longer),", "7", "lines", "shared"]
    assert lines[near + 2].strip() == "first difference: line 10 of a, line 10 of b"
    assert lines[near + 3].strip() == ("frontmatter same: allowed-tools, argument-hint, description; "
                                       "different: -")
    assert "pairs at 0.80 or above among 11 artifacts" in result.err


def test_json_threshold_and_type(copies: Path) -> None:
    found = pairs()
    assert [(p["a"]["id"], p["b"]["id"], p["kind"]) for p in found] == [
        ("command/deploy-check", "command/deploy-check-copy", "exact"),
        ("command/review-long", "command/review-longer", "near"),
    ]
    near = found[1]
    assert 0.8 <= near["score"] < 1 and near["longer"] == "b"
    assert near["a"] == {"id": "command/review-long", "origin": "collection", "place": "c",
                         "path": "commands/review-long.md"}
    assert [p["kind"] for p in pairs("--threshold", "0.95")] == ["exact"]
    assert pairs("--type", "agent", "--type", "skill") == []
    assert len(pairs("--threshold", "0.3")) > 2  # review.md is now close to the long ones


def test_projects_are_compared_with_the_collection(copies: Path) -> None:
    project = write(copies / "app", {".claude/commands/team/review.md": LONG_REVIEW,
                                     ".claude/agents/unrelated.md": "---\nname: x\n---\nHello.\n"})
    found = pairs("--project", str(project))
    assert [(p["a"]["id"], p["b"]["id"], p["kind"]) for p in found] == [
        ("command/review-long", "command/team:review", "exact"),
        ("command/review-longer", "command/team:review", "near"),
    ]
    assert found[0]["b"] == {"id": "command/team:review", "origin": "project",
                             "place": str(project.resolve()), "path": ".claude/commands/team/review.md"}
    text = ok("duplicates", "--project", str(project)).out
    assert f"command/review-long  ~  {project.resolve()}/.claude/commands/team/review.md" in text
    clean = write(copies / "clean", {".claude/agents/unrelated.md": "---\nname: x\n---\nHello.\n"})
    assert ok("duplicates", "--project", str(clean)).out == "No near-duplicates above 0.80.\n"


@pytest.mark.parametrize("args", [("--threshold", "0"), ("--threshold", "1.5"),
                                  ("--project", "does-not-exist"), ("--type", "plugin")])
def test_bad_arguments_are_usage_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    ok("collection", "create", "c")
    result = skillmeat("duplicates", *args)
    assert result.code == 2 and result.out == ""


# --- the real corpus: the same agent shipped in several plugins ---

@pytest.fixture(scope="module")
def corpus_pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("dups-corpus")
    with pytest.MonkeyPatch.context() as mp:
        isolate_env(mp, base)
        ok("collection", "create", "corpus")
        ok("add", str(CORPUS), "--all")
        return {"json": json.loads(ok("duplicates", "--json").out), "text": ok("duplicates")}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_corpus_backend_architect_copies_are_all_paired(corpus_pairs: dict[str, Any]) -> None:
    report = corpus_pairs["json"]
    assert report["compared"] > 400
    plugins = {"api-scaffolding", "backend-api-security", "backend-development", "data-engineering",
               "database-cloud-optimization", "multi-platform-apps"}
    wanted = {frozenset(f"agent/{p}:backend-architect" for p in pair) for pair in combinations(plugins, 2)}
    found = {frozenset((p["a"]["id"], p["b"]["id"])): p for p in report["pairs"]
             if p["a"]["id"].endswith(":backend-architect")}
    assert set(found) == wanted and len(wanted) == 15
    for pair in found.values():
        assert pair["kind"] == "same-body" and pair["score"] == 1.0
        assert pair["different_fields"] == ["name"]  # each plugin prefixes the agent's name
        assert pair["same_fields"] == ["description", "model"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_corpus_near_copies_and_exit_zero(corpus_pairs: dict[str, Any]) -> None:
    report = corpus_pairs["json"]
    near = {(p["a"]["id"], p["b"]["id"]) for p in report["pairs"] if p["kind"] == "near"}
    assert ("agent/api-scaffolding:django-pro", "agent/python-development:django-pro") in near
    assert all(p["a"]["id"].split("/")[0] == p["b"]["id"].split("/")[0] for p in report["pairs"])
    text = corpus_pairs["text"]
    assert text.code == 0 and text.out.count("  ~  ") == len(report["pairs"])
