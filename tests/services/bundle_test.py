"""Building and checking bundles: reproducible bytes, signatures stock tools verify, the signed
bundle ref, and a one-line refusal for every way a bundle can be wrong."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from skillmeat.model import sshsig
from skillmeat.model.errors import ConflictError, SignatureError, SkillmeatError
from skillmeat.model.pack import MANIFEST, NAMESPACE, SIGNATURE, Limits, PackError
from skillmeat.services import bundle
from skillmeat.services.collections import create_collection, init_collection
from skillmeat.store.home import Home
from skillmeat.store.packzip import PackWriter
from skillmeat.store.refstore import RefStore
from tests.helpers import REPO_ROOT, git
from tests.services.sharing_fixtures import ALICE, MALLORY, examples_collection, pack_path, trusting


def test_bundle_of_every_type_verifies_with_ssh_keygen(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    out = pack_path(tmp_path)
    built = bundle.build(home, store, [], out, ALICE, all_=True)
    types = {a.type.value for a in built.manifest.artifacts}
    assert types == {"skill", "command", "agent", "hook", "mcp"}
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        manifest, sig = zf.read(MANIFEST), zf.read(SIGNATURE)
    assert names == sorted(names)
    assert "artifacts/skills/pdf-summary/SKILL.md" in names
    assert "artifacts/commands/review.md" in names
    assert "artifacts/hooks/format-on-save.toml" in names
    assert json.loads(manifest)["format"] == "skillmeat-pack/1"
    (tmp_path / "allowed").write_text(f"alice@example.com {ALICE.public.openssh()}\n")
    (tmp_path / "sig").write_bytes(sig)
    proc = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I",
                           "alice@example.com", "-n", NAMESPACE, "-s", str(tmp_path / "sig")],
                          input=manifest, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr
    checked = bundle.check(out, trusting(ALICE))
    assert checked.verified and checked.manifest == built.manifest
    for art in built.manifest.artifacts:  # the bundle's hash is the collection's content hash
        assert art.hash == store.lock()[str(art.id)].hash


def test_signed_ref_holds_exactly_the_bundle_and_rebuilds_it(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    out = pack_path(tmp_path)
    built = bundle.build(home, store, ["pdf-summary", "review"], out, ALICE, version="1.0.0")
    assert built.ref == "refs/skillmeat/bundles/team/1.0.0"
    assert RefStore(store.repo.repo).read(built.ref) == built.commit
    files = sorted(store.repo.files_at(built.commit))
    with zipfile.ZipFile(out) as zf:
        assert files == zf.namelist()
    rebuilt = tmp_path / "rebuilt.skillmeat-pack"
    assert bundle.write_from_ref(store, built.commit, rebuilt) == built.sha256
    assert rebuilt.read_bytes() == out.read_bytes()
    (tmp_path / "allowed").write_text(f"alice@example.com namespaces=\"git\" {ALICE.public.openssh()}\n")
    proc = subprocess.run(["git", "-c", "gpg.format=ssh", "-c",
                           f"gpg.ssh.allowedSignersFile={tmp_path / 'allowed'}", "verify-commit",
                           built.commit], cwd=store.path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    again = bundle.build(home, store, ["pdf-summary", "review"], tmp_path / "again", ALICE,
                         version="1.0.0")
    assert again.reused and again.sha256 == built.sha256


def test_a_version_is_immutable(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    bundle.build(home, store, ["pdf-summary"], pack_path(tmp_path), ALICE, version="1")
    (store.path / "skills/pdf-summary/SKILL.md").write_text("---\nname: pdf-summary\n"
                                                             "description: changed\n---\nNew.\n")
    git("commit", "-qam", "change", cwd=store.path)
    before = sorted(tmp_path.iterdir())
    with pytest.raises(ConflictError, match="already exists with other content"):
        bundle.build(home, store, ["pdf-summary"], tmp_path / "x", ALICE, version="1")
    assert sorted(tmp_path.iterdir()) == before


def test_uncommitted_changes_are_refused(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    (store.path / "commands/review.md").write_text("edited\n")
    with pytest.raises(ConflictError, match=r"uncommitted changes in commands/review\.md"):
        bundle.build(home, store, ["review"], pack_path(tmp_path), ALICE)
    assert not pack_path(tmp_path).exists()


BUILD = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from skillmeat.services import bundle
    from skillmeat.store.home import Home
    from tests.services.sharing_fixtures import ALICE
    home = Home.from_env()
    store = home.collection(sys.argv[1])
    print(bundle.build(home, store, [], Path(sys.argv[2]), ALICE, all_=True).sha256)
""")


