"""Migration 6: comments, collections (reading lists) and who submitted which paper."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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

# Only referenced by the foreign keys below; created by migrations 1 and 2.
_papers = Table("papers", metadata, Column("key", Integer, primary_key=True))
_users = Table("users", metadata, Column("id", Integer, primary_key=True))

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("paper_key", Integer, ForeignKey("papers.key"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # None for a thread; the thread's id for a reply (one level only)
    Column("parent_id", Integer, ForeignKey("comments.id", ondelete="CASCADE")),
    Column("text", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("edited_at", Float),
    Column("deleted_at", Float),
    Index("ix_comments_paper", "paper_key", "created_at"),
    Index("ix_comments_user", "user_id", "created_at"),
    Index("ix_comments_parent", "parent_id"),
    # ids are never reused, so a link to a deleted comment never shows another one
    sqlite_autoincrement=True,
)

collections = Table(
    "collections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("is_public", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_collections_user", "user_id"),
    sqlite_autoincrement=True,
)

collection_papers = Table(
    "collection_papers",
    metadata,
    Column(
        "collection_id",
        Integer,
        ForeignKey("collections.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("paper_key", Integer, ForeignKey("papers.key"), nullable=False),
    Column("added_at", Float, nullable=False),
    PrimaryKeyConstraint("collection_id", "paper_key", name="pk_collection_papers"),
    Index("ix_collection_papers_paper", "paper_key"),
)

submissions = Table(
    "submissions",
    metadata,
    # a paper is put on a daily list once, by one user
    Column("paper_key", Integer, ForeignKey("papers.key"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("submitted_at", Float, nullable=False),
    Index("ix_submissions_user", "user_id"),
)


def apply(connection: Connection) -> None:
    """Create the tables above."""
    metadata.create_all(connection, tables=[comments, collections, collection_papers, submissions])
