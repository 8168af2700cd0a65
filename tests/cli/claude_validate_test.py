"""Claude Code's own CLI judges what SkillMeat deploys: corpus artifacts that SkillMeat's
validate accepts, deployed into a project, pass `claude plugin validate`.

This Claude Code release validates plugins and marketplaces, not a bare project, so the
project's deployed `.claude/` parts are viewed as a plugin (a plugin.json beside them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.helpers import CORPUS, EXAMPLES, claude_cli


def _claude_validate(project: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    view = tmp / "plugin-view"
    for part in ("skills", "commands", "agents"):
        if (project / ".claude" / part).exists():
            shutil.copytree(project / ".claude" / part, view / part)
    (view / ".claude-plugin").mkdir(parents=True)
    (view / ".claude-plugin" / "plugin.json").write_text(json.dumps(
        {"name": "deployed-project", "version": "1.0.0", "description": "what SkillMeat deployed",
         "author": {"name": "test"}}))
    return subprocess.run([str(claude_cli()), "plugin", "validate", str(view)],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "DISABLE_AUTOUPDATER": "1"})


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_claude_accepts_the_corpus_artifacts_skillmeat_accepts(tmp_path: Path) -> None:
    ok("collection", "create", "c")
    ok("add", str(CORPUS), "--all")
    report = json.loads(ok("validate", "--json").out)
    flagged = {d["path"] for d in report["diagnostics"]}
    listed = json.loads(ok("list", "--json").out)
    chosen: dict[tuple[str, str], str] = {}
    for art in listed:
        main = art["path"] + ("/SKILL.md" if art["type"] == "skill" else "")
        key = (art["type"], art["name"].rpartition(":")[2])
        if art["type"] in ("skill", "command", "agent") and main not in flagged:
            chosen.setdefault(key, art["id"])  # one per deployed file name
    assert len(chosen) > 300
    project = tmp_path / "proj"
    project.mkdir()
    ok("deploy", *chosen.values(), "--project", str(project))
    result = _claude_validate(project, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Validation passed" in result.stdout or "✔" in result.stdout


def test_claude_flags_the_example_skillmeat_warns_about(tmp_path: Path) -> None:
    ok("collection", "create", "c")
    ok("add", str(EXAMPLES), "--all")
    project = tmp_path / "proj"
    project.mkdir()
    ok("deploy", "deploy-check", "review", "pdf-summary", "--project", str(project))
    result = _claude_validate(project, tmp_path)
    assert result.returncode == 1
    assert "commands/deploy-check.md" in result.stdout and "review.md" not in result.stdout
