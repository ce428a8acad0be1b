"""Migration 5 on a database made before it: rows kept, ids never handed out twice."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, text

from paperfeed.store import Store
from paperfeed.store.migrations import MIGRATIONS
from paperfeed.store.subscriptions import (
    Topic,
    delete_subscription,
    find_subscription,
    save_subscription,
)


def _engine(database_url: str):  # type: ignore[no-untyped-def]
    return create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))


def test_migration_5_keeps_subscriptions_and_never_reuses_their_ids(
    database_url: str, paperfeed_home: Path
) -> None:
    paperfeed_home.mkdir(parents=True, exist_ok=True)
    engine = _engine(database_url)
    from paperfeed.store import schema

    schema.schema_migrations.create(engine, checkfirst=True)
    with engine.begin() as connection:  # the database as it was before migration 5
        for version, name, function in MIGRATIONS:
            if version < 5:
                function(connection)
                connection.execute(
                    schema.schema_migrations.insert().values(
                        version=version, name=name, applied_at="before"
                    )
                )
        for number in (1, 2, 3, 4):
            connection.execute(
                text(
                    "INSERT INTO subscriptions (email, frequency, time_zone, created_at) "
                    "VALUES (:email, 'daily', 'UTC', :at)"
                ),
                {"email": f"reader{number}@example.org", "at": time.time()},
            )
            connection.execute(
                text(
                    "INSERT INTO subscription_topics (subscription_id, query, min_relevance) "
                    "VALUES (:id, 'agents', 0.3)"
                ),
                {"id": number},
            )
        # subscription 4 was deleted (SQLite would hand its id out again); its sent
        # papers are on record
        connection.execute(text("DELETE FROM subscription_topics WHERE subscription_id = 4"))
        connection.execute(text("DELETE FROM subscriptions WHERE id = 4"))
        connection.execute(
            text("INSERT INTO sent_papers (subscription_id, paper_key, outbox_id) VALUES (4, 1, 9)")
        )
    engine.dispose()

    store = Store(database_url)  # applies migration 5
    kept = find_subscription(store, "reader3@example.org")
    assert kept is not None and kept.topics == [Topic("agents", 0.3)]
    delete_subscription(store, kept.id)
    fresh = save_subscription(store, "new@example.org", "daily", "UTC", [])
    assert fresh.id > 4  # neither the deleted 3 nor the 4 whose sent papers are on record
    delete_subscription(store, fresh.id)
    again = save_subscription(store, "again@example.org", "daily", "UTC", [])
    assert again.id > fresh.id
    for number in (1, 2):
        found = find_subscription(store, f"reader{number}@example.org")
        assert found is not None and found.id == number and found.topics
    store.close()
