"""SkillMeat benchmarks: the real CLI, timed beside baselines measured in the same run.

    python benchmarks/run.py [--size smoke|full] [--only NAME] [--corpus PATH] [--check]

Each measurement runs the installed ``skillmeat`` console script as a subprocess, several
times, and reports the median wall-clock time, the median of a baseline doing comparable
work (``python -c pass``, plain ``git``, ``cp -r``, raw PyNaCl), their ratio, the target and
PASS/MISS. Every run
happens in a fresh temporary HOME / SKILLMEAT_HOME / XDG_CONFIG_HOME with its own git
config: the real home directory is never read or written. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "wshobson-agents"
RESULTS = HERE / "results" / "latest.json"

SIZES: dict[str, dict[str, int]] = {
    # synthetic: artifacts in the generated tree; *_reps: timed repetitions (median reported)
    "smoke": {
        "synthetic": 1_000,
        "startup_reps": 10,
        "add_reps": 3,
        "synthetic_add_reps": 3,
        "query_reps": 5,
        # status: artifacts deployed into each of status_projects projects (query_reps timed calls)
        "status_artifacts": 200,
        "status_projects": 10,
        "deploy_artifacts": 200,
        "deploy_reps": 3,
        "sshsig_n": 2_000,
        "sshsig_reps": 3,
    },
    "full": {
        "synthetic": 10_000,
        "startup_reps": 20,
        "add_reps": 5,
        "synthetic_add_reps": 3,
        "query_reps": 7,
        "status_artifacts": 200,
        "status_projects": 50,
        "deploy_artifacts": 1_000,
        "deploy_reps": 5,
        "sshsig_n": 10_000,
        "sshsig_reps": 5,
    },
}
SEARCH_WORD = "kubernetes"
MEASUREMENTS = (
    "startup",
    "help",
    "add-corpus",
    "add-synthetic",
    "list",
    "search",
    "status",
    "deploy",
    "sshsig",
)
# SkillMeat's stat cache does not trust an entry hashed less than 2 s after the file's mtime
# (skillmeat/store/statcache.py, RACY_SECONDS): the status warm-up must start later than that
STAT_CACHE_SETTLE_S = 2.5
SSHSIG_BENCH = HERE / "sshsig_bench.py"


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    seconds: float
    maxrss_kb: int
    returncode: int
    stdout: str
    stderr: str


class BenchError(RuntimeError):
    pass


def find_cli() -> Path:
    """The ``skillmeat`` script next to this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "skillmeat"
    if beside.exists():
        return beside
    found = shutil.which("skillmeat")
    if found is None:
        raise SystemExit("skillmeat is not installed: run with the venv's python (.venv/bin/python)")
    return Path(found)


def cli_interpreter(cli: Path) -> str:
    """The interpreter named on the script's ``#!`` line: the one ``skillmeat`` runs on."""
    try:
        first = cli.read_bytes().split(b"\n", 1)[0].decode()
    except OSError:
        return sys.executable
    if first.startswith("#!"):
        parts = first[2:].split()
        if parts and Path(parts[0]).name.startswith("python") and Path(parts[0]).exists():
            return parts[0]
    return sys.executable


def run(cmd: Sequence[str | Path], env: dict[str, str], cwd: Path | None = None) -> Run:
    """Run one child; wall time around spawn..reap, max RSS of that child (and its children)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in KiB on Linux, in bytes on macOS
        rss = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
        return Run(
            seconds,
            rss,
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def check(r: Run, what: str) -> Run:
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-5:]
        raise BenchError(f"{what} failed (exit {r.returncode}): " + " | ".join(tail))
    return r


def run_all(cmds: Sequence[Sequence[str | Path]], env: dict[str, str], cwd: Path | None = None) -> Run:
    """Several commands one after the other (like ``a && b``): times summed, RSS the max."""
    total, rss = 0.0, 0
    for cmd in cmds:
        r = check(run(cmd, env, cwd), " ".join(str(c) for c in cmd))
        total += r.seconds
        rss = max(rss, r.maxrss_kb)
    return Run(total, rss, 0, "", "")


# --------------------------------------------------------------------------- sandbox


class Sandbox:
    """A throwaway HOME, SKILLMEAT_HOME, XDG_CONFIG_HOME and global git config."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.sm_home = root / "skillmeat-home"
        self.xdg = root / "xdg-config"
        self.work = root / "work"
        for d in (self.home, self.sm_home, self.xdg, self.work):
            d.mkdir(parents=True)
        self.gitconfig = root / "gitconfig"
        self.gitconfig.write_text(
            "[user]\n\tname = SkillMeat Bench\n\temail = bench@example.invalid\n"
            "[init]\n\tdefaultBranch = main\n"
            # no background gc/maintenance after commits: it would steal CPU from later timings
            "[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n"
            "[core]\n\tautocrlf = false\n",
            encoding="utf-8",
        )
        keep = ("PATH", "LANG", "LC_ALL", "TERM", "TMPDIR", "SYSTEMROOT")
        self.env = {k: os.environ[k] for k in keep if k in os.environ}
        self.env.update(
            HOME=str(self.home),
            SKILLMEAT_HOME=str(self.sm_home),
            XDG_CONFIG_HOME=str(self.xdg),
            GIT_CONFIG_GLOBAL=str(self.gitconfig),
            GIT_CONFIG_NOSYSTEM="1",
            NO_COLOR="1",
            COLUMNS="200",
        )
        self._n = 0

    def env_with_own_home(self, name: str) -> dict[str, str]:
        """The sandbox env with a SKILLMEAT_HOME of its own (its own registered projects)."""
        home = self.root / f"skillmeat-home-{name}"
        home.mkdir(exist_ok=True)
        return {**self.env, "SKILLMEAT_HOME": str(home)}

    def fresh_dir(self, prefix: str) -> Path:
        self._n += 1
        d = self.work / f"{prefix}-{self._n}"
        d.mkdir()
        return d

    def fresh_name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"