def test_same_commit_same_bytes_in_another_directory_timezone_and_umask(home: Home, tmp_path: Path) -> None:
    store = examples_collection(home)
    clone = home.paths.collections / "clone"
    git("clone", "-q", str(store.path), str(clone), cwd=tmp_path)
    init_collection(home, clone, "clone")
    for path in clone.rglob("*.md"):  # other mtimes: they must not matter
        path.touch()
    shas = set()
    for name, tz, umask in (("team", "UTC", "022"), ("clone", "Pacific/Kiritimati", "077")):
        proc = subprocess.run(["sh", "-c", f"umask {umask}; exec \"$0\" -c \"$1\" \"$2\" \"$3\"",
                               sys.executable, BUILD, name, str(tmp_path / f"{name}.skillmeat-pack")],
                              cwd=REPO_ROOT, env={**os.environ, "TZ": tz},
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        shas.add(proc.stdout.strip())
    assert len(shas) == 1
    assert (hashlib.sha256((tmp_path / "team.skillmeat-pack").read_bytes()).hexdigest()
            == hashlib.sha256((tmp_path / "clone.skillmeat-pack").read_bytes()).hexdigest())


# --- refusals ----------------------------------------------------------------------------


def _rewrite(src: Path, dst: Path, *, manifest: bytes | None = None, sig: bytes | None = None,
             drop: str = "", extra: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None,
             key: object = None) -> None:
    """A well-formed archive holding ``src``'s members with some changed."""
    with zipfile.ZipFile(src) as zf:
        members = {n: (zf.read(n), (zf.getinfo(n).external_attr >> 16) & 0o777) for n in zf.namelist()}
    members.update({k: (v, 0o644) for k, v in (replace or {}).items()})
    members.update({k: (v, 0o644) for k, v in (extra or {}).items()})
    if manifest is not None:
        members[MANIFEST] = (manifest, 0o644)
        if key is not None:
            members[SIGNATURE] = (sshsig.sign(key, manifest, NAMESPACE).encode(), 0o644)  # type: ignore[arg-type]
    if sig is not None:
        members[SIGNATURE] = (sig, 0o644)
    members.pop(drop, None)
    with PackWriter(dst) as w:
        for name in sorted(members):
            data, perm = members[name]
            w.add_bytes(name, data, 0o100755 if perm & 0o111 else 0o100644)
        w.close()


@pytest.fixture
def built(home: Home, tmp_path: Path) -> Path:
    store = examples_collection(home)
    out = pack_path(tmp_path, "good")
    bundle.build(home, store, ["pdf-summary", "review"], out, ALICE, version="1.0.0")
    return out


def _manifest(path: Path) -> dict:  # type: ignore[type-arg]
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(MANIFEST))  # type: ignore[no-any-return]


def _refused(path: Path, match: str, exc: type[SkillmeatError] = SkillmeatError, **kw: object) -> None:
    with pytest.raises(exc, match=match) as info:
        bundle.check(path, trusting(ALICE), **kw)  # type: ignore[arg-type]
    assert "\n" not in info.value.message


