from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from skillmeat.model.artifact import ArtifactId, ArtifactType
from skillmeat.model.errors import BadInputError
from skillmeat.services.artifacts import Selection, add
from skillmeat.services.brokers.base import BrokerContext, MarketListing
from skillmeat.services.brokers.claude_plugin import ClaudePluginBroker, selection_for
from skillmeat.services.trust import TrustSet
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home
from tests.helpers import CORPUS, git

pytestmark = pytest.mark.skipif(not (CORPUS / ".claude-plugin" / "marketplace.json").is_file(),
                                reason="the wshobson-agents corpus is not here")

PLUGIN = "backend-development"
AGENT = f"agent/{PLUGIN}:backend-architect"
SKILL = f"skill/{PLUGIN}:api-design-principles"


def context(tmp_path: Path) -> BrokerContext:
    return BrokerContext(cache=tmp_path / "cache", state=tmp_path / "state", trust=TrustSet())


def corpus_plugins() -> list[dict[str, object]]:
    plugins: list[dict[str, object]] = json.loads(
        (CORPUS / ".claude-plugin" / "marketplace.json").read_text())["plugins"]
    return plugins


def git_copy(tmp_path: Path) -> Path:
    repo = tmp_path / "origin"
    shutil.copytree(CORPUS, repo)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "snapshot", cwd=repo)
    return repo


def search(listings: list[MarketListing], words: str, type_: str = "") -> list[MarketListing]:
    """What `marketplace search` does: every word in id, name, description or tags."""
    out = []
    for x in listings:
        hay = " ".join((x.id, x.name, x.description, " ".join(x.tags))).lower()
        if (not type_ or x.type == type_) and all(w in hay for w in words.lower().split()):
            out.append(x)
    return out


def by_id(listings: list[MarketListing], lid: str) -> MarketListing:
    return next(x for x in listings if x.id == lid)


def expected_files(plugin_dir: Path, ns: str) -> dict[str, bytes]:
    """Collection path -> source bytes for a plugin's skills, commands and agents."""
    out: dict[str, bytes] = {}
    for path in sorted(plugin_dir.rglob("*")):
        rel = path.relative_to(plugin_dir).parts
        if not path.is_file():
            continue
        if rel[0] == "skills" and len(rel) >= 3:
            aid = ArtifactId(ArtifactType.SKILL, f"{ns}:{rel[1]}")
            out[aid.relpath + "/" + "/".join(rel[2:])] = path.read_bytes()
        elif rel[0] in ("agents", "commands") and len(rel) == 2 and rel[1].endswith(".md"):
            type_ = ArtifactType.AGENT if rel[0] == "agents" else ArtifactType.COMMAND
            aid = ArtifactId(type_, f"{ns}:{rel[1][:-3]}")
            out[aid.relpath] = path.read_bytes()
    return out


def assert_installed(store: CollectionStore, plugin_dir: Path, ns: str) -> None:
    expected = expected_files(plugin_dir, ns)
    assert expected
    for rel, data in expected.items():
        assert (store.path / rel).read_bytes() == data, rel


def check_corpus_listings(listings: list[MarketListing], market: str) -> None:
    plugins = [x for x in listings if x.type == "plugin"]
    assert sorted(x.name for x in plugins) == sorted(str(p["name"]) for p in corpus_plugins())
    assert all(not x.verified and x.marketplace == market for x in listings)
    assert len({x.id for x in listings}) == len(listings)
    plugin = by_id(listings, f"plugin/{PLUGIN}")
    assert AGENT in plugin.artifacts and SKILL in plugin.artifacts
    assert plugin.publisher == "Seth Hobson" and plugin.version and "development" in plugin.tags
    # every artifact listing belongs to exactly one plugin listing
    owned = [a for p in plugins for a in p.artifacts]
    assert sorted(owned) == sorted(x.id for x in listings if x.type != "plugin")
    assert {x.type for x in listings} == {"plugin", "skill", "command", "agent", "hook"}

    agents = search(listings, "backend-architect", "agent")
    assert AGENT in [x.id for x in agents]
    agent = by_id(listings, AGENT)
    assert agent.name == "backend-architect" and agent.description.startswith("Expert backend")
    assert "\n" not in agent.description and agent.version == plugin.version
    skills = search(listings, "api design principles", "skill")
    assert [x.id for x in skills] == [SKILL]

    remote = by_id(listings, "plugin/pensyve")  # a git-subdir plugin: listed, not fetched
    assert remote.artifacts == () and json.loads(remote.source)["source"] == "git-subdir"
    assert remote.description.startswith("Universal memory runtime")