# --------------------------------------------------------------------------- synthetic tree

# fmt: off
_TOPICS = (
    "python", "rust", "golang", "typescript", "react", "django", "fastapi", "postgres", "redis",
    "kafka", "terraform", "docker", "kubernetes", "helm", "aws", "gcp", "azure", "graphql", "grpc",
    "security", "testing", "pytest", "playwright", "observability", "prometheus", "grafana", "ci",
    "release", "docs", "pdf", "spreadsheet", "accessibility", "performance", "migration",
    "refactoring", "api", "auth", "oauth", "payments", "mobile",
)
_VERBS = (
    "review", "generate", "debug", "optimize", "scaffold", "audit", "document", "migrate", "design",
    "test", "deploy", "profile", "summarize", "validate", "monitor", "harden",
)
# fmt: on
_ROLES = ("expert", "architect", "reviewer", "helper", "pro", "specialist", "assistant", "guide")
_SENTENCES = (
    "Read the relevant files before changing anything and keep the diff small.",
    "Prefer the project's existing conventions over new abstractions.",
    "Explain each finding with the file, the line and a concrete fix.",
    "Run the test suite after every change and report failures verbatim.",
    "When the request is ambiguous, list the assumptions you made.",
    "Check error handling, resource cleanup and input validation.",
    "Measure before optimizing and show the numbers before and after.",
    "Write the summary first, then the details, then the open questions.",
    "Never commit secrets; point out any credentials you find in the code.",
    "Keep public interfaces stable unless the user asks for a breaking change.",
)


def _body(rng: random.Random, topic: str, verb: str, paragraphs: int) -> str:
    parts = [f"# {verb.title()} {topic}\n"]
    for i in range(paragraphs):
        text = " ".join(rng.choice(_SENTENCES) for _ in range(rng.randint(3, 6)))
        parts.append(f"## Step {i + 1}\n\nFor {topic} work: {text}\n")
    parts.append(f"## Checklist\n\n- {verb} the {topic} code\n- record the result\n- report back\n")
    return "\n".join(parts)


