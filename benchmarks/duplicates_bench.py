"""``skillmeat duplicates`` on the real corpus and on a generated collection of N artifacts.

    python benchmarks/duplicates_bench.py [--n 10000] [--reps 3] [--corpus PATH] [--keep]

The generated artifacts (40 % skills, 30 % commands, 30 % agents) have bodies drawn from a
word-trigram chain trained on the corpus (log-normal lengths, about the corpus's 950-word
mean), so they share its phrasing the way real artifacts do without being copies. About 1 %
are planted near-copies (one line changed) and 0.5 % same-body copies (another name); the
run checks that every planted pair is reported. Each timed run is the installed CLI in a
subprocess (``duplicates --json``, index already built by a ``list``), median of --reps,
with the peak RSS of the child. Everything happens in a temporary HOME / SKILLMEAT_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "wshobson-agents"
SKILLMEAT = Path(sys.executable).parent / "skillmeat"


def env_for(base: Path) -> dict[str, str]:
    home = base / "user"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n"
                                     "[gc]\n\tauto = 0\n")
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")}
    return {**keep, "HOME": str(home), "SKILLMEAT_HOME": str(base / "skillmeat"),
            "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}


def sm(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    """Run the CLI: (seconds, peak RSS in MB of that one child, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(SKILLMEAT), *args], env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"skillmeat {' '.join(args)} failed:\n{err.read()}")
        return seconds, usage.ru_maxrss // 1024, out.read()


def time_duplicates(env: dict[str, str], collection: str, reps: int) -> dict[str, Any]:
    sm(env, "-C", collection, "list")  # builds the index, as any list or search does
    runs = [sm(env, "-C", collection, "duplicates", "--json") for _ in range(reps)]
    report = json.loads(runs[-1][2])
    return {"median_s": round(statistics.median(r[0] for r in runs), 2),
            "runs_s": [round(r[0], 2) for r in runs], "peak_rss_mb": max(r[1] for r in runs),
            "pairs": len(report["pairs"]), "compared": report["compared"], "report": report}


def chain_from(corpus: Path) -> dict[tuple[str, str], list[str]]:
    chain: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(corpus.rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        body = text.split("\n---\n", 1)[-1]
        ws = body.split(" ")
        for a, b, c in zip(ws, ws[1:], ws[2:], strict=False):
            chain[(a, b)].append(c)
    return chain


def body(rng: random.Random, chain: dict[tuple[str, str], list[str]], keys: list[tuple[str, str]],
         n_words: int) -> str:
    key = rng.choice(keys)
    out = list(key)
    while len(out) < n_words:
        nxt = chain.get(key)
        if not nxt:
            key = rng.choice(keys)
            out.extend(key)
            continue
        word = rng.choice(nxt)
        out.append(word)
        key = (key[1], word)
    return " ".join(out)


def generate(root: Path, n: int, corpus: Path, seed: int = 7) -> list[tuple[str, str, str]]:
    """Write ``n`` artifacts under ``root``; return the planted (kind, id_a, id_b) pairs."""
    rng = random.Random(seed)
    chain = chain_from(corpus)
    keys = sorted(chain)
    made: list[tuple[str, str, str]] = []  # (type, name, text body)
    planted: list[tuple[str, str, str]] = []
    for i in range(n):
        type_ = "skill" if i % 10 < 4 else "command" if i % 10 < 7 else "agent"
        name = f"{type_}-{i:05d}"
        roll = rng.random()
        same_type = [m for m in made[-200:] if m[0] == type_]
        if roll < 0.01 and same_type:
            src = rng.choice(same_type)
            lines = src[2].split("\n")
            lines[rng.randrange(len(lines))] = f"A changed line for copy {i}."
            text, kind = "\n".join(lines), "near"
            planted.append((kind, f"{type_}/{src[1]}", f"{type_}/{name}"))
        elif roll < 0.015 and same_type:
            src = rng.choice(same_type)
            text = src[2]
            planted.append(("same-body", f"{type_}/{src[1]}", f"{type_}/{name}"))
        else:
            text = wrap(body(rng, chain, keys, max(20, int(rng.lognormvariate(7.1, 0.6)))))
        made.append((type_, name, text))
        write(root, type_, name, text)
    return planted


def wrap(text: str, width: int = 90) -> str:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) > width:
            lines.append(line)
            line = ""
        line = f"{line} {word}" if line else word
    return "\n".join([*lines, line]) + "\n"


def write(root: Path, type_: str, name: str, text: str) -> None:
    head = f"---\nname: {name}\ndescription: Generated {type_} {name} for the benchmark.\n---\n\n"
    path = {"skill": root / "skills" / name / "SKILL.md",
            "command": root / "commands" / f"{name}.md",
            "agent": root / "agents" / f"{name}.md"}[type_]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + text, encoding="utf-8")


def expected(tree: Path, planted: list[tuple[str, str, str]], threshold: float) -> list[frozenset[str]]:
    """The planted pairs whose exact score reaches the threshold (a changed line can sink a
    short text below it)."""
    from skillmeat.model import frontmatter
    from skillmeat.model.similarity import jaccard, shingle_set

    def body(aid: str) -> frozenset[int]:
        type_, name = aid.split("/")
        rel = f"skills/{name}/SKILL.md" if type_ == "skill" else f"{type_}s/{name}.md"
        return shingle_set(frontmatter.parse((tree / rel).read_bytes(), rel).body)

    return [frozenset((a, b)) for _, a, b in planted if jaccard(body(a), body(b)) >= threshold]


def found(report: dict[str, Any], wanted: list[frozenset[str]]) -> int:
    pairs = {frozenset((p["a"]["id"], p["b"]["id"])) for p in report["pairs"]}
    return sum(pair in pairs for pair in wanted)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"corpus not found at {args.corpus}")
    base = Path(tempfile.mkdtemp(prefix="skillmeat-dups-"))
    try:
        env = env_for(base)
        sm(env, "collection", "create", "corpus")
        sm(env, "-C", "corpus", "add", str(args.corpus), "--all")
        corpus = time_duplicates(env, "corpus", args.reps)
        print(f"corpus: {corpus['compared']} artifacts, {corpus['pairs']} pairs, "
              f"median {corpus['median_s']} s {corpus['runs_s']}, peak RSS {corpus['peak_rss_mb']} MB")
        t0 = time.perf_counter()
        tree = base / "tree"
        planted = generate(tree, args.n, args.corpus)
        sm(env, "collection", "create", "synthetic")
        sm(env, "-C", "synthetic", "add", str(tree), "--all")
        print(f"generated and added {args.n} artifacts in {time.perf_counter() - t0:.0f} s")
        synth = time_duplicates(env, "synthetic", args.reps)
        wanted = expected(tree, planted, 0.8)
        hits = found(synth["report"], wanted)
        print(f"synthetic: {synth['compared']} artifacts, {synth['pairs']} pairs, "
              f"median {synth['median_s']} s {synth['runs_s']}, peak RSS {synth['peak_rss_mb']} MB; "
              f"planted pairs found {hits}/{len(wanted)} (of {len(planted)} planted, "
              f"{len(planted) - len(wanted)} below 0.8 by construction)")
        return 0 if hits == len(wanted) else 1
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
