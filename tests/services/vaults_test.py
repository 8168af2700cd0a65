"""Vault publishing order and consistency: a feed never names a missing bundle, a download that
differs from its listing is refused, and versions in a vault are immutable."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from skillmeat.model.errors import ConflictError, SignatureError, SkillmeatError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services import bundle, vaults
from skillmeat.services.trust import TrustSet
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.servers import S3Server, s3_server  # noqa: F401
from tests.services.sharing_fixtures import ALICE, MALLORY, edit, examples_collection, trusting

TRUST = trusting(ALICE)


def _publish(home: Home, store: CollectionStore, vault: vaults.Vault, tmp: Path, version: str,
             names: list[str], key: PrivateKey = ALICE, trust: TrustSet = TRUST) -> vaults.Listing:
    built = bundle.build(home, store, names, tmp / f"{version}.skillmeat-pack", key, name="kit",
                         version=version)
    return vaults.upload(home, vault, store, built, key, trust)


def _feed_versions(vault: vaults.Vault) -> list[str]:
    feed = vaults.read_feed(vault, None)[0]
    return [e["version"] for e in feed.listings] if feed else []


def test_server_stopped_mid_upload_leaves_the_vault_consistent(
        home: Home, tmp_path: Path, s3_server: S3Server) -> None:  # noqa: F811
    store = examples_collection(home)
    vault = vaults.add(home, "s3", "s3://vault/team", {"endpoint_url": s3_server.endpoint})
    _publish(home, store, vault, tmp_path, "1", ["pdf-summary"])
    big = store.path / "skills" / "pdf-summary" / "data.bin"
    big.write_bytes(os.urandom(96 << 20))
    edit(store, "skills/pdf-summary/notes.md", "big data attached\n")
    built = bundle.build(home, store, ["pdf-summary"], tmp_path / "2.skillmeat-pack", ALICE,
                         name="kit", version="2")
    stopper = threading.Timer(0.4, s3_server.stop)
    stopper.start()
    started = time.monotonic()
    with pytest.raises(SkillmeatError) as info:
        vaults.upload(home, vault, store, built, ALICE, TRUST)
    stopper.join()
    message = str(info.value)
    # mid-upload ("upload ... failed") or, on a loaded machine, before it began ("cannot reach")
    assert "\n" not in message and time.monotonic() - started < 60
    assert "failed" in message or "cannot reach vault" in message, message
    s3_server.start()
    assert _feed_versions(vault) == ["1"]  # the feed never named the bundle that did not land
    dest = tmp_path / "fetched.skillmeat-pack"
    listing = vaults.fetch(home, vault, "kit", None, dest, store, TRUST)
    assert listing.version == "1" and bundle.check(dest, TRUST).verified
    assert _publish(home, store, vault, tmp_path, "3", ["review"]).version == "3"
    assert _feed_versions(vault) == ["1", "3"]


def test_download_differing_from_listing_is_refused(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    root = tmp_path / "vault"
    vault = vaults.add(home, "dir", str(root), {})
    _publish(home, store, vault, tmp_path, "1", ["review"])
    packed = root / "bundles" / "kit" / "1.skillmeat-pack"
    data = bytearray(packed.read_bytes())
    data[40] ^= 1
    packed.write_bytes(bytes(data))
    with pytest.raises(SignatureError, match="does not match its listing"):
        vaults.fetch(home, vault, "kit", "1", tmp_path / "x.skillmeat-pack", store, TRUST)


def test_versions_are_immutable_and_feeds_are_signed(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    root = tmp_path / "vault"
    vault = vaults.add(home, "dir", root.as_uri(), {})
    first = _publish(home, store, vault, tmp_path, "1", ["review"])
    (tmp_path / "again").mkdir()
    again = _publish(home, store, vault, tmp_path / "again", "1", ["review"])
    assert again == first and _feed_versions(vault) == ["1"]
    other = examples_collection(home, "other")
    edit(other, "commands/review.md", "different\n")
    with pytest.raises(ConflictError, match="already holds kit@1"):
        _publish(home, other, vault, tmp_path / "again", "1", ["review"])
    feed = json.loads((root / "feed.json").read_text())
    assert feed["signed"]["version"] == 1 and feed["signatures"][0]["keyid"] == ALICE.public.fingerprint()
    with pytest.raises(SignatureError, match="unknown key"):  # someone else's feed: trust it first
        _publish(home, other, vault, tmp_path, "2", ["review"], MALLORY, trusting(MALLORY))
    assert _feed_versions(vault) == ["1"]


def test_vault_config(home: Home) -> None:
    vaults.add(home, "a", "git@example.com:team/vault.git", {})
    vaults.add(home, "b", "s3://bucket/x", {"endpoint_url": "http://127.0.0.1:1"})
    found = vaults.vaults(home)
    assert (found["a"].kind, found["b"].kind) == ("git", "fsspec")
    with pytest.raises(ConflictError):
        vaults.add(home, "a", "s3://other", {})
    with pytest.raises(SkillmeatError, match="credential"):
        vaults.add(home, "c", "s3://bucket", {"aws_secret_access_key": "x"})
    vaults.remove(home, "a")
    assert list(vaults.vaults(home)) == ["b"]
    assert vaults.parse_spec("b:kit@1.2") == ("b", "kit", "1.2")


def _push_crafted(store: CollectionStore, remote: Path, key: PrivateKey, files: dict[str, tuple[int, bytes]],
                  version: str) -> None:
    from skillmeat.services.refs import git_signer
    from skillmeat.store import gitcli
    from skillmeat.store.refstore import RefStore, tree_from_entries

    repo = store.repo.repo
    entries = {p: (mode, str(repo.create_blob(data))) for p, (mode, data) in files.items()}
    ref = f"refs/skillmeat/bundles/kit/{version}"
    RefStore(repo).create(ref, tree_from_entries(repo, entries), "crafted", git_signer(key),
                          store.repo.signature())
    assert all(o.ok for o in gitcli.push_refs(store.path, str(remote), [ref]))


def test_git_vault_refuses_untrusted_and_non_bundle_refs(home: Home, tmp_path: Path) -> None:
    from tests.helpers import git

    remote = tmp_path / "vault.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    store = examples_collection(home)
    vault = vaults.add(home, "g", str(remote), {})
    assert vault.kind == "git"
    _push_crafted(store, remote, MALLORY, {"skillmeat-pack.json": (0o100644, b"{}")}, "1")
    _push_crafted(store, remote, ALICE, {"artifacts/skills/x/SKILL.md": (0o120000, b"/etc/passwd"),
                                         "skillmeat-pack.json": (0o100644, b"{}")}, "2")
    _push_crafted(store, remote, ALICE, {"artifacts/commands/sub": (0o160000, b""),
                                         "skillmeat-pack.json": (0o100644, b"{}")}, "3")
    assert [x.version for x in vaults.listings(home, vault, TRUST)[0]] == ["1", "2", "3"]
    mine = examples_collection(home, "mine")
    with pytest.raises(SignatureError, match="unknown key"):
        vaults.fetch(home, vault, "kit", "1", tmp_path / "1.skillmeat-pack", mine, TRUST)
    with pytest.raises(SkillmeatError, match="not a bundle tree"):
        vaults.fetch(home, vault, "kit", "2", tmp_path / "2.skillmeat-pack", mine, TRUST)
    with pytest.raises(SkillmeatError, match="not a bundle tree"):
        vaults.fetch(home, vault, "kit", "3", tmp_path / "3.skillmeat-pack", mine, TRUST)
    assert not [r for r in mine.repo.repo.references if r.startswith("refs/skillmeat-incoming/")]
    assert not (tmp_path / "1.skillmeat-pack").exists()


def test_feeds_must_be_signed_by_a_trusted_key_and_well_formed(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    root = tmp_path / "vault"
    vault = vaults.add(home, "dir", str(root), {})
    _publish(home, store, vault, tmp_path, "1", ["review"])
    feed_path = root / "feed.json"
    good = json.loads(feed_path.read_text())
    doc = json.loads(feed_path.read_text())
    doc["signed"]["listings"][0]["version"] = "2"  # a swapped listing breaks the signature
    feed_path.write_text(json.dumps(doc))
    dest = tmp_path / "x.skillmeat-pack"
    with pytest.raises(SignatureError, match="vault dir feed: bad signature"):
        vaults.fetch(home, vault, "kit", None, dest, store, TRUST)
    assert vaults.fetch(home, vault, "kit", "2", dest, store, TRUST, allow_unsigned=True).version == "2"
    feed_path.write_text(json.dumps(good))
    with pytest.raises(SignatureError, match="unknown key"):
        vaults.fetch(home, vault, "kit", "1", dest, store, trusting(MALLORY))
    for listing_change in ({"artifacts": 5}, {"bundle": [1]}, {"name": "a\x1b[2Jb"},
                           {"bundle": {"url": "x", "sha256": "y", "size": -1}}):
        doc = json.loads(json.dumps(good))
        doc["signed"]["listings"][0].update(listing_change)
        feed_path.write_text(json.dumps(doc))
        with pytest.raises(SkillmeatError, match=r"listings\[0\]"):
            vaults.listings(home, vault, TRUST)
    feed_path.write_text("[" * 200_000)
    with pytest.raises(SkillmeatError, match="not a valid feed"):
        vaults.listings(home, vault, TRUST)
