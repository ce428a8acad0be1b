"""Reads behind the "New on arXiv" feed: papers by the day arXiv first listed them."""

from __future__ import annotations

from sqlalchemy import func, select

from paperfeed.models import StoredPaper
from paperfeed.store import schema
from paperfeed.store.database import Store, stored_paper_from_row
from paperfeed.store.moderation import not_hidden

_LISTED = schema.papers.c.first_listed


def papers_listed_on(store: Store, day: str) -> list[StoredPaper]:
    """Papers first listed on ``day`` (ISO date), neither withdrawn nor hidden by a
    moderator, by arXiv id."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(schema.papers)
            .where(schema.papers.c.first_listed == day, schema.papers.c.withdrawn_on.is_(None))
            .where(not_hidden())
            .order_by(schema.papers.c.arxiv_id)
        ).all()
    return [stored_paper_from_row(row) for row in rows]


def latest_listing_date(store: Store, until: str | None = None) -> str | None:
    """The most recent listing day (on or before ``until`` when given)."""
    statement = select(func.max(_LISTED))
    if until is not None:
        statement = statement.where(until >= _LISTED)
    with store.engine.connect() as connection:
        value = connection.scalar(statement)
    return str(value) if value else None


def neighbouring_listing_dates(store: Store, day: str) -> tuple[str | None, str | None]:
    """The nearest listing days strictly before and after ``day``."""
    with store.engine.connect() as connection:
        before = connection.scalar(select(func.max(_LISTED)).where(day > _LISTED))
        after = connection.scalar(select(func.min(_LISTED)).where(day < _LISTED))
    return (str(before) if before else None, str(after) if after else None)
