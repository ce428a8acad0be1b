"""Migration 14: the daily-papers source's accounts (submitters, organisations) as it
described them, and a scope on each API token (``read`` or ``write``).

Papers keep a submitter's handle and an organisation's display name; the original
site's API also sends their ``fullname``, ``avatarUrl``, ``_id``, ... These are kept
here once per account, so ``/api/daily_papers`` can answer with them. Tokens made
before this migration could already vote and edit: they get ``write``.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Float,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from paperfeed.store.migrations.ddl import add_column

metadata = MetaData()

source_accounts = Table(
    "source_accounts",
    metadata,
    # "user" (keyed by handle, what papers.submitted_by holds) or "organization"
    # (keyed by display name, what papers.organization holds)
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    # the source's object, reduced to its stable keys (JSON)
    Column("profile", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
    PrimaryKeyConstraint("kind", "name", name="pk_source_accounts"),
)


def apply(connection: Connection) -> None:
    metadata.create_all(connection)
    add_column(connection, "api_tokens", "scope", "VARCHAR(20) NOT NULL DEFAULT 'write'")
