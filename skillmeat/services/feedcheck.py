"""TUF-style client checks of a marketplace feed before anything in it is used.

A feed is one JSON file signed in place (SSHSIG, namespace ``skillmeat-feed``, over the
canonical JSON of ``signed``). The client refuses, each with one line: a feed over the size
cap, a signature made for something else (another namespace, other bytes, a wrong keyid),
too few distinct trusted keys (the first use trusts pinned keys or the user's trust; later
uses trust only the key set accepted before), a revoked key, a new key set not signed by the
previous one (unless it only adds keys and is signed by one the user trusts: a team admitting
a member), an older version than seen before (rollback), the same version with different
content, and an expired feed (freeze). The caller saves the returned state once it uses the
feed, so the next run can tell.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from skillmeat.model import feed as feedmodel
from skillmeat.model import sshsig
from skillmeat.model.errors import BadInputError, SignatureError
from skillmeat.model.feed import MAX_FEED, NAMESPACE, Feed
from skillmeat.model.sshkeys import PrivateKey, PublicKey
from skillmeat.services.trust import TrustSet, check_key
from skillmeat.store.feedstate import FeedState

_REPUBLISH = "ask the marketplace's publisher to sign and publish the feed again"


class FeedError(SignatureError):
    """A feed that fails a client check: nothing in it was used, no state was changed."""


@dataclass(frozen=True)
class CheckedFeed:
    feed: Feed
    signers: tuple[str, ...]  # fingerprints of the distinct keys that counted, sorted
    state: FeedState  # to save (by the caller) once the feed is used
    unchanged: bool  # same version and digest as the previous state


def digest(feed: Feed) -> str:
    """sha256 hex of the canonical JSON of what the feed's signatures cover."""
    return hashlib.sha256(feedmodel.canonical(feed.signed())).hexdigest()


def sign_feed(feed: Feed, keys: Sequence[PrivateKey]) -> None:
    """Replace the feed's signatures with one per key over its canonical ``signed``."""
    body = feedmodel.canonical(feed.signed())
    feed.signatures = [{"keyid": k.public.fingerprint(), "sig": sshsig.sign(k, body, NAMESPACE)}
                       for k in keys]


def check_feed(
    data: bytes, *, where: str, trust: TrustSet, state: FeedState | None,
    now: datetime.datetime, max_size: int = MAX_FEED, pinned: Sequence[PublicKey] = (),
) -> CheckedFeed:
    """Check a feed's bytes against the trust and the state of the last accepted version.

    ``now`` is the one clock of the run. ``pinned`` (first use only): the keys configured for
    this marketplace; when given, only they count, else keys ``trust`` allows for feeds.
    """
    now = _utc(now)
    if len(data) > max_size:
        raise FeedError(where, f"oversized feed ({len(data)} bytes, cap {max_size})",
                        hint="a feed this large is refused before it is read (endless-data attack?)")
    feed = feedmodel.parse(data, where)
    # The signatures cover the canonical JSON of "signed". A feed written by to_json holds
    # exactly those bytes: check them as read (they are what was parsed), else re-serialise.
    body = feed.raw_signed if feed.raw_signed is not None else feedmodel.canonical(feed.signed())
    valid, bad = _valid_signers(feed, body)
    if not valid and feed.raw_signed is not None:
        body = feedmodel.canonical(feed.signed())
        valid, bad = _valid_signers(feed, body)
    feed_keys = _key_set(feed.keys, where)
    why_not: dict[bytes, str] = {}  # valid signers that do not count, and why

    def counting(candidates: dict[bytes, PublicKey]) -> dict[bytes, PublicKey]:
        out = {}
        for raw, key in valid.items():
            revoked = trust.revocation(key)
            if revoked is not None:
                why_not[raw] = (f"signed by revoked key {key.fingerprint()} "
                                f"({revoked.reason or 'revoked'})")
            elif raw in candidates:
                out[raw] = key
            else:
                why_not.setdefault(raw, f"signed by untrusted key {key.fingerprint()}")
        return out

    if state is not None:
        old_keys = _key_set(list(state.keys), f"{where} (saved state)")
        rotating = bool(feed_keys) and (set(feed_keys) != set(old_keys)
                                        or feed.threshold != state.threshold)
        counted = counting(old_keys)
        if (rotating and set(old_keys) < set(feed_keys) and feed.threshold == state.threshold
                and len(counted) < state.threshold):
            # keys only added (a team admitting a member who publishes): a signer in the new
            # set that this client trusts itself vouches for the addition
            vouching = {raw: k for raw, k in valid.items()
                        if raw in feed_keys and _trusted(k, trust, now, where)}
            counted = {**counting(vouching), **counted}
        _need(where, counted, state.threshold, why_not, bad, rotating=rotating)
        if rotating:
            why_not.clear()
            new_counted = counting(feed_keys)
            if len(new_counted) < feed.threshold:
                raise FeedError(where, f"new key set signed by {len(new_counted)} of its own key(s), "
                                f"threshold {feed.threshold}",
                                hint="a key rotation must be signed by the new keys as well as the old")
            keys, threshold = tuple(feed.keys), feed.threshold
            counted = {**counted, **new_counted}
        else:
            keys, threshold = state.keys, state.threshold
    else:
        if pinned:
            trusted = {k.raw: k for k in pinned}
        else:
            trusted = {raw: k for raw, k in valid.items() if _trusted(k, trust, now, where)}
        if feed_keys:
            for raw, key in valid.items():
                if raw in trusted and raw not in feed_keys:
                    why_not[raw] = f"signed by {key.fingerprint()}, which is not in the feed's own key set"
            trusted = {raw: k for raw, k in trusted.items() if raw in feed_keys}
        threshold = max(1, feed.threshold)
        counted = counting(trusted)
        _need(where, counted, threshold, why_not, bad, rotating=False)
        if feed_keys:
            keys = tuple(feed.keys)
        else:
            keys = tuple(k.openssh() for k in sorted(counted.values(), key=lambda k: k.fingerprint()))
            threshold = max(1, min(threshold, len(keys)))
    new_digest = hashlib.sha256(body).hexdigest()  # == digest(feed), without a second pass
    unchanged = False
    if state is not None and state.name and feed.name != state.name:
        raise FeedError(where, f"this is the feed of '{feed.name}', not of '{state.name}' "
                        "(a feed from another marketplace)", hint="someone is serving the wrong feed")
    if state is not None:
        if feed.version < state.version:
            raise FeedError(where, f"rollback: version {feed.version} is older than "
                            f"{state.version} seen before",
                            hint="someone is serving an old feed; keep using the newer one")
        if feed.version == state.version:
            if new_digest != state.digest:
                raise FeedError(where, f"same version {feed.version} with different content "
                                "(replay or tampering)", hint=_REPUBLISH + " with a higher version")
            unchanged = True
    expires = feedmodel.expires_at(feed)
    if expires is None:
        raise FeedError(where, f"no valid 'expires' time ({feed.expires!r})", hint=_REPUBLISH)
    if expires <= now:
        raise FeedError(where, f"expired at {feed.expires} (freeze attack?)", hint=_REPUBLISH)
    signers = tuple(sorted(k.fingerprint() for k in counted.values()))
    return CheckedFeed(feed, signers,
                       FeedState(feed.version, new_digest, keys, threshold, feed.name), unchanged)


