"""Content similarity of artifact texts: normalized words, shingles, MinHash LSH, exact Jaccard.

A text becomes its lower-case words (ASCII punctuation, markup and whitespace are
separators), then the set of its word ``SHINGLE``-grams. The score of two texts is the
exact Jaccard index of those sets. Texts with the same words are grouped by digest first
(score 1.0); the rest are paired through a one-permutation MinHash signature with
rotation densification (Shrivastava & Li, ICML 2014) and LSH banding, with band widths
chosen so a pair at the threshold is missed with probability under ``MISS``. Every
proposed pair is then scored exactly, so no reported score is an estimate.

Words are numbered by their CRC-32 and shingles hashed as tuples of those numbers, so
every value is the same in every process (Python salts its hash of ``str`` and ``bytes``).
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

from skillmeat.model import frontmatter

SHINGLE = 4
BINS = 128
MISS = 1e-6  # the chance LSH misses a pair exactly at the threshold
_BIN_MASK = BINS - 1
# Bytes that separate words: ASCII whitespace and punctuation. Non-ASCII bytes are kept,
# so words in any script stay whole.
_KEEP = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_") | frozenset(range(128, 256))
_SEPARATE = bytes(c if c in _KEEP else 32 for c in range(256))
_EPS = 1e-9  # float slack: a score of exactly the threshold passes

Signature = tuple[int, ...]
Kind = Literal["exact", "same-body", "near"]


@dataclass(frozen=True)
class Match:
    """Two texts (by position, a < b) whose Jaccard score reaches the threshold."""

    a: int
    b: int
    score: float
    identical: bool  # the same words: the score is 1.0 by definition


def words(text: str) -> list[bytes]:
    """The text's words, lower-case: case, whitespace, punctuation and markup gone."""
    return text.lower().encode("utf-8", "replace").translate(_SEPARATE).split()


def normalize(text: str) -> str:
    """The text as the comparison sees it: its words, one space apart."""
    return b" ".join(words(text)).decode("utf-8", "replace")


def word_ids(ws: Iterable[bytes]) -> list[int]:
    """A number per word (its CRC-32): the same in every process, whatever the hash salt."""
    return list(map(zlib.crc32, ws))


def shingles(ids: Sequence[int], k: int = SHINGLE) -> frozenset[int]:
    """Hashes of every run of ``k`` consecutive words (one shingle for a shorter text)."""
    if not ids:
        return frozenset()
    if len(ids) < k:
        return frozenset((hash(tuple(ids)),))
    return frozenset(map(hash, zip(*(ids[i:] for i in range(k)), strict=False)))


def shingle_set(text: str, k: int = SHINGLE) -> frozenset[int]:
    return shingles(word_ids(words(text)), k)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def signature(hashes: Iterable[int]) -> Signature:
    """One-permutation MinHash: the least hash in each of ``BINS`` bins (by low bits).

    An empty bin takes the value of the next filled bin to its right, mixed with the
    distance (rotation densification): two signatures agree in a bin with probability
    equal to the sets' Jaccard index.
    """
    desc = sorted(hashes, reverse=True)
    if not desc:
        raise ValueError("no signature for an empty set")
    least = dict(zip(map(_BIN_MASK.__and__, desc), desc, strict=True))  # the last, least, wins
    if len(least) == BINS:
        return tuple(map(least.__getitem__, range(BINS)))
    out = [0] * BINS
    value, at = 0, 0
    for b in reversed(range(2 * BINS)):  # two rounds, so the last bins see the first ones
        if b % BINS in least:
            value, at = least[b % BINS], b
        if b < BINS:
            out[b] = value if at == b else hash((value, at - b))
    return tuple(out)


