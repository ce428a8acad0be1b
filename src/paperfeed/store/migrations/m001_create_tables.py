"""Migration 1: papers and their embeddings, as first shipped."""

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
)

metadata = MetaData()

papers = Table(
    "papers",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("arxiv_id", String(64), nullable=False, unique=True),
    Column("title", Text, nullable=False, default=""),
    Column("abstract", Text, nullable=False, default=""),
    Column("title_raw", Text, nullable=False, default=""),
    Column("abstract_raw", Text, nullable=False, default=""),
    Column("authors", Text, nullable=False, default="[]"),
    Column("categories", Text, nullable=False, default="[]"),
    Column("comment", Text),
    Column("published", String(10)),
    Column("first_listed", String(10)),
    Column("daily_date", String(10)),
    Column("upvotes", Integer),
    Column("num_comments", Integer),
    Column("organization", Text),
    Column("submitted_by", Text),
    Column("github_repo", Text),
    Column("github_stars", Integer),
    Column("project_page", Text),
    Column("doi", Text),
    Column("journal_ref", Text),
    Column("sources", Text, nullable=False, default="[]"),
    Column("content_hash", String(64), nullable=False),
    Column("change_sequence", Integer, nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("ix_papers_change_sequence", "change_sequence"),
    Index("ix_papers_daily_date", "daily_date"),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("paper_key", Integer, ForeignKey("papers.key"), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("dimension", Integer, nullable=False),
    # float32 little-endian bytes: portable and readable without pickle.
    Column("vector", LargeBinary, nullable=False),
    Column("norm", Float, nullable=False, default=1.0),
)


def apply(connection: Connection) -> None:
    """Create the tables above."""
    metadata.create_all(connection)
