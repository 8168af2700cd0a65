"""Signed files committed to a repository: bundles, feeds and the team's trust files.

Bundles and feeds are verified against the trust that applies to the repository (the
user's plus its own ``.skillmeat/``, as staged); trust files must parse line by line with
valid keys, and rotation statements must verify. Each bad file gives one Finding.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import posixpath
from collections.abc import Callable, Sequence
from pathlib import Path

from skillmeat.model.errors import BadInputError, SkillmeatError
from skillmeat.model.feed import FEED_FILE
from skillmeat.model.findings import Finding
from skillmeat.model.pack import SUFFIX
from skillmeat.services.trust import TrustSet, parse_rotation
from skillmeat.store.tree import FsTree
from skillmeat.store.trust import TrustDir

TRUST_DIR = ".skillmeat"
ROTATION_SUFFIX = ".rotation"
HINTS = {  # when the error itself has no hint
    "bundle": "export the bundle again (`skillmeat export`) and commit that file",
    "feed": "publish the feed again with a trusted key (`skillmeat publish`)",
    "signers": "fix or remove that line (git's allowed-signers format: principals [options] key)",
    "revoked": "fix or remove that line (one public key a line)",
    "rotation": "copy the statement `skillmeat keys rotate` wrote, unchanged",
}


def kind_of(rel: str) -> str | None:
    """What a repository path holds, for this check: bundle, feed, signers, revoked, rotation."""
    if rel.endswith(SUFFIX):
        return "bundle"
    if posixpath.basename(rel) == FEED_FILE:
        return "feed"
    if rel == f"{TRUST_DIR}/allowed_signers":
        return "signers"
    if rel == f"{TRUST_DIR}/revoked":
        return "revoked"
    if rel.startswith(f"{TRUST_DIR}/rotations/") and rel.count("/") == 2:
        return "rotation"
    return None


def verify_files(root: Path, files: Sequence[str], trust: Callable[[], TrustSet],
                 now: datetime.datetime) -> list[Finding]:
    """One Finding per bad file among ``files`` (relative to ``root``); others are skipped.

    ``trust`` is called once, when a bundle or a feed needs it.
    """
    out: list[Finding] = []
    loaded: list[TrustSet] = []
    for rel in dict.fromkeys(files):
        kind = kind_of(rel)
        if kind is None:
            continue
        try:
            if kind in ("bundle", "feed"):
                if not loaded:
                    loaded.append(_load(trust))
                _verify_signed(root, rel, kind, loaded[0], now)
            else:
                _check_trust_file(root, rel, kind)
        except SkillmeatError as exc:
            found = Finding.from_error(rel, exc, str(root))
            out.append(found if found.hint else dataclasses.replace(found, hint=HINTS[kind]))
    return out


def _load(trust: Callable[[], TrustSet]) -> TrustSet:
    try:
        return trust()
    except SkillmeatError as exc:
        raise BadInputError(f"not verified: the trust files do not load ({exc.message})",
                            hint="fix the trust file it names first") from None


def _verify_signed(root: Path, rel: str, kind: str, trust: TrustSet, now: datetime.datetime) -> None:
    if kind == "bundle":
        from skillmeat.services.bundle import check

        check(root / rel, trust, where=rel, now=now)
        return
    from skillmeat.services.feedcheck import check_feed

    data = FsTree(root, only=[rel]).read(rel)
    if _not_a_feed(data):
        return  # a feed.json of something else (a skill's example data): not ours to judge
    check_feed(data, where=rel, trust=trust, state=None, now=now)


def _not_a_feed(data: bytes) -> bool:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return False  # a damaged feed is still a feed: the check reports it
    return not (isinstance(doc, dict) and ("signed" in doc or "signatures" in doc))


def _check_trust_file(root: Path, rel: str, kind: str) -> None:
    team = TrustDir(root / TRUST_DIR, "this repository's trust")
    if kind == "signers":
        team.signers()
    elif kind == "revoked":
        team.revoked()
    elif not rel.endswith(ROTATION_SUFFIX):
        if not posixpath.basename(rel).startswith("."):
            raise BadInputError(f"{rel}: SkillMeat reads only *{ROTATION_SUFFIX} files here",
                                hint=f"name it NAME{ROTATION_SUFFIX}, or move it out of rotations/")
    else:
        try:
            text = FsTree(root, only=[rel]).read(rel).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInputError(f"{rel}: not UTF-8 text") from None
        parse_rotation(text, rel)
