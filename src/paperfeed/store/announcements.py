"""arXiv's daily announcements as recorded from its listing feed: which paper was
announced on which day, and as what (new, cross-list, replacement)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select

from paperfeed.ingest.arxiv_rss import Listing
from paperfeed.models import StoredPaper
from paperfeed.store import schema
from paperfeed.store.database import Store, UpsertCounts, stored_paper_from_row, upsert_papers_in

_TABLE = schema.arxiv_announcements
# a paper in two followed sets' listings (new in math, a cross-list in cs) is announced as
# its own archive lists it: a new submission before a cross-list, a replacement before a
# replaced cross-list
_PRECEDENCE = {"new": 0, "replace": 1, "cross": 2, "replace-cross": 3}


def record_listing(store: Store, listing_name: str, listing: Listing) -> tuple[int, UpsertCounts]:
    """Record one day's listing, in one transaction; re-recording it changes nothing.

    A listed paper the store does not have yet is stored from the listing's own item
    (title, abstract, authors, categories); OAI-PMH's record replaces that text when it
    is harvested. Papers already stored are left as OAI-PMH described them.

    A paper already recorded that day from another set's listing keeps the stronger of
    the two types (``_PRECEDENCE``): new over cross-list, replacement over replaced
    cross-list.

    Returns:
        How many announcements were new to the store, and the upsert counts.
    """
    if listing.day is None or not listing.announcements:
        return 0, UpsertCounts()
    day = listing.day
    ids = [item.arxiv_id for item in listing.announcements]
    with store.engine.begin() as connection:
        known: dict[str, str] = {}  # recorded that day: arXiv id -> announce type
        stored: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            recorded_rows = connection.execute(
                select(_TABLE.c.arxiv_id, _TABLE.c.announce_type).where(
                    _TABLE.c.day == day, _TABLE.c.arxiv_id.in_(chunk)
                )
            )
            known.update((row.arxiv_id, row.announce_type) for row in recorded_rows)
            stored |= set(
                connection.scalars(
                    select(schema.papers.c.arxiv_id).where(schema.papers.c.arxiv_id.in_(chunk))
                )
            )
        counts = upsert_papers_in(
            connection, [paper for paper in listing.papers if paper.arxiv_id not in stored]
        )
        counts.unchanged += len(stored)
        rows = [
            {
                "day": day,
                "arxiv_id": item.arxiv_id,
                "announce_type": item.announce_type,
                "listing": listing_name,
                "recorded_at": time.time(),
            }
            for item in listing.announcements
            if item.arxiv_id not in known
        ]
        if rows:
            connection.execute(_TABLE.insert(), rows)
        for item in listing.announcements:
            recorded = known.get(item.arxiv_id)
            if recorded is not None and _PRECEDENCE[item.announce_type] < _PRECEDENCE.get(
                recorded, len(_PRECEDENCE)
            ):
                connection.execute(
                    _TABLE.update()
                    .where(_TABLE.c.day == day, _TABLE.c.arxiv_id == item.arxiv_id)
                    .values(announce_type=item.announce_type, listing=listing_name)
                )
    return len(rows), counts


def announcements_on(store: Store, day: str) -> dict[str, str]:
    """The papers announced on ``day``: arXiv id → announce type."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(_TABLE.c.arxiv_id, _TABLE.c.announce_type).where(_TABLE.c.day == day)
        )
        return {row.arxiv_id: row.announce_type for row in rows}


def latest_announcement_day(store: Store, until: str | None = None) -> str | None:
    """The latest day with a recorded announcement (on or before ``until``)."""
    statement = select(func.max(_TABLE.c.day))
    if until is not None:
        statement = statement.where(_TABLE.c.day <= until)
    with store.engine.connect() as connection:
        value = connection.scalar(statement)
    return str(value) if value else None


def neighbouring_announcement_days(store: Store, day: str) -> tuple[str | None, str | None]:
    """The announcement days just before and just after ``day``."""
    with store.engine.connect() as connection:
        before = connection.scalar(select(func.max(_TABLE.c.day)).where(_TABLE.c.day < day))
        after = connection.scalar(select(func.min(_TABLE.c.day)).where(_TABLE.c.day > day))
    return (str(before) if before else None, str(after) if after else None)


def announcement_history(
    store: Store, arxiv_ids: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """Each paper's announcements, oldest first: ``(day, announce type)``."""
    found: dict[str, list[tuple[str, str]]] = {}
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(_TABLE.c.arxiv_id, _TABLE.c.day, _TABLE.c.announce_type)
            .where(_TABLE.c.arxiv_id.in_(list(arxiv_ids)))
            .order_by(_TABLE.c.day)
        )
        for row in rows:
            found.setdefault(row.arxiv_id, []).append((row.day, row.announce_type))
    return found


def papers_by_ids(store: Store, arxiv_ids: Sequence[str]) -> dict[str, StoredPaper]:
    """Stored papers by id (ids not stored are absent), withdrawn ones left out."""
    papers = schema.papers
    found: dict[str, StoredPaper] = {}
    ids = list(arxiv_ids)
    with store.engine.connect() as connection:
        for start in range(0, len(ids), 500):
            rows = connection.execute(
                select(papers).where(
                    papers.c.arxiv_id.in_(ids[start : start + 500]), papers.c.withdrawn_on.is_(None)
                )
            )
            for row in rows:
                paper = stored_paper_from_row(row)
                found[paper.arxiv_id] = paper
    return found


# -- papers by the day they were first listed, per source ------------------------------


def _of_source(source: str) -> ColumnElement[bool]:
    """arXiv papers (ids that are not DOIs), or those a preprint server contributed."""
    papers = schema.papers
    if source == "arxiv":
        return ~papers.c.arxiv_id.startswith("10.")
    return papers.c.sources.contains(f'"{source}"')


def posted_on(store: Store, source: str, day: str) -> list[StoredPaper]:
    """Papers of ``source`` (``arxiv``, ``biorxiv``, ``medrxiv``) first listed on ``day``."""
    papers = schema.papers
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(papers)
            .where(
                papers.c.first_listed == day, papers.c.withdrawn_on.is_(None), _of_source(source)
            )
            .order_by(papers.c.arxiv_id)
        ).all()
    return [stored_paper_from_row(row) for row in rows]


def latest_posting_day(store: Store, source: str, until: str | None = None) -> str | None:
    """The latest day a paper of ``source`` was first listed (on or before ``until``)."""
    papers = schema.papers
    statement = select(func.max(papers.c.first_listed)).where(_of_source(source))
    if until is not None:
        statement = statement.where(papers.c.first_listed <= until)
    with store.engine.connect() as connection:
        value = connection.scalar(statement)
    return str(value) if value else None


def neighbouring_posting_days(store: Store, source: str, day: str) -> tuple[str | None, str | None]:
    """The nearest listing days of ``source`` before and after ``day``."""
    listed = schema.papers.c.first_listed
    with store.engine.connect() as connection:
        before = connection.scalar(select(func.max(listed)).where(listed < day, _of_source(source)))
        after = connection.scalar(select(func.min(listed)).where(listed > day, _of_source(source)))
    return (str(before) if before else None, str(after) if after else None)
