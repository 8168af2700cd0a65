"""After a pull or checkout: redeploy a collection into the projects that follow it.

Per project: every skill, command, agent and hook of the collection's HEAD is deployed with
the project's profile (those already in sync are left alone, so a second run writes
nothing), every MCP server of ``mcp/`` goes into the project's ``.mcp.json``, and what this
collection deployed there earlier but no longer holds is removed. What the user changed in
the project (drift) is never overwritten nor removed: it is reported and left as it is,
while the rest of that project is brought up to date (artifacts in one all-or-nothing
change, ``.mcp.json`` in one backed-up atomic write). Artifacts of the collection that clash
with each other (two ids placed at one path, two MCP definitions named alike) are left out
and reported the same way; ``skillmeat deploy`` itself still refuses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat.model import deployment as states
from skillmeat.model.artifact import ArtifactId, ArtifactType, ids_from_paths
from skillmeat.model.deployment import Deployment
from skillmeat.model.errors import NotFoundError, SignatureError
from skillmeat.services import deploy as deploysvc
from skillmeat.services import mcp_deploy, mcp_targets, projects
from skillmeat.services.profiles import get_profile
from skillmeat.services.profiles.base import Placement, UnsupportedError
from skillmeat.services.refs import verify_commit
from skillmeat.services.status import placed_now, status
from skillmeat.services.trust import TrustSet, Verdict
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from skillmeat.store.jsonconfig import read_json_config
from skillmeat.store.mcp_record import McpRecord
from skillmeat.store.refstore import RefStore
from skillmeat.store.tree import GitTree

RESOLVE = {
    states.MODIFIED: "keep the edit with `skillmeat sync --pull --project {p}`, or drop it with "
                     "`skillmeat sync --push --strategy theirs --project {p}`",
    states.CONFLICT: "merge both edits with `skillmeat sync --push --project {p}`",
    states.MISSING: "deleted in the project: `skillmeat deploy {a} --project {p}` brings it back, "
                    "`skillmeat undeploy {a} --project {p}` forgets it",
}


@dataclass
class ProjectReport:
    project: Path
    deployed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    mcp_written: list[str] = field(default_factory=list)
    mcp_removed: list[str] = field(default_factory=list)
    mcp_unchanged: int = 0
    drift: list[str] = field(default_factory=list)  # "<artifact>: <why it was left alone>"
    skipped: list[str] = field(default_factory=list)  # the profile has no place for these
    clashes: list[str] = field(default_factory=list)  # "<ids>: <what clashes, what to do>"

    @property
    def changed(self) -> bool:
        return bool(self.deployed or self.removed or self.mcp_written or self.mcp_removed)

    def to_dict(self) -> dict[str, Any]:
        return {"project": str(self.project), "deployed": self.deployed, "removed": self.removed,
                "unchanged": self.unchanged, "mcp_written": self.mcp_written,
                "mcp_removed": self.mcp_removed, "mcp_unchanged": self.mcp_unchanged,
                "drift": self.drift, "skipped": self.skipped, "clashes": self.clashes}


def registered_store(home: Home, store: CollectionStore) -> CollectionStore:
    """The collection as the user registered it (deployments name it; status finds it)."""
    name = home.name_for(store.path)
    if name is None:
        raise NotFoundError(f"{store.path} is not a registered collection, so no project follows it",
                            hint=f"register it: `skillmeat init . --name {store.name}`")
    return CollectionStore.open(name, store.path)


def targets(home: Home, store: CollectionStore, extra: Sequence[Path] = ()) -> list[Path]:
    """The projects following the collection, then ``extra`` ones (each once)."""
    found = projects.followers(home, store.name) + [p.resolve() for p in extra]
    return list(dict.fromkeys(found))


def check_signed(home: Home, store: CollectionStore) -> Verdict:
    """HEAD must be signed by a key of the user's own trust, revoked neither there nor in the
    collection's ``.skillmeat/revoked`` (a team file can only take trust away: a key its
    allowed_signers gained in the very commit being checked must not vouch for that commit)."""
    head = store.repo.head()
    if head is None:
        raise NotFoundError(f"collection '{store.name}' has no commits yet")
    trust = TrustSet.load([home.trust])
    trust.revoked += store.trust.revoked()
    try:
        return verify_commit(RefStore(store.repo.repo).commit(head), trust)
    except SignatureError as exc:
        raise SignatureError(f"HEAD {head[:12]} of collection '{store.name}'",
                             f"{exc.reason}; nothing was deployed (--require-signed)",
                             hint=UNSIGNED_HINT if exc.reason == "unsigned commit" else
                             TRUST_HINT) from None


TRUST_HINT = ("only commits signed by a key you trust are deployed; trust a teammate's key "
              "with `skillmeat keys trust KEY --principal NAME`")
UNSIGNED_HINT = (
    "a merge you made: sign your commits here with `skillmeat keys git-setup --repo .`, then "
    "redo the pull (`git reset --hard ORIG_HEAD && git pull`), or pull with --ff-only; a "
    "teammate's commit: ask them to sign it (`skillmeat keys git-setup --repo .`); a key you "
    "do not trust yet: `skillmeat keys trust KEY --principal NAME`")


def redeploy(home: Home, store: CollectionStore, project: Path) -> ProjectReport:
    """Bring one following project up to date with the collection's HEAD."""
    if not project.is_dir():
        raise NotFoundError(f"project {project} (following '{store.name}') is missing",
                            hint=f"forget it: `skillmeat project remove {project}`")
    report = ProjectReport(project)
    head = store.repo.head()
    if head is None:
        return report
    tree = store.tree_at(head)
    groups = ids_from_paths(tree.files())
    _artifacts(home, store, project, tree, groups, report)
    _servers(home, store, project, tree, [a for a in groups if a.type is ArtifactType.MCP],
             report)
    if report.deployed:
        from skillmeat.services.analytics import record

        record(home, "deploy", report.deployed, store.name, str(project), best_effort=True)
    return report


