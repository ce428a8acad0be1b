"""Migration 2: users, API tokens, votes and rate-limit events, as first shipped."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

# Only referenced by the foreign keys below; created by migration 1.
_papers = Table("papers", metadata, Column("key", Integer, primary_key=True))

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    # sha256 of the token: a leaked database does not leak usable tokens.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Index("ix_api_tokens_user", "user_id"),
)

votes = Table(
    "votes",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("paper_key", Integer, ForeignKey("papers.key"), nullable=False),
    # seconds since the epoch (UTC): trending decays each vote by its age.
    Column("created_at", Float, nullable=False),
    # one vote per user per paper, enforced by the database under concurrency
    PrimaryKeyConstraint("user_id", "paper_key", name="pk_votes"),
    Index("ix_votes_paper", "paper_key"),
    Index("ix_votes_created_at", "created_at"),
)

rate_events = Table(
    "rate_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bucket", String(400), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_rate_events_bucket_at", "bucket", "at"),
)


def apply(connection: Connection) -> None:
    """Create the tables above."""
    metadata.create_all(connection, tables=[users, api_tokens, votes, rate_events])
