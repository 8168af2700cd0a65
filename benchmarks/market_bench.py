"""Marketplace feeds at scale: verify + load, search and an unchanged refresh of a signed
synthetic feed of 100,000 listings (and 10,000 for comparison), beside plain baselines
measured in the same run.

    python benchmarks/market_bench.py [--listings N] [--compare N] [--reps N] [--json PATH]
                                      [--keep] [--profile]

The feed is generated here (seeded: every run writes the same listings), signed with
``feedcheck.sign_feed`` by a key generated for the run and trusted in the sandbox with
``skillmeat keys trust KEY.pub --principal x@example.com``, and written as the ``feed.json``
of a directory vault. That directory is registered twice: as a ``file://`` marketplace and,
served by ``python -m http.server`` on 127.0.0.1, as an http one.

- ``load``: a fresh ``FeedBroker(...).listings()`` in one child process (read the cached
  feed, ``check_feed``, build the ``MarketListing`` list), interleaved with ``json.loads`` of the
  same bytes; and the real CLI ``skillmeat marketplace search RARE --marketplace M --json``
  end to end, beside ``python -c 'json.load(...)'`` of the same file. Target: under 2 s.
- ``search``: ``SearchIndex(listings).search(q)`` for a rare word, a common word and the common
  word with a type filter, interleaved with a plain linear scan of the same listings
  (``q in l.description.lower() or q in l.name.lower()``). Target: under 0.2 s.
- ``refresh``: ``skillmeat marketplace refresh M --json`` of an unchanged feed (http: a
  conditional GET; file://: size + inode/mtime). Target: 0 bytes transferred and
  ``changed: false`` on every call (and only 304s in the server's log). Beside it, for time
  only, a full download (``curl -o /dev/null``, ``cat > /dev/null``), and a refresh after the
  feed was re-published (version + 1), which must transfer the whole feed.

Medians over ``--reps``; peak RSS per child (``os.wait4``, children started by
``sharing_bench``'s small launcher process). Isolation is ``run.py``'s ``Sandbox`` (temp HOME,
SKILLMEAT_HOME, XDG_CONFIG_HOME, GIT_CONFIG_GLOBAL). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as harness  # noqa: E402  (benchmarks/run.py: sandbox, child runner, helpers)
from run import Paired, Sandbox, check  # noqa: E402
from sharing_bench import Launcher  # noqa: E402  (the small process that starts the children)

RESULTS = HERE / "results" / "market-latest.json"
PRINCIPAL = "x@example.com"
LOAD_TARGET_S = 2.0
SEARCH_TARGET_S = 0.2
SEED = 7171

# --------------------------------------------------------------------------- synthetic feed

# fmt: off
_COMMON = (
    "the", "and", "for", "with", "your", "code", "review", "tests", "files", "project", "data",
    "api", "build", "deploy", "quickly", "using", "from", "into", "changes", "errors", "docs",
    "python", "typescript", "rust", "golang", "react", "django", "fastapi", "postgres", "redis",
    "kafka", "terraform", "docker", "kubernetes", "helm", "aws", "gcp", "azure", "graphql", "grpc",
    "security", "testing", "pytest", "playwright", "observability", "prometheus", "grafana",
    "release", "pdf", "spreadsheet", "accessibility", "performance", "migration", "refactoring",
    "auth", "oauth", "payments", "mobile", "summarize", "generate", "analyze", "validate", "format",
    "lint", "scaffold", "explain", "audit", "benchmark", "schema", "queries", "logs", "metrics",
    "alerts", "pipelines", "workflows", "commits", "branches", "issues", "tickets", "reports",
    "invoices", "contracts", "diagrams", "slides", "notebooks", "models", "prompts", "agents",
)
_NOUNS = (
    "summary", "helper", "linter", "reviewer", "writer", "checker", "planner", "runner", "guard",
    "assistant", "builder", "fixer", "scanner", "tracker", "formatter", "explainer", "auditor",
    "generator", "migrator", "tester", "profiler", "monitor", "notifier", "importer", "exporter",
)
_TYPES = (("skill", 40), ("command", 20), ("agent", 20), ("hook", 5), ("mcp", 5), ("bundle", 10))
# fmt: on


def _vocabulary(rng: random.Random) -> list[str]:
    """Real words first (the frequent ones), then 3,000 invented 6-10 letter words (the tail)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    seen = set(_COMMON)
    tail: list[str] = []
    while len(tail) < 3_000:
        w = "".join(rng.choice(letters) for _ in range(rng.randint(6, 10)))
        if w not in seen:
            seen.add(w)
            tail.append(w)
    return [*_COMMON, *tail]


