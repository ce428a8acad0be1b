"""Migration 4: arXiv's license and update date, withdrawals, harvest state, sync runs."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
)

from paperfeed.store.migrations.ddl import add_column

metadata = MetaData()

harvest_state = Table(
    "harvest_state",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("last_datestamp", String(10)),
    Column("window_from", String(10)),
    Column("window_until", String(10)),
    Column("resumption_token", Text),
    Column("updated_at", Float, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("status", String(10), nullable=False),
    Column("added", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("withdrawn", Integer, nullable=False, default=0),
    Column("detail", Text),
    Index("ix_sync_runs_source_started", "source", "started_at"),
)

# the index the "New on arXiv" feed reads by; on the papers table of migration 1
_papers = Table("papers", MetaData(), Column("first_listed", String(10)))
_first_listed_index = Index("ix_papers_first_listed", _papers.c.first_listed)


def apply(connection: Connection) -> None:
    """Add the papers columns, the index on ``first_listed``, and the two tables above."""
    add_column(connection, "papers", "license", "TEXT")
    add_column(connection, "papers", "updated", "VARCHAR(10)")
    add_column(connection, "papers", "withdrawn_on", "VARCHAR(10)")
    existing = {index["name"] for index in inspect(connection).get_indexes("papers")}
    if _first_listed_index.name not in existing:
        _first_listed_index.create(connection)
    metadata.create_all(connection)
