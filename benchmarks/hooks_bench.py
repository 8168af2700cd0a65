"""``pre-commit run skillmeat-validate --all-files`` on the real corpus, beside pre-commit's own
overhead for a no-op hook on the same files, measured in the same run.

    python benchmarks/hooks_bench.py [--reps N] [--corpus PATH] [--no-installed] [--json PATH]
                                     [--keep]

Set-up (not timed), in a sandbox HOME (``run.py``'s ``Sandbox``): ``skillmeat init REPO``,
``skillmeat add CORPUS --all`` (the wshobson-agents marketplace: ~490 artifacts, ~730 files
under skills/ commands/ agents/ hooks/), and a committed ``.pre-commit-config.yaml`` with
``repo: local`` hooks:

- ``skillmeat-validate``: the settings of the root ``.pre-commit-hooks.yaml`` (``files``,
  ``pass_filenames``), ``language: system``, entry the venv's ``skillmeat-validate`` console
  script (as ``tests/hooks/precommit.py``'s ``local_config`` writes it);
- ``noop``: ``language: system``, ``entry: true``, the SAME ``files`` and ``pass_filenames``;
  pre-commit splits the file list into the same batches and starts the same number of
  processes, so the difference is SkillMeat's own work.

Timed, interleaved (the order alternates each repetition), medians:

- ``validate``: ``pre-commit run skillmeat-validate --all-files`` vs ``pre-commit run noop
  --all-files``. Target: within 2x.
- ``validate-installed`` (info): the same hook as users install it (``repo:`` a one-commit
  snapshot of this checkout, ``language: python``, installed by pre-commit once, untimed) vs
  the same no-op; pre-commit also checks the hook's virtualenv on every run (it starts the
  env's python once), which a ``language: system`` no-op never pays. ``--no-installed`` skips it.
- ``lock`` (info): ``pre-commit run skillmeat-lock --all-files`` vs a no-op with its settings
  (``pass_filenames: false``, ``always_run``).
- phases (info, against ``python -c pass``): one ``skillmeat-validate`` process on one file
  (the fixed cost each batch pays), one on every file (the whole job in one process), and
  ``skillmeat validate`` (the CLI).

Isolation is ``run.py``'s ``Sandbox``; ``PRE_COMMIT_HOME`` is inside it. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as harness  # noqa: E402  (benchmarks/run.py: sandbox, child runner)
from run import DEFAULT_CORPUS, REPO, BenchError, Paired, Run, Sandbox, check  # noqa: E402

RESULTS = HERE / "results" / "hooks-latest.json"
TARGET = 2.0
DEFAULT_REPS = 15
PHASE_REPS = 7
LOCAL_CONFIG = ".pre-commit-config.yaml"
INSTALLED_CONFIG = "installed-pre-commit-config.yaml"
SNAPSHOT = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "skillmeat")


@dataclass
class Row(Paired):
    name: str
    label: str
    baseline: str
    target: float | None = None
    sm: list[float] = field(default_factory=list)
    base: list[float] = field(default_factory=list)
    sm_rss: list[int] = field(default_factory=list)  # KiB
    base_rss: list[int] = field(default_factory=list)
    note: str = ""
    error: str = ""
    skipped: str = ""

    @property
    def status(self) -> str:
        if self.error:
            return "ERROR"
        if self.skipped:
            return "SKIP"
        if self.target is None:
            return "info"
        return "-" if self.ratio is None else ("PASS" if self.ratio <= self.target else "MISS")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "baseline": self.baseline,
            "skillmeat_s": self.sm_median, "baseline_s": self.base_median, "ratio": self.ratio,
            "target": self.target, "status": self.status, "skillmeat_samples_s": self.sm,
            "baseline_samples_s": self.base,
            "skillmeat_maxrss_kb": max(self.sm_rss) if self.sm_rss else None,
            "baseline_maxrss_kb": max(self.base_rss) if self.base_rss else None,
            "note": self.note, "error": self.error, "skipped": self.skipped,
        }


# --------------------------------------------------------------------------- configs


def hook_settings() -> dict[str, dict[str, Any]]:
    import yaml

    text = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    return {h["id"]: h for h in yaml.safe_load(text)}


def local_config(bin_dir: Path) -> str:
    """skillmeat-validate and skillmeat-lock as `language: system` hooks, and a no-op beside
    each with the same file selection."""
    import yaml

    defs = hook_settings()
    hooks = []
    for hook_id in ("skillmeat-validate", "skillmeat-lock"):
        h = {k: v for k, v in defs[hook_id].items() if k != "minimum_pre_commit_version"}
        h.update(language="system", entry=str(bin_dir / h["entry"]))
        hooks.append(h)
        noop = {"id": f"noop-{hook_id.removeprefix('skillmeat-')}", "name": f"no-op ({hook_id})",
                "entry": "true", "language": "system"}
        for key in ("files", "pass_filenames", "always_run", "require_serial", "stages"):
            if key in h:
                noop[key] = h[key]
        hooks.append(noop)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}, sort_keys=False)


def snapshot_repo(dest: Path) -> str:
    """This checkout's package and hook definitions as a one-commit repository; its commit."""
    dest.mkdir(parents=True)
    for name in SNAPSHOT:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    git = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run([*git, *args], cwd=dest, check=True, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, check=True, capture_output=True,
                          text=True).stdout.strip()


