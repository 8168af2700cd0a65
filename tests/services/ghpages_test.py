"""``gh-pages`` deploys: the branch holds exactly the site (plus .nojekyll), moves only forward,
is pushed without force, and the user's checkout is never touched."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from skillmeat.model.errors import BadInputError, ConflictError, SkillmeatError
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services.ghpages import deploy
from skillmeat.store.collection import CollectionStore
from skillmeat.store.sitetree import scan_site
from tests.helpers import git, tree_state

ALICE = PrivateKey(bytes([5]) * 32, "alice@example.com")
REF = "refs/heads/gh-pages"


def make_site(root: Path, *, title: str = "Catalog") -> Path:
    files = {
        "index.html": f"<h1>{title}</h1>\n",
        "404.html": "<h1>Not found</h1>\n",
        "skills/pdf-summary/index.html": "<p>pdf</p>\n",
        "_static/app.css": "body{}\n",
        "assets/javascripts/bundle.js": "console.log(1)\n",
        "api/feed.json": '{"items": []}\n',
        ".well-known/agent-skills/index.json": '{"skills": []}\n',
        "bin/tool.sh": "#!/bin/sh\necho hi\n",
        "empty.txt": "",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "bin/tool.sh").chmod(0o755)
    (root / "assets/img.bin").write_bytes(bytes(range(256)) * 10)
    return root


def bare_remote(tmp_path: Path, name: str = "remote.git") -> Path:
    path = tmp_path / name
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def clone_pages(remote: Path, dest: Path) -> dict[str, bytes]:
    subprocess.run(["git", "clone", "-q", "-b", "gh-pages", str(remote), str(dest)], check=True)
    return tree_state(dest)


def checkout_state(repo: Path) -> tuple[str, str, str]:
    return (git("rev-parse", "HEAD", cwd=repo), git("status", "--porcelain", "--ignored", cwd=repo),
            git("ls-files", "-s", "--debug", cwd=repo))


def test_deploy_pushes_exactly_the_site(collection: CollectionStore, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    remote = bare_remote(tmp_path)
    before = checkout_state(collection.path)
    work_before = tree_state(collection.path)
    result = deploy(collection.path, site, remote=str(remote), message="Publish the catalog")
    assert result.status == "created" and result.created and result.parent is None
    assert result.pushed and result.remote == str(remote)
    assert result.files == 10
    assert git("rev-parse", REF, cwd=collection.path).strip() == result.commit
    assert git("rev-parse", "gh-pages", cwd=remote).strip() == result.commit
    published = clone_pages(remote, tmp_path / "clone")
    assert published == {**tree_state(site), ".nojekyll": b""}
    listing = git("ls-tree", "-r", "gh-pages", cwd=remote)
    modes = {line.split("\t")[1]: line.split()[0] for line in listing.splitlines()}
    assert modes["bin/tool.sh"] == "100755"
    assert modes["index.html"] == modes[".nojekyll"] == "100644"
    assert git("log", "--format=%s", "gh-pages", cwd=remote).strip() == "Publish the catalog"
    assert checkout_state(collection.path) == before
    assert tree_state(collection.path) == work_before
    assert git("fsck", "--strict", cwd=remote).strip() == ""


def test_same_site_is_unchanged_and_a_change_is_a_child(collection: CollectionStore,
                                                        tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    remote = bare_remote(tmp_path)
    first = deploy(collection.path, site, remote=str(remote), message="one")
    before = checkout_state(collection.path)
    again = deploy(collection.path, site, remote=str(remote), message="two")
    assert again.status == "unchanged" and not again.created
    assert again.commit == first.commit and again.parent is None
    assert again.pushed  # pushing an up-to-date branch is harmless (and catches up a late remote)
    assert git("rev-list", "--count", "gh-pages", cwd=remote).strip() == "1"
    (site / "index.html").write_text("<h1>Catalog v2</h1>\n")
    (site / "404.html").unlink()
    (site / "new/page.html").parent.mkdir()
    (site / "new/page.html").write_text("new\n")
    changed = deploy(collection.path, site, remote=str(remote), message="three")
    assert changed.status == "created" and changed.parent == first.commit
    assert git("rev-parse", "gh-pages^", cwd=remote).strip() == first.commit
    assert git("rev-parse", "gh-pages", cwd=remote).strip() == changed.commit
    assert clone_pages(remote, tmp_path / "clone") == {**tree_state(site), ".nojekyll": b""}
    assert checkout_state(collection.path) == before


def test_without_push_only_the_local_branch_moves(collection: CollectionStore, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    result = deploy(collection.path, site, remote=None, message="local", push=False)
    assert result.remote is None and not result.pushed
    assert git("rev-parse", REF, cwd=collection.path).strip() == result.commit
    assert git("show", f"{result.commit}:.well-known/agent-skills/index.json",
               cwd=collection.path) == '{"skills": []}\n'


def test_rejected_push_is_one_line_and_leaves_the_branch(collection: CollectionStore,
                                                         tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    remote = bare_remote(tmp_path)
    first = deploy(collection.path, site, remote=str(remote), message="one")
    other = tmp_path / "other"  # someone else publishes in between
    subprocess.run(["git", "clone", "-q", "-b", "gh-pages", str(remote), str(other)], check=True)
    (other / "theirs.html").write_text("theirs\n")
    git("add", "-A", cwd=other)
    git("commit", "-q", "-m", "theirs", cwd=other)
    git("push", "-q", "origin", "gh-pages", cwd=other)
    theirs = git("rev-parse", "HEAD", cwd=other).strip()
    (site / "index.html").write_text("<h1>mine</h1>\n")
    with pytest.raises(SkillmeatError) as err:
        deploy(collection.path, site, remote=str(remote), message="mine")
    text = str(err.value)
    assert "\n" not in text
    assert text == (f"push of gh-pages to {remote} was rejected: the remote has commits this one "
                    f"does not; fetch it (git fetch {remote} gh-pages:gh-pages) and deploy again")
    assert git("rev-parse", REF, cwd=collection.path).strip() == first.commit  # put back
    assert git("rev-parse", "gh-pages", cwd=remote).strip() == theirs
    # the advice works: fetch, deploy again, and the history goes on from theirs
    git("fetch", "-q", str(remote), "gh-pages:gh-pages", cwd=collection.path)
    done = deploy(collection.path, site, remote=str(remote), message="mine")
    assert done.created and done.parent == theirs and done.pushed


def test_unreachable_remote_keeps_the_local_commit(collection: CollectionStore, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    missing = tmp_path / "nowhere.git"
    with pytest.raises(SkillmeatError) as err:
        deploy(collection.path, site, remote=str(missing), message="one")
    text = str(err.value)
    tip = git("rev-parse", REF, cwd=collection.path).strip()
    assert "\n" not in text
    assert text.startswith(f"push of gh-pages to {missing} failed: ")
    assert text.endswith(f"the local branch gh-pages is at {tip[:12]}; push it later with "
                         f"git push {missing} gh-pages")
    with pytest.raises(SkillmeatError, match="no remote named 'origin'"):
        deploy(collection.path, site, remote=None, message="two")  # no origin configured
    assert git("rev-parse", REF, cwd=collection.path).strip() == tip  # refused before committing
    with pytest.raises(SkillmeatError, match="invalid remote"):
        deploy(collection.path, site, remote="--upload-pack=touch x", message="three")
    with pytest.raises(SkillmeatError, match="invalid branch name"):
        deploy(collection.path, site, remote=None, branch="refs/heads/x", push=False, message="four")


def test_remote_name_and_remote_tracking_parent(collection: CollectionStore, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    remote = bare_remote(tmp_path)
    git("remote", "add", "origin", str(remote), cwd=collection.path)
    first = deploy(collection.path, site, remote="origin", message="one")
    assert first.remote == "origin" and first.pushed
    git("branch", "-D", "gh-pages", cwd=collection.path)  # a fresh clone has only origin/gh-pages
    git("fetch", "-q", "origin", cwd=collection.path)
    (site / "index.html").write_text("<h1>two</h1>\n")
    second = deploy(collection.path, site, remote=None, message="two")
    assert second.remote == "origin" and second.parent == first.commit and second.pushed


def test_cname_on_the_branch_is_kept(collection: CollectionStore, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / "CNAME").write_text("skills.example.com\n")
    deploy(collection.path, site, remote=None, push=False, message="one")
    (site / "CNAME").unlink()
    (site / "index.html").write_text("<h1>two</h1>\n")
    second = deploy(collection.path, site, remote=None, push=False, message="two")
    assert git("show", f"{second.commit}:CNAME", cwd=collection.path) == "skills.example.com\n"


def test_signed_deploy_verifies_with_stock_git(collection: CollectionStore, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    remote = bare_remote(tmp_path)
    result = deploy(collection.path, site, remote=str(remote), message="signed", signer=ALICE)
    allowed = tmp_path / "allowed"
    allowed.write_text(f'alice@example.com namespaces="git" {ALICE.public.openssh()}\n')
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    proc = subprocess.run(["git", "-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={allowed}",
                           "verify-commit", result.commit], cwd=remote, capture_output=True, text=True,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert 'Good "git" signature for alice@example.com' in proc.stderr
    unsigned = deploy(collection.path, make_site(tmp_path / "site2", title="x"), remote=str(remote),
                      message="unsigned")
    proc = subprocess.run(["git", "verify-commit", unsigned.commit], cwd=remote, capture_output=True,
                          text=True, check=False)
    assert proc.returncode != 0


def test_bad_sites_are_refused_in_one_line(collection: CollectionStore, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"^no site at .*missing"):
        deploy(collection.path, tmp_path / "missing", remote=None, push=False, message="m")
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub/index.html").write_text("x")
    with pytest.raises(BadInputError, match=r"has no index\.html"):
        deploy(collection.path, empty, remote=None, push=False, message="m")
    site = make_site(tmp_path / "site")
    (site / "skills/link.html").symlink_to(site / "index.html")
    with pytest.raises(BadInputError, match=r"skills/link\.html is a symlink"):
        deploy(collection.path, site, remote=None, push=False, message="m")
    (site / "skills/link.html").unlink()
    (site / "dirlink").symlink_to(tmp_path)
    with pytest.raises(BadInputError, match="dirlink is a symlink"):
        deploy(collection.path, site, remote=None, push=False, message="m")
    (site / "dirlink").unlink()
    os.mkfifo(site / "pipe")
    with pytest.raises(BadInputError, match="pipe is not a regular file"):
        deploy(collection.path, site, remote=None, push=False, message="m")
    (site / "pipe").unlink()
    with pytest.raises(BadInputError, match="invalid branch name"):
        deploy(collection.path, site, remote=None, branch="a..b", push=False, message="m")
    with pytest.raises(BadInputError, match="invalid remote"):
        deploy(collection.path, site, remote="--upload-pack=evil", message="m")
    assert git("branch", "--list", "gh-pages", cwd=collection.path) == ""


def test_checked_out_branch_is_refused(collection: CollectionStore, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    git("switch", "-q", "-c", "gh-pages", cwd=collection.path)
    with pytest.raises(ConflictError, match="branch gh-pages is checked out"):
        deploy(collection.path, site, remote=None, push=False, message="m")


def test_git_dirs_inside_the_site_are_left_out(collection: CollectionStore, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    git("init", "-q", cwd=site)
    result = deploy(collection.path, site, remote=None, push=False, message="m")
    assert result.skipped == [".git"]
    names = git("ls-tree", "-r", "--name-only", result.commit, cwd=collection.path).split()
    assert not any(n.startswith(".git/") for n in names) and ".nojekyll" in names


def test_bare_repository_works_too(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    source = bare_remote(tmp_path, "source.git")
    remote = bare_remote(tmp_path)
    result = deploy(source, site, remote=str(remote), message="from bare")
    assert result.pushed
    assert git("log", "-1", "--format=%an <%ae>", "gh-pages", cwd=remote).strip() == \
        "Test User <test@example.com>"


def test_ten_thousand_files(collection: CollectionStore, tmp_path: Path) -> None:
    site = tmp_path / "big"
    for i in range(10_000):
        path = site / f"p{i % 40}" / f"q{i % 7}" / f"page{i}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<p>page {i}</p>\n" * 100)
    (site / "index.html").write_text("home\n")
    started = time.perf_counter()
    result = deploy(collection.path, site, remote=None, push=False, message="big")
    took = time.perf_counter() - started
    assert result.files == 10_001
    assert took < 20, took  # ~1 s here
    count = git("ls-tree", "-r", "--name-only", result.commit, cwd=collection.path).count("\n")
    assert count == 10_002
    again = deploy(collection.path, site, remote=None, push=False, message="big")
    assert again.status == "unchanged"


def test_scan_reports_modes_and_sizes(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    scan = scan_site(site)
    by_path = {f.path: f for f in scan.files}
    assert stat.S_IMODE(by_path["bin/tool.sh"].mode) == 0o755
    assert by_path["assets/img.bin"].size == 2560
    assert [f.path for f in scan.files] == sorted(by_path)
