from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from skillmeat.model.errors import BadInputError
from skillmeat.services.brokers.base import BrokerContext
from skillmeat.services.brokers.mcp_registry import McpRegistryBroker, install_server
from skillmeat.services.trust import TrustSet
from skillmeat.store.collection import CollectionStore
from skillmeat.store.home import Home

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"

WEATHER: dict[str, Any] = {
    "$schema": SCHEMA,
    "name": "io.github.acme/weather",
    "title": "Weather",
    "description": "Forecasts and alerts for any city.\nUses the ACME API.",
    "version": "1.2.0",
    "repository": {"url": "https://github.com/acme/weather", "source": "github"},
    "packages": [{
        "registryType": "npm",
        "identifier": "@acme/weather-mcp",
        "version": "1.2.0",
        "transport": {"type": "stdio"},
        "environmentVariables": [
            {"name": "ACME_API_KEY", "description": "API key", "isRequired": True,
             "isSecret": True},
        ],
    }],
    "remotes": [{"type": "streamable-http", "url": "https://weather.acme.example/mcp",
                 "headers": [{"name": "Authorization", "value": "Bearer {token}",
                              "variables": {"token": {"isRequired": True, "isSecret": True}}}]}],
}

NOTES: dict[str, Any] = {
    "$schema": SCHEMA,
    "name": "com.example/notes",
    "description": "Plain-text notes",
    "version": "0.3.0",
    "packages": [{"registryType": "pypi", "identifier": "notes-mcp", "version": "0.3.0",
                  "transport": {"type": "stdio"}}],
}


def context(tmp_path: Path) -> BrokerContext:
    return BrokerContext(cache=tmp_path / "cache", state=tmp_path / "state", trust=TrustSet())


def registry_dir(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    (root / "acme").mkdir(parents=True)
    (root / "acme" / "server.json").write_text(json.dumps(WEATHER, indent=2))
    old = {**NOTES, "version": "0.2.0"}
    deprecated = {"server": {**NOTES, "name": "com.example/old-notes"},
                  "_meta": {"io.modelcontextprotocol.registry/official": {"status": "deprecated"}}}
    (root / "more.json").write_text(json.dumps({"servers": [{"server": old}, {"server": NOTES},
                                                            deprecated]}))
    (root / "README.json").write_text(json.dumps({"hello": "not a server"}))
    return root


def test_lists_and_fetches_server_json(tmp_path: Path) -> None:
    broker = McpRegistryBroker("reg", str(registry_dir(tmp_path)), context(tmp_path))
    result = broker.refresh()
    assert result.changed and result.listings == 3 and "README.json" in result.detail
    listings = {x.id: x for x in broker.listings()}
    assert sorted(listings) == ["mcp/com.example/notes", "mcp/com.example/old-notes",
                                "mcp/io.github.acme/weather"]
    weather = listings["mcp/io.github.acme/weather"]
    assert (weather.type, weather.name, weather.version, weather.publisher) == (
        "mcp", "io.github.acme/weather", "1.2.0", "io.github.acme")
    assert weather.description == "Forecasts and alerts for any city."
    assert weather.tags == ("npm", "streamable-http") and not weather.verified
    assert weather.artifacts == ("mcp/weather-npm", "mcp/weather-http")
    assert weather.marketplace == "reg" and weather.source == "acme/server.json"
    notes = listings["mcp/com.example/notes"]
    assert notes.version == "0.3.0" and notes.artifacts == ("mcp/notes",)  # newest kept
    old = listings["mcp/com.example/old-notes"]
    assert old.status == "yanked" and "deprecated" in old.reason

    again = broker.refresh()
    assert not again.changed and again.transferred == 0

    fetched = broker.fetch(weather, tmp_path / "dest")
    assert fetched.kind == "tree" and fetched.path == tmp_path / "dest" / "server.json"
    assert json.loads(fetched.path.read_text()) == WEATHER


def test_fetch_needs_only_the_cache(tmp_path: Path) -> None:
    source = tmp_path / "server.json"
    source.write_text(json.dumps(WEATHER))
    McpRegistryBroker("reg", str(source), context(tmp_path)).refresh()
    source.unlink()
    broker = McpRegistryBroker("reg", str(source), context(tmp_path))
    (listing,) = broker.listings()
    fetched = broker.fetch(listing, tmp_path / "dest")
    assert json.loads(fetched.path.read_text())["name"] == "io.github.acme/weather"


def test_a_json_list_source_and_install(
    tmp_path: Path, home: Home, collection: CollectionStore
) -> None:
    source = tmp_path / "servers.json"
    source.write_text(json.dumps([WEATHER, NOTES]))
    broker = McpRegistryBroker("reg", f"file://{source}", context(tmp_path))
    listing = next(x for x in broker.listings() if x.id == "mcp/io.github.acme/weather")
    fetched = broker.fetch(listing, tmp_path / "dest")
    result = install_server(home, collection, fetched.path)
    assert sorted(map(str, result.written)) == sorted(listing.artifacts)
    npm = tomllib.loads((collection.path / "mcp" / "weather-npm.toml").read_text())
    assert npm["command"] == "npx" and "@acme/weather-mcp@1.2.0" in npm["args"]
    assert npm["env"] == {"ACME_API_KEY": "${ACME_API_KEY}"}
    http = tomllib.loads((collection.path / "mcp" / "weather-http.toml").read_text())
    assert http["url"] == "https://weather.acme.example/mcp"


def test_malformed_json_is_one_line(tmp_path: Path) -> None:
    source = tmp_path / "server.json"
    source.write_text('{"name": "x",\n "packages": [}')
    with pytest.raises(BadInputError) as err:
        McpRegistryBroker("reg", str(source), context(tmp_path)).refresh()
    assert "\n" not in str(err.value) and str(source) in str(err.value)
    assert "not valid JSON" in str(err.value) and "line 2" in str(err.value)
    source.write_text(json.dumps({"hello": 1}))
    with pytest.raises(BadInputError, match=r"no MCP Registry server\.json"):
        McpRegistryBroker("reg", str(source), context(tmp_path)).refresh()
    with pytest.raises(BadInputError, match="not a local path"):
        McpRegistryBroker("reg", "https://registry.example/v0/servers", context(tmp_path))
