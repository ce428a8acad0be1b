"""Migration 19: the process id and host name of the process that records a sync run.

A sync killed with ``kill -9``, by the OOM killer or a power cut never records its end;
with its process id and host a reader on the same host can tell that it has ended.
Runs recorded before this migration have neither (NULL) and are shown as recorded.
"""

from __future__ import annotations

from sqlalchemy import Connection

from paperfeed.store.migrations.ddl import add_column


def apply(connection: Connection) -> None:
    """Add ``sync_runs.pid`` and ``sync_runs.host`` (NULL: not known)."""
    add_column(connection, "sync_runs", "pid", "INTEGER")
    add_column(connection, "sync_runs", "host", "TEXT")
