"""The README's first command: the demo runs on the built-in examples and says what it did."""

from __future__ import annotations

import os
import subprocess

from tests.helpers import REPO_ROOT


def test_demo_script_runs_end_to_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLMEAT_", "GIT_"))}
    proc = subprocess.run([str(REPO_ROOT / "scripts" / "demo")], capture_output=True, text=True,
                          env=env, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    assert "Added 8 artifacts" in out
    assert "skill/pdf-summary" in out
    assert "commands/deploy-check.md:3: warning: invalid YAML frontmatter" in out
    assert "8 artifacts checked: 0 errors, 1 warning" in out
    assert "modified-in-project  command/review" in out
    assert "take-project     command/review [modified-in-project]" in out
    assert "Sync from" in out
    assert "+++ " in out and '"notes": {' in out  # the MCP deploy preview diff
    assert "healthy  notes  stdio" in out
    assert 'Good "skillmeat-pack" signature for demo@example.com' in out  # ssh-keygen -Y verify
    assert "Imported 9 artifacts" in out and "Nothing to import" in out
    assert "starter  1.0.0" in out
    assert "Published pdf-summary@1.0.0 to local" in out
    assert "local:pdf-summary@1.0.0" in out  # found by marketplace search
    assert "Installed local:pdf-summary@1.0.0 (verified): 1 artifact changed" in out
    assert "Wrote Claude Code marketplace" in out
