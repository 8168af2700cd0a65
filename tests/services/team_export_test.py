"""The team bundle made on push: versioned by the last artifact change, built once, shared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.errors import SignatureError, SkillmeatError
from skillmeat.services import bundle, team_export
from skillmeat.services.bundle import check
from skillmeat.services.collections import init_collection
from skillmeat.services.marketplaces import Marketplace
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.packzip import PackReader
from skillmeat.store.refstore import RefStore
from tests.helpers import git
from tests.services.sharing_fixtures import ALICE, MALLORY, edit, examples_collection, trusting


def _commit(store: CollectionStore, rel: str, text: str) -> str:
    edit(store, rel, text)
    return store.repo.head() or ""


def _remote_refs(remote: Path) -> dict[str, str]:
    out = git("ls-remote", str(remote), "refs/skillmeat/*", cwd=remote)
    return {ref: oid for oid, ref in (ln.split("\t") for ln in out.splitlines())}


@pytest.fixture
def team(home: Home, tmp_path: Path) -> tuple[CollectionStore, Path]:
    home.trust.add_signer(AllowedSigner(("alice@example.com",), ALICE.public))
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    return examples_collection(home), remote


def test_version_follows_the_last_artifact_change(team, home: Home) -> None:  # type: ignore[no-untyped-def]
    store, _ = team
    first = team_export.plan(store)
    assert first.commit == store.repo.head() and first.name == "team"
    assert first.version == bundle.default_version(store, "0.1.0", first.commit)
    _commit(store, "README.md", "# team\n")
    _commit(store, ".skillmeat/notes.txt", "not an artifact\n")
    assert team_export.plan(store) == first
    changed = _commit(store, "skills/pdf-summary/SKILL.md",
                      "---\nname: pdf-summary\ndescription: Summarise PDFs, better.\n---\nDo it.\n")
    later = team_export.plan(store)
    assert later.commit == changed and later.version.endswith(f"-g{changed[:7]}")
    assert later.ref == f"refs/skillmeat/bundles/team/{later.version}"


def test_the_plan_is_of_the_pushed_commit_not_head(team, home: Home) -> None:  # type: ignore[no-untyped-def]
    store, _ = team
    pushed = team_export.plan(store)
    _commit(store, "skills/pdf-summary/SKILL.md",
            "---\nname: pdf-summary\ndescription: Not pushed yet.\n---\nDo it.\n")
    assert team_export.plan(store) != pushed
    assert team_export.plan(store, at=pushed.commit) == pushed  # its own history, not HEAD's
    with pytest.raises(SkillmeatError, match="no commit"):
        team_export.plan(store, at="f" * 40)


def test_export_builds_once_from_git_objects_and_pushes(team, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, remote = team
    (store.path / "skills/pdf-summary/SKILL.md").write_text("uncommitted edit\n")  # not in it
    out = tmp_path / "out"
    out.mkdir()
    done = team_export.export(home, store, ALICE, remote=str(remote), output=out)
    assert done.built and done.pushed and done.output is not None
    assert _remote_refs(remote) == {done.planned.ref: done.commit}
    checked = check(done.output, trusting(ALICE))
    assert checked.manifest.source_commit == done.planned.commit
    assert len(checked.manifest.artifacts) == 8
    with PackReader(done.output) as reader:
        skill = reader.read_small("artifacts/skills/pdf-summary/SKILL.md", 10_000)
    assert b"uncommitted" not in skill
    again = team_export.export(home, store, ALICE, remote=str(remote))
    assert (again.built, again.pushed, again.commit) == (False, False, done.commit)
    git("checkout", "--", "skills/pdf-summary/SKILL.md", cwd=store.path)
    _commit(store, "README.md", "# only docs\n")
    assert not team_export.export(home, store, ALICE, remote=str(remote)).built
    assert len(_remote_refs(remote)) == 1


def test_a_teammates_bundle_is_adopted_if_trusted(team, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, remote = team
    mine = team_export.export(home, store, ALICE, remote=str(remote))
    clone = tmp_path / "clone"
    git("clone", "-q", str(store.path), str(clone), cwd=tmp_path)
    other = CollectionStore.open("team", clone)
    assert team_export.plan(other) == mine.planned
    # the teammate's own key signs nothing: the remote's ref (signed by a trusted key) is used
    done = team_export.export(home, other, MALLORY, remote=str(remote))
    assert (done.built, done.pushed, done.commit) == (False, False, mine.commit)
    assert RefStore(other.repo.repo).read(mine.planned.ref) == mine.commit


def test_an_untrusted_teammates_bundle_is_refused(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    team_export.export(home, store, MALLORY, remote=str(remote))  # Mallory exported first
    clone = tmp_path / "clone"
    git("clone", "-q", str(store.path), str(clone), cwd=tmp_path)
    other = CollectionStore.open("team", clone)
    with pytest.raises(SignatureError, match="unknown key"):
        team_export.export(home, other, ALICE, remote=str(remote))
    assert RefStore(other.repo.repo).names() == []


def test_publish_to_the_git_remote_is_idempotent(team, home: Home) -> None:  # type: ignore[no-untyped-def]
    store, remote = team
    mp = Marketplace("team", str(remote), "git")
    exported = team_export.export(home, store, ALICE, remote=str(remote))
    first = team_export.publish(home, store, ALICE, mp)
    assert first.changed and first.version == exported.planned.version
    refs = _remote_refs(remote)
    assert refs[exported.planned.ref] == exported.commit  # the exported ref, not a new one
    feed_json = git("show", "refs/skillmeat/feed:feed.json", cwd=remote)
    listing = json.loads(feed_json)["signed"]["listings"][0]
    assert (listing["name"], listing["bundle"]["sha256"]) == ("team", first.sha256)
    _commit(store, "README.md", "# docs only\n")
    second = team_export.publish(home, store, ALICE, mp)
    assert not second.changed and _remote_refs(remote) == refs


def test_publish_to_a_feed_marketplace(team, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, _ = team
    market = tmp_path / "market"
    mp = Marketplace("m", str(market), "feed")
    assert team_export.publish(home, store, ALICE, mp).changed
    before = (market / "feed.json").read_bytes()
    assert not team_export.publish(home, store, ALICE, mp).changed
    assert (market / "feed.json").read_bytes() == before
    assert len(list((market / "bundles" / "team").iterdir())) == 1


def test_an_unregistered_checkout_exports_under_its_manifest_name(home: Home, tmp_path: Path) -> None:
    store = init_collection(home, tmp_path / "work", "crew")
    home.config.unregister("crew")
    _commit(store, "commands/hi.md", "---\ndescription: Say hi\n---\nHi.\n")
    done = team_export.export(home, CollectionStore("crew", store.path), ALICE)
    assert done.built and done.planned.name == "crew" and not done.pushed
