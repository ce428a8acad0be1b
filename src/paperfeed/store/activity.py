"""What one user did: the papers they voted for and the papers they submitted."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from paperfeed.store import schema
from paperfeed.store.database import Store


def record_submission(store: Store, paper_key: int, user_id: int, at: float) -> bool:
    """Note that ``user_id`` put the paper on a daily list; False if it was noted already."""
    try:
        with store.engine.begin() as connection:
            connection.execute(
                schema.submissions.insert().values(
                    paper_key=paper_key, user_id=user_id, submitted_at=at
                )
            )
    except IntegrityError:
        return False
    return True


def submitted_keys(store: Store, user_id: int, limit: int) -> list[tuple[int, float]]:
    """``(paper key, time)`` of a user's submissions, newest first."""
    table = schema.submissions
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(table.c.paper_key, table.c.submitted_at)
            .where(table.c.user_id == user_id)
            .order_by(table.c.submitted_at.desc(), table.c.paper_key.desc())
            .limit(limit)
        ).all()
    return [(int(row.paper_key), float(row.submitted_at)) for row in rows]


def voted_keys_of_user(store: Store, user_id: int, limit: int) -> list[tuple[int, float]]:
    """``(paper key, time)`` of a user's votes, newest first."""
    table = schema.votes
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(table.c.paper_key, table.c.created_at)
            .where(table.c.user_id == user_id)
            .order_by(table.c.created_at.desc(), table.c.paper_key.desc())
            .limit(limit)
        ).all()
    return [(int(row.paper_key), float(row.created_at)) for row in rows]
