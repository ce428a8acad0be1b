"""``paperfeed mcp``: the MCP server over stdio, for an agent on this machine.

A thin wrapper over ``paperfeed.web.mcp_server`` (the same tools ``/mcp`` on
``paperfeed serve`` answers), on the store and index of ``PAPERFEED_HOME``.
"""

from __future__ import annotations

import click

from paperfeed.cli.common import load_settings, open_store


@click.command("mcp")
@click.option(
    "--token",
    envvar="PAPERFEED_MCP_TOKEN",
    default=None,
    help=(
        "API token (made on /account) of the user the tools act for: for_you and "
        "collections need one, add_to_collection one with write scope. "
        "[env: PAPERFEED_MCP_TOKEN]"
    ),
)
def mcp_command(token: str | None) -> None:
    """Serve the MCP tools (search, paper, similar, daily, weekly, monthly, trending,
    for_you, collections, add_to_collection, not_for_me) over stdio."""
    from paperfeed.search import SearchEngine
    from paperfeed.web.mcp_server import build_mcp_server

    settings = load_settings()
    store = open_store(settings)
    server = build_mcp_server(settings, store, SearchEngine(store, settings), token or None)
    try:
        server.run("stdio")
    finally:
        store.close()
