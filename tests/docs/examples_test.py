"""Every shell example of the guide marked runnable runs, and exits 0.

The marker: an HTML comment line ``<!-- runnable -->`` directly before a fenced block whose
language is ``bash``, ``sh`` or ``shell`` (no blank line between; it renders to nothing):

    <!-- runnable -->
    ```bash
    skillmeat collection create demo
    ```

Mark only what runs offline, as it is, on a fresh machine with SkillMeat and git: no network,
no S3 or GCS, no second machine, no prompt. Each block runs with ``bash -euo pipefail`` in a
fresh temp HOME (SKILLMEAT_HOME at its default ``~/.skillmeat``, so the guide's paths hold;
git knows a user name and email), in a temp working directory holding a copy of the
repository's ``examples/`` as ``./examples``, with the venv's ``bin`` first on PATH. The
blocks of one page run in order, in the same home and working directory, so a page can build
on its earlier blocks; each block is its own shell, so ``cd`` and variables do not carry
over (files do). Each block is a test of its own, with the id ``page.md:LINE`` (the line of
its opening fence). A marker anywhere else fails a test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES, REPO_ROOT

DOCS = REPO_ROOT / "docs"
MARKER = "<!-- runnable -->"
SHELLS = {"bash", "sh", "shell"}
TIMEOUT_S = 300  # a block that hangs (a server, a prompt) fails instead of stalling the suite


@dataclass(frozen=True)
class Block:
    page: str  # relative to docs/
    line: int  # of the opening fence, 1-based
    script: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def parse(page: str, text: str) -> tuple[list[Block], list[str]]:
    """The runnable blocks of one page, and the misplaced markers (as ``page:line`` problems)."""
    blocks, problems = [], []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        indent = line[: len(line) - len(line.lstrip())]
        fence = re.match(rf"{re.escape(indent)}(`{{3,}}|~{{3,}})\s*([\w-]*)", lines[i + 1]) \
            if i + 1 < len(lines) else None
        if not fence or fence.group(2) not in SHELLS:
            problems.append(f"{page}:{i + 1}: {MARKER} is not directly before a bash/sh/shell fence")
            continue
        body, end = [], i + 2
        while end < len(lines) and not lines[end].strip().startswith(fence.group(1)):
            body.append(lines[end][len(indent):] if lines[end].startswith(indent) else lines[end])
            end += 1
        if end == len(lines):
            problems.append(f"{page}:{i + 2}: the runnable block is never closed")
            continue
        blocks.append(Block(page, i + 2, "\n".join(body) + "\n"))
    return blocks, problems


def collect() -> tuple[list[Block], list[str]]:
    blocks, problems = [], []
    for path in sorted(DOCS.rglob("*.md")):
        found, wrong = parse(path.relative_to(DOCS).as_posix(), path.read_text(encoding="utf-8"))
        blocks += found
        problems += wrong
    return blocks, problems


BLOCKS, PROBLEMS = collect()


@dataclass
class PageRun:
    """The home and working directory one page's blocks share, and how many have run."""

    env: dict[str, str]
    cwd: Path
    done: int = 0
    log: list[str] = field(default_factory=list)


_RUNS: dict[str, PageRun] = {}


def fresh_run(base: Path) -> PageRun:
    home, cwd = base / "home", base / "work"
    home.mkdir(parents=True)
    cwd.mkdir()
    shutil.copytree(EXAMPLES, cwd / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    (home / ".gitconfig").write_text("[user]\n\tname = Ada Example\n\temail = ada@example.com\n"
                                     "[init]\n\tdefaultBranch = main\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SKILLMEAT_", "GIT_", "PRE_COMMIT", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), SKILLMEAT_HOME=str(home / ".skillmeat"), XDG_CONFIG_HOME=str(home / ".config"),
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    return PageRun(env, cwd)


def execute(block: Block, run: PageRun) -> subprocess.CompletedProcess[str]:
    script = run.cwd.parent / f"block-{block.line}.sh"
    script.write_text(block.script)
    proc = subprocess.run(["bash", "-euo", "pipefail", str(script)], cwd=run.cwd, env=run.env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    run.log.append(f"--- {block.id} (exit {proc.returncode})\n{block.script}{proc.stdout}{proc.stderr}")
    return proc


def page_run(block: Block, factory: pytest.TempPathFactory) -> PageRun:
    """The page's shared run, positioned just before ``block``: reused when the earlier blocks
    just ran in this process, else made afresh by running them again (so any one block can run
    alone, e.g. with -k)."""
    earlier = [b for b in BLOCKS if b.page == block.page and b.line < block.line]
    run = _RUNS.get(block.page)
    if run is None or run.done != len(earlier):
        run = fresh_run(factory.mktemp("example"))
        for before in earlier:
            proc = execute(before, run)
            assert proc.returncode == 0, f"an earlier block failed: {before.id}\n" + run.log[-1]
        run.done = len(earlier)
        _RUNS[block.page] = run
    return run


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_runnable_example_exits_0(block: Block, tmp_path_factory: pytest.TempPathFactory) -> None:
    run = page_run(block, tmp_path_factory)
    _RUNS.pop(block.page, None)  # put back only if it passes
    proc = execute(block, run)
    assert proc.returncode == 0, "\n".join(run.log[-3:])
    run.done += 1
    _RUNS[block.page] = run


def test_markers_are_well_placed_and_the_getting_started_page_has_runnable_examples() -> None:
    assert not PROBLEMS, PROBLEMS
    assert sum(b.page == "getting-started.md" for b in BLOCKS) >= 5
    assert len({b.page for b in BLOCKS}) >= 5, sorted({b.page for b in BLOCKS})


def test_the_parser_finds_marked_blocks_only() -> None:
    text = ("# Page\n\n```bash\nnot marked\n```\n\n<!-- runnable -->\n```bash\necho one\necho two\n```\n\n"
            "- a list\n\n    <!-- runnable -->\n    ```sh\n    echo indented\n    ```\n\n"
            "<!-- runnable -->\n```console\n$ echo no\n```\n\n<!-- runnable -->\n\n```bash\necho gap\n```\n")
    blocks, problems = parse("p.md", text)
    assert [(b.line, b.script) for b in blocks] == [(8, "echo one\necho two\n"), (16, "echo indented\n")]
    assert problems == ["p.md:20: <!-- runnable --> is not directly before a bash/sh/shell fence",
                        "p.md:25: <!-- runnable --> is not directly before a bash/sh/shell fence"]
