"""The daily, weekly and monthly lists, trending, and "New on arXiv": the feed rankings.

A paper's upvotes are the count its source reported (the daily-papers crawl) plus the
votes cast here. Trending decays each vote by its age with a half-life ``h``
("forward decay", Cormode, Shkapenyuk, Srivastava and Xu, ICDE 2009):

    trending(p) = sum over votes v of p:  2 ** (-(t_anchor - t_v) / h)

so a vote cast ``h`` hours ago counts half as much as one cast now. Votes reported by a
source carry no timestamp; they count as cast at noon UTC of the paper's daily date.
Because every term shares the factor ``2 ** (-t_anchor / h)``, the order never depends
on the anchor; it is noon of the newest daily list (the source's activity; or now, if
earlier), so an archive that stopped updating still shows what was trending at its end.
The anchor is never the newest *vote*: one vote cast here today on an archive that ends
in August would move the window past every August paper and empty the list. A vote cast
after the anchor counts as cast at the anchor (weight 1), never more: the window stays
where the source's papers are, and the fresh vote still adds its full weight. A store
with no daily list at all anchors at its newest vote. When the window holds fewer papers
than asked for (a paper submitted here today makes a daily list of its own, far from an
archive's last one), the list goes on with the window before it: what was trending at
the end of the earlier lists, scored at their own newest list's noon.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from paperfeed.calendar_dates import calendar_date
from paperfeed.models import StoredPaper
from paperfeed.store import Store
from paperfeed.store.accounts import (
    count_votes,
    latest_vote_time,
    vote_counts_since,
    votes_between,
)
from paperfeed.store.daily import (
    arxiv_ids_of,
    latest_daily_date,
    neighbouring_daily_dates,
    papers_between,
    upvoted_among,
    upvoted_between,
)
from paperfeed.store.moderation import hidden_paper_keys

DEFAULT_HALF_LIFE_HOURS = 48.0
# Beyond ten half-lives a vote weighs under 1/1000 of a fresh one: not worth reading.
_WINDOW_HALF_LIVES = 10
# A window holding fewer papers than asked for is followed by the ones before it, until
# the list holds this many (the most /api/trending gives).
_FILLED_AT_MOST = 200
# ASCII digits, matched whole (``re.fullmatch``): ``\d`` takes "２０２６" and ``$`` a
# trailing newline, and the date, week or month names the list a URL is cached under
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class FeedError(ValueError):
    """A feed parameter is malformed; the message names the parameter and its value."""


@dataclass
class FeedItem:
    """A paper in a feed, with its total upvotes and the score it was ordered by."""

    paper: StoredPaper
    upvotes: int
    score: float


@dataclass
class DailyFeed:
    """One day, ISO week or month of the daily list, most upvoted first."""

    period: str  # "day", "week" or "month"
    label: str  # "2026-08-21", "2026-W34" or "2026-08"
    first: str
    last: str
    items: list[FeedItem]
    previous: str | None  # label of the period before (None before year 1)
    next: str | None  # label of the period after (None after year 9999)
    nearest_before: str | None = None  # days with papers, for an empty period
    nearest_after: str | None = None
    latest: str | None = None  # the most recent day with papers at all
    future: bool = False  # the period starts after today: its list is not out yet
    notes: list[str] = field(default_factory=list)


def total_upvotes(store: Store, papers: Sequence[StoredPaper]) -> dict[int, int]:
    """Source upvotes plus local votes, by paper key."""
    local = count_votes(store, [paper.key for paper in papers])
    return {paper.key: (paper.upvotes or 0) + local.get(paper.key, 0) for paper in papers}


def _parse_date(name: str, value: str) -> date:
    # not date.fromisoformat alone: Python 3.11's reads 2026-W34-5 and 20260821 too
    parsed = calendar_date(value)
    if parsed is None:
        raise FeedError(f"{name} {value!r} is not a date (expected YYYY-MM-DD)")
    return parsed


def _shifted(day: date, days: int) -> date | None:
    """``day`` moved by ``days``, or None past the calendar's ends (years 1..9999)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def _period_bounds(
    day: str | None, week: str | None, month: str | None
) -> tuple[str, date, date] | None:
    given = [(name, value) for name, value in (("date", day), ("week", week), ("month", month))]
    for name, value in given:
        if value is not None and not value.strip():
            # ``?date=`` is a mistake, not "the latest day": leave the parameter out for that
            raise FeedError(f"{name} {value!r} is empty (leave {name} out for the latest list)")
    chosen = [(name, value) for name, value in given if value]
    if len(chosen) > 1:
        names = " and ".join(name for name, _ in chosen)
        raise FeedError(f"give one of date, week or month, not {names}")
    if not chosen:
        return None
    name, value = chosen[0]
    assert value is not None
    if name == "date":
        parsed = _parse_date("date", value)
        return "day", parsed, parsed
    if name == "week":
        match = _WEEK.fullmatch(value)
        if not match:
            raise FeedError(f"week {value!r} is not an ISO week (expected YYYY-Www, e.g. 2026-W34)")
        try:
            monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            raise FeedError(f"week {value!r} does not exist") from None
        # the calendar ends on Friday 9999-12-31, inside week 9999-W52
        return "week", monday, _shifted(monday, 6) or date.max
    match = _MONTH.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise FeedError(f"month {value!r} is not a month (expected YYYY-MM, e.g. 2026-08)")
    year, number = int(match.group(1)), int(match.group(2))
    if year < 1:
        raise FeedError(f"month {value!r} does not exist (years run from 0001 to 9999)")
    first = date(year, number, 1)
    last = date(year, 12, 31) if number == 12 else date(year, number + 1, 1) - timedelta(days=1)
    return "month", first, last


