"""Reads and writes behind the daily list: papers by daily date, submissions.

A daily date that names no calendar day (``2026-02-30``, written before ingest checked
the calendar) is read as no daily date: its paper is on no list, and the latest and
neighbouring days skip it, so the lists, trending and their feeds never meet it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from paperfeed.calendar_dates import is_calendar_date
from paperfeed.models import StoredPaper
from paperfeed.store import schema
from paperfeed.store.database import Store, key_batches, stored_paper_from_row
from paperfeed.store.moderation import not_hidden
from paperfeed.store.sequencing import next_change_sequence

_DAILY = schema.papers.c.daily_date


# (key, upvotes its source reported, daily date) of papers with such upvotes and a date
_UPVOTED = select(schema.papers.c.key, schema.papers.c.upvotes, _DAILY).where(
    schema.papers.c.upvotes > 0, _DAILY.is_not(None)
)


def upvoted_between(store: Store, first: str, last: str) -> list[tuple[int, int, str]]:
    """``(key, upvotes its source reported, daily date)`` of the papers with such upvotes
    whose daily date is in ``first..last`` (ISO dates, inclusive), hidden papers left out:
    what trending reads of the daily lists, without reading the papers themselves."""
    query = _UPVOTED.where(first <= _DAILY, last >= _DAILY, not_hidden())
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        (int(key), int(upvotes), str(day))
        for key, upvotes, day in rows
        if is_calendar_date(str(day))
    ]


def upvoted_among(store: Store, keys: Sequence[int]) -> list[tuple[int, int, str]]:
    """``upvoted_between``'s rows for those of ``keys`` with reported upvotes and a daily
    date, whatever the date."""
    found: list[tuple[int, int, str]] = []
    with store.engine.connect() as connection:
        for batch in key_batches(keys):
            rows = connection.execute(_UPVOTED.where(schema.papers.c.key.in_(batch))).all()
            found.extend(
                (int(key), int(upvotes), str(day))
                for key, upvotes, day in rows
                if is_calendar_date(str(day))
            )
    return found


def arxiv_ids_of(store: Store, keys: Sequence[int]) -> dict[int, str]:
    """The arXiv id (or DOI) of each of ``keys`` that is a stored paper."""
    papers = schema.papers.c
    found: dict[int, str] = {}
    with store.engine.connect() as connection:
        for batch in key_batches(keys):
            rows = connection.execute(
                select(papers.key, papers.arxiv_id).where(papers.key.in_(batch))
            ).all()
            found.update((int(key), str(arxiv_id)) for key, arxiv_id in rows)
    return found


def papers_between(store: Store, first: str, last: str) -> list[StoredPaper]:
    """Papers whose daily date is in ``first..last`` (ISO dates, inclusive), by key;
    papers hidden by a moderator are left out."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(schema.papers)
            .where(first <= _DAILY, last >= _DAILY, not_hidden())
            .order_by(schema.papers.c.key)
        ).all()
    return [stored_paper_from_row(row) for row in rows if is_calendar_date(str(row.daily_date))]


def _nearest_day(connection: Connection, value: object, later: bool) -> str | None:
    """``value`` (a daily date read), or when it names no calendar day the nearest one
    past it (later or earlier) that does: there are few such dates, each read once."""
    day = str(value) if value else None
    while day is not None and not is_calendar_date(day):
        if later:
            value = connection.scalar(select(func.min(_DAILY)).where(day < _DAILY))
        else:
            value = connection.scalar(select(func.max(_DAILY)).where(day > _DAILY))
        day = str(value) if value else None
    return day


def latest_daily_date(store: Store, until: str | None = None) -> str | None:
    """The most recent daily date with papers (on or before ``until`` when given)."""
    statement = select(func.max(_DAILY))
    if until is not None:
        statement = statement.where(until >= _DAILY)
    with store.engine.connect() as connection:
        return _nearest_day(connection, connection.scalar(statement), later=False)


def neighbouring_daily_dates(store: Store, date: str) -> tuple[str | None, str | None]:
    """The nearest daily dates with papers strictly before and after ``date``."""
    with store.engine.connect() as connection:
        before = connection.scalar(select(func.max(_DAILY)).where(date > _DAILY))
        after = connection.scalar(select(func.min(_DAILY)).where(date < _DAILY))
        return (
            _nearest_day(connection, before, later=False),
            _nearest_day(connection, after, later=True),
        )


def submit_to_daily(store: Store, arxiv_id: str, date: str, submitted_by: str) -> StoredPaper:
    """Put a stored paper on the daily list of ``date`` (from the list it was on, if any:
    a paper has one daily date).

    The change sequence is bumped like any other change, so the next index update
    sees the new date.

    Raises:
        LookupError: no paper with that id is stored.
        ValueError: the paper is on the list of ``date`` already.
    """
    with store.engine.begin() as connection:
        row = connection.execute(
            select(schema.papers).where(schema.papers.c.arxiv_id == arxiv_id)
        ).first()
        if row is None:
            raise LookupError(f"no paper {arxiv_id!r} in this paperfeed")
        if row.daily_date == date:
            raise ValueError(f"paper {arxiv_id} is already on the daily list of {date}")
        sequence = next_change_sequence(connection)
        connection.execute(
            schema.papers.update()
            .where(schema.papers.c.key == row.key)
            .values(
                daily_date=date,
                submitted_by=submitted_by,
                change_sequence=sequence,
                updated_at=datetime.now(UTC).isoformat(),
            )
        )
        updated = connection.execute(
            select(schema.papers).where(schema.papers.c.key == row.key)
        ).one()
    return stored_paper_from_row(updated)
