from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillmeat.model.similarity import (
    BINS,
    MISS,
    explain,
    jaccard,
    normalize,
    rows_per_band,
    shingle_set,
    signature,
    similar_pairs,
    words,
)

WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi",
         "psi", "omega", "review", "deploy", "test", "build")


def prose(seed: int, n: int = 120) -> str:
    rng = random.Random(seed)
    lines = [" ".join(rng.choice(WORDS) for _ in range(10)) for _ in range(n // 10)]
    return "\n".join(lines) + "\n"


def shingles_of(*texts: str) -> list[frozenset[int]]:
    return [shingle_set(t) for t in texts]


def brute_force(texts: list[str], threshold: float) -> set[tuple[int, int]]:
    sets = shingles_of(*texts)
    return {(a, b) for a, b in itertools.combinations(range(len(texts)), 2)
            if sets[a] and sets[b] and jaccard(sets[a], sets[b]) >= threshold - 1e-9}


# --- normalizing ---

def test_words_drop_case_punctuation_markup_and_spacing() -> None:
    assert words("# Review  the `git diff`,\n\tthen REPORT!") == [
        b"review", b"the", b"git", b"diff", b"then", b"report"]
    assert normalize("**Bold**  text\r\n- item_one") == "bold text item_one"


def test_non_ascii_words_stay_whole() -> None:
    assert normalize("Überprüfe die Änderung — schnell") == "überprüfe die änderung — schnell"


def test_shingles_of_short_and_empty_texts() -> None:
    empty, short, five = shingles_of("", "two words", "one two three four five")
    assert empty == frozenset()
    assert len(short) == 1
    assert len(five) == 2  # 4-grams


def test_shingles_are_the_same_in_every_process() -> None:
    code = "from skillmeat.model.similarity import shingle_set; print(sorted(shingle_set('a b c d e f')))"
    outs = {subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")}
    assert len(outs) == 1


def test_jaccard() -> None:
    assert jaccard(frozenset({1, 2, 3}), frozenset({2, 3, 4})) == 0.5
    assert jaccard(frozenset(), frozenset()) == 1.0
    assert jaccard(frozenset({1}), frozenset()) == 0.0


# --- MinHash signature and banding ---

def test_signature_has_a_value_per_bin_even_for_one_shingle() -> None:
    sig = signature([42])
    assert len(sig) == BINS
    assert len(set(sig)) == BINS  # densified bins differ by their distance
    with pytest.raises(ValueError):
        signature([])


def test_signatures_agree_about_as_often_as_the_sets_overlap() -> None:
    a, b = shingles_of(prose(1, 3000), prose(1, 3000)[:-9000] + prose(2, 900))
    agree = sum(x == y for x, y in zip(signature(a), signature(b), strict=True)) / BINS
    assert abs(agree - jaccard(a, b)) < 0.15


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0])
def test_bands_miss_a_pair_at_the_threshold_rarely(threshold: float) -> None:
    rows = rows_per_band(threshold)
    assert (1 - threshold**rows) ** (BINS // rows) <= MISS
    assert rows_per_band(min(1.0, threshold + 0.05)) >= rows


# --- finding pairs ---

def test_identical_and_near_texts_are_paired_unrelated_ones_not() -> None:
    base = prose(1)
    near = base.replace(base.split("\n")[3], "a rewritten line about something else entirely")
    texts = [base, prose(2), near, base.upper(), ""]
    pairs = similar_pairs(texts, 0.8)
    assert [(m.a, m.b, m.identical) for m in pairs] == [(0, 3, True), (0, 2, False), (2, 3, False)]
    assert pairs[1].score == jaccard(*shingles_of(base, near))
    assert 0.8 <= pairs[1].score < 1


def test_empty_texts_are_never_paired() -> None:
    assert similar_pairs(["", "  \n", "---"], 0.5) == []


def test_threshold_must_be_a_fraction() -> None:
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError):
            similar_pairs(["a"], bad)


def test_many_texts_match_brute_force() -> None:
    rng = random.Random(5)
    texts = [prose(i, rng.randint(20, 200)) for i in range(150)]
    for i in range(0, 150, 10):  # near-copies with a few lines swapped out
        lines = texts[i].split("\n")
        lines[rng.randrange(len(lines))] = "something new"
        texts.append("\n".join(lines))
    for threshold in (0.6, 0.8):
        assert {(m.a, m.b) for m in similar_pairs(texts, threshold)} == brute_force(texts, threshold)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WORDS[:6]), min_size=0, max_size=30), max_size=12),
       st.sampled_from([0.3, 0.5, 0.8]))
def test_pairs_are_exactly_those_at_or_above_the_threshold(docs: list[list[str]],
                                                          threshold: float) -> None:
    texts = [" ".join(d) for d in docs]
    assert {(m.a, m.b) for m in similar_pairs(texts, threshold)} == brute_force(texts, threshold)


# --- explaining a pair ---

AGENT = ("---\nname: reviewer\ndescription: Reviews code.\nmodel: sonnet\ntools: Read, Grep\n---\n\n"
         "You review code.\n\nRead the change first.\nThen run the tests.\nReport findings.\n")


def test_identical_files_are_exact() -> None:
    e = explain(AGENT.encode(), AGENT.encode(), 1.0)
    assert (e.kind, e.score, e.first_difference, e.longer) == ("exact", 1.0, None, "")
    assert e.same_fields == ("description", "model", "name", "tools")
    assert e.shared_lines == 4 and e.lines == (12, 12)


def test_same_body_under_another_name() -> None:
    other = AGENT.replace("name: reviewer", "name: plugin-reviewer").replace("\n\nRead", "\n\n\nRead")
    e = explain(AGENT.encode(), other.encode(), 1.0)
    assert e.kind == "same-body" and e.score == 1.0
    assert e.different_fields == ("name",)
    assert e.same_fields == ("description", "model", "tools")


def test_near_copy_names_the_first_differing_lines_and_the_longer_side() -> None:
    other = AGENT.replace("model: sonnet\n", "").replace("Then run the tests.",
                                                         "Then run all the tests twice.")
    e = explain(AGENT.encode(), other.encode(), 0.5)
    assert e.kind == "near" and e.score == 0.5
    assert e.first_difference == (11, 10)  # file lines: b has one frontmatter line fewer
    assert e.longer == "b" and e.words == (13, 15)
    assert e.shared_lines == 3
    assert e.different_fields == ("model",)  # missing on one side counts as different


def test_one_side_ending_early() -> None:
    longer = AGENT + "Finally, summarize.\n"
    e = explain(AGENT.encode(), longer.encode(), 0.9)
    assert e.first_difference == (None, 13)
    assert e.longer == "b"
    assert explain(longer.encode(), AGENT.encode(), 0.9).first_difference == (13, None)


def test_files_without_frontmatter_have_no_fields() -> None:
    e = explain(b'command = "x"\n', b'command = "y"\n', 0.3)
    assert (e.same_fields, e.different_fields) == ((), ())
    assert e.to_dict()["first_difference"] == [1, 1]
