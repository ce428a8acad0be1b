"""Numbered schema migrations, applied in order and recorded in ``schema_migrations``.

Each migration is a module ``mNNN_<name>.py`` holding its own table definitions as they
were when it shipped (never the live ones in ``store/schema.py``), so a later migration
that adds a column also works on a fresh database. Add a change as a new module and
append it to ``MIGRATIONS``; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, inspect, select
from sqlalchemy.exc import DatabaseError

from paperfeed.store import schema
from paperfeed.store.migrations import (
    m001_create_tables,
    m002_create_accounts,
    m003_create_digests,
    m004_sync,
    m005_harden_sessions_and_ids,
    m006_create_discussion_and_collections,
    m008_create_paper_vectors,
    m009_administration,
    m010_account_recovery,
    m012_triage,
    m013_create_announcements,
    m014_source_accounts_and_token_scopes,
    m015_vote_time_index,
    m016_organization_index,
    m017_canonical_addresses,
    m018_subscription_owner,
    m019_sync_run_owner,
)

Migration = Callable[[Connection], None]

MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "create_tables", m001_create_tables.apply),
    (2, "create_accounts", m002_create_accounts.apply),
    (3, "create_digests", m003_create_digests.apply),
    (4, "sync", m004_sync.apply),
    (5, "harden_sessions_and_ids", m005_harden_sessions_and_ids.apply),
    (
        6,
        "create_discussion_and_collections",
        m006_create_discussion_and_collections.apply,
    ),
    (8, "create_paper_vectors", m008_create_paper_vectors.apply),
    (9, "administration", m009_administration.apply),
    (10, "account_recovery", m010_account_recovery.apply),
    (12, "triage", m012_triage.apply),
    (13, "create_announcements", m013_create_announcements.apply),
    (14, "source_accounts_and_token_scopes", m014_source_accounts_and_token_scopes.apply),
    (15, "vote_time_index", m015_vote_time_index.apply),
    (16, "organization_index", m016_organization_index.apply),
    (17, "canonical_addresses", m017_canonical_addresses.apply),
    (18, "subscription_owner", m018_subscription_owner.apply),
    (19, "sync_run_owner", m019_sync_run_owner.apply),
]


def applied_versions(engine: Engine) -> set[int]:
    """Versions already applied to the database behind ``engine``."""
    if not inspect(engine).has_table("schema_migrations"):
        return set()
    with engine.connect() as connection:
        return set(connection.scalars(select(schema.schema_migrations.c.version)))


def migrate(engine: Engine) -> list[int]:
    """Apply every migration not yet applied, each in its own transaction.

    Returns:
        The versions applied by this call (empty when the schema was current).
    """
    try:
        schema.schema_migrations.create(engine, checkfirst=True)
    except DatabaseError:
        if not inspect(engine).has_table("schema_migrations"):
            raise
    done = applied_versions(engine)
    applied: list[int] = []
    for version, name, function in MIGRATIONS:
        if version in done:
            continue
        try:
            with engine.begin() as connection:
                function(connection)
                connection.execute(
                    schema.schema_migrations.insert().values(
                        version=version, name=name, applied_at=datetime.now(UTC).isoformat()
                    )
                )
        except DatabaseError:
            # Another process applied it between our check and our attempt.
            if version in applied_versions(engine):
                continue
            raise
        applied.append(version)
    return applied
