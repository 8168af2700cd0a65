"""Importing bundles: verified first, then merge / fork / skip per artifact, idempotent, and all or
nothing (a failure anywhere leaves the collection exactly as it was)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillmeat.model.errors import ConflictError, SignatureError, SkillmeatError
from skillmeat.model.pack import PackError
from skillmeat.services import bundle
from skillmeat.services.collections import create_collection
from skillmeat.services.importer import ImportConflict, PlanItem, import_bundle
from skillmeat.store.collection import CollectionStore
from skillmeat.store.gitrepo import GitRepo
from skillmeat.store.home import Home
from tests.helpers import tree_state
from tests.services.sharing_fixtures import (
    ALICE,
    MALLORY,
    craft_bundle,
    edit,
    examples_collection,
    pack_path,
    trusting,
)

SKILL = "skills/pdf-summary/SKILL.md"
TRUST = trusting(ALICE)


def _export(home: Home, store: CollectionStore, tmp: Path, version: str, *names: str) -> Path:
    out = pack_path(tmp, f"{'-'.join(names) or 'all'}-{version}")
    bundle.build(home, store, list(names), out, ALICE, all_=not names, version=version)
    return out


def _state(store: CollectionStore) -> tuple[str | None, dict[str, bytes]]:
    return store.repo.head(), tree_state(store.path)


@pytest.fixture
def two(home: Home) -> tuple[CollectionStore, CollectionStore]:
    return examples_collection(home, "team"), create_collection(home, "mine")


def test_import_into_empty_collection_then_again_changes_nothing(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    team, mine = two
    pack = _export(home, team, tmp_path, "1")
    result = import_bundle(home, mine, pack, TRUST)
    assert {i.action for i in result.items} == {"add"} and len(result.items) == 8
    assert result.commit == mine.repo.head()
    for aid, entry in team.lock().items():
        assert mine.lock()[aid].hash == entry.hash
        assert mine.lock()[aid].source == "bundle:team@1"
    before = _state(mine)
    again = import_bundle(home, mine, pack, TRUST)
    assert {i.action for i in again.items} == {"unchanged"} and again.commit == ""
    assert _state(mine) == before


def test_merge_takes_theirs_when_ours_is_unchanged(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    team, mine = two
    import_bundle(home, mine, _export(home, team, tmp_path, "1", "pdf-summary"), TRUST)
    edit(team, SKILL, "---\nname: pdf-summary\ndescription: Better.\n---\nv2\n")
    result = import_bundle(home, mine, _export(home, team, tmp_path, "2", "pdf-summary"), TRUST)
    assert [i.action for i in result.items] == ["update"]
    assert (mine.path / SKILL).read_text().endswith("v2\n")
    assert mine.lock()["skill/pdf-summary"].hash == result.checked.manifest.artifacts[0].hash
    assert not mine.repo.dirty_paths()


def test_merge_stops_with_the_diff_when_both_changed(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    team, mine = two
    import_bundle(home, mine, _export(home, team, tmp_path, "1", "pdf-summary"), TRUST)
    edit(team, SKILL, "---\nname: pdf-summary\ndescription: Theirs.\n---\ntheirs\n")
    edit(mine, SKILL, "---\nname: pdf-summary\ndescription: Ours.\n---\nours\n")
    before = _state(mine)
    pack = _export(home, team, tmp_path, "2", "pdf-summary")
    with pytest.raises(ImportConflict) as info:
        import_bundle(home, mine, pack, TRUST)
    diff = info.value.items[0].diff
    assert "-ours" in diff and "+theirs" in diff and "ours/skills/pdf-summary/SKILL.md" in diff
    assert _state(mine) == before
    skipped = import_bundle(home, mine, pack, TRUST, strategy="skip")
    assert [i.action for i in skipped.items] == ["skip"] and _state(mine) == before
    chosen: list[str] = []

    def choose(item: object) -> str:
        assert isinstance(item, PlanItem)
        chosen.append(str(item.target))
        return "skip"

    import_bundle(home, mine, pack, TRUST, choose=choose)
    assert chosen == ["skill/pdf-summary"]
    assert _state(mine) == before
    forked = import_bundle(home, mine, pack, TRUST, strategy="fork")
    target = forked.items[0].target
    assert forked.items[0].action == "fork" and target.name.startswith("pdf-summary-fork-")
    text = (mine.path / target.relpath / "SKILL.md").read_text()
    assert text.startswith(f"---\nname: {target.name}\n") and text.endswith("theirs\n")
    assert (mine.path / SKILL).read_text().endswith("ours\n")
    after_fork = _state(mine)
    again = import_bundle(home, mine, pack, TRUST, strategy="fork")
    assert [i.action for i in again.items] == ["unchanged"] and _state(mine) == after_fork


def test_ours_changed_theirs_is_the_common_version_keeps_ours(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    team, mine = two
    pack = _export(home, team, tmp_path, "1", "pdf-summary")
    import_bundle(home, mine, pack, TRUST)
    edit(mine, SKILL, "---\nname: pdf-summary\ndescription: Mine.\n---\nmine\n")
    before = _state(mine)
    result = import_bundle(home, mine, pack, TRUST)
    assert [i.action for i in result.items] == ["kept"] and _state(mine) == before


def test_all_or_nothing_when_the_commit_fails(home: Home, tmp_path: Path, two,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    team, mine = two
    pack = _export(home, team, tmp_path, "1")
    before = _state(mine)

    def boom(*args: object, **kwargs: object) -> str:
        raise SkillmeatError("disk full (simulated)")

    monkeypatch.setattr(GitRepo, "commit_paths", boom)
    with pytest.raises(SkillmeatError, match="simulated"):
        import_bundle(home, mine, pack, TRUST)
    assert _state(mine) == before
    assert not list((Path(mine.repo.repo.path) / "skillmeat").glob("import-*"))


def test_dry_run_and_signatures(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    team, mine = two
    pack = _export(home, team, tmp_path, "1")
    before = _state(mine)
    planned = import_bundle(home, mine, pack, TRUST, dry_run=True)
    assert len(planned.changes) == 8 and _state(mine) == before
    with pytest.raises(SignatureError, match="unknown key"):
        import_bundle(home, mine, pack, trusting(MALLORY))
    assert _state(mine) == before
    result = import_bundle(home, mine, pack, trusting(MALLORY), allow_unsigned=True)
    assert len(result.changes) == 8


# --- hostile layouts and inputs (each refused whole, the collection untouched) -------------


def _refused_whole(home: Home, mine: CollectionStore, pack: Path, exc: type[Exception], match: str,
                   **kw: object) -> None:
    before = _state(mine)
    with pytest.raises(exc, match=match) as info:
        import_bundle(home, mine, pack, TRUST, **kw)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    assert _state(mine) == before


def test_an_artifact_cannot_reach_into_another(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    team, mine = two
    import_bundle(home, mine, _export(home, team, tmp_path, "1", "pdf-summary", "format-on-save"), TRUST)
    skill = {"artifacts/skills/pdf-summary/scripts/SKILL.md": b"---\nname: scripts\n---\n",
             "artifacts/skills/pdf-summary/scripts/extract.py": b"evil()\n"}
    pack = craft_bundle(tmp_path / "nested.skillmeat-pack", {"skill/pdf-summary:scripts": skill})
    _refused_whole(home, mine, pack, ConflictError, "belongs to skill/pdf-summary", strategy="skip")
    hook = {"artifacts/hooks/format-on-save/evil.toml": b"event = 'x'\n",
            "artifacts/hooks/format-on-save/evil/payload.sh": b"rm -rf /\n"}
    pack = craft_bundle(tmp_path / "hook.skillmeat-pack", {"hook/format-on-save:evil": hook})
    _refused_whole(home, mine, pack, ConflictError, "belongs to hook/format-on-save")
    both = craft_bundle(tmp_path / "both.skillmeat-pack", {
        "skill/a": {"artifacts/skills/a/SKILL.md": b"x"},
        "skill/a:b": {"artifacts/skills/a/b/SKILL.md": b"x"}})
    _refused_whole(home, mine, both, PackError, "inside skill/a|belongs to no artifact")


def test_a_file_in_the_way(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    _, mine = two
    (mine.path / "commands").mkdir()
    (mine.path / "commands" / "zz").write_text("a plain file\n")
    pack = craft_bundle(tmp_path / "w.skillmeat-pack", {
        "agent/aaa": {"artifacts/agents/aaa.md": b"---\nname: aaa\n---\n"},
        "command/zz:cmd": {"artifacts/commands/zz/cmd.md": b"x\n"}})
    _refused_whole(home, mine, pack, ConflictError, "commands/zz is in the way")


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def test_hostile_manifest_text_and_json(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    _, mine = two
    one = {"command/x": {"artifacts/commands/x.md": b"x\n"}}
    for fields, match in (
            ({"publisher": {"name": "\x1b[31mred\r\nfake", "key": ALICE.public.openssh()}},
             "control characters"),
            ({"publisher": {"name": "\ud800", "key": ALICE.public.openssh()}}, "lone surrogate"),
            ({"created": _nested(70)}, "nested"),
            ({"source": {"repo": "x", "commit": "not-a-commit"}}, "commit id")):
        pack = craft_bundle(tmp_path / "t.skillmeat-pack", one, **fields)
        _refused_whole(home, mine, pack, PackError, match)


def test_whole_archive_ratio_cap(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    _, mine = two
    files = {f"artifacts/skills/z/f{i:03}.bin": bytes(200_000) for i in range(40)}
    files["artifacts/skills/z/SKILL.md"] = b"---\nname: z\n---\n"
    pack = craft_bundle(tmp_path / "bomb.skillmeat-pack", {"skill/z": files})
    _refused_whole(home, mine, pack, PackError, "in all; possible zip bomb")


def test_vault_listing_must_match_the_bundle(home: Home, tmp_path: Path, two) -> None:  # type: ignore[no-untyped-def]
    team, mine = two
    pack = _export(home, team, tmp_path, "1", "review")
    _refused_whole(home, mine, pack, PackError, "listed as starter@2, but the bundle is review@1",
                   expect=("starter", "2"))


def test_imported_blobs_are_stored_from_the_bundle_and_git_agrees(  # type: ignore[no-untyped-def]
        home: Home, tmp_path: Path, two) -> None:
    import os
    import subprocess

    from tests.helpers import git

    team, mine = two
    skill = team.path / "skills" / "pdf-summary"
    (skill / "data.bin").write_bytes(os.urandom(300_000))  # stored, not deflated
    (skill / "empty.txt").write_bytes(b"")
    (skill / "run.sh").write_text("#!/bin/sh\necho hi\n" * 500)
    (skill / "run.sh").chmod(0o755)
    git("add", "-A", cwd=team.path)
    git("commit", "-qm", "more files", cwd=team.path)
    result = import_bundle(home, mine, _export(home, team, tmp_path, "1"), TRUST)
    assert result.checked.blobs and len(result.changes) == 8
    for name in ("data.bin", "run.sh", "empty.txt"):
        rel = f"skills/pdf-summary/{name}"
        theirs = git("rev-parse", f"HEAD:{rel}", cwd=team.path)
        assert git("rev-parse", f"HEAD:{rel}", cwd=mine.path) == theirs
    assert git("ls-files", "-s", "skills/pdf-summary/run.sh", cwd=mine.path).startswith("100755")
    assert subprocess.run(["git", "fsck", "--full", "--strict"], cwd=mine.path, capture_output=True,
                          check=False).returncode == 0
    assert subprocess.run(["git", "diff-files", "--quiet"], cwd=mine.path, check=False).returncode == 0
    assert git("status", "--porcelain", cwd=mine.path) == "" and not mine.repo.dirty_paths()
