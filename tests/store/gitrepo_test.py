from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from pygit2.enums import ConfigLevel

from skillmeat.model.errors import NotFoundError
from skillmeat.store.gitrepo import GitRepo
from tests.helpers import git, tree_state


def write(root: Path, rel: str, text: str, *, executable: bool = False) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if executable:
        path.chmod(0o755)


def porcelain(root: Path) -> str:
    return git("status", "--porcelain", "--untracked-files=all", cwd=root)


def committed_files(root: Path, rev: str = "HEAD") -> list[str]:
    return git("ls-tree", "-r", "--name-only", rev, cwd=root).split()


def subjects(root: Path, *args: str) -> list[str]:
    return git("log", "--format=%s", *args, cwd=root).splitlines()


@pytest.fixture
def libgit2_home(isolated_home: Path) -> Iterator[Path]:
    """Point libgit2's config search at the isolated HOME (it reads HOME once, at import)."""
    home = isolated_home / "user"
    empty = isolated_home / "no-system-config"
    empty.mkdir(exist_ok=True)
    wanted = {ConfigLevel.GLOBAL: str(home), ConfigLevel.XDG: str(home / ".config"),
              ConfigLevel.SYSTEM: str(empty)}
    saved = {level: pygit2.settings.search_path[level] for level in wanted}
    for level, value in wanted.items():
        pygit2.settings.search_path[level] = value
    yield home
    for level, value in saved.items():
        pygit2.settings.search_path[level] = value


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo.init(tmp_path / "coll")


@pytest.fixture
def seeded(repo: GitRepo) -> GitRepo:
    """A repository with two artifacts committed in two commits."""
    write(repo.path, "skills/a/SKILL.md", "---\nname: a\n---\nA\n")
    write(repo.path, "skills/a/scripts/run.sh", "#!/bin/sh\necho a\n", executable=True)
    repo.commit_paths(["skills/a"], "Add a")
    write(repo.path, "commands/b.md", "B\n")
    repo.commit_paths(["commands/b.md"], "Add b")
    return repo


# --- init and opening ---

def test_init_makes_a_repository_git_recognises_with_an_unborn_main(repo: GitRepo) -> None:
    assert (repo.path / ".git").is_dir()
    assert repo.head() is None
    assert repo.log() == []
    assert git("symbolic-ref", "HEAD", cwd=repo.path).strip() == "refs/heads/main"
    assert git("rev-parse", "--is-inside-work-tree", cwd=repo.path).strip() == "true"


def test_init_in_an_existing_directory_keeps_its_files(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "keep.txt").write_text("x")
    repo = GitRepo.init(tmp_path / "d")
    assert (repo.path / "keep.txt").read_text() == "x"


def test_opening_something_that_is_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not a git repository"):
        GitRepo(tmp_path)


def test_opening_a_bare_repository(tmp_path: Path) -> None:
    git("init", "-q", "--bare", str(tmp_path / "bare.git"), cwd=tmp_path)
    with pytest.raises(NotFoundError, match="bare"):
        GitRepo(tmp_path / "bare.git")


# --- commit_paths ---

def test_first_commit_adds_files_and_leaves_a_clean_status(repo: GitRepo) -> None:
    write(repo.path, "skills/a/SKILL.md", "A\n")
    write(repo.path, "skills/a/ref/deep/notes.md", "notes\n")
    write(repo.path, "commands/b.md", "B\n")
    oid = repo.commit_paths(["skills/a", "commands/b.md"], "First")
    assert repo.head() == oid
    assert git("rev-parse", "HEAD", cwd=repo.path).strip() == oid
    assert subjects(repo.path) == ["First"]
    assert committed_files(repo.path) == ["commands/b.md", "skills/a/SKILL.md",
                                          "skills/a/ref/deep/notes.md"]
    assert porcelain(repo.path) == ""


