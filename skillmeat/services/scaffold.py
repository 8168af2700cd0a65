"""``init --team``: a team collection repository, scaffolded from ``skillmeat/templates/team``.

Beside what ``init`` makes (manifest, lock, .gitignore) it writes the pre-commit config using
the hooks of ``.pre-commit-hooks.yaml``, the team's allowed-signers file (with the user's own
key when they have one), the GitHub Pages workflow and the team guide (README.md, or TEAM.md
when the repository has a README of its own, which is kept), and commits them as one commit,
signed when the user has a key (git in the repository is then set up to sign too).
Templates are jinja2 (imported lazily); the workflow uses ``<@ @>`` delimiters so GitHub's
own expressions pass through.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.resources
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat import __version__
from skillmeat.model import sshsig
from skillmeat.model.allowed_signers import AllowedSigner
from skillmeat.model.artifact import check_part
from skillmeat.model.errors import BadInputError, ConflictError, NotFoundError
from skillmeat.model.manifest import LOCK_NAME, MANIFEST_NAME
from skillmeat.model.sshkeys import PrivateKey
from skillmeat.services import keys
from skillmeat.services.collections import GITIGNORE, check_not_nested
from skillmeat.store import gitcli
from skillmeat.store.collection import CollectionStore
from skillmeat.store.files import atomic_write, prune_empty_dirs
from skillmeat.store.gitrepo import GitRepo
from skillmeat.store.home import Home
from skillmeat.store.keystore import KeyInfo
from skillmeat.store.manifest import render_lock, render_new_manifest

if TYPE_CHECKING:
    import jinja2

MINIMUM_PRE_COMMIT = "3.2.0"
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
ALLOWED_SIGNERS = ".skillmeat/allowed_signers"
WORKFLOW = ".github/workflows/pages.yml"
README = "README.md"
TEAM_GUIDE = "TEAM.md"  # the guide's name when the repository has a README.md of its own
GITIGNORE_NAME = ".gitignore"

_ARTIFACTS = "(skills|commands|agents|hooks|mcp)/"
_COMMIT = ("pre-commit", "pre-merge-commit", "manual")
_PULL = ("post-merge", "post-checkout", "post-rewrite")
# what `pre-commit install` installs: the commit, push and pull stages above (not manual);
# post-rewrite deploys again after `git pull --rebase`, `git rebase` and `git commit --amend`
INSTALL_TYPES = ("pre-commit", "pre-push", *_PULL)


@dataclass(frozen=True)
class HookSpec:
    """One hook as .pre-commit-hooks.yaml defines it. The table below is a copy (the wheel does
    not ship the root file): scaffold_test compares every setting of every hook with the file,
    so a change to one without the other fails the tests."""

    id: str
    name: str
    files: str = ""
    pass_filenames: bool = True
    always_run: bool = False
    require_serial: bool = False
    stages: tuple[str, ...] = _COMMIT
    args: tuple[str, ...] = ()

    @property
    def entry(self) -> str:
        return self.id


HOOKS = (
    HookSpec("skillmeat-validate", "SkillMeat validate (artifacts and frontmatter)", f"^{_ARTIFACTS}",
             require_serial=True),
    HookSpec("skillmeat-lock", "SkillMeat lock (skillmeat.lock up to date)",
             rf"^({_ARTIFACTS}|skillmeat\.(toml|lock)$)", pass_filenames=False, always_run=True,
             require_serial=True),
    HookSpec("skillmeat-verify", "SkillMeat verify (bundles, feeds, trusted keys)",
             r"(\.skillmeat-pack$|(^|/)feed\.json$|^\.skillmeat/(allowed_signers|revoked|rotations/[^/]+)$)",
             stages=(*_COMMIT[:2], "pre-push", "manual")),
    HookSpec("skillmeat-mcp-check", "SkillMeat MCP check (transports, no literal secrets)",
             r"(^mcp/([^/]+/)?[^/]+\.toml$|(^|/)\.mcp\.json$)"),
    HookSpec("skillmeat-export", "SkillMeat export (signed bundle of the pushed commit)",
             pass_filenames=False, always_run=True, require_serial=True, stages=("pre-push",)),
    HookSpec("skillmeat-publish", "SkillMeat publish (bundle and signed feed)",
             pass_filenames=False, always_run=True, require_serial=True, stages=("pre-push",)),
    HookSpec("skillmeat-catalog", "SkillMeat catalog (static web catalog)",
             rf"^({_ARTIFACTS}|skillmeat\.(toml|lock)$)", pass_filenames=False,
             require_serial=True, stages=("pre-push", "manual")),
    HookSpec("skillmeat-deploy",
             "SkillMeat deploy (the team's artifacts and MCP servers into your projects)",
             pass_filenames=False, always_run=True, require_serial=True, stages=_PULL),
)


@dataclass(frozen=True)
class HooksRepo:
    url: str
    rev: str


def parse_hooks_repo(text: str) -> HooksRepo:
    """``URL[@REV]``; REV defaults to this SkillMeat's tag (``v<version>``)."""
    url, sep, rev = text.strip().rpartition("@")
    if not sep or "/" in rev or ":" in rev:  # no @, or the @ of user@host: no revision
        url, sep, rev = text.strip(), "", ""
    if not url or url.startswith("-") or any(c.isspace() for c in url) or (sep and not rev):
        raise BadInputError(f"bad --hooks-repo '{text}'",
                            hint="give the hook repository as URL or URL@REV, "
                                 "e.g. https://github.com/org/skillmeat@v1.0.0")
    return HooksRepo(url, rev or f"v{__version__}")