def _label(period: str, first: date | None) -> str | None:
    if first is None:
        return None
    if period == "day":
        return first.isoformat()
    if period == "week":
        year, week, _ = first.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{first.year:04d}-{first.month:02d}"


def _ranked(store: Store, papers: list[StoredPaper]) -> list[FeedItem]:
    upvotes = total_upvotes(store, papers)
    items = [FeedItem(paper, upvotes[paper.key], float(upvotes[paper.key])) for paper in papers]
    items.sort(key=daily_order, reverse=True)
    return items


def daily_order(item: FeedItem) -> tuple[int, str, str]:
    """A daily list's order, highest first: most upvoted, then the newest published,
    then the higher arXiv id. The original site puts ties the newest first (by the time a
    paper was published, which we keep as a date): this order agrees with 2,779 of the
    3,398 neighbouring ties in its 580 recorded days and gives 331 of those days exactly
    (lowest arXiv id first: 670 and 71)."""
    paper = item.paper
    # the date the API gives as ``publishedAt`` (so a paperfeed syncing from this one
    # orders the same list the same way)
    published = paper.published or paper.first_listed or paper.daily_date or ""
    return item.upvotes, published, paper.arxiv_id


def daily_feed(
    store: Store,
    day: str | None = None,
    week: str | None = None,
    month: str | None = None,
    today: date | None = None,
) -> DailyFeed:
    """The daily list for a day, ISO week or month; by default the latest day with papers.

    Args:
        day: ``YYYY-MM-DD``.
        week: ISO week ``YYYY-Www``.
        month: ``YYYY-MM``.
        today: the current date (default: today in UTC); later days are never "latest".

    Raises:
        FeedError: a malformed parameter, or more than one given.
    """
    today = today or datetime.now(UTC).date()
    bounds = _period_bounds(day, week, month)
    latest = latest_daily_date(store, until=today.isoformat()) or latest_daily_date(store)
    if bounds is None:
        start = date.fromisoformat(latest) if latest else today
        bounds = ("day", start, start)
    period, first, last = bounds
    items = _ranked(store, papers_between(store, first.isoformat(), last.isoformat()))
    span = (last - first).days + 1
    next_first = _shifted(last, 1)
    if period == "month":
        before = _shifted(first, -1)
        previous_first = date(before.year, before.month, 1) if before else None
    else:
        previous_first = _shifted(first, -span)
    label = _label(period, first)
    assert label is not None
    feed = DailyFeed(
        period=period,
        label=label,
        first=first.isoformat(),
        last=last.isoformat(),
        items=items,
        previous=_label(period, previous_first),
        next=_label(period, next_first),
        latest=latest,
        future=first > today,
    )
    if not items:
        before_date, _ = neighbouring_daily_dates(store, first.isoformat())
        _, after_date = neighbouring_daily_dates(store, last.isoformat())
        feed.nearest_before, feed.nearest_after = before_date, after_date
    return feed


def _noon(day: str) -> float:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).timestamp()


