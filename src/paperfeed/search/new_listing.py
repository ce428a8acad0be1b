"""The ``/new`` feed per source: arXiv's day exactly as announced (new submissions, then
cross-lists, then replacements), or a preprint server's day of postings.

arXiv: when the listing feed has been read (``paperfeed sync arxiv-listing``), a day is
the papers announced on it, in three sections in arXiv's order (within one, the most
upvoted first, then arXiv's order), each marked with its announce type. Before any
listing was read, it falls back to papers first listed that day (new submissions only;
OAI-PMH's dates). bioRxiv and medRxiv: the papers whose first version was posted that
day. Days are announcement days (arXiv's, US Eastern); a day
without an announcement (weekends, holidays) says so and points at the last one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from paperfeed.calendar_dates import is_calendar_date
from paperfeed.search.feeds import FeedError, FeedItem, total_upvotes
from paperfeed.store import Store
from paperfeed.store.announcements import (
    announcements_on,
    latest_announcement_day,
    latest_posting_day,
    neighbouring_announcement_days,
    neighbouring_posting_days,
    papers_by_ids,
    posted_on,
)

SOURCES = {"arxiv": "arXiv", "biorxiv": "bioRxiv", "medrxiv": "medRxiv"}
# the sections of an arXiv day, in arXiv's order; replace-cross is a replacement
SECTIONS = {"new": "New submissions", "cross": "Cross-lists", "replace": "Replacements"}
_SECTION_OF = {"new": "new", "cross": "cross", "replace": "replace", "replace-cross": "replace"}
ARXIV_TIME_ZONE = ZoneInfo("America/New_York")


@dataclass
class NewFeed:
    """One day of ``/new`` for one source."""

    source: str  # a key of SOURCES
    day: str | None  # None: nothing listed yet
    exact: bool  # arXiv's announcements as read from its listing (else first-listing days)
    categories: list[str]
    kind: str | None  # the section asked for (a key of SECTIONS), None: all
    items: list[FeedItem]  # in section order
    announce_types: dict[str, str]  # arXiv id -> announce type, for the marks
    sections: dict[str, int]  # papers per section on the day (before the kind filter)
    counts: dict[str, int]  # papers per category, most first
    previous: str | None
    next: str | None
    latest: str | None
    total: int = 0
    no_announcement_today: bool = False  # today (US Eastern) has none: show the latest
    notes: list[str] = field(default_factory=list)


def arxiv_today(now: datetime | None = None) -> date:
    """Today in arXiv's time zone, the calendar its announcement days follow."""
    return (now or datetime.now(ARXIV_TIME_ZONE)).astimezone(ARXIV_TIME_ZONE).date()


def new_feed(
    store: Store,
    source: str = "arxiv",
    day: str | None = None,
    categories: Sequence[str] = (),
    kind: str | None = None,
    followed: Sequence[str] = (),
    today: date | None = None,
) -> NewFeed:
    """One day of new papers from ``source``.

    Args:
        source: ``arxiv``, ``biorxiv`` or ``medrxiv``.
        day: ``YYYY-MM-DD``; default: the latest day with papers.
        categories: keep papers in any of these.
        kind: ``new``, ``cross`` or ``replace``: one section of an arXiv day.
        followed: the site's followed categories; papers in none are left out (empty: all).
        today: today in US Eastern time (default: now).

    Raises:
        FeedError: an unknown source or section, or a malformed date.
    """
    if source not in SOURCES:
        raise FeedError(f"unknown source {source!r} (expected one of {', '.join(SOURCES)})")
    if kind is not None and kind not in SECTIONS:
        raise FeedError(f"unknown section {kind!r} (expected one of {', '.join(SECTIONS)})")
    if day is not None and not is_calendar_date(day):  # not 2026-W34-5 nor 20260821
        raise FeedError(f"date {day!r} is not a date (expected YYYY-MM-DD)")
    today = today or arxiv_today()
    exact = source == "arxiv" and latest_announcement_day(store) is not None
    # the latest day up to today, else the latest at all (dates a clock ahead of ours)
    if exact:
        latest = latest_announcement_day(store, until=today.isoformat()) or (
            latest_announcement_day(store)
        )
    else:
        latest = latest_posting_day(store, source, until=today.isoformat()) or (
            latest_posting_day(store, source)
        )
    chosen = day or latest
    feed = NewFeed(
        source, chosen, exact, list(categories), kind, [], {}, {}, {}, None, None, latest
    )
    if exact and day is None and latest is not None and latest < today.isoformat():
        feed.no_announcement_today = True
    if chosen is None:
        return feed
    types = announcements_on(store, chosen) if exact else {}
    if exact and not types and day is not None:
        # a day before the listing was first read: OAI-PMH's first-listing dates
        feed.exact = exact = False
        feed.notes.append(f"arXiv's listing of {chosen} was not recorded: new submissions only")
    if exact:
        stored = papers_by_ids(store, sorted(types))
        papers = [stored[arxiv_id] for arxiv_id in sorted(stored)]
        missing = len(types) - len(stored)
        if missing:
            feed.notes.append(
                f"{missing} announced paper{'s are' if missing > 1 else ' is'} not stored yet "
                "(the next sync fetches them)"
            )
        feed.previous, feed.next = neighbouring_announcement_days(store, chosen)
    else:
        papers = posted_on(store, source, chosen)
        types = {paper.arxiv_id: "new" for paper in papers}
        feed.previous, feed.next = neighbouring_posting_days(store, source, chosen)
    if followed:
        wanted = set(followed)
        papers = [paper for paper in papers if wanted.intersection(paper.categories)]
    for paper in papers:
        for category in paper.categories:
            feed.counts[category] = feed.counts.get(category, 0) + 1
        section = _SECTION_OF[types[paper.arxiv_id]]
        feed.sections[section] = feed.sections.get(section, 0) + 1
    feed.counts = dict(sorted(feed.counts.items(), key=lambda pair: (-pair[1], pair[0])))
    feed.total = len(papers)
    if categories:
        asked = set(categories)
        papers = [paper for paper in papers if asked.intersection(paper.categories)]
        unknown = sorted(asked - set(feed.counts))
        if unknown:
            feed.notes.append(f"no paper listed on {chosen} is in {', '.join(unknown)}")
    if kind is not None:
        papers = [paper for paper in papers if _SECTION_OF[types[paper.arxiv_id]] == kind]
    upvotes = total_upvotes(store, papers)
    order = list(SECTIONS)
    items = [FeedItem(paper, upvotes[paper.key], float(upvotes[paper.key])) for paper in papers]
    # sections in arXiv's order; within one, the most upvoted first (the reader's model
    # reorders a section for a signed-in reader: web/sync_pages.py), then arXiv's order
    items.sort(
        key=lambda item: (
            order.index(_SECTION_OF[types[item.paper.arxiv_id]]),
            -item.upvotes,
            item.paper.arxiv_id,
        )
    )
    feed.items = items
    feed.announce_types = {item.paper.arxiv_id: types[item.paper.arxiv_id] for item in items}
    return feed
