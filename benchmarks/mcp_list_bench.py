"""``mcp list`` (and an MCP deploy) on a 5 MB ``~/.claude.json``, as the whole CLI.

    python benchmarks/mcp_list_bench.py [--mb 5] [--reps 7] [--json]

Builds, in a temporary HOME and SKILLMEAT_HOME, a ``~/.claude.json`` of about --mb MB the
way Claude Code grows one (hundreds of projects with prompt history), a collection with one
MCP server, and that server deployed to the user, local and project scopes. Then times, as
subprocesses of the ``skillmeat`` script beside this interpreter, ``skillmeat mcp list``
(target: median under 0.3 s), ``mcp deploy`` of an unchanged server (info: read, edit,
compare, no write) and a deploy/undeploy pair that rewrites the file (info), beside
``python -c "import json; json.load(open(F))"`` measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.3


def claude_json(path: Path, megabytes: float, project: Path) -> None:
    projects = {str(project): {"allowedTools": [], "history": [], "hasTrustDialogAccepted": True}}
    i = 0
    while len(json.dumps(projects, indent=2)) < megabytes * 1_000_000:
        projects[f"/home/me/src/repo{i}"] = {
            "allowedTools": ["Bash(npm test:*)"], "mcpServers": {}, "lastCost": 0.25,
            "history": [{"display": f"fix the failing test number {n} in module {i} " * 3,
                         "pastedContents": {}} for n in range(12)]}
        i += 1
    data = {"numStartups": 900, "theme": "dark", "mcpServers": {}, "projects": projects,
            "userID": "0" * 64}
    path.write_text(json.dumps(data, indent=2))


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    skillmeat = str(Path(sys.executable).with_name("skillmeat"))
    with tempfile.TemporaryDirectory(prefix="skillmeat-bench-") as tmp:
        base = Path(tmp)
        home, project, src = base / "home", base / "home" / "app", base / "src" / "mcp"
        for d in (project, src):
            d.mkdir(parents=True)
        (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home),
               "SKILLMEAT_HOME": str(base / "skillmeat"), "XDG_CONFIG_HOME": str(home / ".config"),
               "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"), "GIT_CONFIG_NOSYSTEM": "1"}
        (src / "memory.toml").write_text('command = "npx"\nargs = ["-y", "server-memory"]\n')
        claude_json(home / ".claude.json", args.mb, project)
        size = (home / ".claude.json").stat().st_size
        run = [skillmeat]
        subprocess.run([*run, "collection", "create", "c"], env=env, check=True, capture_output=True)
        subprocess.run([*run, "add", str(src.parent), "--all"], env=env, check=True, capture_output=True)
        for scope in ("user", "local", "project"):
            subprocess.run([*run, "mcp", "deploy", "memory", "--scope", scope], env=env, cwd=project,
                           check=True, capture_output=True)
        samples: dict[str, list[float]] = {"mcp list": [], "json.load": [], "deploy (no change)": [],
                                           "undeploy+deploy": []}
        for _ in range(args.reps):
            samples["mcp list"].append(timed([*run, "mcp", "list"], env, project))
            samples["json.load"].append(timed([sys.executable, "-c", "import json; json.load(open("
                                               f"{str(home / '.claude.json')!r}))"], env, project))
            samples["deploy (no change)"].append(
                timed([*run, "mcp", "deploy", "memory", "--scope", "user"], env, project))
            samples["undeploy+deploy"].append(
                timed([*run, "mcp", "undeploy", "memory", "--scope", "user"], env, project)
                + timed([*run, "mcp", "deploy", "memory", "--scope", "user"], env, project))
    medians = {k: statistics.median(v) for k, v in samples.items()}
    passed = medians["mcp list"] < TARGET
    if args.json:
        print(json.dumps({"size": size, "target": TARGET, "pass": passed, "medians": medians,
                          "samples": samples}))
    else:
        print(f"~/.claude.json: {size / 1e6:.1f} MB, {args.reps} runs each (median)")
        for name, value in medians.items():
            print(f"  {name:20} {value:6.3f} s")
        print(f"mcp list under {TARGET} s: {'PASS' if passed else 'MISS'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
