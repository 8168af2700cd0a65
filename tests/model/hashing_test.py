from __future__ import annotations

import hashlib

from skillmeat.model.hashing import content_hash

A = ("pdf/SKILL.md", 0o100644, hashlib.sha256(b"skill").hexdigest())
B = ("pdf/scripts/run.py", 0o100755, hashlib.sha256(b"script").hexdigest())
C = ("pdf/ref.md", 0o100644, hashlib.sha256(b"ref").hexdigest())


def test_format_is_sha256_prefixed_hex() -> None:
    h = content_hash([A, B])
    assert h.startswith("sha256:")
    assert len(h) == len("sha256:") + 64
    int(h[len("sha256:"):], 16)


def test_known_value_is_stable_across_runs_and_machines() -> None:
    entries = [("x.md", 0o100644, "ab")]
    expected = "sha256:" + hashlib.sha256(b"x.md\x00100644\x00ab\n").hexdigest()
    assert content_hash(entries) == expected


def test_order_independent() -> None:
    assert content_hash([A, B, C]) == content_hash([C, A, B]) == content_hash(iter([B, C, A]))


def test_changes_with_mode() -> None:
    assert content_hash([(A[0], 0o100755, A[2])]) != content_hash([A])


def test_changes_with_path() -> None:
    assert content_hash([("pdf/OTHER.md", A[1], A[2])]) != content_hash([A])


def test_changes_with_digest() -> None:
    assert content_hash([(A[0], A[1], hashlib.sha256(b"skill!").hexdigest())]) != content_hash([A])


def test_changes_when_a_file_is_added_or_removed() -> None:
    assert content_hash([A, B]) != content_hash([A, B, C])
    assert content_hash([A]) != content_hash([])


def test_path_boundaries_cannot_be_shifted_between_fields() -> None:
    # The separators keep ("ab", mode, "c") and ("a", mode, "bc") apart.
    assert content_hash([("ab", 0o100644, "c")]) != content_hash([("a", 0o100644, "bc")])


def test_empty_is_the_hash_of_nothing() -> None:
    assert content_hash([]) == "sha256:" + hashlib.sha256(b"").hexdigest()
