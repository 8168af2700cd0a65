"""Feeds are checked over the exact bytes of "signed" when the file is laid out as SkillMeat
writes it, and over canonical JSON otherwise: both give the same verdict."""

from __future__ import annotations

import datetime
import json

import pytest

from skillmeat.model import feed as feedmodel
from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.errors import BadInputError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services.feedcheck import FeedError, check_feed, digest, sign_feed
from skillmeat.services.trust import TrustSet

KEY = PrivateKey(bytes([5]) * 32, "k")
TRUST = TrustSet([AllowedSigner(("k@example.com",), KEY.public, ())])
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def _feed() -> feedmodel.Feed:
    listing = {"id": "a@1", "type": "skill", "name": "a", "version": "1", "description": "é",
               "tags": [], "publisher": {"name": "P"},
               "bundle": {"url": "bundles/a/1.skillmeat-pack", "sha256": "0" * 64, "size": 1}}
    feed = feedmodel.Feed("m", 3, feedmodel.format_time(NOW),
                          feedmodel.format_time(NOW + datetime.timedelta(days=9)), [listing])
    sign_feed(feed, [KEY])
    return feed


def test_written_layout_is_checked_over_its_own_bytes() -> None:
    feed = _feed()
    data = feed.to_json()
    parsed = feedmodel.parse(data, "f")
    assert parsed.raw_signed == feedmodel.canonical(feed.signed())
    checked = check_feed(data, where="f", trust=TRUST, state=None, now=NOW)
    assert checked.state.digest == digest(feed)


@pytest.mark.parametrize("indent", [1, None])
def test_other_layouts_fall_back_to_canonical_json(indent: int | None) -> None:
    feed = _feed()
    doc = {"signed": feed.signed(), "signatures": feed.signatures}  # another key order
    data = json.dumps(doc, indent=indent).encode()
    assert feedmodel.parse(data, "f").raw_signed is None
    assert check_feed(data, where="f", trust=TRUST, state=None, now=NOW).state.digest == digest(feed)


def test_non_canonical_signed_bytes_still_verify_by_content_and_tampering_is_refused() -> None:
    feed = _feed()
    data = feed.to_json()
    spaced = data.replace(b'"name":"m"', b'"name": "m"')  # same content, other bytes
    assert feedmodel.parse(spaced, "f").raw_signed is not None
    check_feed(spaced, where="f", trust=TRUST, state=None, now=NOW)
    tampered = data.replace(b'"description":"\xc3\xa9"', b'"description":"evil"')
    with pytest.raises(FeedError):
        check_feed(tampered, where="f", trust=TRUST, state=None, now=NOW)
    trailing = data.rstrip(b"\n") + b"x"
    with pytest.raises(BadInputError, match="not a valid feed"):
        feedmodel.parse(trailing, "f")
