"""Sharing bundles: ``export``, ``verify``, ``import`` and a vault upload, beside zip, sha256sum,
unzip and the aws CLI on the same files, measured in the same run.

    python benchmarks/sharing_bench.py [--size smoke|full] [--reps N]
                                       [--only export,verify,import,upload,memory]
                                       [--json PATH] [--keep]

Two datasets: the real corpus (``../shared/corpus/wshobson-agents``) and a generated
collection of skills with several files each (~64 MiB at ``--size smoke``, ~1 GiB at
``--size full``): mostly compressible text (pseudo-random words), some incompressible binary
files, from a few KB up to 8 MiB, all from a seeded generator. Each is added to a collection
with ``skillmeat add TREE --all`` (not timed). Every timed command is the installed CLI (or, for
the upload alone, the venv's interpreter running the ``VaultFS.put_file`` call the CLI makes) in
a real subprocess, interleaved with its baseline; medians over ``--reps``, their ratio, the
target, PASS/MISS and the peak RSS of each child (``os.wait4``). ``memory`` runs export,
verify and import once on the synthetic collection at a quarter of the size and at the full
size and compares their peak RSS. Everything happens in a temporary HOME / SKILLMEAT_HOME /
XDG_CONFIG_HOME / GIT_CONFIG_GLOBAL (see ``run.py``'s ``Sandbox``); the S3 server is moto's,
started here on 127.0.0.1. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as harness  # noqa: E402  (benchmarks/run.py: sandbox, child runner, helpers)
from run import BenchError, Paired, Run, Sandbox, check  # noqa: E402

REPO = HERE.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "wshobson-agents"
RESULTS = HERE / "results" / "sharing-latest.json"
AWS_VENV = HERE / ".aws-venv"
MIB = 1 << 20

SIZES: dict[str, dict[str, int]] = {
    "smoke": {"synthetic_bytes": 64 * MIB, "reps": 5},
    "full": {"synthetic_bytes": 1024 * MIB, "reps": 3},
}
MEASUREMENTS = ("export", "verify", "import", "upload", "memory")
TARGETS = {"export": 1.5, "verify": 1.5, "import": 2.0, "upload": 1.5, "memory": 1.5}
PRINCIPAL = "you@example.com"
BUCKET = "vault"
# the CLI's upload, alone: what `export --to VAULT` runs once the bundle is built
UPLOAD_SNIPPET = (
    "import sys; from pathlib import Path; from skillmeat.store.vaultfs import VaultFS; "
    "VaultFS(sys.argv[1], {'endpoint_url': sys.argv[2]}).put_file(Path(sys.argv[3]), sys.argv[4])"
)


# --------------------------------------------------------------------------- synthetic collection


def _word_pool(rng: random.Random, size: int) -> str:
    """``size`` characters of Markdown-ish text: lines of pseudo-random words, a few headings.

    Words come from a 4,000-word invented vocabulary with a Zipf-like frequency, so the text
    deflates about 3:1, like prose.
    """
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 11))) for _ in range(4_000)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    lines: list[str] = []
    total = 0
    while total < size:
        words = rng.choices(vocab, weights=weights, k=20_000)
        at = 0
        while at < len(words):
            n = rng.randint(6, 16)
            line = " ".join(words[at:at + n])
            if rng.random() < 0.04:
                line = "## " + line.title()
            lines.append(line)
            total += len(line) + 1
            at += n
    return "\n".join(lines)[:size]


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return int(low * (high / low) ** rng.random())


def generate_synthetic(root: Path, target_bytes: int, seed: int = 4242) -> dict[str, int]:
    """Skills (``skills/sNNNNN/SKILL.md`` + 1-6 more files), plus one command and one agent
    per four skills, until ``target_bytes`` are written. File sizes: 88 % log-uniform 2-64 KiB,
    12 % log-uniform 256 KiB-8 MiB; 5 % of the small and 30 % of the large files are random
    bytes (incompressible), the rest text. Deterministic for a given seed and target."""
    rng = random.Random(seed)
    pool = _word_pool(rng, 24 * MIB)
    for sub in ("skills", "commands", "agents"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    stats = {"skills": 0, "commands": 0, "agents": 0, "files": 0, "bytes": 0, "binary_bytes": 0}

    def text(n: int) -> bytes:
        start = rng.randrange(0, len(pool) - n)
        return pool[start:start + n].encode("ascii")

    def write(path: Path, data: bytes, binary: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        stats["files"] += 1
        stats["bytes"] += len(data)
        if binary:
            stats["binary_bytes"] += len(data)

    kinds = (("reference", ".md"), ("notes", ".md"), ("scripts/tool", ".py"), ("data/table", ".csv"),
             ("examples/example", ".md"), ("templates/template", ".txt"))
    i = 0
    while stats["bytes"] < target_bytes:
        i += 1
        name = f"s{i:05d}"
        d = root / "skills" / name
        body = text(_log_uniform(rng, 1_000, 8_000)).decode()
        write(d / "SKILL.md", (f"---\nname: {name}\ndescription: Synthetic skill {i} for the sharing "
                               f"benchmark. Use when the user asks about {body.split()[0]}.\n"
                               f"---\n\n# {name}\n\n{body}\n").encode())
        stats["skills"] += 1
        for j in range(rng.randint(1, 6)):
            large = rng.random() < 0.12
            size = _log_uniform(rng, 256 * 1024, 8 * MIB) if large else _log_uniform(rng, 2048, 64 * 1024)
            if rng.random() < (0.30 if large else 0.05):
                write(d / "assets" / f"blob-{j}.bin", rng.randbytes(size), binary=True)
            else:
                stem, ext = kinds[rng.randrange(len(kinds))]
                write(d / f"{stem}-{j}{ext}", text(size))
        if i % 4 == 0:
            n = i // 4
            write(root / "commands" / f"c{n:05d}.md",
                  f"---\ndescription: Synthetic command {n}\n---\n\n{text(rng.randint(500, 4000)).decode()}\n"
                  .encode())
            write(root / "agents" / f"a{n:05d}.md",
                  f"---\nname: a{n:05d}\ndescription: Synthetic agent {n}\ntools: Read, Grep\n---\n\n"
                  f"{text(rng.randint(1000, 6000)).decode()}\n".encode())
            stats["commands"] += 1
            stats["agents"] += 1
    return stats


def _mib(n: int) -> str:
    return f"{n / MIB:,.0f} MiB" if n >= 10 * MIB else f"{n / MIB:.1f} MiB"


# --------------------------------------------------------------------------- results


@dataclass
class Row(Paired):
    name: str                 # export, verify, import, upload, upload-cli, memory-export, ...
    label: str
    dataset: str
    reps: int = 0
    sm: list[float] = field(default_factory=list)     # seconds (memory rows: MB, larger dataset)
    base: list[float] = field(default_factory=list)   # seconds (memory rows: MB, smaller dataset)
    sm_rss: list[int] = field(default_factory=list)   # KiB
    base_rss: list[int] = field(default_factory=list)
    baseline_cmd: str = ""
    target: float | None = None
    unit: str = "s"
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
            "name": self.name, "label": self.label, "dataset": self.dataset, "reps": self.reps,
            "unit": self.unit, "skillmeat": self.sm_median, "baseline": self.base_median,
            "ratio": self.ratio, "target": self.target, "status": self.status,
            "baseline_cmd": self.baseline_cmd, "skillmeat_samples": self.sm, "baseline_samples": self.base,
            "skillmeat_maxrss_kb": max(self.sm_rss) if self.sm_rss else None,
            "baseline_maxrss_kb": max(self.base_rss) if self.base_rss else None,
            "note": self.note, "error": self.error, "skipped": self.skipped,
        }


@dataclass
class Dataset:
    key: str                  # corpus, synthetic, synthetic-quarter
    label: str
    src: Path
    collection: str
    path: Path                # the collection's work tree
    files: int
    size: int
    bundle: Path | None = None
    bundle_files: int = 0
    bundle_artifacts: int = 0
    extracted: Path | None = None


# --------------------------------------------------------------------------- child runner

# Runs each timed command and reports (wall time, ru_maxrss) from os.wait4, as run.py's
# ``run`` does, but from a small process of its own. On Linux a child's ru_maxrss starts at the
# RSS of the process it was forked from (exec keeps the old mm's high-water mark), and this
# benchmark's own process grows (the generator's word pool, moto's objects): forked from it,
# even ``sha256sum`` would show hundreds of MB. The launcher stays at ~10 MB.
LAUNCHER = """
import json, os, subprocess, sys, tempfile, time
for line in sys.stdin:
    req = json.loads(line)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(req["cmd"], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=req["env"], cwd=req["cwd"])
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        reply = {"seconds": seconds, "maxrss_kb": usage.ru_maxrss,
                 "returncode": os.waitstatus_to_exitcode(status),
                 "stdout": out.read().decode("utf-8", "replace"),
                 "stderr": err.read().decode("utf-8", "replace")}
    sys.stdout.write(json.dumps(reply) + "\\n")
    sys.stdout.flush()
