"""JSON from others: every malformed or hostile document is a ValueError, nothing else."""

from __future__ import annotations

import pytest

from skillmeat.model import strictjson


@pytest.mark.parametrize("data", [
    b"[" * 200_000, b'{"a": 1, "a": 2}', b'"\\ud800"', b'{"\\udfff": 1}', b"\xff\xfe", b"{",
    b"[" * 70 + b"]" * 70,
])
def test_hostile_json_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        strictjson.loads(data)


def test_plain_json_loads() -> None:
    assert strictjson.loads('{"a": ["é", 1, {"b": null}]}'.encode()) == {"a": ["é", 1, {"b": None}]}
