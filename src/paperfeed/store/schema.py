"""Table definitions (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Lists are stored as JSON text and dates as ISO ``YYYY-MM-DD`` text so the same
statements run unchanged on both engines.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
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

from paperfeed.store.column_types import BucketKey, Vector

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("applied_at", String(40), nullable=False),
)

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
    # migration 4: the rest of arXiv's metadata, and withdrawals seen in a harvest
    Column("license", Text),
    Column("updated", String(10)),
    Column("withdrawn_on", String(10)),
    # migration 12: the source's own summary and keywords (daily-papers ``ai_*``), and
    # ours, made at index time from ``annotated_hash`` (the content_hash they came from)
    Column("ai_summary", Text),
    Column("ai_keywords", Text),  # JSON list
    Column("keywords", Text),  # JSON list
    Column("tldr", Text),
    Column("annotated_hash", String(64)),
    Index("ix_papers_change_sequence", "change_sequence"),
    Index("ix_papers_daily_date", "daily_date"),
    Index("ix_papers_first_listed", "first_listed"),
    Index("ix_papers_organization", "organization"),  # an organisation's page (migration 16)
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

# -- accounts (migration 2) -------------------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    # migration 9: "user" or "admin", and when an admin disabled the account
    Column("role", String(20), nullable=False, default="user", server_default="user"),
    Column("disabled_at", Float),
    # set when the owner deleted the account (migration 10); the row stays, emptied
    Column("deleted_at", Float),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    # sha256 of the token: a leaked database does not leak usable tokens.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    # "read" or "write" (migration 14; older tokens are "write")
    Column("scope", String(20), nullable=False, default="write", server_default="write"),
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
    # by time, then paper: the spans trending and the weekly lists read (migration 15)
    Index("ix_votes_created_at_paper", "created_at", "paper_key"),
)

# -- sessions (migration 5) ------------------------------------------------------------

sessions = Table(
    "sessions",
    metadata,
    # sha256 of the random token the signed cookie carries; deleting the row ends the
    # session wherever a copy of the cookie is
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_sessions_user", "user_id"),
    Index("ix_sessions_expires_at", "expires_at"),
)


rate_events = Table(
    "rate_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bucket", BucketKey(), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_rate_events_bucket_at", "bucket", "at"),
)

# -- digests (migration 3) -----------------------------------------------------------

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("frequency", String(10), nullable=False),  # "daily" or "weekly"
    Column("time_zone", String(64), nullable=False),  # IANA name, e.g. "Europe/Paris"
    Column("created_at", Float, nullable=False),
    Column("confirmed_at", Float),  # None until the confirmation link is followed
    # the account it belongs to (migration 18): made or confirmed while signed in to the
    # account of this address; None for anyone else's (sign-up proves no address)
    Column("user_id", Integer),
    Index("ix_subscriptions_user", "user_id"),
    # ids are never handed out twice (migration 5): an old link cannot reach a new row
    sqlite_autoincrement=True,
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
    sqlite_autoincrement=True,
)

sent_papers = Table(
    "sent_papers",
    metadata,
    Column("subscription_id", Integer, nullable=False),
    Column("paper_key", Integer, nullable=False),
    Column("outbox_id", Integer, nullable=False),
    PrimaryKeyConstraint("subscription_id", "paper_key", name="pk_sent_papers"),
)

# -- syncing (migration 4) -----------------------------------------------------------

harvest_state = Table(
    "harvest_state",
    metadata,
    # "arxiv:cs", "daily-papers": one row per thing harvested incrementally
    Column("source", String(200), primary_key=True),
    Column("last_datestamp", String(10)),  # the latest day completely harvested
    # a harvest under way: its window and the resumption token of the next page
    Column("window_from", String(10)),
    Column("window_until", String(10)),
    Column("resumption_token", Text),
    Column("updated_at", Float, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),  # "arxiv", "daily-papers", "index"
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("status", String(10), nullable=False),  # running, ok, failed
    Column("added", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("withdrawn", Integer, nullable=False, default=0),
    Column("detail", Text),  # the window harvested, or the failure's reason
    # the process recording the run (migration 19): a reader on the same host can tell
    # that a run still "running" lost its process (kill -9, the OOM killer, a power cut)
    Column("pid", Integer),
    Column("host", Text),
    Index("ix_sync_runs_source_started", "source", "started_at"),
)

# -- discussion, collections, submissions (migration 6) -------------------------------

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
    # migration 9: "hidden" (text kept, reversible) or "deleted" by a moderator
    Column("moderation", String(10)),
    Column("moderated_at", Float),
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

# -- administration and moderation (migration 9) ---------------------------------------

invites = Table(
    "invites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # sha256 of the random token in the invite link; only the link's holder knows it
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("email", String(320)),  # None: anyone holding the link may use it
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
    Column("resolution", String(20)),  # "removed", "hidden", "dismissed"
    # one report per user per comment, enforced by the database under concurrency
    UniqueConstraint("comment_id", "user_id", name="uq_comment_reports_once"),
    Index("ix_comment_reports_open", "resolved_at", "created_at"),
    sqlite_autoincrement=True,
)

hidden_papers = Table(
    "hidden_papers",
    metadata,
    # a small table: search joins it into its filter mask on refresh, lists exclude it
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
    Column("actor", String(320), nullable=False),  # the admin's address, or "command line"
    Column("action", String(40), nullable=False),
    Column("target", String(400), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_audit_log_at", "at"),
    sqlite_autoincrement=True,
)

# -- password resets and attempt counters (migration 10) ------------------------------

password_resets = Table(
    "password_resets",
    metadata,
    # sha256 of the mailed link's token; a link works once (used_at) and until expires_at
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
    # one row per throttled key, changed by single conditional statements (no read-then-write)
    Column("bucket", BucketKey(), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("latest_at", Float, nullable=False),
)

# the daily-papers source's submitters and organisations, as it described them (migration 14)
source_accounts = Table(
    "source_accounts",
    metadata,
    Column("kind", String(20), nullable=False),  # "user" or "organization"
    Column("name", String(200), nullable=False),  # handle (user) or display name (org)
    Column("profile", Text, nullable=False),  # the source's object, stable keys only (JSON)
    Column("updated_at", Float, nullable=False),
    PrimaryKeyConstraint("kind", "name", name="pk_source_accounts"),
)

# -- triage (migration 12) ---------------------------------------------------------------

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
    Column("reason", String(20), nullable=False),  # "authored", "picked", "imported"
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

# -- pgvector (migration 8): PostgreSQL with the pgvector extension only -------------------


# Its own MetaData: these tables exist only where the extension does, so the portable
# ``metadata`` above (what every database gets) does not list them.
pgvector_metadata = MetaData()

paper_vectors = Table(
    "paper_vectors",
    pgvector_metadata,
    Column("paper_key", Integer, ForeignKey(papers.c.key), nullable=False),
    Column("model", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("embedding", Vector(), nullable=False),
    PrimaryKeyConstraint("paper_key", "model", name="pk_paper_vectors"),
)

# -- arXiv's daily announcements (migration 13) -------------------------------------

arxiv_announcements = Table(
    "arxiv_announcements",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("arxiv_id", String(64), primary_key=True),
    Column("announce_type", String(20), nullable=False),
    Column("listing", String(40), nullable=False),
    Column("recorded_at", Float, nullable=False),
    Index("ix_arxiv_announcements_arxiv_id", "arxiv_id"),
)
