"""Content similarity of artifacts: normalized text, word shingles, an exact Jaccard join.

Texts become lower-case word sequences (punctuation, markup and whitespace dropped), then
sets of word ``SHINGLE``-grams. Shingles are hashed through per-word CRC-32 ids, so every
value is the same in every process (Python's own ``hash`` of a string is salted per run).

``similar_pairs`` is exact, not an estimate: identical texts are grouped by digest first,
then a prefix-filter join (Bayardo et al., "Scaling up all pairs similarity search",
WWW 2007) proposes only pairs that can reach the threshold, and each proposal is checked
with the real Jaccard score. Shingles are ordered rarest first, so the shared boilerplate
of unrelated artifacts never makes them candidates.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations

SHINGLE = 4
# Bytes that separate words: ASCII whitespace and punctuation. Non-ASCII bytes are kept, so
# words in any script stay whole.
_KEEP = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_") | frozenset(range(128, 256))
_SEPARATE = bytes(c if c in _KEEP else 32 for c in range(256))
_EPS = 1e-9
# Prefixes run this many shingles longer than the minimum, so a pair that can reach the
# threshold shares at least this many of them ("l-prefix" filtering, Wang et al. 2012).
_COMMON = 3  # float slack, so a score of exactly the threshold still passes


@dataclass(frozen=True)
class Fingerprint:
    """What similarity needs of one text: a digest of its words and its shingle set."""

    digest: str
    shingles: frozenset[int]

    @property
    def empty(self) -> bool:
        return not self.shingles


@dataclass(frozen=True)
class Match:
    """Two fingerprints (by position) whose Jaccard score reaches the threshold."""

    a: int
    b: int
    score: float
    identical: bool


def words(text: str) -> list[bytes]:
    """The text's words, lower-case: case, whitespace, punctuation and markup gone."""
    return text.lower().encode("utf-8", "replace").translate(_SEPARATE).split()


def normalize(text: str) -> str:
    """The text as the comparison sees it: its words, one space apart."""
    return b" ".join(words(text)).decode("utf-8", "replace")


def shingles(ws: Sequence[bytes], k: int = SHINGLE) -> frozenset[int]:
    """Hashes of every run of ``k`` consecutive words (one shingle for a shorter text)."""
    if not ws:
        return frozenset()
    if len(ws) < k:
        return frozenset((hash(tuple(ws)),))
    return frozenset(map(hash, zip(*(ws[i:] for i in range(k)))))


def fingerprint(text: str, k: int = SHINGLE) -> Fingerprint:
    ws = words(text)
    digest = hashlib.blake2b(b" ".join(ws), digest_size=16).hexdigest()
    return Fingerprint(digest, shingles(ws, k))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def similar_pairs(prints: Sequence[Fingerprint], threshold: float) -> list[Match]:
    """Every pair (a < b) of non-empty fingerprints with Jaccard >= threshold, best first."""
    groups: dict[str, list[int]] = {}
    for i, fp in enumerate(prints):
        if not fp.empty:
            groups.setdefault(fp.digest, []).append(i)
    out = [Match(a, b, 1.0, True) for members in groups.values() for a, b in combinations(members, 2)]
    reps = list(groups.values())
    for x, y, score in join([prints[m[0]].shingles for m in reps], threshold):
        out.extend(Match(min(a, b), max(a, b), score, False) for a in reps[x] for b in reps[y])
    out.sort(key=lambda m: (-m.score, m.a, m.b))
    return out


def join(sets: Sequence[frozenset[int]], threshold: float) -> Iterator[tuple[int, int, float]]:
    """Pairs (i, j) of sets with Jaccard >= threshold, each found once, by prefix filtering."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")
    shared = _shared(sets)
    rank = _rarity_rank(sets, shared)
    index: dict[int, list[int]] = {}
    for i in sorted(range(len(sets)), key=lambda n: len(sets[n])):
        s = sets[i]
        prefix = _prefix(s, shared.intersection(s), rank, threshold)
        hits: Counter[int] = Counter()
        for token in prefix:
            hits.update(index.get(token, ()))
        for j, score in _verify(s, sets, hits, threshold):
            yield j, i, score
        for token in prefix:
            index.setdefault(token, []).append(i)


def _verify(s: frozenset[int], sets: Sequence[frozenset[int]], hits: Counter[int],
            threshold: float) -> Iterator[tuple[int, float]]:
    """The candidates (all no larger than ``s``) that pass the size, count and score checks."""
    need = min(_COMMON, math.ceil(threshold * len(s) - _EPS))
    smallest = threshold * len(s) - _EPS
    for j in sorted(hits):
        if hits[j] >= need and len(sets[j]) >= smallest:
            score = jaccard(s, sets[j])
            if score >= threshold - _EPS:
                yield j, score


def _shared(sets: Sequence[frozenset[int]]) -> set[int]:
    """Shingles in more than one set: the only ones that can make two sets similar."""
    seen: set[int] = set()
    shared: set[int] = set()
    for s in sets:
        shared.update(seen.intersection(s))
        seen.update(s)
    return shared


def _rarity_rank(sets: Sequence[frozenset[int]], shared: set[int]) -> dict[int, int]:
    """A position for each shared shingle, rarest first: the one global order prefixes use."""
    df: Counter[int] = Counter()
    for s in sets:
        df.update(shared.intersection(s))
    order = sorted(df, key=lambda h: (df[h], h))
    return {h: n for n, h in enumerate(order)}


def _prefix(s: frozenset[int], own: set[int], rank: dict[int, int], threshold: float) -> list[int]:
    """The first shingles of ``s`` in rarity order: a set this similar to ``s`` shares one.

    Shingles no other set has come first in that order; they count towards the prefix
    length but cannot match, so only the shared ones (``own``) are returned.
    """
    length = len(s) - math.ceil(threshold * len(s) - _EPS) + _COMMON
    need = length - (len(s) - len(own))
    if need <= 0:
        return []
    return heapq.nsmallest(need, own, key=rank.__getitem__)
