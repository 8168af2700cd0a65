"""``mcp``: MCP server definitions, deployment into Claude Code's files, health checks.

Sub-commands live in their own modules and load only when they run.
"""

from __future__ import annotations

import click

from skillmeat.cli.main import CONTEXT, LazyGroup

SUBCOMMANDS = {
    "add": ("skillmeat.cli.mcp_defs_cmds:add_cmd", "Define a server: -- CMD ARGS... or --url URL."),
    "import": ("skillmeat.cli.mcp_defs_cmds:import_cmd",
               "Import servers from .mcp.json, ~/.claude.json, Claude Desktop, server.json."),
    "config": ("skillmeat.cli.mcp_defs_cmds:config_group", "Show, set, unset, edit a definition."),
    "deploy": ("skillmeat.cli.mcp_deploy_cmds:deploy_cmd", "Write servers into Claude Code's config."),
    "undeploy": ("skillmeat.cli.mcp_deploy_cmds:undeploy_cmd", "Remove servers SkillMeat wrote."),
    "rollback": ("skillmeat.cli.mcp_deploy_cmds:rollback_cmd", "Restore a config file from a backup."),
    "list": ("skillmeat.cli.mcp_deploy_cmds:list_cmd", "Defined vs deployed, per scope."),
    "health": ("skillmeat.cli.mcp_health_cmds:health_cmd", "Start servers and speak MCP to them."),
}


@click.group("mcp", cls=LazyGroup, lazy=SUBCOMMANDS, context_settings=CONTEXT)
def mcp_group() -> None:
    """MCP servers: define, deploy into Claude Code's files (preview, backup, rollback), check."""