@dataclass(frozen=True)
class TeamRepo:
    store: CollectionStore
    files: tuple[str, ...]
    commit: str
    key: KeyInfo | None
    principal: str
    guide: str = README  # TEAM.md when the repository's own README.md was kept


def render(name: str, *, signer: AllowedSigner | None = None, hooks_repo: HooksRepo | None = None,
           guide: str = README) -> dict[str, str]:
    """The scaffold's own files (repository path -> text); manifest and lock aside. ``guide``
    is where the team guide goes (README.md, or TEAM.md beside the repository's own README)."""
    check_part(name, "collection name")
    hooks = [_team_hook(h, signed=signer is not None) for h in HOOKS]
    team = _environment(False)
    return {
        PRE_COMMIT_CONFIG: team.get_template("pre-commit-config.yaml.j2").render(
            name=name, hooks=hooks, local=hooks_repo is None, minimum_version=MINIMUM_PRE_COMMIT,
            install_types=INSTALL_TYPES,
            repo=hooks_repo.url if hooks_repo else "", rev=hooks_repo.rev if hooks_repo else ""),
        ALLOWED_SIGNERS: team.get_template("allowed_signers.j2").render(
            name=name, signer=signer.format() if signer else ""),
        WORKFLOW: _environment(True).get_template("github-pages.yml").render(name=name),
        guide: team.get_template("README.md.j2").render(name=name, signed=signer is not None,
                                                        guide=guide),
    }


def _team_hook(hook: HookSpec, *, signed: bool) -> HookSpec:
    """A hook as the team's config uses it: the catalog is built on demand only (on every push
    it would be slow) and always (a clean tree has no changed files, yet should build); with a
    team key only signed commits are deployed."""
    if hook.id == "skillmeat-catalog":
        return dataclasses.replace(hook, stages=("manual",), always_run=True)
    if hook.id == "skillmeat-deploy" and signed:
        return dataclasses.replace(hook, args=("--require-signed",))
    return hook


def render_workflow(name: str) -> str:
    """The GitHub Pages workflow of collection ``name``."""
    return render(name)[WORKFLOW]


def scaffold_team(home: Home, path: Path, name: str | None = None, *, principal: str = "",
                  hooks_repo: HooksRepo | None = None,
                  passphrase: Callable[[], str] = lambda: "") -> TeamRepo:
    """Make ``path`` a team collection repository: every file, one (signed) commit."""
    path = path.absolute()
    name = check_part(name or path.name, "collection name")
    guide = _check_target(home, path, name)
    passphrase = _once(passphrase)
    own = _own_key(home, passphrase)
    if own is not None:
        principal = principal or _email(path)
        if not principal:
            raise BadInputError("no principal for your signing key in the team's allowed signers",
                                hint="pass --principal EMAIL, or set git config user.email")
    signer = (keys.TrustRequest(own[0].public, (principal,)).signer() if own else None)
    files = {MANIFEST_NAME: render_new_manifest(name), LOCK_NAME: render_lock({}),
             GITIGNORE_NAME: _gitignore(path / GITIGNORE_NAME),
             **render(name, signer=signer, hooks_repo=hooks_repo, guide=guide)}
    with home.lock(), _undo_on_failure(path, list(files)):
        repo = GitRepo(path) if (path / ".git").exists() else GitRepo.init(path)
        for rel, text in files.items():
            atomic_write(path / rel, text)
        if own is not None:  # plain `git commit` in this repository signs too
            keys.git_setup(home, own[0].name, passphrase, repo=path, principal=principal)
            gitcli.set_config("commit.gpgsign", "true", repo=path)
        commit = repo.commit_paths(list(files), f"Initialize SkillMeat team collection '{name}'",
                                   sign=_signer(own[1]) if own else None)
        home.config.register(name, path)
        if home.config.active() is None:
            home.config.set_active(name)
    return TeamRepo(CollectionStore(name, path), tuple(files), commit,
                    own[0] if own else None, principal if own else "", guide)


