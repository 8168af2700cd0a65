"""SSHSIG verification speed, beside raw PyNaCl and ssh-keygen measured in the same run.

    python benchmarks/sshsig_bench.py [--n 10000] [--size 256] [--sample 50] [--repeat 3] [--json]

Signs N random messages with one Ed25519 key, then times (a) ``sshsig.verify`` of all N,
(b) PyNaCl ``VerifyKey.verify`` of the same N messages with raw signatures, (c)
``ssh-keygen -Y verify`` on a sample run as subprocesses, extrapolated to N. (a) and (b)
run --repeat times, interleaved (a, b, a, b, ...) so machine noise hits both alike; the
table reports the best of each. Target: (a) within 1.5x of (b). ``--json`` prints the
numbers (every sample included) as one JSON object instead of the table; benchmarks/run.py
uses it. ssh-keygen runs in a temporary directory with its own HOME; the real home
directory is never read.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from nacl.signing import VerifyKey

from skillmeat.model import sshsig
from skillmeat.model.sshkeys import PrivateKey

TARGET = 1.5
NAMESPACE = "skillmeat-feed"


def interleaved(repeat: int, *runs: Callable[[], None]) -> list[list[float]]:
    """Each run ``repeat`` times, taking turns; the wall-clock samples of each."""
    samples: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, times in zip(runs, samples, strict=True):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return samples


def ours_runner(pairs: list[tuple[str, bytes]]) -> Callable[[], None]:
    def run() -> None:
        for armored, message in pairs:
            sshsig.verify(armored, message, NAMESPACE)
    return run


def raw_runner(key: PrivateKey, messages: list[bytes]) -> Callable[[], None]:
    verify_key = VerifyKey(key.public.raw)
    raws = [key.sign_raw(m) for m in messages]

    def run() -> None:
        for message, raw in zip(messages, raws, strict=True):
            verify_key.verify(message, raw)
    return run


def time_ssh_keygen(key: PrivateKey, pairs: list[tuple[str, bytes]]) -> float:
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        return float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        signers = base / "allowed_signers"
        signers.write_text(f"bench {key.public.openssh()}\n")
        env = {**os.environ, "HOME": str(base)}
        env.pop("SSH_AUTH_SOCK", None)
        for i, (armored, _) in enumerate(pairs):
            (base / f"{i}.sig").write_text(armored)
        start = time.perf_counter()
        for i, (_, message) in enumerate(pairs):
            subprocess.run([keygen, "-Y", "verify", "-f", str(signers), "-I", "bench", "-n", NAMESPACE,
                            "-s", str(base / f"{i}.sig")], input=message, capture_output=True,
                           env=env, check=True)
        return time.perf_counter() - start


def row(name: str, seconds: float, n: int, note: str = "") -> str:
    per = seconds / n * 1e6
    return f"| {name:<38} | {seconds:>9.3f} | {per:>9.1f} | {n / seconds:>10,.0f} | {note:<28} |"


def report(n: int, sample: int, ours: float, raw: float, keygen_sample: float) -> str:
    keygen = keygen_sample / sample * n
    ratio = ours / raw
    verdict = "PASS" if ratio <= TARGET else "MISS"
    title = f"verify (N = {n:,})"
    lines = [
        f"| {title:<38} | {'total s':>9} | {'µs each':>9} | {'per second':>10} | {'note':<28} |",
        f"|{'-' * 40}|{'-' * 11}|{'-' * 11}|{'-' * 12}|{'-' * 30}|",
        row("(a) skillmeat sshsig.verify", ours, n, f"{ratio:.2f}x raw ({verdict}, <= {TARGET}x)"),
        row("(b) PyNaCl VerifyKey.verify (raw)", raw, n, "baseline"),
        row(f"(c) ssh-keygen -Y verify ({sample}, extr.)", keygen, n, f"{keygen / ours:,.0f}x ours"),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="signatures to verify")
    parser.add_argument("--size", type=int, default=256, help="bytes per message")
    parser.add_argument("--sample", type=int, default=50, help="ssh-keygen runs to extrapolate from")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of (a) and (b); best kept")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON, not a table")
    args = parser.parse_args(argv)
    key = PrivateKey.generate("bench")
    messages = [os.urandom(args.size) for _ in range(args.n)]
    pairs = [(sshsig.sign(key, m, NAMESPACE), m) for m in messages]
    ours_samples, raw_samples = interleaved(args.repeat, ours_runner(pairs), raw_runner(key, messages))
    ours, raw = min(ours_samples), min(raw_samples)
    sample = min(args.sample, args.n)
    keygen = time_ssh_keygen(key, pairs[:sample])
    if args.json:
        found = not math.isnan(keygen)
        print(json.dumps({
            "n": args.n, "size": args.size, "repeat": args.repeat, "python": sys.version.split()[0],
            "ours_s": ours, "raw_s": raw, "ratio": ours / raw, "target": TARGET,
            "ours_samples_s": ours_samples, "raw_samples_s": raw_samples,
            "ssh_keygen_sample": sample,
            "ssh_keygen_sample_s": keygen if found else None,
            "ssh_keygen_extrapolated_s": keygen / sample * args.n if found else None,
        }, indent=2))
    else:
        print(f"SSHSIG verification, {args.size}-byte messages, Python {sys.version.split()[0]}\n")
        print(report(args.n, sample, ours, raw, keygen))
    return 0 if ours / raw <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