def _artifacts(home: Home, store: CollectionStore, project: Path, tree: GitTree,
               groups: dict[ArtifactId, list[str]], report: ProjectReport) -> None:
    target = deploysvc.target_for(home, project)
    profile = projects.profile_of(home, project)
    record = target.record.load()
    state = {(a.artifact, a.profile): a for a in status(home, target).artifacts}
    gone = []  # what the collection no longer holds: taken back first, freeing its paths
    for old in record.values():
        if old.collection != store.name or ArtifactId.parse(old.artifact) in groups:
            continue
        if placed_now(target, old) in (None, old.deployed_hash):
            gone.append(old)
        else:
            report.drift.append(f"{old.artifact}: removed from the collection, but changed in the "
                                "project since it was deployed; kept")
    freed = {p for d in gone for p in d.paths}
    owners = {p: d for d in record.values() for p in d.paths if p not in freed}
    plans: dict[ArtifactId, Placement] = {}
    for aid in sorted(a for a in groups if a.type is not ArtifactType.MCP):
        dep = record.get(f"{profile}:{aid}")
        if dep is not None and dep.collection != store.name:
            report.drift.append(f"{aid}: deployed there from collection '{dep.collection}'")
            continue
        if dep is not None:
            now = state[(dep.artifact, dep.profile)]
            if now.state == states.IN_SYNC:
                report.unchanged += 1
                continue
            if now.state != states.OUTDATED:
                why = RESOLVE.get(now.state, "see `skillmeat status --project {p}`")
                report.drift.append(f"{aid}: {now.state}: {why.format(p=project, a=aid)}")
                continue
        try:
            placement = get_profile(profile).place(aid, deploysvc.artifact_files(tree, aid,
                                                                                 groups[aid]))
        except UnsupportedError:
            report.skipped.append(f"{aid} (no place for it in profile {profile})")
            continue
        if dep is None and _clash(project, store, aid, placement, owners, freed, report):
            continue
        plans[aid] = placement
    for path, ids in deploysvc.clashes(plans):
        report.clashes.append(f"{' and '.join(str(a) for a in ids)}: all would be deployed to "
                              f"{path}, so none of them was; keep one in the collection "
                              f"(`skillmeat remove {ids[-1]}`)")
        for aid in ids:
            plans.pop(aid, None)
    for prof in sorted({d.profile for d in gone}):
        names = [d.artifact for d in gone if d.profile == prof]
        report.removed += deploysvc.undeploy(home, names, target, prof)
    if plans:
        report.deployed = deploysvc.deploy(home, store, [str(a) for a in plans], target,
                                           profile).deployed


