"""``/api/daily_papers`` as the original site answers it: a period (or the newest
papers), a submitter, a sort (``publishedAt`` or ``trending``) and a page.

``publishedAt`` is the original's default order: within a day, week or month the most
upvoted first (its recorded day lists are in that order); without a period, the newest
daily lists first, each most upvoted first. ``trending`` orders by time-decayed upvotes
(``paperfeed.search.feeds``): over the whole site it is the trending list; within a
period, the votes are decayed to the period's last day, so "trending in 2026-W34" means
"upvoted soon after it appeared that week".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from paperfeed.models import StoredPaper
from paperfeed.search.feeds import (
    DEFAULT_HALF_LIFE_HOURS,
    FeedError,
    FeedItem,
    daily_feed,
    daily_order,
    total_upvotes,
    trending,
)
from paperfeed.store import Store
from paperfeed.store.accounts import votes_between
from paperfeed.store.daily import latest_daily_date, neighbouring_daily_dates, papers_between

DAILY_SORTS = ("publishedAt", "trending")
DEFAULT_LIMIT = 50  # the original site's (and huggingface_hub's documented) default
MAX_LIMIT = 100
MAX_PAGE = 10_000
# Without a period the newest lists are read a window of days at a time, newest first.
_WINDOW_DAYS = 31


@dataclass(frozen=True)
class DailyQuery:
    """The parameters of one ``/api/daily_papers`` request, as the client names them."""

    date: str | None = None
    week: str | None = None
    month: str | None = None
    submitter: str | None = None
    sort: str = "publishedAt"
    page: int = 0
    limit: int = DEFAULT_LIMIT


def _check(query: DailyQuery) -> None:
    for name, value in (("date", query.date), ("week", query.week), ("month", query.month)):
        if value is not None and not value.strip():
            # ``?date=`` is a mistake, not "the newest lists": what the document says
            raise FeedError(f"{name} {value!r} is empty (leave {name} out for the newest lists)")
    if query.sort not in DAILY_SORTS:
        raise FeedError(
            f"parameter 'sort': unknown sort {query.sort!r} (expected one of "
            f"{', '.join(DAILY_SORTS)})"
        )
    if not 1 <= query.limit <= MAX_LIMIT:
        raise FeedError(f"parameter 'limit': {query.limit} is not between 1 and {MAX_LIMIT}")
    if not 0 <= query.page <= MAX_PAGE:
        raise FeedError(f"parameter 'p': page {query.page} is not between 0 and {MAX_PAGE}")


def _by_submitter(papers: list[StoredPaper], submitter: str | None) -> list[StoredPaper]:
    if not submitter:
        return papers
    # handles are case-insensitive on the original site
    wanted = submitter.strip().casefold()
    return [paper for paper in papers if (paper.submitted_by or "").casefold() == wanted]


def _noon(day: str) -> float:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).timestamp()


def _trending_within(
    store: Store, papers: list[StoredPaper], last_day: str, half_life_hours: float
) -> list[FeedItem]:
    """The papers ordered by votes decayed to noon of ``last_day`` (votes after it do
    not count): the same formula as ``feeds.trending``, anchored at the period's end."""
    anchor = min(_noon(last_day), datetime.now(UTC).timestamp())
    half_life = half_life_hours * 3600.0
    keys = {paper.key for paper in papers}
    scores = {paper.key: 0.0 for paper in papers}
    for paper in papers:
        if paper.upvotes and paper.daily_date:
            age = max(anchor - _noon(paper.daily_date), 0.0)
            scores[paper.key] += paper.upvotes * 2.0 ** (-age / half_life)
    first = min((paper.daily_date for paper in papers if paper.daily_date), default=last_day)
    # the period's papers' votes up to the anchor only: an old week or month reads its
    # own votes, not every vote cast on the site since
    until = math.nextafter(anchor, math.inf)  # votes at the anchor count
    for key, at in votes_between(store, _noon(first) - 12 * 3600, until, sorted(keys)):
        scores[key] += 2.0 ** (-max(anchor - at, 0.0) / half_life)
    upvotes = total_upvotes(store, papers)
    items = [FeedItem(paper, upvotes[paper.key], scores[paper.key]) for paper in papers]
    items.sort(key=lambda item: (-item.score, -item.upvotes, item.paper.arxiv_id))
    return items


def _newest(store: Store, submitter: str | None, wanted: int) -> list[FeedItem]:
    """The newest daily lists, newest day first and most upvoted first within a day,
    until ``wanted`` papers are found or the lists run out."""
    latest = latest_daily_date(store, until=datetime.now(UTC).date().isoformat())
    latest = latest or latest_daily_date(store)
    found: list[FeedItem] = []
    last = date.fromisoformat(latest) if latest else None
    while last is not None and len(found) < wanted:
        first = last - timedelta(days=_WINDOW_DAYS - 1)
        papers = _by_submitter(
            papers_between(store, first.isoformat(), last.isoformat()), submitter
        )
        upvotes = total_upvotes(store, papers)
        items = [FeedItem(paper, upvotes[paper.key], float(upvotes[paper.key])) for paper in papers]
        items.sort(key=lambda item: (item.paper.daily_date or "", *daily_order(item)), reverse=True)
        found.extend(items)
        before, _ = neighbouring_daily_dates(store, first.isoformat())
        last = date.fromisoformat(before) if before else None
    return found


def daily_papers(
    store: Store, query: DailyQuery, half_life_hours: float = DEFAULT_HALF_LIFE_HOURS
) -> list[FeedItem]:
    """One page of the daily papers for ``query``.

    Raises:
        FeedError: a malformed period, an unknown sort, a limit outside 1..100 or a
            negative page; the message names the parameter and its value.
    """
    _check(query)
    start = query.page * query.limit
    end = start + query.limit
    if query.date or query.week or query.month:
        feed = daily_feed(store, query.date, query.week, query.month)
        papers = _by_submitter([item.paper for item in feed.items], query.submitter)
        if query.sort == "trending":
            items = _trending_within(store, papers, feed.last, half_life_hours)
        else:
            kept = {paper.key for paper in papers}
            items = [item for item in feed.items if item.paper.key in kept]
        return items[start:end]
    if query.sort == "trending":
        if not query.submitter:  # the first ``end`` of the ranking: only those are read
            return trending(store, half_life_hours, limit=end)[start:end]
        ranked = trending(store, half_life_hours, limit=MAX_PAGE * MAX_LIMIT)
        kept = {paper.key for paper in _by_submitter([i.paper for i in ranked], query.submitter)}
        return [item for item in ranked if item.paper.key in kept][start:end]
    return _newest(store, query.submitter, end)[start:end]
