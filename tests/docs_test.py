"""The user guide builds with mkdocs --strict, offline, into a temp dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO_ROOT


def test_user_guide_builds_strict(tmp_path: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "-f", str(REPO_ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "site" / "naming.html").is_file()
    html = (tmp_path / "site" / "index.html").read_text()
    assert "fonts.googleapis.com" not in html