def _check_target(home: Home, path: Path, name: str) -> str:
    """Refuse, before anything is written: a collection already, one inside another's work
    tree, a taken name, a file in the way, or a repository in the middle of a merge. Returns
    where the team guide goes: README.md, or TEAM.md when a README.md of the user's is there."""
    if path.exists() and not path.is_dir():
        raise ConflictError(f"{path} is a file", hint="give a new, empty or git directory")
    if (path / MANIFEST_NAME).exists():
        raise ConflictError(f"{path} is already a collection ({MANIFEST_NAME} exists)",
                            hint="scaffold a new directory, or add the team files by hand")
    check_not_nested(home, path)
    guide = TEAM_GUIDE if _occupied(path / README) else README
    known = home.collections()
    if name in known and known[name].resolve() != path.resolve():
        raise ConflictError(f"a collection named '{name}' already exists at {known[name]}",
                            hint="pass --name to choose another name")
    taken = [rel for rel in (LOCK_NAME, PRE_COMMIT_CONFIG, ALLOWED_SIGNERS, WORKFLOW, guide)
             if _occupied(path / rel)]
    if guide == TEAM_GUIDE and TEAM_GUIDE in taken:
        taken.insert(taken.index(TEAM_GUIDE), README)
    if taken:
        raise ConflictError(f"{path} already has {', '.join(taken)}: not overwriting",
                            hint="move them away first, or keep them and run `skillmeat init` without --team")
    if (path / ".git").exists():
        GitRepo(path).check_state()
    return guide


def _occupied(target: Path) -> bool:
    """Something of the user's is there (an empty file is fine to fill)."""
    return target.exists() and (not target.is_file() or target.stat().st_size > 0)


def _own_key(home: Home, passphrase: Callable[[], str]) -> tuple[KeyInfo, PrivateKey] | None:
    """The user's default signing key (loaded: a wrong passphrase fails before any write)."""
    try:
        name = keys.default_name(home)
    except NotFoundError:
        return None  # no key, or several and none the default
    return home.keys.info(name), keys.signing_key(home, name, passphrase)


def _signer(key: PrivateKey) -> Callable[[bytes], str]:
    return lambda payload: sshsig.sign(key, payload, "git")


def _email(path: Path) -> str:
    return gitcli.config_value("user.email", repo=path if (path / ".git").exists() else None)


def _gitignore(existing: Path) -> str:
    """.gitignore with the catalog's output added (kept as it is otherwise)."""
    ours = _environment(False).get_template("gitignore.j2").render()
    if not existing.is_file():
        return GITIGNORE + ours
    text = existing.read_text(encoding="utf-8")
    have = {ln.strip() for ln in text.splitlines()}
    lines = ours.splitlines()
    missing = [ln for ln in lines if not ln.startswith("#") and ln not in have]
    if not missing:
        return text
    comments = [ln for ln in lines if ln.startswith("#")]
    return text + ("\n" if text and not text.endswith("\n") else "") + "\n".join([*comments, *missing]) + "\n"


@contextlib.contextmanager
def _undo_on_failure(path: Path, rels: list[str]) -> Iterator[None]:
    """On failure put ``path`` back as it was: made by us -> removed, files -> old bytes."""
    existed = path.exists()
    had_git = (path / ".git").exists()
    before = {rel: (path / rel).read_bytes() if (path / rel).is_file() else None for rel in rels}
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(path, ignore_errors=True)
            raise
        for rel, data in before.items():
            target = path / rel
            if data is None:
                target.unlink(missing_ok=True)
                prune_empty_dirs(target.parent, path)
            else:
                atomic_write(target, data)
        if not had_git:
            shutil.rmtree(path / ".git", ignore_errors=True)
        raise


def _once(get: Callable[[], str]) -> Callable[[], str]:
    """Ask for the passphrase at most once (the key is loaded twice)."""
    seen: list[str] = []

    def cached() -> str:
        if not seen:
            seen.append(get())
        return seen[0]

    return cached


def _template(package: str) -> Callable[[str], str]:
    def load(name: str) -> str:
        return (importlib.resources.files("skillmeat") / package / name).read_text("utf-8")

    return load


def _environment(workflow: bool) -> jinja2.Environment:
    import jinja2

    if workflow:  # <@ @> and <% %>: GitHub Actions' ${{ }} stays as it is
        return jinja2.Environment(
            loader=jinja2.FunctionLoader(_template("templates")), undefined=jinja2.StrictUndefined,
            variable_start_string="<@", variable_end_string="@>", block_start_string="<%",
            block_end_string="%>", comment_start_string="<#", comment_end_string="#>",
            trim_blocks=True, keep_trailing_newline=True, autoescape=False)
    env = jinja2.Environment(loader=jinja2.FunctionLoader(_template("templates/team")),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    env.filters["yaml"] = lambda text: "'" + str(text).replace("'", "''") + "'"
    return env
