"""Migration 13: arXiv's daily announcements, one row per paper and announcement day."""

from __future__ import annotations

from sqlalchemy import Column, Connection, Float, Index, MetaData, String, Table

metadata = MetaData()

arxiv_announcements = Table(
    "arxiv_announcements",
    metadata,
    Column("day", String(10), primary_key=True),  # the announcement day, YYYY-MM-DD
    Column("arxiv_id", String(64), primary_key=True),
    # "new", "cross", "replace" or "replace-cross", as the listing's announce_type says
    Column("announce_type", String(20), nullable=False),
    Column("listing", String(40), nullable=False),  # the feed it was read from, e.g. "cs"
    Column("recorded_at", Float, nullable=False),
    Index("ix_arxiv_announcements_arxiv_id", "arxiv_id"),
)


def apply(connection: Connection) -> None:
    """Create the table above."""
    metadata.create_all(connection)