def trending(
    store: Store,
    half_life_hours: float = DEFAULT_HALF_LIFE_HOURS,
    limit: int = 50,
    now: float | None = None,
) -> list[FeedItem]:
    """Papers ordered by time-decayed votes (see the module docstring for the formula).

    Args:
        half_life_hours: hours after which a vote counts half.
        limit: how many papers to return.
        now: the current time in epoch seconds (default: the clock).
    """
    if not 0 < half_life_hours < math.inf:
        raise FeedError(f"half-life {half_life_hours!r} hours must be a positive number")
    now = time.time() if now is None else now
    half_life = half_life_hours * 3600.0
    latest_day = latest_daily_date(store, until=datetime.fromtimestamp(now, UTC).date().isoformat())
    activity = _noon(latest_day) if latest_day else latest_vote_time(store)
    if activity is None:
        return []
    anchor = first_anchor = min(now, activity)
    hidden = set(hidden_paper_keys(store))  # the daily lists leave them out already
    best: list[int] = []
    scores: dict[int, float] = {}
    wanted = limit
    while True:
        window = _window_scores(store, anchor, half_life, hidden | set(best))
        # a score decayed to the first window's anchor (it may underflow to 0.0: the
        # order stays the windows', newest window first)
        factor = 2.0 ** (-(first_anchor - anchor) / half_life)
        scores.update((key, score * factor) for key, score in window.items())
        best += _top_scores(store, window, wanted - len(best))
        # the earlier windows fill a list as long as a page shows, not a whole archive
        # (a caller asking for every paper of the window, to filter them, reads just it)
        wanted = min(limit, _FILLED_AT_MOST)
        if len(best) >= wanted:
            break
        # Too few papers in the window: a paper submitted today (or a sync after a gap)
        # makes a new daily list far from the rest, and the window would hold only it.
        # The list goes on with what was trending at the end of the lists before.
        window_start = max(anchor - _WINDOW_HALF_LIVES * half_life, 0.0)
        earlier, _ = neighbouring_daily_dates(
            store, datetime.fromtimestamp(window_start, UTC).date().isoformat()
        )
        if earlier is None:
            break
        anchor = _noon(earlier)
    papers = store.get_papers(best)
    upvotes = total_upvotes(store, [papers[key] for key in best])
    return [FeedItem(papers[key], upvotes[key], scores[key]) for key in best]


def _window_scores(
    store: Store, anchor: float, half_life: float, left_out: set[int]
) -> dict[int, float]:
    """Each paper's trending score at ``anchor`` from the votes and daily lists of the
    window of ``_WINDOW_HALF_LIVES`` half-lives before it; ``left_out`` keys not scored."""
    # never before 1970: a half-life of centuries reads every vote, not a date overflow
    window_start = max(anchor - _WINDOW_HALF_LIVES * half_life, 0.0)
    first_day = datetime.fromtimestamp(window_start, UTC).date().isoformat()
    last_day = datetime.fromtimestamp(anchor, UTC).date().isoformat()
    # Scored from keys, times and counts; only the papers shown are read (reading every
    # paper voted on in the window was ~1 s a page at 200,000 votes).
    window_votes = [
        (key, at) for key, at in votes_between(store, window_start, anchor) if key not in left_out
    ]
    # a vote cast at or after the anchor counts as cast at it: weight 1
    later_votes = {
        key: count for key, count in vote_counts_since(store, anchor).items() if key not in left_out
    }
    # the upvotes a source reported count for the window's daily papers and for every
    # paper voted on here, whatever its daily date (as cast at its noon)
    reported = upvoted_between(store, first_day, last_day)
    in_window = {key for key, _, _ in reported}
    voted = {key for key, _ in window_votes} | set(later_votes)
    reported += upvoted_among(store, sorted(voted - in_window))
    scores: dict[int, float] = {}
    for key, source_upvotes, day in reported:
        if day <= last_day and key not in left_out:
            age = anchor - _noon(day)
            scores[key] = source_upvotes * 2.0 ** (-max(age, 0.0) / half_life)
    for key, at in window_votes:
        scores[key] = scores.get(key, 0.0) + 2.0 ** (-(anchor - at) / half_life)
    for key, count in later_votes.items():
        scores[key] = scores.get(key, 0.0) + count
    return scores


def _top_scores(store: Store, scores: dict[int, float], limit: int) -> list[int]:
    """The ``limit`` keys of highest score, ties by arXiv id; only the ids of the keys
    at or above the ``limit``-th score are read."""
    if not scores or limit <= 0:
        return []
    ranked = sorted(scores.values(), reverse=True)
    threshold = ranked[min(limit, len(ranked)) - 1]
    contenders = [key for key, score in scores.items() if score >= threshold]
    arxiv_ids = arxiv_ids_of(store, contenders)
    contenders = [key for key in contenders if key in arxiv_ids]
    contenders.sort(key=lambda key: (-scores[key], arxiv_ids[key]))
    return contenders[:limit]
