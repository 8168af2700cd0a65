"""Marketplace brokers: one interface over SkillMeat feeds, git remotes, Claude Code plugin
marketplaces and the MCP Registry (see ``base.Broker``)."""
