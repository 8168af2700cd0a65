"""``mcp health`` of 20 servers at once, beside the slowest of them alone and all of them in a row.

    python benchmarks/mcp_health_bench.py [--n 20] [--reps 3] [--timeout 30] [--json]

The servers are real processes from ``tests/mcp_servers``: one stdio server written with the
``mcp`` SDK (stateless protocol), two checks of one streamable-HTTP SDK server (started once,
not timed), and the rest hand-written 2025-era stdio servers (initialize handshake) that sleep
0.1 to 2 s before answering, as servers that download or warm up first do. Each repetition
times every server alone (``check_health([one])``, one after the other: their sum is the
sequential run, their maximum the slowest single server) and then all of them in one
``check_health`` call; medians are reported. The time of a check includes starting and
stopping the server. Target: all at once within 1.3x of the slowest single server.
An ``info`` row times the whole CLI (``skillmeat mcp health --scope project``, start-up and
the SDK import included) on the same servers, in a temporary HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from skillmeat.model.mcp import McpServer  # noqa: E402
from skillmeat.services.mcp_health import Definition, check_health  # noqa: E402
from tests.mcp_servers import http_server, stdio  # noqa: E402

TARGET = 1.3
SKILLMEAT = Path(sys.executable).parent / "skillmeat"


def servers(n: int, url: str) -> list[McpServer]:
    """n servers: 1 SDK stdio, 2 HTTP, the rest 2025-era stdio with start-up delays 0.1-2 s."""
    out = [stdio("sdk-stdio", "good_stdio.py"), McpServer("sdk-http-1", "http", url=url),
           McpServer("sdk-http-2", "http", url=url)]
    slow = max(n - len(out), 1)
    for i in range(slow):
        delay = 0.1 + 1.9 * i / max(slow - 1, 1)
        out.append(stdio(f"legacy-{delay:.2f}s", "legacy_stdio.py", f"{delay:.3f}"))
    return out[:n]


def timed(defs: Sequence[Definition], timeout: float) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of this process, CPU seconds of the servers it started)."""
    before = _cpu()
    t0 = time.perf_counter()
    results = check_health(defs, timeout=timeout)
    seconds = time.perf_counter() - t0
    after = _cpu()
    broken = [f"{r.name}: {r.status} {r.detail}" for r in results if not r.healthy]
    if broken:
        raise SystemExit("not every server is healthy:\n" + "\n".join(broken))
    return seconds, after[0] - before[0], after[1] - before[1]


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def one_rep(defs: list[Definition], timeout: float) -> dict[str, Any]:
    singles = {d.name: timed([d], timeout)[0] for d in defs}
    slowest = max(singles, key=lambda name: singles[name])
    concurrent, own_cpu, servers_cpu = timed(defs, timeout)
    return {"slowest": singles[slowest], "slowest_name": slowest, "sequential": sum(singles.values()),
            "concurrent": concurrent, "own_cpu": own_cpu, "servers_cpu": servers_cpu}


def cli_run(servers_: list[McpServer], timeout: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "home").mkdir()
        (base / ".mcp.json").write_text(json.dumps({"mcpServers": {s.name: s.to_claude()
                                                                   for s in servers_}}))
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")}
        env = {**keep, "HOME": str(base / "home"), "SKILLMEAT_HOME": str(base / "skillmeat")}
        t0 = time.perf_counter()
        proc = subprocess.run([str(SKILLMEAT), "mcp", "health", "--scope", "project", "--json",
                               "--timeout", str(timeout)], cwd=base, env=env, capture_output=True,
                              text=True, check=False)
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"skillmeat mcp health failed ({proc.returncode}):\n{proc.stderr}{proc.stdout}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="print the samples as JSON")
    args = parser.parse_args(argv)
    with http_server() as url:
        chosen = servers(args.n, url)
        defs = [Definition(s.name, "bench", s) for s in chosen]
        timed(defs, args.timeout)  # warm-up: imports, the OS's caches, the HTTP server's first request
        reps = [one_rep(defs, args.timeout) for _ in range(args.reps)]
        cli = cli_run(chosen, args.timeout)
    keys = ("slowest", "sequential", "concurrent", "own_cpu", "servers_cpu")
    median = {k: statistics.median(r[k] for r in reps) for k in keys}
    ratio = median["concurrent"] / median["slowest"]
    if args.json:
        print(json.dumps({"n": len(defs), "reps": reps, "median": median, "ratio": ratio,
                          "target": TARGET, "cli_seconds": cli}, indent=2))
    else:
        _table(len(defs), reps, median, ratio, cli)
    return 0 if ratio <= TARGET else 1


def _table(n: int, reps: list[dict[str, Any]], median: dict[str, float], ratio: float,
           cli: float) -> None:
    names = sorted({r["slowest_name"] for r in reps})
    rows = [
        (f"slowest single server ({', '.join(names)})", median["slowest"], "1.00x", ""),
        (f"{n} servers concurrently", median["concurrent"], f"{ratio:.2f}x",
         f"<= {TARGET}x {'PASS' if ratio <= TARGET else 'MISS'}"),
        (f"{n} servers one by one", median["sequential"],
         f"{median['sequential'] / median['slowest']:.2f}x", "info"),
        (f"CLI: skillmeat mcp health ({n}, start-up included, 1 run)", cli,
         f"{cli / median['slowest']:.2f}x", "info"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement'.ljust(width)}  {'median s':>8}  {'vs slowest':>10}  target")
    for label, seconds, versus, target in rows:
        print(f"{label.ljust(width)}  {seconds:8.2f}  {versus:>10}  {target}")
    print(f"({len(reps)} repetitions on {os.cpu_count()} CPUs; during the concurrent run SkillMeat used "
          f"{median['own_cpu']:.2f} s of CPU, the {n} servers {median['servers_cpu']:.2f} s)")


if __name__ == "__main__":
    sys.exit(main())
