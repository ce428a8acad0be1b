"""The ``paperfeed`` command: one module per command group, thin wrappers over the library.

``common`` opens the settings, store and engine; ``papers`` (ingest, index, stats,
quickstart), ``searching`` (search, similar), ``syncing``, ``serving``, ``digests``,
``collections``, ``users``, ``operations`` (backup, restore, migrate, mail) and ``mcp``
each hold their commands; this module only assembles the group.
"""

from __future__ import annotations

import click

from paperfeed.cli.collections import collections_command
from paperfeed.cli.digests import digest
from paperfeed.cli.mcp import mcp_command
from paperfeed.cli.operations import OPERATIONS_COMMANDS
from paperfeed.cli.papers import index, ingest, quickstart, stats
from paperfeed.cli.searching import search, similar
from paperfeed.cli.serving import serve
from paperfeed.cli.syncing import sync
from paperfeed.cli.users import users_command


@click.group()
@click.version_option(package_name="paperfeed")
def main() -> None:
    """paperfeed: follow and search research papers on your own machine.

    Data lives in $PAPERFEED_HOME (default ~/.paperfeed); see README for settings.
    """


for _command in (ingest, index, search, similar, stats, quickstart, serve, sync, digest):
    main.add_command(_command)
main.add_command(collections_command)
main.add_command(users_command)
for _command in OPERATIONS_COMMANDS:  # backup, restore, migrate, mail
    main.add_command(_command)
main.add_command(mcp_command)
