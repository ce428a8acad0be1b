"""Migration 12: triage — keywords and TL;DRs kept with each paper, the source's own
(``ai_keywords``/``ai_summary``), "not for me" marks, and a user's cold-start seeds.

``papers`` gains the source-supplied ``ai_summary`` and ``ai_keywords`` (JSON list), and
our own ``keywords`` (JSON list), ``tldr`` and ``annotated_hash`` (the ``content_hash``
they were made from: a changed text is annotated again, as with embeddings).
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
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from paperfeed.store.migrations.ddl import add_column

metadata = MetaData()

# Only referenced by the foreign keys below; created by migrations 1 and 2.
_papers = Table("papers", metadata, Column("key", Integer, primary_key=True))
_users = Table("users", metadata, Column("id", Integer, primary_key=True))

not_for_me = Table(
    "not_for_me",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("paper_key", Integer, ForeignKey("papers.key"), nullable=False),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("user_id", "paper_key", name="pk_not_for_me"),
)

seed_papers = Table(
    "seed_papers",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("paper_key", Integer, ForeignKey("papers.key"), nullable=False),
    Column("reason", String(20), nullable=False),  # "authored", "picked"
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("user_id", "paper_key", name="pk_seed_papers"),
)

seed_vectors = Table(
    "seed_vectors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("model", String(200), nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32 little-endian, unit length
    Column("created_at", Float, nullable=False),
    Index("ix_seed_vectors_user", "user_id"),
)

_PAPER_COLUMNS = (
    ("ai_summary", "TEXT"),
    ("ai_keywords", "TEXT"),
    ("keywords", "TEXT"),
    ("tldr", "TEXT"),
    ("annotated_hash", "VARCHAR(64)"),
)


def apply(connection: Connection) -> None:
    for column, definition in _PAPER_COLUMNS:
        add_column(connection, "papers", column, definition)
    metadata.create_all(connection, tables=[not_for_me, seed_papers, seed_vectors])
