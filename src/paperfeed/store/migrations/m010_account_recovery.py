"""Migration 10: password-reset links, sign-in attempt counters, and deleted accounts.

``password_resets`` holds only the SHA-256 of each mailed link's token, with its expiry
and the moment it was used (a link works once). ``attempt_counters`` is one row per
throttled key (an address tried from one client, or a client), updated in a single
conditional statement so that parallel sign-ins cannot all read the same count before
any of them writes it (issue 19 item 6). ``users.deleted_at`` marks an account its owner
deleted: the row stays, emptied, so the comments' threads keep their shape.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from paperfeed.store.migrations.ddl import add_column

metadata = MetaData()

# Only referenced by the foreign key below; created by migration 2.
_users = Table("users", metadata, Column("id", Integer, primary_key=True))

password_resets = Table(
    "password_resets",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Index("ix_password_resets_user", "user_id"),
)

attempt_counters = Table(
    "attempt_counters",
    metadata,
    Column("bucket", String(400), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("latest_at", Float, nullable=False),
)


def apply(connection: Connection) -> None:
    """Create the two tables and add ``users.deleted_at``."""
    metadata.create_all(connection, tables=[password_resets, attempt_counters])
    add_column(connection, "users", "deleted_at", "FLOAT")