# --------------------------------------------------------------------------- the benchmark


class HooksBench:
    def __init__(self, sb: Sandbox, cli: Path, reps: int, corpus: Path) -> None:
        self.sb = sb
        self.cli = cli
        self.bin = cli.parent
        self.python = harness.cli_interpreter(cli)
        self.reps = reps
        self.corpus = corpus
        self.repo = sb.work / "team"
        self.env = {**sb.env, "PRE_COMMIT_HOME": str(sb.root / "pre-commit"),
                    "PIP_NO_BUILD_ISOLATION": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        self.rows: list[Row] = []
        self.info: dict[str, Any] = {}
        self.files: list[str] = []

    def log(self, msg: str) -> None:
        print(f"  .. {msg}", file=sys.stderr, flush=True)

    def run(self, cmd: Sequence[str | Path], cwd: Path | None = None) -> Run:
        return harness.run(cmd, self.env, cwd or self.repo)

    def git(self, *args: str) -> Run:
        return check(self.run(["git", *args]), f"git {args[0]}")

    def pre_commit(self, *args: str | Path) -> list[str | Path]:
        return [self.bin / "pre-commit", *args]

    # -- set-up

    def setup(self) -> None:
        t0 = time.perf_counter()
        check(self.run([self.cli, "init", self.repo], self.sb.work), "skillmeat init")
        add = check(self.run([self.cli, "add", self.corpus, "--all"]), "skillmeat add CORPUS --all")
        (self.repo / LOCAL_CONFIG).write_text(local_config(self.bin), encoding="utf-8")
        self.git("add", LOCAL_CONFIG)
        self.git("commit", "-q", "-m", "hooks")
        files = self.git("ls-files", "skills", "commands", "agents", "hooks", "mcp").stdout.split()
        self.info.update(files=len(files), add_s=round(add.seconds, 2),
                         artifacts=add.stdout.split(" ", 2)[1] if add.stdout.startswith("Added") else "?",
                         cpus=os.cpu_count())
        self.files = files
        self.log(f"set-up: {len(files)} files under the artifact directories, add "
                 f"{add.seconds:.1f} s, {time.perf_counter() - t0:.1f} s in all")

    def install_snapshot(self) -> None:
        """The hook repository as users get it, installed once by pre-commit (not timed)."""
        snap = self.sb.work / "skillmeat-hooks"
        rev = snapshot_repo(snap)
        cfg = {"repos": [{"repo": str(snap), "rev": rev, "hooks": [{"id": "skillmeat-validate"}]}]}
        (self.repo / INSTALLED_CONFIG).write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        self.git("add", INSTALLED_CONFIG)
        self.git("commit", "-q", "-m", "installed hooks")
        t0 = time.perf_counter()
        check(self.run(self.pre_commit("install-hooks", "-c", INSTALLED_CONFIG)),
              "pre-commit install-hooks (the snapshot, language: python)")
        self.log(f"installed the snapshot hook repo in {time.perf_counter() - t0:.0f} s")

    # -- timing

    def paired(self, row: Row, sm_cmd: Sequence[str | Path], base_cmd: Sequence[str | Path],
               reps: int) -> Row:
        """Interleaved medians; the order flips every repetition. One untimed warm-up each."""
        self.rows.append(row)
        try:
            check(self.run(sm_cmd), row.label)
            check(self.run(base_cmd), row.baseline)
            for i in range(reps):
                pair = [(sm_cmd, row.sm, row.sm_rss, row.label),
                        (base_cmd, row.base, row.base_rss, row.baseline)]
                for cmd, times, rss, what in pair if i % 2 == 0 else reversed(pair):
                    r = check(self.run(cmd), what)
                    times.append(r.seconds)
                    rss.append(r.maxrss_kb)
        except BenchError as exc:
            row.error = str(exc)
            self.log(f"{row.name}: ERROR {exc}")
            return row
        self.log(f"{row.name}: {_fmt_s(row.sm_median)} vs {_fmt_s(row.base_median)} "
                 f"({row.ratio:.2f}x)" if row.ratio else f"{row.name}: done")
        return row

    def bench(self, installed: bool) -> None:
        validate = self.paired(
            Row("validate", "pre-commit run skillmeat-validate --all-files",
                "pre-commit run noop-validate --all-files", TARGET),
            self.pre_commit("run", "skillmeat-validate", "--all-files"),
            self.pre_commit("run", "noop-validate", "--all-files"), self.reps)
        validate.note = "repo: local, language: system (the venv's console script)"
        if installed:
            row = Row("validate-installed", "pre-commit run -c installed skillmeat-validate "
                      "--all-files", "pre-commit run noop-validate --all-files")
            try:
                self.install_snapshot()
            except BenchError as exc:
                row.skipped = f"the hook repo did not install: {exc}"
                self.rows.append(row)
            else:
                self.paired(row, self.pre_commit("run", "-c", INSTALLED_CONFIG, "skillmeat-validate",
                                                 "--all-files"),
                            self.pre_commit("run", "noop-validate", "--all-files"), self.reps)
                row.note = "repo: snapshot, language: python (as users install it)"
        self.paired(Row("lock", "pre-commit run skillmeat-lock --all-files",
                        "pre-commit run noop-lock --all-files"),
                    self.pre_commit("run", "skillmeat-lock", "--all-files"),
                    self.pre_commit("run", "noop-lock", "--all-files"), self.reps)
        one = next(f for f in self.files if f.endswith("/SKILL.md"))
        py = [self.python, "-c", "pass"]
        for name, label, cmd in (
            ("phase: one file", f"skillmeat-validate {one}", [self.bin / "skillmeat-validate", one]),
            ("phase: all files", f"skillmeat-validate <{len(self.files)} files>",
             [self.bin / "skillmeat-validate", *self.files]),
            ("phase: CLI", "skillmeat validate", [self.cli, "validate"]),
        ):
            self.paired(Row(name, label, "python -c pass"), cmd, py, PHASE_REPS)


# --------------------------------------------------------------------------- report


def _fmt_s(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _fmt_mb(kb: list[int]) -> str:
    return f"{max(kb) / 1024:.0f}" if kb else "-"


def render(rows: list[Row]) -> str:
    head = ("measurement", "skillmeat", "baseline", "ratio", "target", "result", "RSS MB sm/base")
    table = [head]
    for r in rows:
        table.append((
            r.name, _fmt_s(r.sm_median), _fmt_s(r.base_median),
            f"{r.ratio:.2f}x" if r.ratio is not None else "-",
            f"<= {r.target}x" if r.target else "-", r.status,
            f"{_fmt_mb(r.sm_rss)}/{_fmt_mb(r.base_rss)}",
        ))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    right = {1, 2, 3, 6}

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(row) for row in table[1:])])