def test_untrusted_unsigned_and_tampered_signatures(built: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.skillmeat-pack"
    _rewrite(built, bad, manifest=json.dumps(_manifest(built), indent=2).encode() + b"\n", key=MALLORY)
    _refused(bad, "signed by MALLORY|publisher key", SignatureError)
    m = _manifest(built)
    m["publisher"]["key"] = MALLORY.public.openssh()
    _rewrite(built, bad, manifest=json.dumps(m).encode(), key=MALLORY)
    _refused(bad, "unknown key", SignatureError)
    assert not bundle.check(bad, trusting(ALICE), allow_unsigned=True).verified
    _rewrite(built, bad, drop=SIGNATURE)
    _refused(bad, "unsigned bundle", SignatureError)
    assert bundle.check(bad, trusting(ALICE), allow_unsigned=True).problem == "unsigned"
    m = _manifest(built)
    m["version"] = "9.9.9"
    _rewrite(built, bad, manifest=json.dumps(m).encode())  # old signature, new manifest
    _refused(bad, "bad signature", SignatureError)
    with pytest.raises(SignatureError, match="bad signature"):
        bundle.check(bad, trusting(ALICE), allow_unsigned=True)
    feed_sig = sshsig.sign(ALICE, (built.parent / "x").as_posix().encode(), "skillmeat-feed")
    _rewrite(built, bad, sig=feed_sig.encode())
    _refused(bad, "bad signature", SignatureError)


def test_listed_unlisted_size_hash_and_manifest_errors(built: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.skillmeat-pack"
    _rewrite(built, bad, extra={"artifacts/commands/extra.md": b"sneaky"})
    _refused(bad, "not listed in the manifest", PackError)
    _rewrite(built, bad, drop="artifacts/commands/review.md")
    _refused(bad, "listed in the manifest but missing", PackError)
    with zipfile.ZipFile(built) as zf:
        original = zf.read("artifacts/commands/review.md")
    _rewrite(built, bad, replace={"artifacts/commands/review.md": original + b"x"})
    _refused(bad, "bytes, the manifest says", PackError)
    _rewrite(built, bad, replace={"artifacts/commands/review.md": original[:-1] + b"#"})
    _refused(bad, "does not match the manifest", PackError)
    m = _manifest(built)
    m["artifacts"][0]["hash"] = "sha256:" + "0" * 64
    _rewrite(built, bad, manifest=json.dumps(m).encode(), key=ALICE)
    _refused(bad, "content hash", PackError)
    _rewrite(built, bad, manifest=b'{"format": "skillmeat-pack/1", "format": "x"}', key=ALICE)
    _refused(bad, "duplicate key", PackError)
    _rewrite(built, bad, manifest=b"{not json", key=ALICE)
    _refused(bad, "not valid JSON", PackError)
    m = _manifest(built)
    m["artifacts"][0]["files"][0]["path"] = "artifacts/skills/../../etc/passwd"
    _rewrite(built, bad, manifest=json.dumps(m).encode(), key=ALICE)
    _refused(bad, "unsafe path", PackError)


def test_caps_are_enforced(built: Path) -> None:
    _refused(built, "too many members", PackError, limits=Limits(max_entries=2))
    _refused(built, r"total|bomb|exceed|large", PackError, limits=Limits(max_total=100))


def test_empty_collection_and_nothing_selected(home: Home, tmp_path: Path) -> None:
    store = create_collection(home, "empty")
    with pytest.raises(SkillmeatError, match=r"no commits|no artifacts"):
        bundle.build(home, store, [], pack_path(tmp_path), ALICE, all_=True)


def test_untracked_files_and_missing_output_directory(home: Home, tmp_path: Path) -> None:
    from skillmeat.model.errors import BadInputError

    store = examples_collection(home)
    (store.path / "skills/pdf-summary/new.txt").write_text("not committed\n")
    with pytest.raises(ConflictError, match=r"uncommitted changes in skills/pdf-summary/new\.txt"):
        bundle.build(home, store, ["pdf-summary"], pack_path(tmp_path), ALICE)
    (store.path / "skills/pdf-summary/new.txt").unlink()
    (store.path / "commands/brand-new.md").write_text("---\ndescription: new\n---\n")
    with pytest.raises(ConflictError, match="brand-new"):
        bundle.build(home, store, [], pack_path(tmp_path), ALICE, all_=True)
    with pytest.raises(BadInputError, match="no such directory"):
        bundle.build(home, store, ["review"], tmp_path / "missing" / "x.skillmeat-pack", ALICE)
    assert RefStore(store.repo.repo).names() == []