"""


class Launcher:
    """A small helper process that starts and times the children (see LAUNCHER)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, text=True)

    def run(self, cmd: Sequence[str | Path], env: dict[str, str], cwd: Path) -> Run:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        req = {"cmd": [str(c) for c in cmd], "env": env, "cwd": str(cwd)}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise BenchError(f"the launcher died running {' '.join(req['cmd'])}")
        r = json.loads(line)
        return Run(r["seconds"], r["maxrss_kb"], r["returncode"], r["stdout"], r["stderr"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------- the benchmark


class SharingBench:
    def __init__(self, sb: Sandbox, launcher: Launcher, cli: Path, size: str, reps: int,
                 corpus: Path) -> None:
        self.sb = sb
        self.launcher = launcher
        self.cli = cli
        self.python = harness.cli_interpreter(cli)
        self.size = size
        self.reps = reps
        self.corpus = corpus
        self.target_bytes = SIZES[size]["synthetic_bytes"]
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.info: dict[str, Any] = {}
        self._datasets: dict[str, Dataset] = {}
        self._n = 0
        self._server: Any = None
        self._endpoint = ""
        self._aws_path: Path | None = None

    # -- helpers

    def log(self, msg: str) -> None:
        print(f"  .. {msg}", file=sys.stderr, flush=True)

    def run(self, cmd: Sequence[str | Path], env: dict[str, str], cwd: Path | None = None) -> Run:
        return self.launcher.run(cmd, env, cwd or self.sb.work)

    def sm(self, *args: str | Path, env: dict[str, str] | None = None) -> Run:
        return self.run([self.cli, *args], env or self.sb.env)

    def version(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def keys(self) -> None:
        """A signing key, trusted for the bundles' principal (so verify says 'good signature')."""
        check(self.sm("keys", "generate", "--comment", PRINCIPAL), "skillmeat keys generate")
        pub = check(self.sm("keys", "export", "--public"), "skillmeat keys export --public")
        pubfile = self.sb.root / "bench.pub"
        pubfile.write_text(pub.stdout, encoding="utf-8")
        check(self.sm("keys", "trust", pubfile, "--principal", PRINCIPAL), "skillmeat keys trust")

    def measure(self, row: Row, body: Callable[[Row], None]) -> None:
        self.rows.append(row)
        t0 = time.perf_counter()
        self.log(f"{row.name}: {row.dataset}")
        try:
            body(row)
        except BenchError as exc:
            row.error = str(exc)
            self.log(f"{row.name}: ERROR {exc}")
        self.log(f"{row.name}: done in {time.perf_counter() - t0:.1f} s")

    # -- datasets (untimed set-up, built once)

    def dataset(self, key: str) -> Dataset | None:
        if key in self._datasets:
            return self._datasets[key]
        t0 = time.perf_counter()
        src = self.sb.work / f"src-{key}"
        if key == "corpus":
            if not self.corpus.is_dir():
                return None
            harness.copy_tree(self.corpus, src)  # a private copy on the same filesystem
            files, size = harness.count_files(src)
            label = f"corpus ({_mib(size)} in {files:,} files)"
        else:
            target = self.target_bytes // 4 if key == "synthetic-quarter" else self.target_bytes
            gen = generate_synthetic(src, target)
            files, size = gen["files"], gen["bytes"]
            label = f"synthetic {_mib(size)} ({files:,} files)"
            self.info[key] = gen
        name = f"{key}-src"
        made = check(self.sm("collection", "create", name), f"skillmeat collection create {name}")
        path = Path(made.stdout.strip().rsplit(" in ", 1)[-1])
        added = check(self.sm("-C", name, "add", src, "--all"), f"skillmeat add {src.name} --all")
        tracked = _artifact_files(path)
        ds = Dataset(key, label, src, name, path, tracked[0], tracked[1])
        if key == "corpus":
            ds.label = f"corpus ({_mib(ds.size)} in {ds.files:,} files)"
            self.info["corpus"] = {"path": str(self.corpus), "source_files": files, "source_bytes": size,
                                   "collection_files": ds.files, "collection_bytes": ds.size}
        elif ds.files != files:
            raise BenchError(f"{key}: the collection holds {ds.files} files, the tree {files}")
        self._datasets[key] = ds
        self.log(f"set-up: {ds.label} added to collection {name} ({added.seconds:.1f} s); "
                 f"set-up took {time.perf_counter() - t0:.1f} s")
        return ds

    def bundle(self, ds: Dataset) -> Path:
        """The bundle the last export left behind, or one untimed export."""
        if ds.bundle is None:
            out = self.sb.work / f"{ds.key}-setup.skillmeat-pack"
            self._export(ds, out, self.version("setup"))
        assert ds.bundle is not None
        return ds.bundle

    def extracted(self, ds: Dataset) -> Path:
        """The bundle unzipped once (untimed): what sha256sum and aws s3 cp work on."""
        if ds.extracted is None:
            dest = self.sb.work / f"extracted-{ds.key}"
            check(self.run(["unzip", "-q", self.bundle(ds), "-d", dest], self.sb.env), "unzip")
            ds.extracted = dest
        return ds.extracted

    def _export(self, ds: Dataset, out: Path, version: str) -> Run:
        os.sync()  # no write-back of earlier steps during the timed command
        r = check(self.sm("-C", ds.collection, "export", "--all", "-o", out, "--version", version),
                  f"skillmeat export --all --version {version}")
        if "Signed " not in r.stdout:  # "Kept": a no-op re-export, not what we mean to time
            raise BenchError(f"export {version} did not build a new bundle: {r.stdout.strip()}")
        m = re.search(r"\(\S+ \S+, ([\d,]+) artifacts?, ([\d,]+) bytes\)", r.stdout)
        if ds.bundle is not None and ds.bundle != out and ds.bundle.exists():
            ds.bundle.unlink()  # keep one bundle per dataset on disk
        ds.bundle = out
        if m:
            ds.bundle_artifacts = int(m.group(1).replace(",", ""))
        return r

    # -- 1. export vs zip -r -X

    def bench_export(self, key: str) -> None:
        ds = self.dataset(key)
        row = Row("export", "export --all -o FILE", key, self.reps, target=TARGETS["export"],
                  baseline_cmd="zip -r -X -q OUT.zip <artifact dirs> (in the collection dir)")
        if ds is None:
            return self._skip(row)
        row.dataset = ds.label
        dirs = sorted(d.name for d in ds.path.iterdir() if d.is_dir() and not d.name.startswith("."))

        def body(row: Row) -> None:
            sizes = []
            for _ in range(row.reps):
                version = self.version("e")
                r = self._export(ds, self.sb.work / f"{ds.key}-{version}.skillmeat-pack", version)
                row.sm.append(r.seconds)
                row.sm_rss.append(r.maxrss_kb)
                out = self.sb.work / f"{ds.key}-{version}.zip"
                os.sync()
                b = check(self.run(["zip", "-r", "-X", "-q", out, *dirs], self.sb.env, ds.path),
                          "zip -r -X -q")
                row.base.append(b.seconds)
                row.base_rss.append(b.maxrss_kb)
                sizes = [ds.bundle.stat().st_size if ds.bundle else 0, out.stat().st_size]
                out.unlink()
            row.note = (f"bundle {sizes[0]:,} bytes, zip {sizes[1]:,} bytes; "
                        f"{ds.bundle_artifacts} artifacts, {ds.files:,} files ({', '.join(dirs)})")

        self.measure(row, body)

    # -- 2. verify vs sha256sum of the extracted files

    def bench_verify(self, key: str) -> None:
        ds = self.dataset(key)
        row = Row("verify", "verify FILE", key, self.reps, target=TARGETS["verify"],
                  baseline_cmd="find DIR -type f -print0 | xargs -0 sha256sum > /dev/null (the bundle "
                               "unzipped)")
        if ds is None:
            return self._skip(row)
        row.dataset = ds.label

        def body(row: Row) -> None:
            bundle, extracted = self.bundle(ds), self.extracted(ds)
            script = 'find "$1" -type f -print0 | xargs -0 sha256sum > /dev/null'
            base: list[str | Path] = ["bash", "-c", script, "sha", extracted]
            warm = self._verify(bundle)  # warm-up: page cache, bytecode
            check(self.run(base, self.sb.env), "sha256sum")
            row.note = f"warm-up verify {warm.seconds:.2f} s; {harness.count_files(extracted)[0]:,} files"
            for _ in range(row.reps):
                r = self._verify(bundle)
                row.sm.append(r.seconds)
                row.sm_rss.append(r.maxrss_kb)
                b = check(self.run(base, self.sb.env), "find | xargs sha256sum")
                row.base.append(b.seconds)
                row.base_rss.append(b.maxrss_kb)

        self.measure(row, body)

    def _verify(self, bundle: Path) -> Run:
        r = check(self.sm("verify", bundle), f"skillmeat verify {bundle.name}")
        if "good signature" not in r.stdout:
            raise BenchError(f"verify: no good signature: {r.stdout.strip()}")
        return r

    # -- 3. import into a fresh, empty collection vs unzip

    def bench_import(self, key: str) -> None:
        ds = self.dataset(key)
        row = Row("import", "import FILE (empty collection)", key, self.reps, target=TARGETS["import"],
                  baseline_cmd="unzip -q FILE -d DIR (fresh dir)")
        # the same import beside unzip *and* git: what committing the files costs anyway
        git_row = Row("import-git", "import FILE vs unzip + git", key, self.reps,
                      baseline_cmd="unzip -q FILE -d DIR, then git add -A && git commit in DIR "
                                   "(summed; git init not timed)")
        if ds is None:
            self._skip(row)
            return self._skip(git_row)
        row.dataset = git_row.dataset = ds.label

        def body(row: Row) -> None:
            bundle = self.bundle(ds)
            targets = [self._empty_collection(ds.key) for _ in range(row.reps)]  # untimed
            self.rows.append(git_row)
            for name, path in targets:
                r = self._import(ds, name, bundle)
                row.sm.append(r.seconds)
                row.sm_rss.append(r.maxrss_kb)
                dest = self.sb.work / self.sb.fresh_name(f"unzip-{ds.key}")
                os.sync()
                b = check(self.run(["unzip", "-q", bundle, "-d", dest], self.sb.env), "unzip -q")
                row.base.append(b.seconds)
                row.base_rss.append(b.maxrss_kb)
                check(self.run(["git", "init", "-q"], self.sb.env, dest), "git init")
                os.sync()
                add = check(self.run(["git", "add", "-A"], self.sb.env, dest), "git add -A")
                commit = check(self.run(["git", "commit", "-q", "-m", "import"], self.sb.env, dest),
                               "git commit")
                git_row.sm.append(r.seconds)
                git_row.sm_rss.append(r.maxrss_kb)
                git_row.base.append(b.seconds + add.seconds + commit.seconds)
                git_row.base_rss.append(max(b.maxrss_kb, add.maxrss_kb, commit.maxrss_kb))
                shutil.rmtree(path)  # the disk space of one import at a time
                shutil.rmtree(dest)
            row.note = f"{ds.bundle_artifacts} artifacts imported and committed per run"
            git_row.note = "the same skillmeat samples as the row above"

        self.measure(row, body)

    def _empty_collection(self, key: str) -> tuple[str, Path]:
        name = self.sb.fresh_name(f"{key}-import")
        made = check(self.sm("collection", "create", name), f"skillmeat collection create {name}")
        return name, Path(made.stdout.strip().rsplit(" in ", 1)[-1])

    def _import(self, ds: Dataset, name: str, bundle: Path) -> Run:
        os.sync()
        r = check(self.sm("-C", name, "import", bundle), f"skillmeat import {bundle.name}")
        m = re.search(r"Imported ([\d,]+) artifacts?", r.stdout)
        if not m or (ds.bundle_artifacts and int(m.group(1).replace(",", "")) != ds.bundle_artifacts):
            raise BenchError(f"import into {name}: expected {ds.bundle_artifacts} artifacts: "
                             f"{r.stdout.strip().splitlines()[-1:]}")
        return r

    # -- 4. vault upload to moto's S3 vs aws s3 cp --recursive

    def bench_upload(self, key: str) -> None:
        ds = self.dataset(key)
        row = Row("upload", "upload: VaultFS.put_file", key, self.reps, target=TARGETS["upload"],
                  baseline_cmd="aws s3 cp --recursive DIR s3://vault/base/ --quiet (the bundle unzipped)")
        cli_row = Row("upload-cli", "export --all --to VAULT", key, self.reps,
                      baseline_cmd="zip -r -X -q OUT.zip <artifact dirs> + aws s3 cp OUT.zip (summed)")
        if ds is None:
            self._skip(row)
            return self._skip(cli_row)
        row.dataset = cli_row.dataset = ds.label
        dirs = sorted(d.name for d in ds.path.iterdir() if d.is_dir() and not d.name.startswith("."))

        def body(row: Row) -> None:
            env, aws = self._s3_env(), self._aws_cli()
            bundle, extracted = self.bundle(ds), self.extracted(ds)
            # warm-up of both clients (imports, the server's first requests), then a clean bucket
            self._upload(env, bundle, "bundles/warm/0.skillmeat-pack")
            self._aws(aws, env, ["s3", "cp", bundle, f"s3://{BUCKET}/warm/bundle", "--quiet"])
            for i in range(row.reps):
                self._reset_s3()
                r = self._upload(env, bundle, f"bundles/{ds.key}/u{i}.skillmeat-pack")
                row.sm.append(r.seconds)
                row.sm_rss.append(r.maxrss_kb)
                b = self._aws(aws, env, ["s3", "cp", "--recursive", extracted, f"s3://{BUCKET}/base{i}/",
                                         "--quiet"])
                row.base.append(b.seconds)
                row.base_rss.append(b.maxrss_kb)
            files, size = harness.count_files(extracted)
            row.note = (f"one {bundle.stat().st_size:,}-byte object (multipart, 8 MiB parts) vs {files:,} "
                        f"objects, {size:,} bytes; aws = {aws}")

        def cli_body(cli_row: Row) -> None:
            env, aws = self._s3_env(), self._aws_cli()
            vault = f"bench-{ds.key}"
            check(self.sm("vault", "add", vault, f"s3://{BUCKET}/cli",
                          "--option", f"endpoint_url={self._endpoint}", env=env), "skillmeat vault add")
            for _ in range(cli_row.reps):
                self._reset_s3()
                version = self.version("v")
                os.sync()
                r = check(self.sm("-C", ds.collection, "export", "--all", "--version", version, "--to", vault,
                                  env=env), f"skillmeat export --to {vault}")
                if "Uploaded to vault" not in r.stdout:
                    raise BenchError(f"export --to: not uploaded: {r.stdout.strip()}")
                cli_row.sm.append(r.seconds)
                cli_row.sm_rss.append(r.maxrss_kb)
                out = self.sb.work / f"{ds.key}-{version}.zip"
                os.sync()
                z = check(self.run(["zip", "-r", "-X", "-q", out, *dirs], env, ds.path), "zip -r -X -q")
                up = self._aws(aws, env, ["s3", "cp", out, f"s3://{BUCKET}/zip/{version}.zip", "--quiet"])
                cli_row.base.append(z.seconds + up.seconds)
                cli_row.base_rss.append(max(z.maxrss_kb, up.maxrss_kb))
                out.unlink()
            cli_row.note = "build + sign + upload + signed feed, one CLI call"

        self.measure(row, body)
        self.measure(cli_row, cli_body)

    def _upload(self, env: dict[str, str], bundle: Path, rel: str) -> Run:
        os.sync()
        cmd: list[str | Path] = [self.python, "-c", UPLOAD_SNIPPET, f"s3://{BUCKET}/prefix", self._endpoint,
                                 bundle, rel]
        return check(self.run(cmd, env, self.sb.work), "VaultFS.put_file")

    def _aws(self, aws: Path, env: dict[str, str], args: Sequence[str | Path]) -> Run:
        os.sync()
        return check(self.run([aws, *args, "--endpoint-url", self._endpoint], env, self.sb.work),
                     f"aws {args[0]} {args[1]}")

    def _s3_env(self) -> dict[str, str]:
        """The sandbox env plus moto's dummy credentials (and the server, started once)."""
        if self._server is None:
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
            with contextlib.redirect_stdout(sys.stderr):
                self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
                self._server.start()
            host, port = self._server.get_host_and_port()
            self._endpoint = f"http://{host}:{port}"
            self._reset_s3()
            self.log(f"set-up: moto S3 server at {self._endpoint}")
        return {**self.sb.env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

    def _reset_s3(self) -> None:
        """Forget every object (moto keeps them in memory), then create the bucket again."""
        for method, path in (("POST", "/moto-api/reset"), ("PUT", f"/{BUCKET}")):
            req = urllib.request.Request(self._endpoint + path, data=b"", method=method)
            with urllib.request.urlopen(req, timeout=30) as resp:
                resp.read()

    def _aws_cli(self) -> Path:
        """The aws CLI on PATH (a pyenv shim resolved to its real script), else one installed
        into benchmarks/.aws-venv."""
        if self._aws_path is not None:
            return self._aws_path
        found = shutil.which("aws", path=self.sb.env.get("PATH"))
        candidates = [_unshim(Path(found), self.sb.env)] if found else []
        candidates.append(AWS_VENV / "bin" / "aws")
        for aws in candidates:
            if aws == AWS_VENV / "bin" / "aws" and not aws.exists():
                print(f"aws CLI not found on PATH: installing awscli into {AWS_VENV}", file=sys.stderr)
                subprocess.run([sys.executable, "-m", "venv", AWS_VENV], check=True)
                subprocess.run([AWS_VENV / "bin" / "pip", "install", "-q", "awscli"], check=True)
            r = self.run([aws, "--version"], self.sb.env)
            if r.returncode == 0:
                self._aws_path = aws
                self.info["aws"] = {"path": str(aws), "version": (r.stdout or r.stderr).strip()}
                return aws
        raise BenchError("no working aws CLI")

    # -- 5. memory: peak RSS at a quarter of the size and at the size

    def bench_memory(self) -> None:
        steps = ("export", "verify", "import")
        rows = {s: Row(f"memory-{s}", f"peak RSS: {s}, 4x the data", "", 1, target=TARGETS["memory"],
                       unit="MB",
                       baseline_cmd=f"skillmeat {s} on the synthetic collection at 1/4 of the size")
                for s in steps}
        peaks: dict[str, dict[str, int]] = {}
        self.rows.extend(rows.values())
        t0 = time.perf_counter()
        self.log("memory: export, verify, import at 1/4 of the size and at the size")
        try:
            for key in ("synthetic-quarter", "synthetic"):
                ds = self.dataset(key)
                assert ds is not None
                version = self.version("m")
                out = self.sb.work / f"{key}-{version}.skillmeat-pack"
                peaks[key] = {"export": self._export(ds, out, version).maxrss_kb}
                peaks[key]["verify"] = self._verify(out).maxrss_kb
                name, path = self._empty_collection(key)
                peaks[key]["import"] = self._import(ds, name, out).maxrss_kb
                shutil.rmtree(path)
        except BenchError as exc:
            for r in rows.values():
                r.error = str(exc)
            self.log(f"memory: ERROR {exc}")
            return
        small, large = self._datasets["synthetic-quarter"], self._datasets["synthetic"]
        for s in steps:
            r = rows[s]
            r.dataset = f"synthetic {_mib(small.size)} -> {_mib(large.size)}"
            r.sm, r.base = [peaks["synthetic"][s] / 1024], [peaks["synthetic-quarter"][s] / 1024]
            r.note = (f"{peaks['synthetic-quarter'][s] / 1024:.0f} MB on {_mib(small.size)}, "
                      f"{peaks['synthetic'][s] / 1024:.0f} MB on {_mib(large.size)}")
        self.log(f"memory: done in {time.perf_counter() - t0:.1f} s")

    def _skip(self, row: Row) -> None:
        row.skipped = f"corpus not found at {self.corpus}: skipped"
        self.rows.append(row)
        self.log(f"{row.name}: {row.skipped}")

    def close(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.stop()
            self._server = None


def _artifact_files(path: Path) -> tuple[int, int]:
    """(files, bytes) in a collection's artifact directories (not .git, not its manifest)."""
    n = size = 0
    for d in path.iterdir():
        if d.is_dir() and not d.name.startswith("."):
            files, b = harness.count_files(d)
            n, size = n + files, size + b
    return n, size


def _unshim(path: Path, env: dict[str, str]) -> Path:
    """A pyenv shim's real target (the shim's bash + pyenv exec would be timed, too)."""
    if path.parent.name != "shims":
        return path
    with contextlib.suppress(OSError, UnicodeDecodeError):
        m = re.search(r'PYENV_ROOT="([^"]+)"', path.read_text())
        if m:
            root = Path(m.group(1))
            r = subprocess.run([root / "libexec" / "pyenv", "which", path.name], capture_output=True,
                               text=True, env={**env, "PYENV_ROOT": str(root)}, check=False)
            real = Path(r.stdout.strip())
            if r.returncode == 0 and real.is_file():
                return real
    return path


# --------------------------------------------------------------------------- report


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "MB":
        return f"{v:.0f} MB"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _fmt_rss(kb: list[int]) -> str:
    return f"{max(kb) / 1024:.0f}" if kb else "-"


def render(rows: list[Row]) -> str:
    head = ("measurement", "dataset", "skillmeat", "baseline", "ratio", "target", "result", "RSS MB sm/base")
    table = [head]
    for r in rows:
        table.append((
            r.label, r.dataset, _fmt(r.sm_median, r.unit), _fmt(r.base_median, r.unit),
            f"{r.ratio:.2f}x" if r.ratio is not None else "-",
            f"<= {r.target}x" if r.target is not None else "-", r.status,
            "-" if r.unit == "MB" else f"{_fmt_rss(r.sm_rss)}/{_fmt_rss(r.base_rss)}",
        ))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    right = {2, 3, 4, 7}

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(row) for row in table[1:])])


def select(only: str | None) -> list[str]:
    if not only:
        return list(MEASUREMENTS)
    wanted = {p.strip() for p in only.split(",") if p.strip()}
    unknown = wanted - set(MEASUREMENTS)
    if unknown:
        raise SystemExit(f"--only: unknown {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(MEASUREMENTS)}")
    return [m for m in MEASUREMENTS if m in wanted]


@contextlib.contextmanager
def sandbox(keep: bool) -> Iterator[Sandbox]:
    root = Path(tempfile.mkdtemp(prefix="skillmeat-sharing-bench-"))
    saved = tempfile.tempdir
    (root / "tmp").mkdir()
    tempfile.tempdir = str(root / "tmp")  # moto spills large objects here, not into /tmp
    try:
        yield Sandbox(root)
    finally:
        tempfile.tempdir = saved
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="smoke", help="smoke (default) or full")
    ap.add_argument("--reps", type=int, help="timed repetitions (default: 5 smoke, 3 full)")
    ap.add_argument("--only", metavar="NAMES", help=f"comma list of: {', '.join(MEASUREMENTS)}")
    ap.add_argument("--corpus", type=Path,
                    default=Path(os.environ.get("SKILLMEAT_BENCH_CORPUS", DEFAULT_CORPUS)))
    ap.add_argument("--json", type=Path, default=RESULTS,
                    help="where to write results (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    names = select(args.only)
    reps = args.reps or SIZES[args.size]["reps"]
    for tool in ("zip", "unzip", "sha256sum", "find", "xargs", "bash"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed for the baselines and is not on PATH")
    cli = harness.find_cli()
    started = time.perf_counter()
    with sandbox(args.keep) as sb:
        launcher = Launcher({**sb.env, "TMPDIR": str(sb.root / "tmp")})
        bench = SharingBench(sb, launcher, cli, args.size, reps, args.corpus)
        print(f"sharing benchmark, size={args.size}, reps={reps}, temp dir {sb.root}", file=sys.stderr)
        try:
            version = check(bench.sm("--version"), "skillmeat --version")
            bench.info["skillmeat_version"] = version.stdout.strip()
            bench.keys()
            for name in names:
                if name == "memory":
                    bench.bench_memory()
                    continue
                for key in ("corpus", "synthetic"):
                    try:
                        getattr(bench, f"bench_{name}")(key)
                    except BenchError as exc:  # the dataset's set-up failed
                        bench.rows.append(Row(name, name, key, error=str(exc)))
                        bench.log(f"{name}: ERROR {exc}")
        finally:
            bench.close()
            launcher.close()
            disk = shutil.disk_usage(sb.root)
    elapsed = time.perf_counter() - started

    print()
    print(f"SkillMeat sharing benchmark ({args.size}, median of {reps}): {bench.info['skillmeat_version']}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print()
    print(render(bench.rows))
    print()
    for r in bench.rows:
        extra = f"; {r.note}" if r.note else ""
        print(f"  {r.name}: n={r.reps}, baseline = {r.baseline_cmd}{extra}")
        if r.error:
            print(f"    error: {r.error}")
        if r.skipped:
            print(f"    {r.skipped}")
    print(f"  memory rows: 'skillmeat' = peak RSS on the full synthetic collection, 'baseline' = on the "
          f"one a quarter of its size (same generator); target: at most {TARGETS['memory']}x")
    for key in ("synthetic", "synthetic-quarter", "aws"):
        if key in bench.info:
            print(f"  {key}: {bench.info[key]}")
    for n in bench.notes:
        print(f"  note: {n}")
    print(f"  total {elapsed:.1f} s ({disk.free / 2**30:.0f} GiB free on the temp dir's disk at the end)")

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "size": args.size, "reps": reps,
        "only": names, "skillmeat": str(cli), "python": harness.cli_interpreter(cli),
        "python_version": platform.python_version(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "elapsed_s": round(elapsed, 2), "info": bench.info,
        "results": [r.to_json() for r in bench.rows],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"  results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
