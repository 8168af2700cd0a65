"""``skillmeat web build`` (the static catalog) for 100, 1,000 and 10,000 artifacts, beside a
plain ``mkdocs build`` of the same number of minimal pages, measured in the same run.

    python benchmarks/catalog_bench.py [--sizes 100,1000,10000] [--reps N] [--json PATH]
                                       [--keep] [--profile]

For each size N a collection ``bench`` (in a SKILLMEAT_HOME of its own) gets a generated tree
of N artifacts (``run.py``'s generator: 40 % skills, 30 % commands, 30 % agents, realistic
frontmatter) with ``skillmeat add TREE --all``; none of that is timed. Then, interleaved:

- SkillMeat: ``skillmeat web build -o SITE --no-sign --json`` (the real console script as a
  subprocess: gather, jinja2 pages, mkdocs-material build in-process, JSON API); its ``--json``
  gives the phase breakdown (gather, pages, mkdocs, api, total), recorded too.
- baseline: ``mkdocs build -q -f P/mkdocs.yml -d OUT`` of N minimal pages (``# Page i``) plus
  an ``index.md``: Material theme (``font: false``), the search plugin,
  ``use_directory_urls: false``, only ``index.md`` in ``nav`` and the N pages out of it
  (``not_in_nav: /pages/**``), as the catalog keeps its artifact pages out of the nav.

Target: SkillMeat's median within 1.3x of the baseline's. Peak RSS per child (``os.wait4``;
children are started by ``sharing_bench``'s small launcher). ``--profile``: a cProfile of one
in-process ``catalog.build`` at the largest size (top 25 cumulative, top 15 own time; the whole
profile is saved beside the JSON results, ``.prof``).
Isolation is ``run.py``'s ``Sandbox``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
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

import run as harness  # noqa: E402  (benchmarks/run.py: sandbox, child runner, generator)
from run import BenchError, Paired, Run, Sandbox, check  # noqa: E402
from sharing_bench import Launcher  # noqa: E402  (the small process that starts the children)

RESULTS = HERE / "results" / "catalog-latest.json"
TARGET = 1.3
DEFAULT_SIZES = (100, 1_000, 10_000)
COLLECTION = "bench"
PHASES = ("gather", "pages", "mkdocs", "api", "total")
# sizes up to this get one untimed warm-up of each side (above it, one build takes minutes)
WARMUP_MAX = 2_000


def default_reps(size: int) -> int:
    return 3 if size <= 1_000 else 1


# --------------------------------------------------------------------------- baseline project

BASELINE_YML = """\
site_name: Baseline
docs_dir: docs
use_directory_urls: false
theme:
  name: material
  font: false
plugins:
  - search