def test_refresh_lists_the_corpus_directory(tmp_path: Path) -> None:
    broker = ClaudePluginBroker("wsh", str(CORPUS), context(tmp_path))
    result = broker.refresh()
    assert result.changed and result.transferred == 0
    listings = broker.listings()
    assert result.listings == len(listings)
    check_corpus_listings(listings, "wsh")
    again = broker.refresh()
    assert not again.changed and again.transferred == 0
    # a new broker over the same cache reads the listings without refreshing
    cached = ClaudePluginBroker("wsh", str(CORPUS), context(tmp_path)).listings()
    assert cached == listings


def test_listings_refreshes_when_nothing_is_cached(tmp_path: Path) -> None:
    listings = ClaudePluginBroker("wsh", str(CORPUS), context(tmp_path)).listings()
    assert by_id(listings, AGENT).type == "agent"
    assert (tmp_path / "cache" / "listings.json").is_file()


def test_install_a_plugin_from_the_directory(
    tmp_path: Path, home: Home, collection: CollectionStore
) -> None:
    broker = ClaudePluginBroker("wsh", str(CORPUS), context(tmp_path))
    listing = by_id(broker.listings(), f"plugin/{PLUGIN}")
    fetched = broker.fetch(listing, tmp_path / "dest")
    assert fetched.kind == "tree" and fetched.path == CORPUS
    assert selection_for(listing) == Selection(names=(f"{PLUGIN}:*",), all=True)
    result = add(home, collection, str(fetched.path), selection=selection_for(listing))
    assert sorted(map(str, result.added)) == sorted(listing.artifacts)
    assert_installed(collection, CORPUS / "plugins" / PLUGIN, PLUGIN)


def test_install_one_agent_brings_only_it(
    tmp_path: Path, home: Home, collection: CollectionStore
) -> None:
    broker = ClaudePluginBroker("wsh", str(CORPUS), context(tmp_path))
    listing = by_id(broker.listings(), AGENT)
    fetched = broker.fetch(listing, tmp_path / "dest")
    result = add(home, collection, str(fetched.path), selection=selection_for(listing))
    assert [str(a) for a in result.added] == [AGENT]
    source = CORPUS / "plugins" / PLUGIN / "agents" / "backend-architect.md"
    assert (collection.path / ArtifactId.parse(AGENT).relpath).read_bytes() == source.read_bytes()


def test_git_source_refresh_install_and_refresh_again(
    tmp_path: Path, home: Home, collection: CollectionStore
) -> None:
    origin = git_copy(tmp_path)
    url = f"file://{origin}"
    broker = ClaudePluginBroker("wsh", url, context(tmp_path))
    first = broker.refresh()
    assert first.changed and first.transferred > 0
    listings = broker.listings()
    check_corpus_listings(listings, "wsh")

    listing = by_id(listings, f"plugin/{PLUGIN}")
    fetched = broker.fetch(listing, tmp_path / "dest")
    assert fetched.path == tmp_path / "cache" / "repo"
    result = add(home, collection, str(fetched.path), selection=selection_for(listing))
    assert sorted(map(str, result.added)) == sorted(listing.artifacts)
    assert_installed(collection, origin / "plugins" / PLUGIN, PLUGIN)

    second = broker.refresh()
    assert (second.changed, second.transferred) == (False, 0)
    assert broker.listings() == listings

    # a new commit upstream is fetched into the same clone
    agent = origin / "plugins" / PLUGIN / "agents" / "backend-architect.md"
    agent.write_text(agent.read_text().replace("Expert backend architect", "Seasoned backend "
                                               "architect", 1))
    git("commit", "-q", "-am", "reword", cwd=origin)
    third = broker.refresh()
    assert third.changed and third.transferred > 0
    assert by_id(broker.listings(), AGENT).description.startswith("Seasoned backend")
    assert by_id(ClaudePluginBroker("wsh", url, context(tmp_path)).listings(),
                 AGENT).description.startswith("Seasoned backend")

    # listings come from the cache: the source may be gone
    shutil.rmtree(origin)
    assert ClaudePluginBroker("wsh", url, context(tmp_path)).listings() == broker.listings()


def write_market(root: Path, plugins: list[dict[str, object]]) -> Path:
    (root / ".claude-plugin").mkdir(parents=True, exist_ok=True)
    (root / ".claude-plugin" / "marketplace.json").write_text(json.dumps(
        {"name": "m", "owner": {"name": "o"}, "plugins": plugins}))
    return root