MAX_SIGNATURES = 64


def _valid_signers(feed: Feed, body: bytes) -> tuple[dict[bytes, PublicKey], list[str]]:
    """The distinct keys with a valid signature over ``body``, and what was wrong with the rest."""
    valid: dict[bytes, PublicKey] = {}
    bad: list[str] = []
    if len(feed.signatures) > MAX_SIGNATURES:
        raise FeedError("feed", f"{len(feed.signatures)} signatures (at most {MAX_SIGNATURES})",
                        hint="a feed carries one signature per key of its key set")
    for entry in feed.signatures:
        armored = entry["sig"]
        try:
            sig = sshsig.verify(armored, body, NAMESPACE)
        except SignatureError as exc:
            bad.append(_bad_reason(armored, exc))
            continue
        fp = sig.public_key.fingerprint()
        keyid = entry.get("keyid")
        if keyid != fp:
            bad.append(f"signature keyid {str(keyid)[:60]!r} is not its key {fp}")
            continue
        valid.setdefault(sig.public_key.raw, sig.public_key)
    return valid, bad


def _bad_reason(armored: str, exc: SignatureError) -> str:
    try:
        sig = sshsig.parse(armored)
    except SignatureError:
        return f"malformed signature ({exc.reason})"
    fp = sig.public_key.fingerprint()
    if sig.namespace != NAMESPACE:
        return f"bad signature by {fp} (signed for namespace {sig.namespace!r}?)"
    return f"bad signature by {fp} (changed after signing?)"


def _need(where: str, counted: dict[bytes, PublicKey], threshold: int, why_not: dict[bytes, str],
          bad: list[str], *, rotating: bool) -> None:
    if len(counted) >= threshold:
        return
    prefix = "new key set not signed by the previous one: " if rotating else ""
    tampered = bool(bad) and not why_not  # no signature failed for want of trust: trusting cannot help
    if counted:
        reason = f"signed by {len(counted)} trusted key(s), threshold {threshold}"
        others = list(why_not.values()) or bad
        if others:
            reason += f"; {others[0]}"
    elif why_not:
        reason = next(iter(why_not.values()))
    elif bad:
        reason = bad[0]
    else:
        reason = "unsigned feed"
    if tampered:
        hint = ("the feed changed after it was signed (or its signature is for something else): "
                "do not use it and do not re-trust its key; " + _REPUBLISH)
    elif rotating:
        hint = "a new key set is accepted only when signed by the previous one"
    else:
        hint = "trust the marketplace's key for 'skillmeat-feed', or pin it"
    raise FeedError(where, prefix + reason, hint=hint)


def _trusted(key: PublicKey, trust: TrustSet, now: datetime.datetime, where: str) -> bool:
    try:
        check_key(key, NAMESPACE, trust, now, where)
    except SignatureError:
        return False
    return True


def _key_set(lines: list[str], where: str) -> dict[bytes, PublicKey]:
    out: dict[bytes, PublicKey] = {}
    for line in lines:
        try:
            key = PublicKey.parse(line)
        except BadInputError as exc:
            raise FeedError(where, f"bad key in the feed's key set: {exc.message}",
                            hint=_REPUBLISH) from None
        out.setdefault(key.raw, key)
    return out


def _utc(now: datetime.datetime) -> datetime.datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=datetime.UTC)