def _clash(project: Path, store: CollectionStore, aid: ArtifactId, placement: Placement,
           owners: dict[str, Deployment], freed: set[str], report: ProjectReport) -> bool:
    """A new artifact whose path is taken: reported (True), or free to place (False)."""
    for path in placement.paths:
        owner = owners.get(path)
        if owner is not None and owner.collection == store.name:
            report.clashes.append(f"{aid}: {path} already holds {owner.artifact} of this "
                                  "collection, so it was not deployed; keep one in the "
                                  f"collection (`skillmeat remove {aid}`)")
            return True
        if owner is not None:
            report.drift.append(f"{aid}: {path} already holds {owner.artifact} (from "
                                f"'{owner.collection}'); not deployed")
            return True
        if path not in freed and (project / path).exists():
            report.drift.append(f"{aid}: {path} already exists and was not deployed by "
                                "SkillMeat; not deployed (move it away, or `skillmeat deploy "
                                "--force`)")
            return True
    return False


def _servers(home: Home, store: CollectionStore, project: Path, tree: GitTree,
             ids: list[ArtifactId], report: ProjectReport) -> None:
    target = mcp_targets.target_for(home, "project", project)
    servers = [(a, mcp_deploy.parse_definition(store.name, tree, a)) for a in sorted(ids)]
    present = mcp_deploy.servers_in(read_json_config(target.file), target.keys)
    record = {k[1]: d for k, d in McpRecord(mcp_deploy.record_path(home)).load().items()
              if k[0] == target.key}
    where = target.file.name
    names = {server.name for _, server in servers}  # a clashing name is kept, not taken back
    for name, clashing in mcp_deploy.name_clashes(servers):
        report.clashes.append(f"{' and '.join(str(a) for a in clashing)}: all would be "
                              f"'{name}' in {where}, so none of them was deployed; keep one in "
                              f"the collection (`skillmeat remove {clashing[-1]}`)")
        servers = [(a, s) for a, s in servers if a not in clashing]
    write = []
    for aid, server in servers:
        entry, have, mine = server.to_claude(), present.get(server.name), record.get(server.name)
        if have is None or have == entry:
            write.append(str(aid))
        elif mine is None:
            report.drift.append(f"{aid}: {where} already has a server '{server.name}' that "
                                "SkillMeat did not write; not deployed")
        elif mine.collection != store.name:
            report.drift.append(f"{aid}: '{server.name}' in {where} comes from collection "
                                f"'{mine.collection}'; not deployed")
        elif have != mine.entry:
            report.drift.append(f"{aid}: '{server.name}' was edited in {where} since SkillMeat "
                                "wrote it; not updated (`skillmeat mcp list` shows it)")
        else:
            write.append(str(aid))
    drop = []
    for dep in record.values():
        if dep.collection != store.name or dep.server in names:
            continue
        if present.get(dep.server) in (None, dep.entry):
            drop.append(dep.server)
        else:
            report.drift.append(f"{dep.artifact}: removed from the collection, but '{dep.server}' "
                                f"was edited in {where}; kept")
    if drop:
        report.mcp_removed = mcp_deploy.undeploy(home, drop, target).removed
    if write:
        done = mcp_deploy.deploy(home, store, write, target)
        report.mcp_written, report.mcp_unchanged = done.written, len(done.unchanged)
