"""A key set that only grows, signed by a new member the client trusts itself, is accepted (a
team admitting a publisher); anything else still needs the previous key set."""

from __future__ import annotations

import pytest

from skillmeat.services.feedcheck import FeedError
from tests.services.feedcheck_test import K1, K2, K3, check, feed_trust, make_feed


def test_an_added_key_signed_by_a_trusted_member_is_accepted() -> None:
    first = check(make_feed(1, signers=(K1,), keys=(K1,)), feed_trust(K1, K2))
    grown = check(make_feed(2, signers=(K2,), keys=(K1, K2)), feed_trust(K1, K2), first.state)
    assert grown.signers == (K2.public.fingerprint(),)
    assert set(grown.state.keys) == {K1.public.openssh(), K2.public.openssh()}
    # from then on the new member signs alone, as a key of the accepted set
    later = check(make_feed(3, signers=(K2,), keys=(K1, K2)), feed_trust(K1), grown.state)
    assert later.feed.version == 3


@pytest.mark.parametrize(("keys", "trusted", "why"), [
    ((K1, K2), (K1,), "untrusted key"),        # the client does not trust the new member
    ((K2, K3), (K1, K2, K3), "not signed by the previous one"),  # K1 dropped: not only added
])
def test_other_key_set_changes_still_need_the_previous_keys(keys, trusted, why) -> None:  # type: ignore[no-untyped-def]
    first = check(make_feed(1, signers=(K1,), keys=(K1,)), feed_trust(*trusted))
    with pytest.raises(FeedError, match=why):
        check(make_feed(2, signers=(K2,), keys=keys), feed_trust(*trusted), first.state)