@contextlib.contextmanager
def sandbox(keep: bool) -> Iterator[Sandbox]:
    root = Path(tempfile.mkdtemp(prefix="skillmeat-hooks-bench-"))
    try:
        yield Sandbox(root)
    finally:
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=DEFAULT_REPS,
                    help="timed repetitions of each pre-commit pair (default: %(default)s)")
    ap.add_argument("--corpus", type=Path, default=Path(os.environ.get("SKILLMEAT_BENCH_CORPUS",
                                                                        DEFAULT_CORPUS)))
    ap.add_argument("--no-installed", action="store_true",
                    help="skip the language: python measurement (it installs the hook repo, ~30 s)")
    ap.add_argument("--json", type=Path, default=RESULTS,
                    help="where to write results (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    if args.reps < 1:
        raise SystemExit("--reps must be at least 1")
    if not (args.corpus / ".claude-plugin" / "marketplace.json").is_file():
        raise SystemExit(f"no corpus at {args.corpus} (a Claude Code plugin marketplace): pass --corpus")
    cli = harness.find_cli()
    if not (cli.parent / "pre-commit").exists():
        raise SystemExit(f"pre-commit is not installed beside {cli}")
    started = time.perf_counter()
    with sandbox(args.keep) as sb:
        bench = HooksBench(sb, cli, args.reps, args.corpus)
        print(f"hooks benchmark, {args.reps} reps, temp dir {sb.root}", file=sys.stderr)
        try:
            bench.info["skillmeat_version"] = check(bench.run([cli, "--version"], sb.work),
                                                    "skillmeat --version").stdout.strip()
            bench.info["pre_commit_version"] = check(bench.run(bench.pre_commit("--version"), sb.work),
                                                     "pre-commit --version").stdout.strip()
            bench.setup()
            bench.bench(installed=not args.no_installed)
        except BenchError as exc:
            bench.rows.append(Row("setup", "set-up", "-", error=str(exc)))
    elapsed = time.perf_counter() - started

    print()
    print(f"SkillMeat hooks benchmark: pre-commit run, SkillMeat's hook vs a no-op on the same "
          f"files, same run; {bench.info.get('skillmeat_version', '?')}, "
          f"{bench.info.get('pre_commit_version', '?')}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs")
    print(f"corpus: {args.corpus} ({bench.info.get('artifacts', '?')} artifacts, "
          f"{bench.info.get('files', '?')} files under the artifact directories)")
    print()
    print(render(bench.rows))
    print()
    for r in bench.rows:
        print(f"  {r.name}: {r.label}  vs  {r.baseline}" + (f"; {r.note}" if r.note else ""))
        for what in (r.error, r.skipped):
            if what:
                print(f"    {what}")
    print(f"  total {elapsed:.1f} s")
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "skillmeat": str(cli),
        "python_version": platform.python_version(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "reps": args.reps, "corpus": str(args.corpus),
        "elapsed_s": round(elapsed, 2), "target": TARGET, "info": bench.info,
        "results": [r.to_json() for r in bench.rows],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"  results written to {args.json}")
    return 1 if any(r.status in ("MISS", "ERROR") for r in bench.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
