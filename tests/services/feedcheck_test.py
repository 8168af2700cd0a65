"""Client checks of a marketplace feed: the good path, key rotation, and each attack refused
with one line."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model import feed as feedmodel
from skillmeat.model import sshsig
from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.errors import BadInputError, ConfigError
from skillmeat.model.feed import Feed
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services.feedcheck import CheckedFeed, FeedError, check_feed, digest, sign_feed
from skillmeat.services.trust import TrustSet
from skillmeat.store.feedstate import FeedState, load_state, save_state
from skillmeat.store.trust import Revoked

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)
K1, K2, K3, K4 = (PrivateKey(bytes([n]) * 32, f"k{n}@example.com") for n in (1, 2, 3, 4))
STRANGER = PrivateKey(bytes([66]) * 32, "stranger@example.com")
WHERE = "marketplace acme feed"


def listing(name: str, version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    return {"id": f"{name}@{version}", "type": "skill", "name": name, "version": version,
            "description": f"the {name} skill", "tags": ["demo"],
            "publisher": {"name": "Acme"},
            "bundle": {"url": f"bundles/{name}/{version}.skillmeat-pack",
                       "sha256": "ab" * 32, "size": 1234}, **extra}


def make_feed(version: int = 1, *, signers: tuple[PrivateKey, ...] = (K1,),
              keys: tuple[PrivateKey, ...] = (), threshold: int = 1,
              expires: str = "2026-04-01T00:00:00Z", names: tuple[str, ...] = ("alpha",)) -> Feed:
    feed = Feed("acme", version, "2026-02-28T00:00:00Z", expires, [listing(n) for n in names],
                keys=[k.public.openssh() for k in keys], threshold=threshold)
    sign_feed(feed, signers)
    return feed


def feed_trust(*keys: PrivateKey, namespaces: tuple[str, ...] = ("skillmeat-feed",)) -> TrustSet:
    return TrustSet([AllowedSigner((f"m{i}@example.com",), k.public, namespaces)
                     for i, k in enumerate(keys, 1)])


def check(feed: Feed | bytes, trust: TrustSet | None = None, state: FeedState | None = None,
          **kw: Any) -> CheckedFeed:
    data = feed if isinstance(feed, bytes) else feed.to_json()
    return check_feed(data, where=WHERE, trust=trust if trust is not None else TrustSet(),
                      state=state, now=kw.pop("now", NOW), **kw)


def refused(feed: Feed | bytes, trust: TrustSet | None = None, state: FeedState | None = None,
            **kw: Any) -> str:
    with pytest.raises(FeedError) as info:
        check(feed, trust, state, **kw)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(WHERE + ": ")
    return text


def accepted_state(version: int = 1, *, keys: tuple[PrivateKey, ...] = (K1,), threshold: int = 1,
                   signers: tuple[PrivateKey, ...] | None = None) -> FeedState:
    feed = make_feed(version, signers=signers or keys, keys=keys, threshold=threshold)
    return check(feed, state=None, pinned=[k.public for k in keys]).state


# ---- the good path ----------------------------------------------------------------------

@pytest.mark.parametrize("namespaces", [("skillmeat-feed",), ()])
def test_first_use_trusted_by_trust_set(namespaces: tuple[str, ...]) -> None:
    feed = make_feed(3)
    got = check(feed, feed_trust(K1, namespaces=namespaces))
    assert got.signers == (K1.public.fingerprint(),)
    assert got.unchanged is False
    assert got.feed.listings[0]["name"] == "alpha"
    bare = " ".join(K1.public.openssh().split()[:2])  # the key as its signature carries it
    assert got.state == FeedState(3, digest(feed), (bare,), 1, feed.name)


def test_first_use_pinned_key() -> None:
    got = check(make_feed(keys=(K1,)), pinned=[K1.public])
    assert got.signers == (K1.public.fingerprint(),)
    assert got.state.keys == (K1.public.openssh(),)


def test_pinned_keys_are_the_only_ones_that_count_on_first_use() -> None:
    text = refused(make_feed(signers=(K2,)), feed_trust(K2), pinned=[K1.public])
    assert f"untrusted key {K2.public.fingerprint()}" in text


def test_trust_for_another_namespace_does_not_count() -> None:
    text = refused(make_feed(), feed_trust(K1, namespaces=("skillmeat-pack",)))
    assert "untrusted key" in text


def test_next_version_accepted_and_same_version_is_unchanged() -> None:
    state = accepted_state(1)
    got = check(make_feed(2, keys=(K1,)), state=state)
    assert got.state.version == 2 and not got.unchanged
    again = check(make_feed(2, keys=(K1,)), state=got.state)
    assert again.unchanged and again.state == got.state


def test_state_not_trust_decides_later_uses() -> None:
    # once accepted, the feed's own key set counts even if the user's trust changes
    state = check(make_feed(1), feed_trust(K1)).state
    assert check(make_feed(2), TrustSet(), state=state).state.version == 2


def test_first_use_signer_must_be_in_the_feeds_own_key_set() -> None:
    text = refused(make_feed(signers=(K1,), keys=(K2,)), feed_trust(K1))
    assert "not in the feed's own key set" in text


def test_draft_and_yanked_listings_parse() -> None:
    feed = Feed("acme", 1, "", "2026-04-01T00:00:00Z",
                [listing("a", status="draft"), listing("b", status="yanked", reason="CVE-1")])
    sign_feed(feed, [K1])
    assert [e["status"] for e in check(feed, feed_trust(K1)).feed.listings] == ["draft", "yanked"]


# ---- attacks ----------------------------------------------------------------------------

def test_untrusted_key() -> None:
    text = refused(make_feed(signers=(STRANGER,)), feed_trust(K1))
    assert f"signed by untrusted key {STRANGER.public.fingerprint()}" in text


def test_untrusted_key_with_state() -> None:
    text = refused(make_feed(2, signers=(STRANGER,), keys=(K1,)), state=accepted_state(1))
    assert "untrusted key" in text


def test_revoked_key() -> None:
    trust = feed_trust(K1)
    trust.revoked.append(Revoked(K1.public, "compromised"))
    text = refused(make_feed(), trust)
    assert f"revoked key {K1.public.fingerprint()}" in text
    # a revoked key never counts, even when it is in the accepted key set or pinned
    assert "revoked key" in refused(make_feed(2, keys=(K1,)), trust, state=accepted_state(1))
    assert "revoked key" in refused(make_feed(), trust, pinned=[K1.public])


def test_rollback() -> None:
    text = refused(make_feed(4, keys=(K1,)), state=accepted_state(5))
    assert "rollback: version 4 is older than 5 seen before" in text


def test_same_version_different_content() -> None:
    state = accepted_state(5)
    text = refused(make_feed(5, keys=(K1,), names=("alpha", "evil")), state=state)
    assert "same version 5 with different content" in text


def test_expired_feed() -> None:
    feed = make_feed()
    later = datetime.datetime(2026, 4, 1, 0, 0, 0, tzinfo=datetime.UTC)
    text = refused(feed, feed_trust(K1), now=later)
    assert "expired at 2026-04-01T00:00:00Z (freeze attack?)" in text
    assert check(feed, feed_trust(K1), now=later - datetime.timedelta(seconds=1))


def test_expired_even_when_unchanged() -> None:
    state = accepted_state(1)
    later = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
    assert "expired" in refused(make_feed(1, keys=(K1,)), state=state, now=later)


@pytest.mark.parametrize("expires", ["", "tomorrow", "2026-04-01"])
def test_missing_or_bad_expires(expires: str) -> None:
    assert "'expires'" in refused(make_feed(expires=expires), feed_trust(K1))


def test_oversized_feed() -> None:
    data = make_feed().to_json()
    text = refused(data, feed_trust(K1), max_size=100)
    assert f"oversized feed ({len(data)} bytes, cap 100)" in text


def test_oversized_is_refused_before_parsing() -> None:
    assert "oversized" in refused(b"{" * 500, max_size=100)


def test_duplicated_signature_counts_once() -> None:
    feed = make_feed(signers=(K1, K1), keys=(K1, K2), threshold=2)
    assert len(feed.signatures) == 2
    text = refused(feed, feed_trust(K1, K2))
    assert "signed by 1 trusted key(s), threshold 2" in text
    ok = check(make_feed(signers=(K1, K2), keys=(K1, K2), threshold=2), feed_trust(K1, K2))
    assert ok.signers == tuple(sorted((K1.public.fingerprint(), K2.public.fingerprint())))
    assert ok.state.threshold == 2


def test_duplicated_signature_counts_once_with_state() -> None:
    state = accepted_state(1, keys=(K1, K2), threshold=2)
    text = refused(make_feed(2, signers=(K1, K1), keys=(K1, K2), threshold=2), state=state)
    assert "signed by 1 trusted key(s), threshold 2" in text


def test_bundle_signature_presented_as_feed_signature() -> None:
    feed = make_feed()
    body = feedmodel.canonical(feed.signed())
    feed.signatures = [{"keyid": K1.public.fingerprint(),
                        "sig": sshsig.sign(K1, body, "skillmeat-pack")}]
    text = refused(feed, feed_trust(K1))
    assert "signed for namespace 'skillmeat-pack'?" in text


def test_keyid_mismatch() -> None:
    feed = make_feed()
    feed.signatures[0]["keyid"] = K2.public.fingerprint()
    text = refused(feed, feed_trust(K1, K2))
    assert f"is not its key {K1.public.fingerprint()}" in text


def test_tampered_listing_after_signing() -> None:
    feed = make_feed()
    feed.listings[0]["bundle"]["sha256"] = "cd" * 32
    text = refused(feed, feed_trust(K1))
    assert f"bad signature by {K1.public.fingerprint()}" in text


def test_unsigned_and_garbage_signature() -> None:
    feed = make_feed()
    feed.signatures = []
    assert "unsigned feed" in refused(feed, feed_trust(K1))
    feed.signatures = [{"keyid": "x", "sig": "not a signature"}]
    assert "malformed signature" in refused(feed, feed_trust(K1))


def test_malformed_feed_is_bad_input() -> None:
    with pytest.raises(BadInputError) as info:
        check(b"{\"signed\": 1}", feed_trust(K1))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("signed_patch", [
    {"keys": "ssh-ed25519 AAAA"}, {"keys": [1]}, {"threshold": 0}, {"threshold": True},
    {"threshold": 3, "keys": []}, {"listings": [dict(listing("a"), status="gone")]},
    {"listings": [dict(listing("a"), reason=["x"])]},
])
def test_parse_validates_new_fields(signed_patch: dict[str, Any]) -> None:
    doc = json.loads(make_feed().to_json())
    doc["signed"].update(signed_patch)
    if signed_patch == {"threshold": 3, "keys": []}:
        doc["signed"]["keys"] = [K1.public.openssh()]
    with pytest.raises(BadInputError) as info:
        feedmodel.parse(json.dumps(doc).encode(), "f")
    assert "\n" not in str(info.value)


# ---- key rotation -----------------------------------------------------------------------

def test_rotation_signed_by_old_and_new_is_accepted() -> None:
    state = accepted_state(1, keys=(K1,))
    got = check(make_feed(2, signers=(K1, K2), keys=(K2,)), state=state)
    assert got.state.keys == (K2.public.openssh(),)
    assert set(got.signers) == {K1.public.fingerprint(), K2.public.fingerprint()}
    # from now on only the new set counts
    assert check(make_feed(3, signers=(K2,), keys=(K2,)), state=got.state).state.version == 3
    assert "untrusted key" in refused(make_feed(3, signers=(K1,), keys=(K1,)), state=got.state)


def test_rotation_signed_only_by_new_keys_is_refused() -> None:
    state = accepted_state(1, keys=(K1,))
    text = refused(make_feed(2, signers=(K3, K4), keys=(K3, K4), threshold=2), state=state)
    assert "new key set not signed by the previous one" in text


def test_rotation_signed_only_by_old_keys_is_refused() -> None:
    state = accepted_state(1, keys=(K1,))
    text = refused(make_feed(2, signers=(K1,), keys=(K2,)), state=state)
    assert "new key set signed by 0 of its own key(s), threshold 1" in text


def test_threshold_two_of_three() -> None:
    keys = (K1, K2, K3)
    state = accepted_state(1, keys=keys, threshold=2, signers=(K1, K3))
    assert state.threshold == 2 and len(state.keys) == 3
    assert check(make_feed(2, signers=(K2, K3), keys=keys, threshold=2), state=state)
    text = refused(make_feed(2, signers=(K3,), keys=keys, threshold=2), state=state)
    assert "signed by 1 trusted key(s), threshold 2" in text
    # a stranger's signature does not make up the count
    text = refused(make_feed(2, signers=(K3, STRANGER), keys=keys, threshold=2), state=state)
    assert "threshold 2" in text


def test_lowering_the_threshold_needs_the_old_threshold() -> None:
    keys = (K1, K2, K3)
    state = accepted_state(1, keys=keys, threshold=2, signers=(K1, K2))
    assert "threshold 2" in refused(make_feed(2, signers=(K1,), keys=keys, threshold=1), state=state)
    got = check(make_feed(2, signers=(K1, K2), keys=keys, threshold=1), state=state)
    assert got.state.threshold == 1


# ---- state file -------------------------------------------------------------------------

def test_state_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state" / "feeds" / "acme.json"
    assert load_state(path) is None
    state = accepted_state(1, keys=(K1, K2), threshold=2)
    save_state(path, state)
    assert load_state(path) == state


@pytest.mark.parametrize("text", ["{", "[]", '{"format": "skillmeat-feed-state/1"}',
                                  '{"format": "x", "version": 1}'])
def test_malformed_state_is_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_state(path)
    assert "\n" not in str(info.value)


# ---- the model stays backwards compatible ------------------------------------------------

@pytest.mark.parametrize("keys,threshold", [((), 1), ((K1,), 1), ((K1, K2), 2)])
def test_feed_round_trips(keys: tuple[PrivateKey, ...], threshold: int) -> None:
    feed = make_feed(7, signers=keys or (K1,), keys=keys, threshold=threshold,
                     names=("alpha", "beta"))
    again = feedmodel.parse(feed.to_json(), "f")
    assert again == feed
    assert feedmodel.canonical(again.signed()) == feedmodel.canonical(feed.signed())
    assert again.to_json() == feed.to_json()


def test_vault_style_feed_keeps_its_canonical_bytes() -> None:
    feed = Feed("acme", 2, "2026-02-28T00:00:00Z", "2026-04-01T00:00:00Z", [listing("alpha")])
    before = feedmodel.canonical({"format": feedmodel.FORMAT, "name": "acme", "version": 2,
                                  "generated": "2026-02-28T00:00:00Z",
                                  "expires": "2026-04-01T00:00:00Z", "listings": [listing("alpha")]})
    assert feedmodel.canonical(feed.signed()) == before
    assert b"keys" not in before and b"threshold" not in before


def test_explicit_defaults_survive_a_parse() -> None:
    # a signer that wrote "keys": [] and "threshold": 1 keeps a valid signature
    doc = json.loads(make_feed().to_json())
    doc["signed"].update({"keys": [], "threshold": 1})
    body = feedmodel.canonical(doc["signed"])
    doc["signatures"] = [{"keyid": K1.public.fingerprint(),
                          "sig": sshsig.sign(K1, body, feedmodel.NAMESPACE)}]
    feed = feedmodel.parse(json.dumps(doc).encode(), "f")
    assert feedmodel.canonical(feed.signed()) == body
    assert check(json.dumps(doc).encode(), feed_trust(K1)).signers == (K1.public.fingerprint(),)


def test_expires_at() -> None:
    assert feedmodel.expires_at(make_feed()) == datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC)
    assert feedmodel.expires_at(make_feed(expires="soon")) is None


def test_a_tampered_feed_says_it_changed_not_trust_the_key() -> None:
    """Review finding 18: trusting the key cannot fix a feed changed after it was signed."""
    feed = make_feed()
    feed.listings[0]["bundle"]["sha256"] = "cd" * 32
    with pytest.raises(FeedError) as info:
        check(feed, feed_trust(K1))
    hint = info.value.hint or ""
    assert "changed after it was signed" in hint and "do not re-trust" in hint
    assert "trust the marketplace's key" not in hint
    with pytest.raises(FeedError) as info:  # a stranger's good signature: trust is the fix
        check(make_feed(signers=(STRANGER,)), feed_trust(K1))
    assert "trust the marketplace's key" in (info.value.hint or "")