def test_malformed_marketplace_json_is_one_line(tmp_path: Path) -> None:
    root = write_market(tmp_path / "market", [])
    (root / ".claude-plugin" / "marketplace.json").write_text('{"name": "m",\n "plugins": [,]}')
    broker = ClaudePluginBroker("m", str(root), context(tmp_path))
    with pytest.raises(BadInputError) as err:
        broker.refresh()
    text = str(err.value)
    assert "\n" not in text
    assert ".claude-plugin/marketplace.json" in text and str(root) in text
    assert "not valid JSON" in text and "line 2" in text
    (root / ".claude-plugin" / "marketplace.json").write_text('{"plugins": {}}')
    with pytest.raises(BadInputError, match="'plugins' is missing or not a list"):
        broker.refresh()


def test_malformed_marketplace_json_in_git_is_one_line(tmp_path: Path) -> None:
    root = write_market(tmp_path / "market", [])
    (root / ".claude-plugin" / "marketplace.json").write_text("{oops")
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "bad", cwd=root)
    broker = ClaudePluginBroker("m", f"file://{root}", context(tmp_path))
    for _ in range(2):  # the unchanged commit is read again, not trusted as refreshed
        with pytest.raises(BadInputError) as err:
            broker.refresh()
        assert "\n" not in str(err.value) and f"file://{root}" in str(err.value)


def plugin_repo(path: Path, sub: str = "") -> Path:
    root = path / sub if sub else path
    (root / "skills" / "greeter").mkdir(parents=True)
    (root / "skills" / "greeter" / "SKILL.md").write_text(
        "---\nname: greeter\ndescription: Greets people.\n---\nSay hello.\n")
    (root / "commands").mkdir()
    (root / "commands" / "wave.md").write_text("---\ndescription: Wave\n---\nWave.\n")
    (root / ".claude-plugin").mkdir()
    (root / ".claude-plugin" / "plugin.json").write_text('{"name": "other-name"}')
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "plugin", cwd=path)
    return path


def test_remote_plugins_are_listed_and_cloned_only_on_fetch(
    tmp_path: Path, home: Home, collection: CollectionStore
) -> None:
    whole = plugin_repo(tmp_path / "whole")
    sub = plugin_repo(tmp_path / "mono", "integrations/claude")
    root = write_market(tmp_path / "market", [
        {"name": "whole", "source": {"source": "url", "url": f"file://{whole}"},
         "description": "A whole-repo plugin\nmore", "version": "2.0.0",
         "author": {"name": "Ada"}, "keywords": ["greet"]},
        {"name": "subdir", "source": {"source": "git-subdir", "url": f"file://{sub}",
                                      "path": "integrations/claude", "ref": "main"}},
        {"name": "hub", "source": {"source": "github", "repo": "acme/hub-plugin", "ref": "v1"}},
        {"name": "pkg", "source": {"source": "npm", "package": "@acme/plugin"}},
    ])
    broker = ClaudePluginBroker("m", str(root), context(tmp_path))
    broker.refresh()
    assert not (tmp_path / "cache" / "plugins").exists()
    listings = {x.id: x for x in broker.listings()}
    assert sorted(listings) == ["plugin/hub", "plugin/pkg", "plugin/subdir", "plugin/whole"]
    whole_listing = listings["plugin/whole"]
    assert (whole_listing.description, whole_listing.version, whole_listing.publisher,
            whole_listing.tags, whole_listing.artifacts) == (
        "A whole-repo plugin", "2.0.0", "Ada", ("greet",), ())
    assert json.loads(listings["plugin/hub"].source) == {
        "source": "github", "repo": "acme/hub-plugin", "ref": "v1"}

    for name, repo_root in (("whole", whole), ("subdir", sub / "integrations" / "claude")):
        listing = listings[f"plugin/{name}"]
        fetched = broker.fetch(listing, tmp_path / "dest")
        assert (fetched.path / ".claude-plugin" / "marketplace.json").is_file()
        result = add(home, collection, str(fetched.path), selection=selection_for(listing))
        assert sorted(map(str, result.added)) == [f"command/{name}:wave", f"skill/{name}:greeter"]
        assert_installed(collection, repo_root, name)

    with pytest.raises(BadInputError, match="npm package"):
        broker.fetch(listings["plugin/pkg"], tmp_path / "dest")


def test_selection_for_artifact_listings() -> None:
    listing = MarketListing(id=SKILL, type="skill", name="api-design-principles")
    assert selection_for(listing) == Selection(types=(ArtifactType.SKILL,), names=(SKILL,),
                                               all=True)
    with pytest.raises(BadInputError):
        selection_for(MarketListing(id="x", type="bundle", name="x"))
