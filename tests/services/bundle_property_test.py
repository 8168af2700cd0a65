"""Property: any mutation of a valid bundle is either still a verified bundle with the very same
content, or a clean one-line refusal — never another exception, never a write outside staging."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillmeat.model.errors import SkillmeatError
from skillmeat.services import bundle
from skillmeat.store.home import Home
from tests.services.sharing_fixtures import ALICE, examples_collection, trusting

TRUST = trusting(ALICE)
_GOOD: dict[str, object] = {}


def _good(home: Home) -> tuple[bytes, dict[str, bytes]]:
    """One valid bundle (built once per test session) and its files as extracted."""
    if "data" not in _GOOD:
        work = Path(tempfile.mkdtemp(prefix="prop-"))
        store = examples_collection(home, "prop")
        out = work / "good.skillmeat-pack"
        bundle.build(home, store, ["pdf-summary", "review", "format-on-save"], out, ALICE,
                     version="1")
        stage = work / "stage"
        bundle.check(out, TRUST, extract_to=stage)
        _GOOD["data"] = out.read_bytes()
        _GOOD["files"] = {str(p.relative_to(stage)): p.read_bytes()
                          for p in stage.rglob("*") if p.is_file()}
        shutil.rmtree(work)
    return _GOOD["data"], _GOOD["files"]  # type: ignore[return-value]


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 20), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 20), st.integers(1, 64)),
    st.tuples(st.just("prepend"), st.just(0), st.integers(1, 64)),
)


def _mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(data)
    for op, pos, arg in ops:
        pos = pos % (len(buf) + 1)
        if op == "flip" and buf:
            buf[pos % len(buf)] ^= arg
        elif op == "truncate":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = bytes([arg])
        elif op == "delete":
            del buf[pos:pos + arg]
        elif op == "prepend":
            buf[0:0] = b"J" * arg
    return bytes(buf)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_bundles_verify_identically_or_are_refused(home: Home,
                                                          ops: list[tuple[str, int, int]]) -> None:
    data, files = _good(home)
    work = Path(tempfile.mkdtemp(prefix="mut-"))
    try:
        path = work / "m.skillmeat-pack"
        path.write_bytes(_mutate(data, ops))
        stage = work / "stage"
        stage.mkdir()
        try:
            checked = bundle.check(path, TRUST, extract_to=stage)
        except SkillmeatError as exc:
            assert "\n" not in str(exc)
        else:
            assert checked.verified
            got = {str(p.relative_to(stage)): p.read_bytes() for p in stage.rglob("*") if p.is_file()}
            assert got == files
        assert sorted(p.name for p in work.iterdir()) == ["m.skillmeat-pack", "stage"]
    finally:
        shutil.rmtree(work)