@dataclass
class Generated:
    path: Path
    listings: int
    size: int
    rare: str          # a word in a handful of descriptions
    rare_count: int
    common: str        # a word in a large share of them
    common_count: int
    seconds: float
    feed: Any = None   # the Feed (kept to re-publish it)
    compact: bool = False  # written without whitespace (as publish writes it, it was over MAX_FEED)
    pretty_size: int = 0   # the size as publish writes it (Feed.to_json)
    compact_size: int = 0  # the same feed without whitespace

    @property
    def label(self) -> str:
        return f"{self.listings:,}" + (" compact" if self.compact else "")


def generate_listings(n: int, seed: int = SEED) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``n`` listings as ``publish`` writes them: id, type, name, version, description (~80
    characters of words, Zipf-like frequencies), 0-3 tags, artifacts, publisher {name, key},
    bundle {url, sha256, size}, status (3 % drafts, 1 % yanked with a reason).
    Also: in how many descriptions each word occurs."""
    from skillmeat.model.sshkeys import PrivateKey

    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    cum = list(itertools.accumulate(1.0 / (i + 1) ** 1.05 for i in range(len(vocab))))
    publishers = []
    for i in range(300):
        name = f"{rng.choice(_NOUNS)}-{rng.choice(_COMMON)}-team-{i}"
        key = PrivateKey(rng.randbytes(32), f"{name}@example.com").public.openssh()
        publishers.append({"name": name, "key": key})
    types = [t for t, _ in _TYPES]
    type_weights = [w for _, w in _TYPES]
    tag_pool = list(_COMMON[21:60])
    words_in: dict[str, int] = {}
    names: set[str] = set()
    out: list[dict[str, Any]] = []
    while len(out) < n:
        base = f"{rng.choice(_COMMON[21:])}-{rng.choice(_NOUNS)}"
        name = base
        k = 1
        while name in names:
            k += 1
            name = f"{base}-{k}"
        names.add(name)
        kind = rng.choices(types, type_weights)[0]
        publisher = rng.choice(publishers)
        major = rng.randint(0, 3)
        for minor in range(rng.choice((1, 1, 1, 2, 2, 3))):
            if len(out) >= n:
                break
            version = f"{major}.{minor}.{rng.randint(0, 9)}"
            words: list[str] = []
            length = 0
            for w in rng.choices(vocab, cum_weights=cum, k=40):
                words.append(w)
                length += len(w) + 1
                if length >= 76:
                    break
            description = " ".join(words).capitalize() + "."
            for w in set(words):
                words_in[w] = words_in.get(w, 0) + 1
            if kind == "bundle":
                artifacts = [f"{rng.choice(types[:3])}/{name}-{j}" for j in range(rng.randint(2, 4))]
            else:
                artifacts = [f"{kind}/{name}"]
            entry: dict[str, Any] = {
                "status": "published", "id": f"{name}@{version}", "name": name, "version": version,
                "type": kind, "description": description,
                "tags": rng.sample(tag_pool, rng.randint(0, 3)), "artifacts": artifacts,
                "publisher": dict(publisher),
                "bundle": {"url": f"bundles/{name}-{version}.skillmeat-pack",
                           "sha256": rng.randbytes(32).hex(), "size": rng.randint(2_000, 2_000_000)},
            }
            r = rng.random()
            if r < 0.03:
                entry["status"] = "draft"
            elif r < 0.04:
                entry["status"], entry["reason"] = "yanked", "security fix in a newer version"
            out.append(entry)
    return out, words_in


def write_feed(path: Path, feed: Any, key: Any, compact: bool = False) -> int:
    """Sign ``feed`` with ``key`` and write it atomically (a new inode, as publish does):
    ``Feed.to_json`` (what ``publish`` writes), or with ``compact`` the same document without
    whitespace (the signature covers the canonical JSON of ``signed``, not the file's bytes)."""
    from skillmeat.services.feedcheck import sign_feed

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    feed.generated = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    feed.expires = (now + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sign_feed(feed, [key])
    if compact:
        doc = {"signed": feed.signed(), "signatures": feed.signatures}
        data = (json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    else:
        data = feed.to_json()
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return len(data)


def generate_feed(root: Path, n: int, key: Any) -> Generated:
    """The feed as ``publish`` writes it; if that is over ``MAX_FEED``, then the same signed
    feed without whitespace (``compact``), so the other measurements can still run."""
    from skillmeat.model.feed import FEED_FILE, MAX_FEED, Feed

    t0 = time.perf_counter()
    listings, words_in = generate_listings(n)
    root.mkdir(parents=True, exist_ok=True)
    feed = Feed(name=f"bench-{n}", version=1, listings=listings)
    size = pretty = write_feed(root / FEED_FILE, feed, key)
    compact = size > MAX_FEED
    doc = {"signed": feed.signed(), "signatures": feed.signatures}
    compact_size = len(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                       .encode()) + 1
    if compact:
        size = write_feed(root / FEED_FILE, feed, key, compact=True)
    # a rare word: an invented one (no real word is a substring of it) in 3-30 descriptions
    rare = sorted((w for w, c in words_in.items() if w not in _COMMON and 3 <= c <= 30 and len(w) >= 8),
                  key=lambda w: (words_in[w], w))
    common = max((w for w in _COMMON if len(w) >= 5), key=lambda w: words_in.get(w, 0))
    if not rare:
        rare = sorted((w for w in words_in if w not in _COMMON), key=lambda w: (words_in[w], w))
    pick = rare[len(rare) // 2]
    return Generated(root / FEED_FILE, n, size, pick, words_in[pick], common, words_in[common],
                     time.perf_counter() - t0, feed, compact, pretty, compact_size)


# --------------------------------------------------------------------------- worker (child process)

# The in-process measurements run in a child of the launcher (``--worker SPEC``): the venv's
# interpreter with the sandbox env, so its peak RSS is its own and it reads the same
# SKILLMEAT_HOME (trust, cache, feed state) as the CLI.


def _fresh_broker(market: str) -> Any:
    from skillmeat.services import marketplaces
    from skillmeat.services.brokers.feed import FeedBroker
    from skillmeat.store.home import Home

    home = Home.from_env()
    mp = marketplaces.get(home, market)
    return FeedBroker(mp.name, mp.source, marketplaces.context(home, mp))


def worker_load(spec: dict[str, Any]) -> dict[str, Any]:
    import gc
    import hashlib

    from skillmeat.model import feed as feedmodel
    from skillmeat.model import sshsig, strictjson

    feed_path = Path(spec["feed"])
    sm: list[float] = []
    base: list[float] = []
    count = 0
    for _ in range(spec["reps"]):
        gc.collect()
        t = time.perf_counter()
        doc = json.loads(feed_path.read_bytes())
        base.append(time.perf_counter() - t)
        del doc
        gc.collect()
        t = time.perf_counter()
        listings = _fresh_broker(spec["market"]).listings()
        sm.append(time.perf_counter() - t)
        count = len(listings)
        del listings
    # where the time goes: the steps of one more load, each alone
    steps: dict[str, float] = {}

    def step(name: str, fn: Callable[[], Any]) -> Any:
        gc.collect()
        t = time.perf_counter()
        value = fn()
        steps[name] = time.perf_counter() - t
        return value

    data = step("read", feed_path.read_bytes)
    step("json.loads", lambda: json.loads(data))
    step("strictjson.loads", lambda: strictjson.loads(data))
    feed = step("feed.parse (strictjson + shape checks)", lambda: feedmodel.parse(data, "bench"))
    body = step("canonical(signed)", lambda: feedmodel.canonical(feed.signed()))
    step("sshsig.verify", lambda: sshsig.verify(feed.signatures[0]["sig"], body, feedmodel.NAMESPACE))
    step("sha256(canonical)", lambda: hashlib.sha256(body).hexdigest())
    broker = _fresh_broker(spec["market"])
    checked = step("check_feed (all of the above + state)", lambda: broker.check(data))
    step("map to MarketListing", lambda: broker._map(checked))
    return {"sm": sm, "base": base, "count": count, "steps": steps}


def worker_search(spec: dict[str, Any]) -> dict[str, Any]:
    import gc

    from skillmeat.services.marketplaces import SearchIndex

    listings = _fresh_broker(spec["market"]).listings()
    build: list[float] = []
    index = None
    for _ in range(spec["reps"]):
        index = None
        gc.collect()
        t = time.perf_counter()
        index = SearchIndex(listings)
        build.append(time.perf_counter() - t)
    assert index is not None
    out: dict[str, Any] = {"build": build, "listings": len(listings), "queries": {}}
    for query in spec["queries"]:
        q, type_ = query["q"], query.get("type")
        sm: list[float] = []
        base: list[float] = []
        found = scanned = 0
        for _ in range(spec["reps"]):
            t = time.perf_counter()
            found = len(index.search(q, type_=type_))
            sm.append(time.perf_counter() - t)
            t = time.perf_counter()
            if type_:
                hits = [x for x in listings
                        if x.type == type_ and (q in x.description.lower() or q in x.name.lower())]
            else:
                hits = [x for x in listings if q in x.description.lower() or q in x.name.lower()]
            base.append(time.perf_counter() - t)
            scanned = len(hits)
        out["queries"][query["label"]] = {"sm": sm, "base": base, "found": found, "scan_found": scanned}
    return out


def worker_profile(spec: dict[str, Any]) -> dict[str, Any]:
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    _fresh_broker(spec["market"]).listings()
    prof.disable()
    texts = {}
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(18)
        texts[key] = buf.getvalue()
    return texts


def worker_main(spec_text: str) -> int:
    spec = json.loads(spec_text)
    fn = {"load": worker_load, "search": worker_search, "profile": worker_profile}[spec["task"]]
    print(json.dumps(fn(spec)))
    return 0


# --------------------------------------------------------------------------- results


@dataclass
class Row(Paired):
    name: str
    dataset: str
    reps: int = 0
    sm: list[float] = field(default_factory=list)
    base: list[float] = field(default_factory=list)
    sm_rss: list[int] = field(default_factory=list)   # KiB
    base_rss: list[int] = field(default_factory=list)
    baseline_cmd: str = ""
    target_s: float | None = None    # absolute: the median under this many seconds
    target_text: str = ""            # for checks that are not a time (refresh: 0 bytes)
    ok: bool | None = None           # the result of such a check
    note: str = ""
    error: str = ""
    unit: str = "s"                  # or "MiB" (feed-size)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        if self.target_s is not None:
            return f"< {_fmt(self.target_s, self.unit)}"
        return self.target_text or "-"

    @property
    def status(self) -> str:
        if self.error:
            return "ERROR"
        if self.ok is not None:
            return "PASS" if self.ok else "MISS"
        if self.target_s is None:
            return "info"
        s = self.sm_median
        return "-" if s is None else ("PASS" if s < self.target_s else "MISS")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "dataset": self.dataset, "reps": self.reps,
            "unit": self.unit, "skillmeat": self.sm_median, "baseline": self.base_median, "ratio": self.ratio,
            "target": self.target, "status": self.status, "baseline_cmd": self.baseline_cmd,
            "skillmeat_samples": self.sm, "baseline_samples": self.base,
            "skillmeat_maxrss_kb": max(self.sm_rss) if self.sm_rss else None,
            "baseline_maxrss_kb": max(self.base_rss) if self.base_rss else None,
            "note": self.note, "error": self.error, **self.extra,
        }


def _fmt(v: float | None, unit: str = "s") -> str:
    if v is None:
        return "-"
    if unit == "MiB":
        return f"{v:.1f} MiB"
    return f"{v * 1000:.1f} ms" if v < 0.1 else f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _rss(kb: list[int]) -> str:
    return f"{max(kb) / 1024:.0f}" if kb else "-"


def render(rows: list[Row]) -> str:
    head = ("measurement", "listings", "skillmeat", "baseline", "ratio", "target", "result", "RSS MB sm/base")
    table = [head]
    for r in rows:
        table.append((r.name, r.dataset, _fmt(r.sm_median, r.unit), _fmt(r.base_median, r.unit),
                      f"{r.ratio:.2f}x" if r.ratio is not None else "-", r.target, r.status,
                      f"{_rss(r.sm_rss)}/{_rss(r.base_rss)}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    right = {1, 2, 3, 4, 7}

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(row) for row in table[1:])])


# --------------------------------------------------------------------------- the benchmark


class HttpServer:
    """``python -m http.server`` on 127.0.0.1 (a free port) serving ``root``; its access log
    (stderr) goes to a file, read back to see what each request got (200 or 304)."""

    def __init__(self, root: Path, log: Path, python: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [python, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log)
        self._seen = 0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise harness.BenchError("http.server exited")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise harness.BenchError("http.server did not start")

    def url(self, rel: str) -> str:
        return f"http://127.0.0.1:{self.port}/{rel}"

    def new_statuses(self) -> list[str]:
        """The status codes of the requests logged since the last call."""
        time.sleep(0.02)  # the handler logs after the response is sent
        lines = self.log_path.read_text(errors="replace").splitlines()
        new, self._seen = lines[self._seen:], len(lines)
        return [m.group(1) for ln in new if (m := re.search(r'HTTP/[\d.]+" (\d{3})', ln))]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class MarketBench:
    def __init__(self, sb: Any, launcher: Any, cli: Path, reps: int, profile: bool) -> None:
        self.sb = sb
        self.launcher = launcher
        self.cli = cli
        self.python = harness.cli_interpreter(cli)
        self.reps = reps
        self.profile = profile
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.info: dict[str, Any] = {}
        self.profiles: dict[str, dict[str, str]] = {}
        self.key: Any = None
        self.server: HttpServer | None = None

    def log(self, msg: str) -> None:
        print(f"  .. {msg}", file=sys.stderr, flush=True)

    def run(self, cmd: Sequence[str | Path]) -> Any:
        return self.launcher.run(cmd, self.sb.env, self.sb.work)

    def sm(self, *args: str | Path) -> Any:
        return self.run([self.cli, *args])

    def worker(self, spec: dict[str, Any]) -> tuple[dict[str, Any], int]:
        r = check(self.run([self.python, Path(__file__), "--worker", json.dumps(spec)]),
                  f"worker {spec['task']}")
        return json.loads(r.stdout), r.maxrss_kb

    def measure(self, row: Row, body: Callable[[Row], None]) -> Row:
        self.rows.append(row)
        t0 = time.perf_counter()
        self.log(f"{row.name} ({row.dataset} listings)")
        try:
            body(row)
        except harness.BenchError as exc:
            row.error = str(exc)
            self.log(f"{row.name}: ERROR {exc}")
        self.log(f"{row.name}: done in {time.perf_counter() - t0:.1f} s")
        return row

    # -- set-up

    def trust_key(self) -> None:
        from skillmeat.model.sshkeys import PrivateKey

        self.key = PrivateKey.generate(PRINCIPAL)
        pub = self.sb.root / "feed-key.pub"
        pub.write_text(self.key.public.openssh() + "\n", encoding="utf-8")
        check(self.sm("keys", "trust", pub, "--principal", PRINCIPAL), "skillmeat keys trust")
        self.info["key"] = self.key.public.fingerprint()

    def http(self) -> HttpServer:
        if self.server is None:
            self.server = HttpServer(self.sb.work, self.sb.root / "http.log", self.python)
            self.log(f"set-up: http.server on 127.0.0.1:{self.server.port}")
        return self.server

    def dataset(self, n: int) -> tuple[Generated, str, str]:
        """Generate, sign and write the feed; register it as file://... and http://..."""
        self.log(f"set-up: generating and signing a feed of {n:,} listings")
        gen = generate_feed(self.sb.work / f"vault-{n}", n, self.key)
        self.log(f"set-up: {gen.size:,} bytes in {gen.seconds:.1f} s; rare word {gen.rare!r} "
                 f"({gen.rare_count}), common word {gen.common!r} ({gen.common_count})")
        self.info[f"feed-{n}"] = {"bytes": gen.size, "generate_and_sign_s": round(gen.seconds, 2),
                                  "rare": [gen.rare, gen.rare_count],
                                  "common": [gen.common, gen.common_count],
                                  "as_published_bytes": gen.pretty_size, "compact_bytes": gen.compact_size,
                                  "written_compact": gen.compact}
        from skillmeat.model.feed import MAX_FEED

        mib = 1 << 20
        size_row = Row("feed-size", f"{n:,}", 1, sm=[gen.pretty_size / mib], base=[gen.compact_size / mib],
                       unit="MiB", target_text=f"<= {MAX_FEED / mib:.0f} MiB", ok=gen.pretty_size <= MAX_FEED,
                       baseline_cmd="the same feed without whitespace (compact JSON)")
        size_row.note = (f"feed.json as publish writes it (Feed.to_json, indent=1): "
                         f"{gen.pretty_size:,} bytes, "
                         f"{gen.pretty_size / n:.0f} per listing; compact: {gen.compact_size:,} bytes; "
                         f"MAX_FEED = {MAX_FEED:,}")
        if gen.compact:
            size_row.note += ("; OVER THE CAP: refused by refresh/check_feed, so the rows below marked "
                              "'compact' use the same signed feed written without whitespace")
        self.rows.append(size_row)
        file_mp, web_mp = f"file{n}", f"web{n}"
        file_row = Row("add-file", gen.label, 1, baseline_cmd="-", note="first refresh: fetch, verify, cache")
        web_row = Row("add-http", gen.label, 1, baseline_cmd="-", note="first refresh: fetch, verify, cache")

        def add(row: Row, name: str, source: str) -> None:
            r = check(self.sm("marketplace", "add", name, source), f"skillmeat marketplace add {name}")
            row.sm.append(r.seconds)
            row.sm_rss.append(r.maxrss_kb)
            row.note = f"{r.stdout.strip()}; {row.note}"

        self.measure(file_row, lambda row: add(row, file_mp, gen.path.parent.as_uri()))
        web_url = self.http().url(f"vault-{n}/feed.json")
        self.measure(web_row, lambda row: add(row, web_mp, web_url))
        self.http().new_statuses()
        return gen, file_mp, web_mp

    # -- 1. verify + load

    def bench_load(self, gen: Generated, market: str) -> None:
        n = gen.label
        cached = self.sb.sm_home / "cache" / "marketplaces" / market / "feed.json"
        inproc = Row("load", n, self.reps, target_s=LOAD_TARGET_S,
                     baseline_cmd="json.loads of the same bytes (same process, interleaved)")

        def body(row: Row) -> None:
            if not cached.is_file():
                raise harness.BenchError(f"no cached feed at {cached}")
            out, rss = self.worker({"task": "load", "market": market, "reps": self.reps,
                                    "feed": str(cached)})
            row.sm, row.base = out["sm"], out["base"]
            row.sm_rss = [rss]
            if out["count"] != gen.listings:
                raise harness.BenchError(f"listings() gave {out['count']}, not {gen.listings}")
            row.extra["steps_s"] = out["steps"]
            row.note = ("fresh FeedBroker(...).listings(): read cache + check_feed + MarketListing list; "
                        "steps: " + ", ".join(f"{k} {_fmt(v)}" for k, v in out["steps"].items()))

        self.measure(inproc, body)

        cli = Row("load-cli", n, self.reps, target_s=LOAD_TARGET_S,
                  baseline_cmd="python -c 'json.load(open(F))' of the cached feed (same interpreter)")

        def cli_body(row: Row) -> None:
            args = ("marketplace", "search", gen.rare, "--marketplace", market, "--json")
            base = [self.python, "-c", "import json, sys; json.load(open(sys.argv[1], 'rb'))", cached]
            warm = check(self.sm(*args), "skillmeat marketplace search")
            found = len(json.loads(warm.stdout))
            for _ in range(self.reps):
                r = check(self.sm(*args), "skillmeat marketplace search")
                row.sm.append(r.seconds)
                row.sm_rss.append(r.maxrss_kb)
                b = check(self.run(base), "python json.load")
                row.base.append(b.seconds)
                row.base_rss.append(b.maxrss_kb)
            startup = [check(self.sm("--version"), "skillmeat --version").seconds for _ in range(3)]
            row.extra["found"] = found
            row.extra["version_s"] = statistics.median(startup)
            row.note = (f"`skillmeat marketplace search {gen.rare} --marketplace {market} --json` end to end "
                        f"({found} hits; warm-up {_fmt(warm.seconds)}); `skillmeat --version` alone: "
                        f"{_fmt(statistics.median(startup))}")

        self.measure(cli, cli_body)
        if self.profile or any(r.status == "MISS" for r in (inproc, cli)):
            self.log(f"profile: FeedBroker.listings() on {n} listings")
            with contextlib.suppress(harness.BenchError):
                self.profiles[n], _ = self.worker({"task": "profile", "market": market})

    # -- 2. search

    def bench_search(self, gen: Generated, market: str) -> None:
        n = gen.label
        queries = [
            {"label": "search-rare", "q": gen.rare},
            {"label": "search-common", "q": gen.common},
            {"label": "search-type", "q": gen.common, "type": "agent"},
        ]
        rows = {q["label"]: Row(q["label"], n, self.reps, target_s=SEARCH_TARGET_S) for q in queries}
        build = Row("search-index", n, self.reps, baseline_cmd="-",
                    note="SearchIndex(listings): one lower-cased haystack per listing (once per CLI call)")
        self.rows.append(build)
        self.rows.extend(rows.values())
        t0 = time.perf_counter()
        self.log(f"search ({n} listings)")
        try:
            out, rss = self.worker({"task": "search", "market": market, "reps": self.reps,
                                    "queries": queries})
        except harness.BenchError as exc:
            for r in (build, *rows.values()):
                r.error = str(exc)
            self.log(f"search: ERROR {exc}")
            return
        build.sm, build.sm_rss = out["build"], [rss]
        for q in queries:
            r = rows[q["label"]]
            got = out["queries"][q["label"]]
            r.sm, r.base, r.sm_rss = got["sm"], got["base"], [rss]
            r.extra.update(found=got["found"], scan_found=got["scan_found"], query=q)
            what = f"search({q['q']!r}" + (f", type_={q['type']!r})" if q.get("type") else ")")
            scan = ("x.type == T and (q in ...)" if q.get("type")
                    else "q in x.description.lower() or q in x.name.lower()")
            r.baseline_cmd = f"[x for x in listings if {scan}] (same process, interleaved)"
            r.note = (f"{what}: {got['found']:,} hits (the scan: {got['scan_found']:,}; search also looks at "
                      "id and tags, and leaves out drafts and yanked listings)")
        self.log(f"search: done in {time.perf_counter() - t0:.1f} s")

    # -- 3. refresh

    def _refresh(self, market: str) -> tuple[Any, dict[str, Any]]:
        r = check(self.sm("marketplace", "refresh", market, "--json"),
                  f"skillmeat marketplace refresh {market}")
        return r, json.loads(r.stdout)[market]

    def bench_refresh(self, gen: Generated, file_mp: str, web_mp: str) -> None:
        n = gen.label
        server = self.http()
        url = server.url(f"vault-{gen.listings}/feed.json")
        curl = shutil.which("curl", path=self.sb.env.get("PATH"))
        if curl:
            http_base: list[str | Path] = [curl, "-s", "-f", "-o", "/dev/null", url]
            http_base_text = "curl -s -o /dev/null URL (full download)"
        else:
            http_base = [self.python, "-c",
                         "import sys, urllib.request as u; u.urlopen(sys.argv[1]).read()", url]
            http_base_text = "python urllib GET of the feed (full download)"
        file_base: list[str | Path] = ["sh", "-c", 'cat "$1" > /dev/null', "_", gen.path]
        cases = ((web_mp, "refresh-http", http_base, http_base_text, True),
                 (file_mp, "refresh-file", file_base, "cat feed.json > /dev/null (full read)", False))
        for market, name, base_cmd, base_text, is_http in cases:
            row = Row(name, n, self.reps, baseline_cmd=base_text, target_text="0 bytes")

            def body(row: Row, market: str = market, base_cmd: Any = base_cmd, base_text: str = base_text,
                     is_http: bool = is_http) -> None:
                first, first_doc = self._refresh(market)
                first_status = server.new_statuses() if is_http else []
                transferred, changed, statuses, details = [], [], [], []
                for _ in range(self.reps):
                    r, doc = self._refresh(market)
                    row.sm.append(r.seconds)
                    row.sm_rss.append(r.maxrss_kb)
                    transferred.append(doc["transferred"])
                    changed.append(doc["changed"])
                    details.append(doc["detail"])
                    if is_http:
                        statuses += server.new_statuses()
                    b = check(self.run(base_cmd), base_text)
                    row.base.append(b.seconds)
                    row.base_rss.append(b.maxrss_kb)
                    if is_http:
                        server.new_statuses()
                row.ok = (not any(transferred) and not any(changed)
                          and (not is_http or (bool(statuses) and set(statuses) == {"304"})))
                row.extra.update(first=first_doc, transferred=transferred, changed=changed,
                                 server_statuses=statuses)
                served = (f"; server answered {', '.join(sorted(set(statuses)))} x{len(statuses)}"
                          if is_http else "")
                row.note = (f"unchanged feed: transferred {sorted(set(transferred))} bytes, changed "
                            f"{sorted(set(changed))}, detail {sorted(set(details))}{served}; the first "
                            f"refresh after add: transferred {first_doc['transferred']:,}, changed "
                            f"{first_doc['changed']} ({_fmt(first.seconds)}"
                            + (f", server {'/'.join(first_status)}" if is_http else "") + ")")

            self.measure(row, body)

        # after a re-publish (version + 1): the whole feed again, on both
        changed_rows = {m: Row(f"{name}-changed", n, 0, baseline_cmd=text + " (the same as above)",
                               target_text="full feed")
                        for m, name, _, text, _ in cases}
        bases = {m: cmd for m, _, cmd, _, _ in cases}
        self.rows.extend(changed_rows.values())
        self.log(f"refresh after a re-publish ({n} listings)")
        try:
            for _ in range(min(self.reps, 3)):
                _next_second(gen.path)  # see bench_race for a re-publish within the same second
                gen.feed.version += 1
                size = write_feed(gen.path, gen.feed, self.key, gen.compact)
                server.new_statuses()
                for market, row in changed_rows.items():
                    r, doc = self._refresh(market)
                    row.reps += 1
                    row.sm.append(r.seconds)
                    row.sm_rss.append(r.maxrss_kb)
                    good = (doc["changed"] and doc["transferred"] == size
                            and doc["version"] == gen.feed.version)
                    row.ok = good if row.ok is None else row.ok and good
                    row.extra.setdefault("transferred", []).append(doc["transferred"])
                    row.note = (f"feed re-signed as version {gen.feed.version} ({size:,} bytes): transferred "
                                f"{doc['transferred']:,}, changed {doc['changed']}")
                    b = check(self.run(bases[market]), "baseline")
                    row.base.append(b.seconds)
                    row.base_rss.append(b.maxrss_kb)
        except harness.BenchError as exc:
            for row in changed_rows.values():
                row.error = str(exc)

    def bench_race(self, gen: Generated, web_mp: str) -> None:
        """Two publishes within one second, a refresh between them: http.server's Last-Modified
        has a one-second resolution and it sends no ETag, so an If-Modified-Since refresh gets a
        304 for the second version. Simulated: the second version's mtime is set to the first's
        plus 1 microsecond (on a fast publisher this happens by itself)."""
        server = self.http()
        row = Row("refresh-http-same-second", gen.label, 0, target_text="full feed",
                  baseline_cmd="-")

        def body(row: Row) -> None:
            _next_second(gen.path)
            gen.feed.version += 1
            write_feed(gen.path, gen.feed, self.key, gen.compact)
            first_ns = gen.path.stat().st_mtime_ns
            server.new_statuses()
            _, doc1 = self._refresh(web_mp)
            got1 = server.new_statuses()
            gen.feed.version += 1
            size = write_feed(gen.path, gen.feed, self.key, gen.compact)
            forced = int(gen.path.stat().st_mtime_ns // 10**9) != first_ns // 10**9
            if forced:  # the write took us into the next second: put it back into the first one
                os.utime(gen.path, ns=(first_ns + 1_000, first_ns + 1_000))
            r, doc2 = self._refresh(web_mp)
            got2 = server.new_statuses()
            time.sleep(2.0)
            _, doc3 = self._refresh(web_mp)
            got3 = server.new_statuses()
            row.reps = 1
            row.sm, row.sm_rss = [r.seconds], [r.maxrss_kb]
            row.ok = doc2["changed"] and doc2["transferred"] == size
            row.extra.update(refreshes=[doc1, doc2, doc3], server=[got1, got2, got3], mtime_forced=forced)
            row.note = (f"v{gen.feed.version - 1} fetched ({doc1['transferred']:,} bytes, "
                        f"server {'/'.join(got1)}); "
                        f"v{gen.feed.version} written {'(mtime set) ' if forced else ''}in the same second: "
                        f"refresh got {'/'.join(got2)}, transferred {doc2['transferred']:,}, version "
                        f"{doc2['version']}; 2 s later: {'/'.join(got3)}, version {doc3['version']} "
                        f"(server has v{gen.feed.version})")

        self.measure(row, body)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None


def _next_second(path: Path) -> None:
    """Wait until the wall clock is in a later second than ``path``'s mtime (so a new version
    written now gets a different HTTP Last-Modified, which has a one-second resolution)."""
    with contextlib.suppress(OSError):
        until = path.stat().st_mtime_ns // 10**9 + 1
        while time.time() < until:
            time.sleep(until - time.time() + 0.01)


# --------------------------------------------------------------------------- main


@contextlib.contextmanager
def sandbox(keep: bool) -> Iterator[Any]:
    root = Path(tempfile.mkdtemp(prefix="skillmeat-market-bench-"))
    try:
        yield Sandbox(root)
    finally:
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listings", type=int, default=100_000, help="listings in the feed (default: 100,000)")
    ap.add_argument("--compare", type=int, default=10_000,
                    help="a second, smaller feed for comparison (default: 10,000; 0: none)")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions (default: 5)")
    ap.add_argument("--json", type=Path, default=RESULTS,
                    help="where to write results (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--profile", action="store_true",
                    help="profile FeedBroker.listings() even when the load target is met")
    args = ap.parse_args(argv)
    sizes = [args.listings] + ([args.compare] if 0 < args.compare < args.listings else [])
    cli = harness.find_cli()
    started = time.perf_counter()
    with sandbox(args.keep) as sb:
        launcher = Launcher(sb.env)
        bench = MarketBench(sb, launcher, cli, args.reps, args.profile)
        print(f"market benchmark, listings={', '.join(f'{n:,}' for n in sizes)}, reps={args.reps}, "
              f"temp dir {sb.root}", file=sys.stderr)
        try:
            version = check(bench.sm("--version"), "skillmeat --version")
            bench.info["skillmeat_version"] = version.stdout.strip()
            bench.trust_key()
            for n in sizes:
                gen, file_mp, web_mp = bench.dataset(n)
                bench.bench_load(gen, file_mp)
                bench.bench_search(gen, file_mp)
                bench.bench_refresh(gen, file_mp, web_mp)
                bench.bench_race(gen, web_mp)
                gen.feed = None
        finally:
            bench.close()
            launcher.close()
    elapsed = time.perf_counter() - started

    print()
    print(f"SkillMeat marketplace benchmark (median of {args.reps}): {bench.info['skillmeat_version']}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print()
    print(render(bench.rows))
    print()
    for r in bench.rows:
        extra = f"; {r.note}" if r.note else ""
        print(f"  {r.name} [{r.dataset}]: n={len(r.sm)}, baseline = {r.baseline_cmd}{extra}")
        if r.error:
            print(f"    error: {r.error}")
    for n in sizes:
        f = bench.info.get(f"feed-{n}")
        if f:
            how = ("compact (as published it is over the cap)" if f["written_compact"]
                   else "as publish writes it")
            print(f"  feed of {n:,} listings: {f['bytes']:,} bytes {how}, generated and signed in "
                  f"{f['generate_and_sign_s']} s; rare word {f['rare'][0]!r} in {f['rare'][1]} "
                  f"descriptions, common word {f['common'][0]!r} in {f['common'][1]:,}")
    for n, texts in bench.profiles.items():
        print(f"\n  cProfile of FeedBroker(...).listings(), {n} listings (tottime):")
        print("\n".join("    " + ln for ln in texts["tottime"].strip().splitlines()))
    print(f"  total {elapsed:.1f} s")

    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "listings": sizes, "reps": args.reps,
        "skillmeat": str(cli), "python": harness.cli_interpreter(cli),
        "python_version": platform.python_version(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "elapsed_s": round(elapsed, 2), "info": bench.info,
        "results": [r.to_json() for r in bench.rows], "profiles": bench.profiles,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"  results written to {args.json}")
    failed = [r for r in bench.rows if r.status in ("MISS", "ERROR")]
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        sys.exit(worker_main(sys.argv[2]))
    sys.exit(main())