def test_commit_records_the_executable_bit(seeded: GitRepo) -> None:
    modes = git("ls-tree", "-r", "HEAD", cwd=seeded.path)
    assert "100755 blob" in next(line for line in modes.splitlines() if "run.sh" in line)
    assert "100644 blob" in next(line for line in modes.splitlines() if "SKILL.md" in line)


def test_commit_stages_only_the_given_paths(seeded: GitRepo) -> None:
    write(seeded.path, "commands/b.md", "B2\n")
    write(seeded.path, "notes.txt", "untracked\n")
    write(seeded.path, "commands/c.md", "C\n")
    seeded.commit_paths(["commands/c.md"], "Add c")
    assert git("show", "HEAD:commands/b.md", cwd=seeded.path) == "B\n"
    assert "commands/c.md" in committed_files(seeded.path)
    assert "notes.txt" not in committed_files(seeded.path)
    status = porcelain(seeded.path)
    assert " M commands/b.md" in status
    assert "?? notes.txt" in status
    assert "commands/c.md" not in status


def test_modifications_are_committed(seeded: GitRepo) -> None:
    write(seeded.path, "skills/a/SKILL.md", "changed\n")
    write(seeded.path, "skills/a/new.md", "new\n")
    seeded.commit_paths(["skills/a"], "Change a")
    assert git("show", "HEAD:skills/a/SKILL.md", cwd=seeded.path) == "changed\n"
    assert "skills/a/new.md" in committed_files(seeded.path)
    assert git("diff", "--name-status", "HEAD~1", "HEAD", cwd=seeded.path).split() == [
        "M", "skills/a/SKILL.md", "A", "skills/a/new.md"]
    assert porcelain(seeded.path) == ""


def test_deleting_a_whole_directory_is_committed(seeded: GitRepo) -> None:
    shutil.rmtree(seeded.path / "skills")
    seeded.commit_paths(["skills/a"], "Remove a")
    assert committed_files(seeded.path) == ["commands/b.md"]
    assert porcelain(seeded.path) == ""


def test_deleting_some_files_of_a_directory(seeded: GitRepo) -> None:
    (seeded.path / "skills/a/scripts/run.sh").unlink()
    seeded.commit_paths(["skills/a"], "Trim a")
    assert committed_files(seeded.path) == ["commands/b.md", "skills/a/SKILL.md"]
    assert porcelain(seeded.path) == ""


def test_deleting_a_single_file(seeded: GitRepo) -> None:
    (seeded.path / "commands/b.md").unlink()
    seeded.commit_paths(["commands/b.md"], "Remove b")
    assert "commands/b.md" not in committed_files(seeded.path)
    assert porcelain(seeded.path) == ""


def test_a_prefix_sibling_is_not_removed_with_a_directory(repo: GitRepo) -> None:
    write(repo.path, "skills/a/SKILL.md", "A\n")
    write(repo.path, "skills/ab/SKILL.md", "AB\n")
    repo.commit_paths(["skills"], "Add")
    shutil.rmtree(repo.path / "skills/a")
    repo.commit_paths(["skills/a"], "Remove a")
    assert committed_files(repo.path) == ["skills/ab/SKILL.md"]


def test_replacing_a_file_with_a_directory(seeded: GitRepo) -> None:
    (seeded.path / "commands/b.md").unlink()
    write(seeded.path, "commands/b.md/inner.md", "now a dir\n")
    seeded.commit_paths(["commands/b.md"], "Replace")
    assert "commands/b.md/inner.md" in committed_files(seeded.path)
    assert porcelain(seeded.path) == ""


def test_nothing_changed_means_no_new_commit(seeded: GitRepo) -> None:
    head = seeded.head()
    assert seeded.commit_paths(["skills/a", "commands/b.md"], "Nothing") == head
    assert len(subjects(seeded.path)) == 2


