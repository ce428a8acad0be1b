"""Migration 3: subscriptions, their topics, the mail outbox and the papers sent."""

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
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("frequency", String(10), nullable=False),  # "daily" or "weekly"
    Column("time_zone", String(64), nullable=False),  # IANA name, e.g. "Europe/Paris"
    Column("created_at", Float, nullable=False),
    Column("confirmed_at", Float),  # None until the confirmation link is followed
)

subscription_topics = Table(
    "subscription_topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        Integer,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("query", Text, nullable=False),  # in the search syntax
    Column("min_relevance", Float, nullable=False),
    Index("ix_subscription_topics_subscription", "subscription_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("kind", String(20), nullable=False),  # "digest" or "confirmation"
    Column("period", String(40), nullable=False),  # "2026-08-21", "2026-W34", a nonce
    Column("subject", Text, nullable=False),
    Column("message", LargeBinary, nullable=False),  # the whole RFC 5322 message
    Column("status", String(10), nullable=False),  # pending, sending, sent, empty, dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_at", Float),
    Column("sent_at", Float),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    # one digest per subscriber and period, whoever composes it and however often
    UniqueConstraint("subscription_id", "kind", "period", name="uq_outbox_period"),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

sent_papers = Table(
    "sent_papers",
    metadata,
    Column("subscription_id", Integer, nullable=False),
    Column("paper_key", Integer, nullable=False),
    Column("outbox_id", Integer, nullable=False),
    PrimaryKeyConstraint("subscription_id", "paper_key", name="pk_sent_papers"),
)


def apply(connection: Connection) -> None:
    """Create the tables above."""
    metadata.create_all(connection)