def generate_tree(root: Path, count: int, seed: int = 1234, skill_extra_every: int = 10) -> dict[str, int]:
    """``count`` artifacts: 40 % skills/<n>/SKILL.md, 30 % commands/<n>.md, 30 % agents/<n>.md.

    Every ``skill_extra_every``-th skill also has a ``reference.md`` (1: every skill has 2 files).
    """
    rng = random.Random(seed)
    n_skills = count * 4 // 10
    n_commands = count * 3 // 10
    n_agents = count - n_skills - n_commands
    for sub in ("skills", "commands", "agents"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n_skills):
        topic, verb = rng.choice(_TOPICS), rng.choice(_VERBS)
        name = f"{topic}-{verb}-{i:05d}"
        d = root / "skills" / name
        d.mkdir()
        (d / "SKILL.md").write_text(
            f"---\nname: {name}\n"
            f"description: {verb.title()} {topic} projects step by step. Use when the user asks to "
            f"{verb} {topic} code or configuration.\n"
            f"license: MIT\n---\n\n{_body(rng, topic, verb, rng.randint(2, 5))}",
            encoding="utf-8",
        )
        if i % skill_extra_every == 0:  # some skills carry a helper file, as real ones do
            (d / "reference.md").write_text(_body(rng, topic, verb, 2), encoding="utf-8")
    for i in range(n_commands):
        topic, verb = rng.choice(_TOPICS), rng.choice(_VERBS)
        name = f"{verb}-{topic}-{i:05d}"
        (root / "commands" / f"{name}.md").write_text(
            f"---\ndescription: {verb.title()} the {topic} code in the current project\n"
            f'argument-hint: "[path] [--strict]"\n'
            f"allowed-tools: Read, Grep, Glob, Bash(git diff:*)\n---\n\n"
            f"{_body(rng, topic, verb, rng.randint(1, 3))}\nArguments: $ARGUMENTS\n",
            encoding="utf-8",
        )
    for i in range(n_agents):
        topic, role = rng.choice(_TOPICS), rng.choice(_ROLES)
        verb = rng.choice(_VERBS)
        name = f"{topic}-{role}-{i:05d}"
        (root / "agents" / f"{name}.md").write_text(
            f"---\nname: {name}\n"
            f"description: {topic.title()} {role}. Use PROACTIVELY to {verb} {topic} work.\n"
            f"tools: Read, Grep, Glob, Edit, Bash\nmodel: sonnet\n---\n\n"
            f"You are a {topic} {role}.\n\n{_body(rng, topic, verb, rng.randint(2, 4))}",
            encoding="utf-8",
        )
    return {"skills": n_skills, "commands": n_commands, "agents": n_agents}


def copy_tree(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".git"), symlinks=True)


def count_files(root: Path) -> tuple[int, int]:
    n, size = 0, 0
    for p in root.rglob("*"):
        if p.is_file() and ".git" not in p.relative_to(root).parts:
            n += 1
            size += p.stat().st_size
    return n, size


# --------------------------------------------------------------------------- measurements


class Paired:
    """Medians of SkillMeat's samples (``sm``) and the baseline's (``base``), and their ratio:
    every benchmark's result row has both lists."""

    sm: list[float]
    base: list[float]

    @property
    def sm_median(self) -> float | None:
        return statistics.median(self.sm) if self.sm else None

    @property
    def base_median(self) -> float | None:
        return statistics.median(self.base) if self.base else None

    @property
    def ratio(self) -> float | None:
        s, b = self.sm_median, self.base_median
        return s / b if s is not None and b else None


@dataclass
class Result(Paired):
    name: str
    label: str
    reps: int
    sm: list[float] = field(default_factory=list)
    base: list[float] = field(default_factory=list)
    sm_rss: list[int] = field(default_factory=list)
    base_rss: list[int] = field(default_factory=list)
    baseline_cmd: str = ""
    target: str = "info"  # "ratio<=3", "abs<0.5" or "info"
    note: str = ""
    error: str = ""
    skipped: str = ""

    @property
    def status(self) -> str:
        if self.error:
            return "ERROR"
        if self.skipped:
            return "SKIP"
        if self.target.startswith("ratio<="):
            r = self.ratio
            return "-" if r is None else ("PASS" if r <= float(self.target[7:]) else "MISS")
        if self.target.startswith("abs<"):
            s = self.sm_median
            return "-" if s is None else ("PASS" if s < float(self.target[4:]) else "MISS")
        return "info"

    @property
    def target_text(self) -> str:
        if self.target.startswith("ratio<="):
            return f"<= {self.target[7:]}x"
        if self.target.startswith("abs<"):
            return f"< {self.target[4:]} s"
        return "-"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "reps": self.reps,
            "skillmeat_s": self.sm_median,
            "baseline_s": self.base_median,
            "ratio": self.ratio,
            "target": self.target,
            "status": self.status,
            "baseline": self.baseline_cmd,
            "skillmeat_samples_s": self.sm,
            "baseline_samples_s": self.base,
            "skillmeat_maxrss_kb": max(self.sm_rss) if self.sm_rss else None,
            "baseline_maxrss_kb": max(self.base_rss) if self.base_rss else None,
            "note": self.note,
            "error": self.error,
            "skipped": self.skipped,
        }


