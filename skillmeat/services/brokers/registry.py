"""Which broker reads which marketplace: built-in kinds plus the ``skillmeat.brokers``
entry-point group (third-party brokers: ``name = "package.module:Class"``)."""

from __future__ import annotations

import importlib
from pathlib import Path

from skillmeat.model.errors import BadInputError
from skillmeat.services.brokers.base import Broker, BrokerContext
from skillmeat.store import gitcli

ENTRY_POINT_GROUP = "skillmeat.brokers"
BUILTIN = {
    "feed": "skillmeat.services.brokers.feed:FeedBroker",
    "git": "skillmeat.services.brokers.git:GitBroker",
    "claude-plugin": "skillmeat.services.brokers.claude_plugin:ClaudePluginBroker",
    "mcp-registry": "skillmeat.services.brokers.mcp_registry:McpRegistryBroker",
}


def kinds() -> dict[str, str]:
    """Kind -> "module:attribute", the built-in ones first; entry points may add kinds."""
    from importlib.metadata import entry_points

    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def make(kind: str, name: str, source: str, ctx: BrokerContext) -> Broker:
    target = kinds().get(kind)
    if target is None:
        raise BadInputError(f"unknown marketplace type '{kind}'",
                            hint=f"use one of: {', '.join(sorted(kinds()))}")
    module, _, attr = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise BadInputError(f"broker '{kind}' cannot be loaded ({target}: {exc})",
                            hint="reinstall the package that provides it") from None
    broker: Broker = factory(name, source, ctx)
    return broker


def detect_kind(source: str) -> str:
    """The broker a source most likely needs (``--type`` overrides)."""
    if source.startswith("github:"):
        return "claude-plugin"
    local = Path(source.removeprefix("file://")).expanduser()
    if "://" not in source or source.startswith("file://"):
        if (local / ".claude-plugin" / "marketplace.json").is_file():
            return "claude-plugin"
        if local.name == "server.json" or (local.is_dir() and (local / "server.json").is_file()):
            return "mcp-registry"
        if (local / ".git").exists() and not (local / "feed.json").exists():
            return "git"
    if gitcli.is_git_url(source):
        return "git"
    return "feed"