not_in_nav: |
  /pages/**
nav:
  - Home: index.md
"""


def write_baseline(root: Path, n: int) -> Path:
    """An MkDocs project of ``n`` minimal pages (out of the nav) plus ``index.md``."""
    pages = root / "docs" / "pages"
    pages.mkdir(parents=True)
    (root / "mkdocs.yml").write_text(BASELINE_YML, encoding="utf-8")
    (root / "docs" / "index.md").write_text("# Baseline\n\nText.\n", encoding="utf-8")
    for i in range(n):
        (pages / f"page-{i:05d}.md").write_text(f"# Page {i}\n\nText.\n", encoding="utf-8")
    return root / "mkdocs.yml"


# --------------------------------------------------------------------------- profile (child)

# One in-process build with the sandbox env (so Home.from_env() is the size's home), under
# cProfile; argv: OUT, PROF.
PROFILE_CHILD = """
import cProfile, io, json, pstats, sys, time
from pathlib import Path
from skillmeat.services import catalog
from skillmeat.store.home import Home

out, prof = Path(sys.argv[1]), sys.argv[2]
home = Home.from_env()
profiler = cProfile.Profile()
t0 = time.perf_counter()
profiler.enable()
result = catalog.build(home, out, signer=None)
profiler.disable()
wall = time.perf_counter() - t0
profiler.dump_stats(prof)
text = {}
for key, limit in (("cumulative", 25), ("tottime", 15)):
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(key).print_stats(limit)
    text[key] = buf.getvalue()
print(json.dumps({"wall": wall, "result": result.to_dict(), "stats": text}))
"""


# --------------------------------------------------------------------------- results


@dataclass
class SizeResult(Paired):
    size: int
    reps: int
    sm: list[float] = field(default_factory=list)
    base: list[float] = field(default_factory=list)
    sm_rss: list[int] = field(default_factory=list)  # KiB
    base_rss: list[int] = field(default_factory=list)
    phases: list[dict[str, float]] = field(default_factory=list)  # per SkillMeat sample
    setup: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    error: str = ""

    @property
    def status(self) -> str:
        if self.error:
            return "ERROR"
        return "-" if self.ratio is None else ("PASS" if self.ratio <= TARGET else "MISS")

    def phase_median(self, name: str) -> float | None:
        vals = [p[name] for p in self.phases if name in p]
        return statistics.median(vals) if vals else None

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size, "reps": self.reps, "skillmeat_s": self.sm_median,
            "baseline_s": self.base_median, "ratio": self.ratio, "target": TARGET,
            "status": self.status, "skillmeat_samples_s": self.sm, "baseline_samples_s": self.base,
            "skillmeat_maxrss_kb": max(self.sm_rss) if self.sm_rss else None,
            "baseline_maxrss_kb": max(self.base_rss) if self.base_rss else None,
            "phases_median_s": {p: self.phase_median(p) for p in PHASES},
            "phases_samples_s": self.phases, "setup": self.setup, "note": self.note,
            "error": self.error,
        }


# --------------------------------------------------------------------------- the benchmark


class CatalogBench:
    def __init__(self, sb: Sandbox, launcher: Launcher, cli: Path, reps: int | None) -> None:
        self.sb = sb
        self.launcher = launcher
        self.cli = cli
        self.python = harness.cli_interpreter(cli)
        self.mkdocs = Path(self.python).parent / "mkdocs"
        self.reps = reps
        self.rows: list[SizeResult] = []
        self.info: dict[str, Any] = {}
        self.profile: dict[str, Any] = {}
        self._last_out: dict[str, Path] = {}

    def log(self, msg: str) -> None:
        print(f"  .. {msg}", file=sys.stderr, flush=True)

    def run(self, cmd: Sequence[str | Path], env: dict[str, str], cwd: Path | None = None) -> Run:
        return self.launcher.run(cmd, env, cwd or self.sb.work)

    def env_for(self, size: int) -> dict[str, str]:
        return {**self.sb.env_with_own_home(f"n{size}"), "NO_MKDOCS_2_WARNING": "1"}

    # -- one side each

    def web_build(self, env: dict[str, str], size: int) -> tuple[Run, dict[str, Any]]:
        out = self.sb.work / self.sb.fresh_name(f"site-{size}")
        os.sync()
        r = check(self.run([self.cli, "web", "build", "-o", out, "--no-sign", "--json"],
                           env), f"skillmeat web build ({size})")
        try:
            data = json.loads(r.stdout)
            data["seconds"] = {k: float(v) for k, v in data["seconds"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BenchError(f"skillmeat web build --json: unexpected output ({exc})") from None
        if data.get("artifacts") != size:
            raise BenchError(f"skillmeat web build: {data.get('artifacts')} artifacts, expected {size}")
        data["html_files"] = sum(1 for _ in out.rglob("*.html"))
        self._replace_last("skillmeat", out)
        return r, data

    def mkdocs_build(self, env: dict[str, str], yml: Path, size: int) -> tuple[Run, int]:
        out = self.sb.work / self.sb.fresh_name(f"baseline-site-{size}")
        os.sync()
        r = check(self.run([self.mkdocs, "build", "-q", "-f", yml, "-d", out], env),
                  f"mkdocs build ({size} pages)")
        html = sum(1 for _ in (out / "pages").glob("*.html"))
        if html != size:
            raise BenchError(f"mkdocs build wrote {html} pages, expected {size}")
        self._replace_last("baseline", out)
        return r, html

    def _replace_last(self, side: str, out: Path) -> None:
        """Keep only each side's last output (for --keep); a 10,000-page site is large."""
        old = self._last_out.get(side)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)  # not timed
        self._last_out[side] = out

    # -- one size

    def setup(self, size: int, res: SizeResult) -> tuple[dict[str, str], Path]:
        env = self.env_for(size)
        t0 = time.perf_counter()
        src = self.sb.work / f"src-{size}"
        kinds = harness.generate_tree(src, size)
        files, nbytes = harness.count_files(src)
        check(self.run([self.cli, "collection", "create", COLLECTION], env), "skillmeat collection create")
        add = check(self.run([self.cli, "-C", COLLECTION, "add", src, "--all"], env),
                    f"skillmeat add src-{size} --all")
        # the index cache every later read uses (as any list does): not the build's first-call cost
        check(self.run([self.cli, "-C", COLLECTION, "list"], env), "skillmeat list")
        yml = write_baseline(self.sb.work / f"baseline-{size}", size)
        res.setup = {"artifacts": size, **kinds, "files": files, "bytes": nbytes,
                     "add_s": round(add.seconds, 2), "setup_s": round(time.perf_counter() - t0, 2)}
        self.log(f"{size}: set-up done in {res.setup['setup_s']:.1f} s ({files} files, "
                 f"add {add.seconds:.1f} s)")
        return env, yml

    def bench_size(self, size: int) -> SizeResult:
        reps = self.reps or default_reps(size)
        res = SizeResult(size, reps)
        self.rows.append(res)
        t0 = time.perf_counter()
        try:
            env, yml = self.setup(size, res)
        except BenchError as exc:
            res.error = str(exc)
            self.log(f"{size}: ERROR {exc}")
            return res
        notes: list[str] = []
        sm_ok = True  # a failing web build leaves the row an ERROR, the baseline is still timed

        def sm_once(warm: bool) -> Run | None:
            nonlocal sm_ok
            if not sm_ok:
                return None
            try:
                r, data = self.web_build(env, size)
            except BenchError as exc:
                sm_ok, res.error = False, str(exc)
                self.log(f"{size}: ERROR {exc}")
                return None
            if not warm:
                res.sm.append(r.seconds)
                res.sm_rss.append(r.maxrss_kb)
                res.phases.append(data["seconds"])
                if len(res.sm) == 1:
                    notes.append(f"{data.get('pages')} pages, {data['html_files']} html files, "
                                 f"{len(data.get('warnings', []))} mkdocs warnings, "
                                 f"{len(data.get('problems', []))} problems")
            return r

        try:
            if reps > 1 and size <= WARMUP_MAX:
                w = sm_once(warm=True)
                b, _ = self.mkdocs_build(env, yml, size)
                notes.append(f"untimed warm-up {f'{w.seconds:.2f} s' if w else '-'} / {b.seconds:.2f} s")
            for i in range(reps):  # interleaved: machine noise hits both sides alike
                r = sm_once(warm=False)
                b, _ = self.mkdocs_build(env, yml, size)
                res.base.append(b.seconds)
                res.base_rss.append(b.maxrss_kb)
                sm_text = f"{r.seconds:.2f} s" if r else "failed"
                self.log(f"{size}: rep {i + 1}/{reps}: web build {sm_text}, mkdocs {b.seconds:.2f} s")
        except BenchError as exc:  # the baseline failed
            res.error = str(exc)
            self.log(f"{size}: ERROR {exc}")
        res.note = "; ".join(notes)
        self.log(f"{size}: done in {time.perf_counter() - t0:.1f} s")
        return res

    # -- --profile

    def run_profile(self, size: int, prof: Path) -> None:
        env = self.env_for(size)
        out = self.sb.work / self.sb.fresh_name(f"profile-site-{size}")
        prof.parent.mkdir(parents=True, exist_ok=True)
        self.log(f"profile: one in-process catalog.build of {size:,} artifacts under cProfile")
        r = self.run([self.python, "-c", PROFILE_CHILD, out, prof.absolute()], env)
        try:
            data = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            check(r, "profile child")
            raise BenchError("the profile child printed no JSON") from None
        shutil.rmtree(out, ignore_errors=True)
        self.profile = {"size": size, "wall_s": data["wall"], "maxrss_kb": r.maxrss_kb,
                        "seconds": data["result"]["seconds"], "stats": data["stats"],
                        "pstats": str(prof)}


# --------------------------------------------------------------------------- report


def _fmt_s(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _fmt_mb(kb: list[int]) -> str:
    return f"{max(kb) / 1024:.0f}" if kb else "-"


def _phases(r: SizeResult) -> str:
    vals = [r.phase_median(p) for p in PHASES[:-1]]
    if any(v is None for v in vals):
        return "-"
    return " / ".join(f"{v:.2f}" for v in vals if v is not None)


def render(rows: list[SizeResult]) -> str:
    head = ("artifacts", "skillmeat", "baseline", "ratio", "target", "result", "RSS MB sm/base",
            "gather / pages / mkdocs / api (s)")
    table = [head]
    for r in rows:
        table.append((
            f"{r.size:,}", _fmt_s(r.sm_median), _fmt_s(r.base_median),
            f"{r.ratio:.2f}x" if r.ratio is not None else "-", f"<= {TARGET}x", r.status,
            f"{_fmt_mb(r.sm_rss)}/{_fmt_mb(r.base_rss)}", _phases(r),
        ))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    right = {0, 1, 2, 3, 6, 7}

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(row) for row in table[1:])])


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s.replace("_", "").replace(",", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"--sizes: expected a comma list of numbers, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise SystemExit("--sizes: every size must be at least 1")
    return sorted(set(sizes))


@contextlib.contextmanager
def sandbox(keep: bool) -> Iterator[Sandbox]:
    root = Path(tempfile.mkdtemp(prefix="skillmeat-catalog-bench-"))
    try:
        yield Sandbox(root)
    finally:
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                    help="comma list of artifact counts (default: %(default)s)")
    ap.add_argument("--reps", type=int, help="timed repetitions per size (default: 3 up to 1,000, else 1)")
    ap.add_argument("--json", type=Path, default=RESULTS,
                    help="where to write results (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--profile", action="store_true",
                    help="also cProfile one in-process catalog.build of the largest size")
    args = ap.parse_args(argv)
    sizes = parse_sizes(args.sizes)
    if args.reps is not None and args.reps < 1:
        raise SystemExit("--reps must be at least 1")
    cli = harness.find_cli()
    started = time.perf_counter()
    with sandbox(args.keep) as sb:
        # the sizes' own SKILLMEAT_HOMEs; TMPDIR inside the sandbox (the MkDocs project and the
        # staging directory of web build live there)
        (sb.root / "tmp").mkdir()
        sb.env["TMPDIR"] = str(sb.root / "tmp")
        launcher = Launcher(sb.env)
        bench = CatalogBench(sb, launcher, cli, args.reps)
        print(f"catalog benchmark, sizes={sizes}, temp dir {sb.root}", file=sys.stderr)
        try:
            version = check(bench.run([cli, "--version"], sb.env), "skillmeat --version")
            bench.info["skillmeat_version"] = version.stdout.strip()
            mk = check(bench.run([bench.mkdocs, "--version"], {**sb.env, "NO_MKDOCS_2_WARNING": "1"}),
                       "mkdocs --version")
            # "mkdocs, version 1.6.1 from /path (Python 3.11)" -> "mkdocs 1.6.1"
            words = mk.stdout.split()
            bench.info["mkdocs_version"] = f"mkdocs {words[2]}" if len(words) > 2 else mk.stdout.strip()
            for size in sizes:
                bench.bench_size(size)
            if args.profile:
                largest = bench.rows[-1]
                if largest.error:
                    bench.log("profile: skipped (the largest size failed)")
                else:
                    try:
                        bench.run_profile(largest.size, args.json.with_suffix(".prof"))
                    except BenchError as exc:
                        bench.profile = {"error": str(exc)}
                        bench.log(f"profile: ERROR {exc}")
        finally:
            launcher.close()
    elapsed = time.perf_counter() - started

    print()
    print(f"SkillMeat catalog benchmark: web build vs plain mkdocs build, same run; "
          f"{bench.info.get('skillmeat_version', '?')}, {bench.info.get('mkdocs_version', '?')}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print()
    print(render(bench.rows))
    print()
    for r in bench.rows:
        extra = f"; {r.note}" if r.note else ""
        wall, total = r.sm_median, r.phase_median("total")
        overhead = f"; start-up etc. outside build() {wall - total:.2f} s" if wall and total else ""
        print(f"  {r.size:,}: n={r.reps}{extra}{overhead}")
        if r.setup:
            print(f"    set-up: {r.setup}")
        if r.error:
            print(f"    error: {r.error}")
    print("  baseline = mkdocs build -q of N minimal pages + index.md (material, font: false, search, "
          "use_directory_urls: false, only index.md in nav)")
    if bench.profile:
        p = bench.profile
        if "error" in p:
            print(f"  profile: ERROR {p['error']}")
        else:
            print()
            print(f"Profile: one in-process catalog.build of {p['size']:,} artifacts: {p['wall_s']:.2f} s "
                  f"under cProfile, peak RSS {p['maxrss_kb'] / 1024:.0f} MB, phases {p['seconds']}")
            print(p["stats"]["cumulative"].rstrip())
            print(p["stats"]["tottime"].rstrip())
            print(f"  full profile: {p['pstats']} (python -m pstats, snakeviz)")
    print(f"  total {elapsed:.1f} s")

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "sizes": sizes,
        "skillmeat": str(cli), "python": harness.cli_interpreter(cli),
        "python_version": platform.python_version(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "elapsed_s": round(elapsed, 2), "target": TARGET, "info": bench.info,
        "baseline_mkdocs_yml": BASELINE_YML, "results": [r.to_json() for r in bench.rows],
        "profile": bench.profile,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"  results written to {args.json}")
    return 1 if any(r.status in ("MISS", "ERROR") for r in bench.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
