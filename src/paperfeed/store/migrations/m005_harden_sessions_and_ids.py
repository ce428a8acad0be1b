"""Migration 5: server-side sessions, and subscription and outbox ids that are never reused.

SQLite hands out ``max(id) + 1`` for an ``INTEGER PRIMARY KEY`` without AUTOINCREMENT,
so deleting the newest subscription let the next one take its id, and an old manage or
confirmation link (or the sent-papers record) then acted on the new subscription.
AUTOINCREMENT cannot be added to an existing SQLite table, so both tables are rebuilt
(SQLite's documented "make other kinds of table schema changes" procedure). The topics
table, whose rows cascade from a subscription, is kept aside meanwhile so dropping the
old subscriptions table deletes none of them. PostgreSQL's SERIAL sequences never hand
out an id twice, so there only the sessions table is created.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# Only referenced by the foreign key below; created by migration 2.
_users = Table("users", metadata, Column("id", Integer, primary_key=True))

sessions = Table(
    "sessions",
    metadata,
    # sha256 of the random token the signed cookie carries: a leaked database does not
    # leak usable sessions, and deleting the row ends the session wherever the cookie is.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_sessions_user", "user_id"),
    Index("ix_sessions_expires_at", "expires_at"),
)

# The tables as migration 3 made them, now with AUTOINCREMENT on SQLite.
_rebuilt = MetaData()

subscriptions = Table(
    "subscriptions",
    _rebuilt,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("frequency", String(10), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("confirmed_at", Float),
    sqlite_autoincrement=True,
)

subscription_topics = Table(
    "subscription_topics",
    _rebuilt,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        Integer,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("query", Text, nullable=False),
    Column("min_relevance", Float, nullable=False),
    Index("ix_subscription_topics_subscription", "subscription_id"),
)

outbox = Table(
    "outbox",
    _rebuilt,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("period", String(40), nullable=False),
    Column("subject", Text, nullable=False),
    Column("message", LargeBinary, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_at", Float),
    Column("sent_at", Float),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("subscription_id", "kind", "period", name="uq_outbox_period"),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    sqlite_autoincrement=True,
)

_COLUMNS = {
    table.name: ", ".join(column.name for column in table.columns)
    for table in (subscriptions, subscription_topics, outbox)
}


def _rebuild_sqlite(connection: Connection) -> None:
    """Copy each table into an AUTOINCREMENT twin, then swap the twin in."""
    # Python's sqlite3 opens a transaction only before a data-changing statement and
    # runs DDL outside one otherwise: this no-op UPDATE opens it, so every step below
    # commits together with the migration's record (or not at all).
    connection.execute(text("UPDATE subscriptions SET id = id WHERE 0"))
    highest_subscription = max(
        connection.scalar(text("SELECT max(id) FROM subscriptions")) or 0,
        connection.scalar(text("SELECT max(subscription_id) FROM outbox")) or 0,
        connection.scalar(text("SELECT max(subscription_id) FROM sent_papers")) or 0,
    )
    highest_outbox = max(
        connection.scalar(text("SELECT max(id) FROM outbox")) or 0,
        connection.scalar(text("SELECT max(outbox_id) FROM sent_papers")) or 0,
    )
    connection.execute(text("DROP TABLE IF EXISTS _topics_kept"))
    connection.execute(
        text(
            f"CREATE TABLE _topics_kept AS SELECT {_COLUMNS['subscription_topics']} "
            "FROM subscription_topics"
        )
    )
    connection.execute(text("DROP TABLE subscription_topics"))
    for table in (subscriptions, outbox):
        columns = _COLUMNS[table.name]
        connection.execute(text(f"ALTER TABLE {table.name} RENAME TO _{table.name}_old"))
        # index names are global in SQLite: the old table's go with it before the new ones
        for index in table.indexes:
            connection.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
        table.create(connection)
        connection.execute(
            text(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM _{table.name}_old")
        )
        connection.execute(text(f"DROP TABLE _{table.name}_old"))
    subscription_topics.create(connection)
    columns = _COLUMNS["subscription_topics"]
    connection.execute(
        text(f"INSERT INTO subscription_topics ({columns}) SELECT {columns} FROM _topics_kept")
    )
    connection.execute(text("DROP TABLE _topics_kept"))
    # ids handed out before (and deleted since) are known from the rows that name them
    for name, highest in (("subscriptions", highest_subscription), ("outbox", highest_outbox)):
        connection.execute(text("DELETE FROM sqlite_sequence WHERE name = :name"), {"name": name})
        connection.execute(
            text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"),
            {"name": name, "seq": int(highest)},
        )


def apply(connection: Connection) -> None:
    """Create the sessions table; on SQLite, rebuild subscriptions and outbox."""
    metadata.create_all(connection, tables=[sessions])
    if connection.dialect.name == "sqlite":
        _rebuild_sqlite(connection)
