"""On a terminal, import asks per conflicting artifact: merge, fork or skip (a real pty)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.helpers import EXAMPLES, git, isolate_env


def _read_until(fd: int, marker: bytes, timeout: float = 60) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def test_conflict_prompt_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch, tmp_path / "home")
    ok("collection", "create", "team")
    ok("add", str(EXAMPLES / "skills" / "pdf-summary"))
    ok("keys", "generate", "--comment", "me@example.com")
    (tmp_path / "me.pub").write_text(ok("keys", "export", "--public").out)
    ok("keys", "trust", str(tmp_path / "me.pub"), "--principal", "me@example.com")
    ok("collection", "create", "mine")
    ok("-C", "mine", "add", str(EXAMPLES / "skills" / "pdf-summary"))
    team = tmp_path / "home" / "skillmeat" / "collections" / "team"
    (team / "skills" / "pdf-summary" / "SKILL.md").write_text(
        "---\nname: pdf-summary\ndescription: Theirs.\n---\ntheirs\n")
    git("commit", "-qam", "theirs", cwd=team)
    mine = tmp_path / "home" / "skillmeat" / "collections" / "mine"
    (mine / "skills" / "pdf-summary" / "SKILL.md").write_text(
        "---\nname: pdf-summary\ndescription: Ours.\n---\nours\n")
    git("commit", "-qam", "ours", cwd=mine)
    pack = tmp_path / "p.skillmeat-pack"
    ok("-C", "team", "export", "pdf-summary", "-o", str(pack), "--version", "2")
    main, sub = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "skillmeat", "-C", "mine", "import", str(pack)],
                            stdin=sub, stdout=sub, stderr=sub, close_fds=True)
    os.close(sub)
    try:
        asked = _read_until(main, b"[s]kip?")
        assert b"skill/pdf-summary differs from the bundle's" in asked, asked
        assert b"+theirs" in asked and b"-ours" in asked
        os.write(main, b"f\n")
        rest = _read_until(main, b"Imported 1 artifact")
        assert proc.wait(timeout=60) == 0, rest
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)
    assert "fork      skill/pdf-summary -> skill/pdf-summary-fork-" in rest.decode().replace("\r", "")
    assert (mine / "skills" / "pdf-summary" / "SKILL.md").read_text().endswith("ours\n")