def rows_per_band(threshold: float) -> int:
    """The widest band that still misses a pair at ``threshold`` with probability < MISS."""
    rows = 1
    for r in range(2, 17):
        if (1 - threshold**r) ** (BINS // r) > MISS:
            break
        rows = r
    return rows


def similar_pairs(texts: Sequence[str], threshold: float, k: int = SHINGLE) -> list[Match]:
    """Every pair of non-empty texts with Jaccard >= threshold, best first."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")
    groups: dict[str, list[int]] = {}
    sizes: dict[int, int] = {}
    sigs: dict[int, Signature] = {}
    for i, text in enumerate(texts):
        ws = words(text)
        if not ws:
            continue
        members = groups.setdefault(hashlib.blake2b(b" ".join(ws), digest_size=16).hexdigest(), [])
        members.append(i)
        if len(members) == 1:
            s = shingles(word_ids(ws), k)
            sizes[i], sigs[i] = len(s), signature(s)
    out = [Match(a, b, 1.0, True) for m in groups.values() for a, b in combinations(m, 2)]
    group_of = {m[0]: m for m in groups.values()}
    for x, y, score in _scored(texts, _candidates(sigs, sizes, threshold), threshold, k):
        out.extend(Match(min(a, b), max(a, b), score, False) for a in group_of[x] for b in group_of[y])
    out.sort(key=lambda m: (-m.score, m.a, m.b))
    return out


def _candidates(sigs: dict[int, Signature], sizes: dict[int, int],
                threshold: float) -> list[tuple[int, int]]:
    """Pairs that share a whole LSH band and whose sizes allow the threshold."""
    rows = rows_per_band(threshold)
    found: set[tuple[int, int]] = set()
    for start in range(0, BINS - rows + 1, rows):
        buckets: dict[Signature, list[int]] = {}
        for i, sig in sigs.items():
            buckets.setdefault(sig[start:start + rows], []).append(i)
        for bucket in buckets.values():
            found.update(combinations(bucket, 2))
    return sorted((a, b) for a, b in found
                  if min(sizes[a], sizes[b]) >= threshold * max(sizes[a], sizes[b]) - _EPS)


def _scored(texts: Sequence[str], pairs: list[tuple[int, int]], threshold: float,
            k: int) -> list[tuple[int, int, float]]:
    cache: dict[int, frozenset[int]] = {}

    def full(i: int) -> frozenset[int]:
        if i not in cache:
            cache[i] = shingle_set(texts[i], k)
        return cache[i]

    scored = [(a, b, jaccard(full(a), full(b))) for a, b in pairs]
    return [p for p in scored if p[2] >= threshold - _EPS]


# --- explaining one pair ---


@dataclass(frozen=True)
class Explanation:
    """Why two artifact files were paired: score, sizes, shared lines, frontmatter fields.

    ``exact``: the same bytes; ``same-body``: the same words after the frontmatter (which
    may differ); ``near``: similar bodies. Line numbers are the files' own, 1-based;
    ``first_difference`` holds None for a side that ended first.
    """

    score: float
    kind: Kind
    lines: tuple[int, int]
    words: tuple[int, int]
    shared_lines: int
    first_difference: tuple[int | None, int | None] | None
    same_fields: tuple[str, ...]
    different_fields: tuple[str, ...]

    @property
    def longer(self) -> Literal["a", "b", ""]:
        """The side with more words in its body ('' when they tie)."""
        a, b = self.words
        return "a" if a > b else "b" if b > a else ""

    def to_dict(self) -> dict[str, Any]:
        first = self.first_difference
        return {"score": round(self.score, 4), "kind": self.kind, "lines": list(self.lines),
                "words": list(self.words), "longer": self.longer,
                "shared_lines": self.shared_lines,
                "first_difference": list(first) if first else None,
                "same_fields": list(self.same_fields),
                "different_fields": list(self.different_fields)}


@dataclass(frozen=True)
class _Side:
    fields: dict[str, Any]
    lines: list[tuple[int, str]]  # (file line number, normalized text) of non-blank body lines
    words: int
    total_lines: int


def explain(raw_a: bytes, raw_b: bytes, score: float) -> Explanation:
    """Explain a pair of artifact files (SKILL.md, command, agent, hook, MCP) and its score."""
    a, b = _side(raw_a), _side(raw_b)
    keys = sorted(set(a.fields) | set(b.fields))
    same = tuple(k for k in keys if k in a.fields and k in b.fields and a.fields[k] == b.fields[k])
    same_words = " ".join(t for _, t in a.lines) == " ".join(t for _, t in b.lines)
    kind: Kind = "exact" if raw_a == raw_b else "same-body" if same_words else "near"
    shared = Counter(t for _, t in a.lines) & Counter(t for _, t in b.lines)
    return Explanation(
        score=1.0 if kind != "near" else score, kind=kind, lines=(a.total_lines, b.total_lines),
        words=(a.words, b.words), shared_lines=sum(shared.values()),
        first_difference=_first_difference(a.lines, b.lines),
        same_fields=same, different_fields=tuple(k for k in keys if k not in same))


@functools.lru_cache(maxsize=1024)  # a file in a cluster of copies is explained once per pair
def _side(raw: bytes) -> _Side:
    text, _ = frontmatter.decode(raw, "")
    fm = frontmatter.parse(text, "")
    offset = text.count("\n") - fm.body.count("\n")  # lines before the body
    lines = []
    for number, line in enumerate(fm.body.split("\n"), start=offset + 1):
        norm = normalize(line)
        if norm:
            lines.append((number, norm))
    total = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    return _Side(fm.data, lines, sum(t.count(" ") + 1 for _, t in lines), total)


def _first_difference(a: list[tuple[int, str]],
                      b: list[tuple[int, str]]) -> tuple[int | None, int | None] | None:
    for (na, ta), (nb, tb) in zip(a, b, strict=False):
        if ta != tb:
            return na, nb
    if len(a) == len(b):
        return None
    return (a[len(b)][0], None) if len(a) > len(b) else (None, b[len(a)][0])