def test_allow_empty_makes_a_commit_anyway(seeded: GitRepo) -> None:
    head = seeded.head()
    new = seeded.commit_paths([], "Empty", allow_empty=True)
    assert new != head
    assert git("rev-parse", "HEAD~1", cwd=seeded.path).strip() == head
    assert git("rev-parse", "HEAD^{tree}", cwd=seeded.path) == git("rev-parse", "HEAD~1^{tree}",
                                                                    cwd=seeded.path)


def author(root: Path) -> str:
    return git("log", "-1", "--format=%an <%ae>", cwd=root).strip()


def test_commit_identity_is_the_one_git_itself_would_use(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user's git set-up (here GIT_CONFIG_GLOBAL, as the test isolation sets it) decides.
    config = tmp_path / "elsewhere" / "gitconfig"
    config.parent.mkdir()
    config.write_text("[user]\n\tname = Config Global\n\temail = global@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    ident = git("var", "GIT_AUTHOR_IDENT", cwd=repo.path).rsplit(" ", 2)[0]
    assert ident == "Config Global <global@example.com>"
    write(repo.path, "x.md", "x")
    repo.commit_paths(["x.md"], "Mine")
    assert author(repo.path) == ident


def test_commits_use_the_configured_identity(libgit2_home: Path, repo: GitRepo) -> None:
    write(repo.path, "x.md", "x")
    repo.commit_paths(["x.md"], "Mine")
    assert author(repo.path) == "Test User <test@example.com>"
    assert repo.log()[0].author == "Test User"


def test_commit_without_any_configured_identity_uses_the_default(
    libgit2_home: Path, tmp_path: Path
) -> None:
    (libgit2_home / ".gitconfig").write_text("")
    repo = GitRepo.init(tmp_path / "anon")
    write(repo.path, "x.md", "x")
    repo.commit_paths(["x.md"], "Anon")
    assert author(repo.path) == "SkillMeat <skillmeat@localhost>"


# --- log ---

def test_log_lists_newest_first(seeded: GitRepo) -> None:
    entries = seeded.log()
    assert [c.summary for c in entries] == ["Add b", "Add a"]
    assert [c.id for c in entries] == git("log", "--format=%H", cwd=seeded.path).split()
    assert entries[0].to_dict()["summary"] == "Add b"


def test_log_limit(seeded: GitRepo) -> None:
    assert [c.summary for c in seeded.log(limit=1)] == ["Add b"]


def test_log_with_a_path_filter_matches_git_log(seeded: GitRepo) -> None:
    write(seeded.path, "skills/a/SKILL.md", "changed\n")
    seeded.commit_paths(["skills/a"], "Change a")
    write(seeded.path, "commands/b.md", "changed\n")
    seeded.commit_paths(["commands/b.md"], "Change b")
    (seeded.path / "skills/a/scripts/run.sh").unlink()
    seeded.commit_paths(["skills/a"], "Trim a")
    for path in ("skills/a", "commands/b.md", "skills/a/scripts"):
        assert [c.summary for c in seeded.log(path=path)] == subjects(seeded.path, "--", path)
    assert [c.summary for c in seeded.log(path="skills/a")] == ["Trim a", "Change a", "Add a"]
    assert seeded.log(path="nowhere") == []


def test_log_path_filter_sees_a_deletion(seeded: GitRepo) -> None:
    (seeded.path / "commands/b.md").unlink()
    seeded.commit_paths(["commands/b.md"], "Remove b")
    assert [c.summary for c in seeded.log(path="commands/b.md")] == ["Remove b", "Add b"]


def test_commit_summary_is_the_first_line(seeded: GitRepo) -> None:
    write(seeded.path, "x.md", "x")
    seeded.commit_paths(["x.md"], "Subject line\n\nBody text\n- item")
    assert seeded.log(limit=1)[0].summary == "Subject line"


# --- resolve, files_at ---

def test_resolve(seeded: GitRepo) -> None:
    first = git("rev-parse", "HEAD~1", cwd=seeded.path).strip()
    assert seeded.resolve("HEAD~1") == first
    assert seeded.resolve(first[:10]) == first
    assert seeded.resolve("main") == seeded.head()
    for bad in ("nope", "HEAD~9", "0" * 40):
        with pytest.raises(NotFoundError):
            seeded.resolve(bad)


def test_files_at(seeded: GitRepo) -> None:
    files = seeded.files_at("HEAD")
    assert sorted(files) == ["commands/b.md", "skills/a/SKILL.md", "skills/a/scripts/run.sh"]
    mode, oid = files["skills/a/scripts/run.sh"]
    assert mode == 0o100755
    assert seeded.blob(oid) == b"#!/bin/sh\necho a\n"
    assert sorted(seeded.files_at("HEAD~1")) == ["skills/a/SKILL.md", "skills/a/scripts/run.sh"]


# --- diff ---

def test_diff_between_commits(seeded: GitRepo) -> None:
    write(seeded.path, "skills/a/SKILL.md", "---\nname: a\n---\nA changed\n")
    seeded.commit_paths(["skills/a"], "Change a")
    text = seeded.diff("HEAD~1", "HEAD")
    assert "--- a/skills/a/SKILL.md" in text
    assert "-A\n" in text
    assert "+A changed\n" in text
    assert "commands/b.md" not in text


def test_diff_from_nothing_shows_additions(seeded: GitRepo) -> None:
    text = seeded.diff(None, "HEAD")
    assert "+++ b/commands/b.md" in text
    assert "+++ b/skills/a/SKILL.md" in text
    assert "+echo a\n" in text
    assert not [line for line in text.splitlines() if line.startswith("-") and line != "--- /dev/null"]


def test_diff_to_the_work_tree_shows_changes_and_deletions(seeded: GitRepo) -> None:
    write(seeded.path, "commands/b.md", "B2\n")
    (seeded.path / "skills/a/scripts/run.sh").unlink()
    text = seeded.diff("HEAD", None)
    assert "-B\n+B2\n" in text
    assert "deleted file mode 100755" in text
    assert "-echo a" in text


def test_diff_to_the_work_tree_includes_untracked_files(seeded: GitRepo) -> None:
    write(seeded.path, "commands/b.md", "B2\n")
    write(seeded.path, "skills/new/SKILL.md", "new skill\n")
    text = seeded.diff("HEAD", None)
    assert "+B2" in text
    assert "skills/new/SKILL.md" in text
    assert "+new skill" in text


def test_diff_path_filter(seeded: GitRepo) -> None:
    write(seeded.path, "commands/b.md", "B2\n")
    write(seeded.path, "skills/a/SKILL.md", "changed\n")
    text = seeded.diff("HEAD", None, ["skills/a"])
    assert "skills/a/SKILL.md" in text
    assert "commands/b.md" not in text
    assert seeded.diff("HEAD", None, ["skills/ab"]) == ""


def test_diff_of_identical_commits_is_empty(seeded: GitRepo) -> None:
    assert seeded.diff("HEAD", "HEAD") == ""


# --- restore ---

def test_restore_is_a_new_commit_with_the_old_tree(seeded: GitRepo) -> None:
    first = git("rev-parse", "HEAD~1", cwd=seeded.path).strip()
    before_head = seeded.head()
    write(seeded.path, "skills/a/SKILL.md", "changed\n")
    (seeded.path / "skills/a/scripts/run.sh").unlink()
    write(seeded.path, "skills/c/SKILL.md", "C\n")
    seeded.commit_paths(["skills"], "Change a, add c")
    history = git("log", "--format=%H", cwd=seeded.path).split()

    new = seeded.restore(first, "Roll back")

    assert new not in history
    assert git("log", "--format=%H", cwd=seeded.path).split() == [new, *history]
    assert before_head in history
    assert git("rev-parse", "HEAD^{tree}", cwd=seeded.path) == git("rev-parse", f"{first}^{{tree}}",
                                                                    cwd=seeded.path)
    # deleted files come back, with their mode; files added later go, with their empty dirs
    assert tree_state(seeded.path) == {
        "skills/a/SKILL.md": b"---\nname: a\n---\nA\n",
        "skills/a/scripts/run.sh": b"#!/bin/sh\necho a\n",
    }
    assert os.access(seeded.path / "skills/a/scripts/run.sh", os.X_OK)
    assert not (seeded.path / "skills/c").exists()
    assert not (seeded.path / "commands").exists()
    assert porcelain(seeded.path) == ""


def test_restore_discards_uncommitted_edits_to_tracked_files(seeded: GitRepo) -> None:
    head = seeded.head()
    assert head is not None
    write(seeded.path, "commands/b.md", "scribble\n")
    seeded.restore(head, "Back to head")
    assert (seeded.path / "commands/b.md").read_text() == "B\n"
    assert porcelain(seeded.path) == ""


def test_restore_of_an_unknown_revision(seeded: GitRepo) -> None:
    head = seeded.head()
    with pytest.raises(NotFoundError):
        seeded.restore("no-such-rev", "x")
    assert seeded.head() == head


# --- dirty_paths ---

def test_dirty_paths(seeded: GitRepo) -> None:
    assert seeded.dirty_paths() == []
    write(seeded.path, "commands/b.md", "B2\n")
    (seeded.path / "skills/a/scripts/run.sh").unlink()
    write(seeded.path, "skills/new/SKILL.md", "new\n")
    write(seeded.path, "README.md", "readme\n")
    assert seeded.dirty_paths() == ["README.md", "commands/b.md", "skills/a/scripts/run.sh",
                                    "skills/new/SKILL.md"]
    assert seeded.dirty_paths(["skills"]) == ["skills/a/scripts/run.sh", "skills/new/SKILL.md"]
    assert seeded.dirty_paths(["commands/b.md", "README.md"]) == ["README.md", "commands/b.md"]
    assert seeded.dirty_paths(["skill"]) == []


def test_dirty_paths_ignores_gitignored_files(seeded: GitRepo) -> None:
    write(seeded.path, ".gitignore", "*.log\n")
    seeded.commit_paths([".gitignore"], "ignore")
    write(seeded.path, "debug.log", "x")
    assert seeded.dirty_paths() == []


def test_dirty_paths_agrees_with_git_status(seeded: GitRepo) -> None:
    write(seeded.path, "skills/a/SKILL.md", "x\n")
    write(seeded.path, "agents/z.md", "z\n")
    from_git = sorted(line[3:] for line in porcelain(seeded.path).splitlines())
    assert seeded.dirty_paths() == from_git


# --- refs ---

def test_set_ref_and_refs(seeded: GitRepo) -> None:
    head = seeded.head()
    assert head is not None
    seeded.set_ref("refs/skillmeat/snapshots/one", head)
    assert seeded.refs("refs/skillmeat/") == {"refs/skillmeat/snapshots/one": head}
    assert git("rev-parse", "refs/skillmeat/snapshots/one", cwd=seeded.path).strip() == head
    assert seeded.refs("refs/nothing/") == {}


def test_the_repository_opens_with_plain_pygit2_afterwards(seeded: GitRepo) -> None:
    again = pygit2.Repository(str(seeded.path))
    assert str(again.head.target) == seeded.head()
    assert again.status() == {}


def test_urls_and_refs_from_others_are_never_git_options(tmp_path: Path) -> None:
    from skillmeat.model.errors import SourceError
    from skillmeat.store import gitcli

    marker = tmp_path / "PWNED"
    for url, ref in (("--upload-pack=touch " + str(marker), ""),
                     (str(tmp_path), f"--upload-pack=touch {marker};false")):
        with pytest.raises(SourceError, match="git option"):
            gitcli.clone(url, tmp_path / "dest", ref)
    assert not marker.exists()
