"""Migration 9: roles and disabled accounts, invites, moderation (comment reports, hidden
papers, comments removed by a moderator) and the audit log of admin actions."""

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
    Text,
    UniqueConstraint,
)

from paperfeed.store.migrations.ddl import add_column

metadata = MetaData()

# Only referenced by the foreign keys below; created by migrations 1, 2 and 6.
_papers = Table("papers", metadata, Column("key", Integer, primary_key=True))
_users = Table("users", metadata, Column("id", Integer, primary_key=True))
_comments = Table("comments", metadata, Column("id", Integer, primary_key=True))

invites = Table(
    "invites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("email", String(320)),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Column("used_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("revoked_at", Float),
    sqlite_autoincrement=True,
)

comment_reports = Table(
    "comment_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("resolved_at", Float),
    Column("resolved_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("resolution", String(20)),
    UniqueConstraint("comment_id", "user_id", name="uq_comment_reports_once"),
    Index("ix_comment_reports_open", "resolved_at", "created_at"),
    sqlite_autoincrement=True,
)

hidden_papers = Table(
    "hidden_papers",
    metadata,
    Column("paper_key", Integer, ForeignKey("papers.key"), primary_key=True),
    Column("hidden_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("hidden_at", Float, nullable=False),
    Column("reason", Text, nullable=False, default=""),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("actor", String(320), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(400), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_audit_log_at", "at"),
    sqlite_autoincrement=True,
)


def apply(connection: Connection) -> None:
    """Add the role and moderation columns, and create the tables above."""
    add_column(connection, "users", "role", "VARCHAR(20) NOT NULL DEFAULT 'user'")
    add_column(connection, "users", "disabled_at", "FLOAT")
    add_column(connection, "comments", "moderation", "VARCHAR(10)")
    add_column(connection, "comments", "moderated_at", "FLOAT")
    metadata.create_all(connection, tables=[invites, comment_reports, hidden_papers, audit_log])