class Bench:
    def __init__(self, sandbox: Sandbox, cli: Path, size: str, corpus: Path | None) -> None:
        self.sb = sandbox
        self.cli = cli
        self.python = cli_interpreter(cli)
        self.size = size
        self.cfg = SIZES[size]
        self.corpus = corpus
        self.results: list[Result] = []
        self.notes: list[str] = []
        self.info: dict[str, Any] = {}
        self._synthetic_src: Path | None = None
        self._corpus_src: Path | None = None
        # the collection and the git repo the last ``add`` of the synthetic tree left behind
        self._synthetic_collection: str | None = None
        self._synthetic_gitrepo: Path | None = None

    # -- helpers

    def sm(self, *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
        return run([self.cli, *args], env or self.sb.env, cwd)

    def log(self, msg: str) -> None:
        print(f"  .. {msg}", file=sys.stderr, flush=True)

    def measure(self, res: Result, body: Callable[[Result], None]) -> Result:
        self.results.append(res)
        t0 = time.perf_counter()
        self.log(f"{res.name}: {res.label}")
        try:
            body(res)
        except BenchError as exc:
            res.error = str(exc)
            self.log(f"{res.name}: ERROR {exc}")
        self.log(f"{res.name}: done in {time.perf_counter() - t0:.1f} s")
        return res

    # -- sources (built once, outside any timing)

    def corpus_src(self) -> Path | None:
        if self.corpus is None or not self.corpus.is_dir():
            return None
        if self._corpus_src is None:
            # a private copy on the same filesystem as the collections and the git repos
            self._corpus_src = self.sb.work / "src-corpus"
            copy_tree(self.corpus, self._corpus_src)
            files, size = count_files(self._corpus_src)
            self.info["corpus"] = {"path": str(self.corpus), "files": files, "bytes": size}
        return self._corpus_src

    def synthetic_src(self) -> Path:
        if self._synthetic_src is None:
            n = self.cfg["synthetic"]
            self._synthetic_src = self.sb.work / f"src-synthetic-{n}"
            t0 = time.perf_counter()
            kinds = generate_tree(self._synthetic_src, n)
            files, size = count_files(self._synthetic_src)
            self.info["synthetic"] = {"artifacts": n, **kinds, "files": files, "bytes": size}
            self.log(f"generated {n} synthetic artifacts ({files} files) in {time.perf_counter() - t0:.1f} s")
        return self._synthetic_src

    # -- 1. start-up

    def bench_startup(self) -> None:
        reps = self.cfg["startup_reps"]
        baseline = [self.python, "-c", "pass"]

        def body(res: Result) -> None:
            check(self.sm("--version"), "skillmeat --version")  # warm-up
            check(run(baseline, self.sb.env), "python -c pass")  # warm-up
            for _ in range(reps):  # interleaved, so drift hits both sides alike
                r = check(self.sm("--version"), "skillmeat --version")
                res.sm.append(r.seconds)
                res.sm_rss.append(r.maxrss_kb)
                b = check(run(baseline, self.sb.env), "python -c pass")
                res.base.append(b.seconds)
                res.base_rss.append(b.maxrss_kb)

        self.measure(
            Result("startup", "skillmeat --version", reps, baseline_cmd="python -c pass", target="ratio<=3"),
            body,
        )

    def bench_help(self) -> None:
        reps = self.cfg["startup_reps"]
        baseline = [self.python, "-c", "pass"]

        def body(res: Result) -> None:
            check(self.sm("-h"), "skillmeat -h")
            for _ in range(reps):
                r = check(self.sm("-h"), "skillmeat -h")
                res.sm.append(r.seconds)
                res.sm_rss.append(r.maxrss_kb)
                b = check(run(baseline, self.sb.env), "python -c pass")
                res.base.append(b.seconds)
                res.base_rss.append(b.maxrss_kb)

        self.measure(Result("help", "skillmeat -h", reps, baseline_cmd="python -c pass"), body)

    # -- 2. add

    def _add_once(self, src: Path, prefix: str) -> tuple[Run, str]:
        name = self.sb.fresh_name(prefix)
        check(self.sm("collection", "create", name), f"skillmeat collection create {name}")
        os.sync()  # no write-back of the set-up's files during the timed command
        r = check(self.sm("-C", name, "add", src, "--all"), f"skillmeat add {src.name} --all")
        return r, name

    def _git_once(self, src: Path, prefix: str) -> tuple[Run, Path]:
        repo = self.sb.fresh_dir(prefix)
        check(run(["git", "init", "-q", repo], self.sb.env), "git init")
        for child in src.iterdir():  # copying is set-up, not timed
            if child.is_dir():
                copy_tree(child, repo / child.name)
            else:
                shutil.copy2(child, repo / child.name)
        os.sync()
        r = run_all([["git", "add", "-A"], ["git", "commit", "-q", "-m", "x"]], self.sb.env, cwd=repo)
        return r, repo

    def _add(self, res: Result, src: Path, prefix: str) -> tuple[str, Path]:
        last_name, last_repo = "", Path()
        for _ in range(res.reps):
            r, last_name = self._add_once(src, prefix)
            res.sm.append(r.seconds)
            res.sm_rss.append(r.maxrss_kb)
            if not res.note:
                res.note = (
                    r.stdout.strip().splitlines()[-1].replace(str(src), "<tree>") if r.stdout.strip() else ""
                )
            g, last_repo = self._git_once(src, prefix + "-git")
            res.base.append(g.seconds)
            res.base_rss.append(g.maxrss_kb)
        return last_name, last_repo

    def bench_add_corpus(self) -> None:
        src = self.corpus_src()
        res = Result(
            "add-corpus",
            "add --all: corpus (wshobson-agents)",
            self.cfg["add_reps"],
            baseline_cmd="git add -A && git commit (same tree, fresh repo)",
            target="ratio<=3",
        )
        if src is None:
            res.skipped = f"corpus not found at {self.corpus}: skipped"
            self.results.append(res)
            self.log(f"add-corpus: {res.skipped}")
            return
        self.measure(res, lambda r: self._add(r, src, "corpus"))

    def bench_add_synthetic(self) -> None:
        n = self.cfg["synthetic"]
        reps = self.cfg["synthetic_add_reps"]

        def body(res: Result) -> None:
            src = self.synthetic_src()
            self._synthetic_collection, self._synthetic_gitrepo = self._add(res, src, "synthetic")

        self.measure(
            Result(
                "add-synthetic",
                f"add --all: synthetic {n:,}",
                reps,
                baseline_cmd="git add -A && git commit (same tree, fresh repo)",
            ),
            body,
        )

    # -- 3. list / search on the synthetic collection

    def _synthetic_collection_ready(self) -> tuple[str, Path]:
        if self._synthetic_collection is None or self._synthetic_gitrepo is None:
            src = self.synthetic_src()
            self.log("set-up: one untimed add of the synthetic tree")
            _, self._synthetic_collection = self._add_once(src, "synthetic")
            _, self._synthetic_gitrepo = self._git_once(src, "synthetic-git")
        return self._synthetic_collection, self._synthetic_gitrepo

    def _query(
        self, res: Result, sm_args: list[str], base_cmd: list[str], expect: Callable[[Run], str]
    ) -> None:
        name, repo = self._synthetic_collection_ready()
        warm = check(self.sm("-C", name, *sm_args), "skillmeat " + " ".join(sm_args))  # builds the index
        res.note = f"first call (builds the index if missing) {warm.seconds:.3f} s"
        problem = expect(warm)
        if problem:
            raise BenchError(problem)
        run(base_cmd, self.sb.env, cwd=repo)  # warm-up
        for _ in range(res.reps):
            r = check(self.sm("-C", name, *sm_args), "skillmeat " + " ".join(sm_args))
            res.sm.append(r.seconds)
            res.sm_rss.append(r.maxrss_kb)
            b = run(base_cmd, self.sb.env, cwd=repo)
            if b.returncode not in (0, 1):  # git grep: 1 means no match
                check(b, " ".join(base_cmd))
            res.base.append(b.seconds)
            res.base_rss.append(b.maxrss_kb)

    def bench_list(self) -> None:
        n = self.cfg["synthetic"]

        def expect(r: Run) -> str:
            lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
            return "" if len(lines) >= n else f"skillmeat list printed {len(lines)} lines for {n} artifacts"

        self.measure(
            Result(
                "list",
                f"list: synthetic {n:,}",
                self.cfg["query_reps"],
                baseline_cmd="git ls-files",
                target="abs<0.5",
            ),
            lambda res: self._query(res, ["list"], ["git", "ls-files"], expect),
        )

    def bench_search(self) -> None:
        n = self.cfg["synthetic"]

        def expect(r: Run) -> str:
            return "" if SEARCH_WORD in r.stdout.lower() else f"skillmeat search {SEARCH_WORD} found nothing"

        self.measure(
            Result(
                "search",
                f"search {SEARCH_WORD}: synthetic {n:,}",
                self.cfg["query_reps"],
                baseline_cmd=f"git grep -il {SEARCH_WORD}",
                target="abs<0.5",
            ),
            lambda res: self._query(
                res, ["search", SEARCH_WORD], ["git", "grep", "-i", "-l", SEARCH_WORD], expect
            ),
        )

    # -- 4. status / deploy: a collection deployed into projects

    def _deploy_collection(
        self, env: dict[str, str], name: str, count: int, seed: int
    ) -> tuple[Path, list[str]]:
        """Untimed set-up: a tree of ``count`` artifacts (every skill with 2 files), added with
        ``skillmeat add TREE --all`` to a new collection; returns the tree and the artifact ids
        (from ``skillmeat list --json``)."""
        src = self.sb.work / f"src-{name}-{count}"
        kinds = generate_tree(src, count, seed=seed, skill_extra_every=1)
        files, size = count_files(src)
        self.info[name] = {"artifacts": count, **kinds, "files": files, "bytes": size}
        check(self.sm("collection", "create", name, env=env), f"skillmeat collection create {name}")
        check(self.sm("-C", name, "add", src, "--all", env=env), f"skillmeat add {src.name} --all")
        listed = check(self.sm("-C", name, "list", "--json", env=env), "skillmeat list --json")
        try:
            ids = [str(a["id"]) for a in json.loads(listed.stdout)]
        except (ValueError, KeyError, TypeError) as exc:
            raise BenchError(f"skillmeat list --json: unexpected output ({exc})") from None
        if len(ids) != count:
            raise BenchError(f"skillmeat list --json listed {len(ids)} artifacts, expected {count}")
        return src, ids

    def bench_status(self) -> None:
        count = self.cfg["status_artifacts"]
        n_proj = self.cfg["status_projects"]
        reps = self.cfg["query_reps"]
        script = 'for p in "$@"; do git -C "$p" status --porcelain; done'

        def body(res: Result) -> None:
            # its own SKILLMEAT_HOME: `status --all` must see exactly these projects
            env = self.sb.env_with_own_home("status")
            _, ids = self._deploy_collection(env, "status", count, seed=200)
            projects, deploy_s = [], []
            for i in range(n_proj):
                project = self.sb.work / "status-projects" / f"project-{i:03d}"
                project.mkdir(parents=True)
                r = check(
                    self.sm("-C", "status", "deploy", *ids, "--project", project, env=env),
                    f"skillmeat deploy ({len(ids)} ids) --project {project.name}",
                )
                deploy_s.append(r.seconds)
                projects.append(project)
            deployed_at = time.time()
            commit = [["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "deploy"]]
            for project in projects:  # the baseline's repos: every deployed file committed
                run_all(commit, env, cwd=project)
            files_per_project = count_files(projects[0] / ".claude")[0]
            self.info["status"].update(projects=n_proj, files_per_project=files_per_project)
            time.sleep(max(0.0, STAT_CACHE_SETTLE_S - (time.time() - deployed_at)))
            os.sync()
            sm_args = ["status", "--all", "--json"]
            baseline = ["bash", "-c", script, "git-status-all", *projects]
            warm = self.sm(*sm_args, env=env)  # fills the stat cache
            problem = _status_problem(warm, n_proj, count)
            if problem:
                raise BenchError(problem)
            warm_git = check(run(baseline, env), "git status --porcelain (all projects)")
            if warm_git.stdout.strip():
                raise BenchError(
                    "git status --porcelain: the projects are not clean: "
                    + " | ".join(warm_git.stdout.splitlines()[:3])
                )
            res.note = (
                f"{n_proj} projects x {count} artifacts ({files_per_project} deployed files each, "
                f"{n_proj * files_per_project:,} in all); untimed set-up: deploy median "
                f"{statistics.median(deploy_s):.2f} s per project; warm-up call (fills the stat cache) "
                f"{warm.seconds:.3f} s"
            )
            for _ in range(res.reps):
                r = check(self.sm(*sm_args, env=env), "skillmeat status --all --json")  # exit 1: drift
                res.sm.append(r.seconds)
                res.sm_rss.append(r.maxrss_kb)
                b = check(run(baseline, env), "git status --porcelain (all projects)")
                res.base.append(b.seconds)
                res.base_rss.append(b.maxrss_kb)

        self.measure(
            Result(
                "status",
                f"status --all: {n_proj} projects x {count}",
                reps,
                baseline_cmd=f"git -C P status --porcelain for all {n_proj} projects (one bash -c loop)",
                target="ratio<=2",
            ),
            body,
        )

    def bench_deploy(self) -> None:
        count = self.cfg["deploy_artifacts"]
        reps = self.cfg["deploy_reps"]

        def body(res: Result) -> None:
            env = self.sb.env_with_own_home("deploy")
            src, ids = self._deploy_collection(env, "deploy", count, seed=300)
            fit = _ids_that_fit(ids, [str(self.cli), "-C", "deploy", "deploy", "--project", "x" * 200], env)
            if len(fit) < len(ids):
                self.notes.append(f"deploy: only {len(fit)} of {len(ids)} ids fit on one command line")
                res.label = f"deploy: {len(fit):,} artifacts, one call"
            src_files = count_files(src)[0]
            res.note = f"{len(fit)} ids on one command line; source {src_files} files"
            for _ in range(res.reps):
                project = self.sb.fresh_dir("deploy-project")
                os.sync()
                r = check(
                    self.sm("-C", "deploy", "deploy", *fit, "--project", project, env=env),
                    f"skillmeat deploy ({len(fit)} ids)",
                )
                if not res.sm:
                    placed = count_files(project / ".claude")[0]
                    res.note += f", {placed} placed in the project"
                    if len(fit) == len(ids) and placed != src_files:
                        raise BenchError(f"deploy placed {placed} files, the source has {src_files}")
                res.sm.append(r.seconds)
                res.sm_rss.append(r.maxrss_kb)
                dest = self.sb.work / self.sb.fresh_name("deploy-cp")
                os.sync()
                b = check(run(["cp", "-r", src, dest], env), "cp -r")
                res.base.append(b.seconds)
                res.base_rss.append(b.maxrss_kb)

        self.measure(
            Result(
                "deploy",
                f"deploy: {count:,} artifacts, one call",
                reps,
                baseline_cmd="cp -r TREE (the same source files) into a fresh directory",
                target="ratio<=3",
            ),
            body,
        )

    # -- 5. SSHSIG verification (benchmarks/sshsig_bench.py, in a child process)

    def bench_sshsig(self) -> None:
        n = self.cfg["sshsig_n"]
        reps = self.cfg["sshsig_reps"]
        keygen = Result("sshsig-keygen", f"sshsig verify {n:,}: vs ssh-keygen (extr.)", 0)

        def body(res: Result) -> None:
            cmd = [self.python, SSHSIG_BENCH, "--n", str(n), "--repeat", str(reps), "--json"]
            r = run(cmd, self.sb.env, cwd=self.sb.work)
            try:
                data = json.loads(r.stdout)
            except ValueError:
                check(r, "sshsig_bench.py --json")  # a failure: report its stderr
                raise BenchError("sshsig_bench.py --json printed no JSON") from None
            res.sm = [float(x) for x in data["ours_samples_s"]]
            res.base = [float(x) for x in data["raw_samples_s"]]
            res.sm_rss.append(r.maxrss_kb)
            per = 1e6 / n
            res.note = (
                f"{statistics.median(res.sm) * per:.1f} vs {statistics.median(res.base) * per:.1f} us "
                f"per verify; best of {reps}: {data['ratio']:.2f}x; {data['size']}-byte messages; "
                f"both in one process (RSS shown as skillmeat's), interleaved"
            )
            self.info["sshsig"] = {k: data[k] for k in ("n", "size", "repeat", "python")}
            self.results.append(keygen)
            keygen.reps = int(data["ssh_keygen_sample"])
            if data["ssh_keygen_extrapolated_s"] is None:
                keygen.skipped = "ssh-keygen not found: skipped"
                return
            keygen.sm = list(res.sm)
            keygen.base = [float(data["ssh_keygen_extrapolated_s"])]
            keygen.baseline_cmd = (
                f"ssh-keygen -Y verify, one process per signature, {keygen.reps} runs extrapolated to {n:,}"
            )
            keygen.note = f"{keygen.base[0] * per:,.0f} us per verify"

        self.measure(
            Result(
                "sshsig",
                f"sshsig verify {n:,}: vs PyNaCl",
                reps,
                baseline_cmd="PyNaCl VerifyKey.verify of the same messages, raw signatures",
                target="ratio<=1.5",
            ),
            body,
        )


def _status_problem(r: Run, projects: int, artifacts: int) -> str:
    """Why a ``status --all --json`` result is not the expected all-in-sync one ("" if it is)."""
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-5:]
        return f"skillmeat status --all --json failed (exit {r.returncode}): " + " | ".join(tail)
    try:
        targets = json.loads(r.stdout)
        states = [a["state"] for t in targets for a in t["artifacts"]]
    except (ValueError, KeyError, TypeError) as exc:
        return f"skillmeat status --all --json: unexpected output ({exc})"
    if len(targets) != projects or len(states) != projects * artifacts:
        return (
            f"skillmeat status: {len(targets)} projects, {len(states)} artifacts; expected {projects}, "
            f"{projects * artifacts}"
        )
    drifted = [s for s in states if s != "in-sync"]
    return f"skillmeat status: {len(drifted)} artifacts not in sync ({drifted[0]})" if drifted else ""


def _ids_that_fit(ids: list[str], rest: list[str], env: dict[str, str]) -> list[str]:
    """As many ids as fit in one exec (ARG_MAX, less the env and the other arguments)."""
    try:
        arg_max = os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError):
        arg_max = 128 * 1024
    # each string costs its bytes, a NUL and a pointer; keep a margin for the loader
    budget = arg_max - 16 * 1024
    budget -= sum(len(k) + len(v) + 2 + 8 for k, v in env.items()) + sum(len(a) + 1 + 8 for a in rest)
    out: list[str] = []
    for aid in ids:
        budget -= len(aid.encode()) + 1 + 8
        if budget < 0:
            break
        out.append(aid)
    return out


# --------------------------------------------------------------------------- report


def _fmt_s(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _fmt_mb(kb: list[int]) -> str:
    return f"{max(kb) / 1024:.0f}" if kb else "-"


def render(results: list[Result]) -> str:
    head = ("measurement", "skillmeat", "baseline", "ratio", "target", "result", "RSS MB sm/base")
    rows = [head]
    for r in results:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        rows.append(
            (
                r.label,
                _fmt_s(r.sm_median),
                _fmt_s(r.base_median),
                ratio,
                r.target_text,
                r.status,
                f"{_fmt_mb(r.sm_rss)}/{_fmt_mb(r.base_rss)}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    right = {1, 2, 3, 6}

    def line(row: Sequence[str]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    out = [line(head), line(["-" * w for w in widths])]
    out += [line(row) for row in rows[1:]]
    return "\n".join(out)


def git_version() -> str:
    try:
        return subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def select(only: str | None) -> list[str]:
    if not only:
        return list(MEASUREMENTS)
    wanted: list[str] = []
    for part in only.split(","):
        part = part.strip()
        hits = [m for m in MEASUREMENTS if m == part or m.startswith(part)]
        if not hits:
            raise SystemExit(f"--only: unknown measurement {part!r}; choose from {', '.join(MEASUREMENTS)}")
        wanted += [h for h in hits if h not in wanted]
    return [m for m in MEASUREMENTS if m in wanted]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="smoke", help="smoke (default) or full")
    ap.add_argument(
        "--only",
        metavar="NAME",
        help=f"comma-separated measurements or prefixes: {', '.join(MEASUREMENTS)} (e.g. add)",
    )
    ap.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.environ.get("SKILLMEAT_BENCH_CORPUS", DEFAULT_CORPUS)),
        help="the real-world corpus to add (default: %(default)s)",
    )
    ap.add_argument(
        "--json", type=Path, default=RESULTS, help="where to write results (default: %(default)s)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed or a run fails")
    args = ap.parse_args(argv)

    names = select(args.only)
    cli = find_cli()
    root = Path(tempfile.mkdtemp(prefix="skillmeat-bench-"))
    started = time.perf_counter()
    bench = Bench(Sandbox(root), cli, args.size, args.corpus)
    version = run([cli, "--version"], bench.sb.env)
    if version.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise SystemExit(f"{cli} --version failed: {version.stderr.strip()}")
    bench.info["skillmeat_version"] = version.stdout.strip()
    print(f"skillmeat benchmarks, size={args.size}, temp dir {root}", file=sys.stderr, flush=True)
    try:
        for name in names:
            getattr(bench, "bench_" + name.replace("-", "_"))()
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    elapsed = time.perf_counter() - started

    print()
    print(
        f"SkillMeat benchmarks ({args.size}): median wall clock of the real CLI; "
        f"{bench.info['skillmeat_version']}, Python {platform.python_version()}, {git_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    print()
    print(render(bench.results))
    print()
    for r in bench.results:
        extra = f"; {r.note}" if r.note else ""
        print(f"  {r.name}: n={r.reps}, baseline = {r.baseline_cmd}{extra}")
        if r.error:
            print(f"    error: {r.error}")
        if r.skipped:
            print(f"    {r.skipped}")
    for n in bench.notes:
        print(f"  note: {n}")
    for key in ("corpus", "synthetic", "status", "deploy", "sshsig"):
        if key in bench.info:
            print(f"  {key}: {bench.info[key]}")
    print(f"  total {elapsed:.1f} s")

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": args.size,
        "only": names,
        "skillmeat": str(cli),
        "python": cli_interpreter(cli),
        "python_version": platform.python_version(),
        "git": git_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "elapsed_s": round(elapsed, 2),
        "info": bench.info,
        "notes": bench.notes,
        "results": [r.to_json() for r in bench.results],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"  results written to {args.json}")

    if args.check and any(r.status in ("MISS", "ERROR") for r in bench.results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
