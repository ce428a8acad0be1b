"""Who gets which papers: the period's top papers plus each topic's best new matches.

One ranking everywhere: the period's papers come from ``daily_feed`` (the daily list's
order, most upvoted first) and topic matches from ``SearchEngine.search`` restricted to
the period, exactly what the site shows for the same day and query. Work is batched:
subscribers sharing a period share its feed, and a topic query is searched once per
period however many subscribers saved it.

A subscriber with an account (the same address) also gets up to five papers of the period
picked for them as on /for-you (``search.recommending``: their upvotes and saved papers).

A topic match's relevance is the cosine similarity of the topic and the paper (their
embeddings); for a paper not yet embedded, or a topic with only filters, a paper the
search found by its words counts as fully relevant. A paper that holds every word of the
topic (as the search reads words: stemmed) is kept whatever its similarity: a short
keyword topic ("KL divergence") is far, by cosine, from most abstracts that name it
(of 45 such papers in the bundled corpus, 40 scored under the default 0.3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from paperfeed.calendar_dates import calendar_date
from paperfeed.index.tokenizer import tokenize
from paperfeed.models import Hit, StoredPaper
from paperfeed.search import SearchEngine, SearchError, parse_query
from paperfeed.search.feeds import daily_feed
from paperfeed.search.profiles import OrganizationNames
from paperfeed.search.recommending import Recommendation, recommend
from paperfeed.search.results import query_stems_of
from paperfeed.store import Store
from paperfeed.store.accounts import find_user_by_email
from paperfeed.store.subscriptions import Subscription, Topic

TOP_PAPERS = 5  # the period's most upvoted papers in a digest
TOPIC_PAPERS = 5  # matches per topic
TOPIC_DEPTH = 20  # search results looked at per topic
FOR_YOU_PAPERS = 5  # papers picked for a subscriber who has an account
_WEEK = re.compile(r"[0-9]{4}-W[0-9]{2}")  # matched whole; ASCII digits only


def _day(label: str) -> date:
    """The day ``label`` names, exactly ``YYYY-MM-DD`` (not ``20260821`` or ``2026-W34-5``,
    which ``date.fromisoformat`` also reads). Raises ValueError otherwise."""
    day = calendar_date(label)
    if day is None:
        raise ValueError(label)
    return day


class PeriodError(ValueError):
    """A malformed period; the message names it."""


@dataclass(frozen=True)
class Period:
    """A day (``2026-08-21``) or an ISO week (``2026-W34``) and its dates."""

    frequency: str
    label: str
    first: date
    last: date

    @classmethod
    def parse(cls, frequency: str, label: str) -> Period:
        """A day (``2026-08-21``) for ``daily``; for ``weekly`` an ISO week (``2026-W34``)
        or any day inside it (``2026-08-21`` is week ``2026-W34``).

        Raises:
            PeriodError: naming a malformed label, or a week past the calendar's end.
        """
        if frequency not in ("daily", "weekly"):
            raise PeriodError(f"frequency {frequency!r} is not daily or weekly")
        try:
            if frequency == "daily":
                day = _day(label)
                return cls(frequency, label, day, day)
            if _WEEK.fullmatch(label):
                year, week = label.split("-W")
                monday = date.fromisocalendar(int(year), int(week), 1)
            else:
                day = _day(label)
                monday = day - timedelta(days=day.weekday())
        except ValueError:
            expected = (
                "YYYY-MM-DD"
                if frequency == "daily"
                else "YYYY-Www, e.g. 2026-W34, or a day of the week, YYYY-MM-DD"
            )
            raise PeriodError(f"{frequency} period {label!r} is malformed ({expected})") from None
        # the calendar ends on Friday 9999-12-31, inside week 9999-W52
        sunday = date.max if monday > date.max - timedelta(days=6) else monday + timedelta(days=6)
        iso_year, iso_week, _ = monday.isocalendar()
        return cls(frequency, f"{iso_year:04d}-W{iso_week:02d}", monday, sunday)


def last_complete_period(frequency: str, time_zone: str, now: float) -> Period:
    """The latest day (or ISO week) that has ended in the subscriber's time zone and in
    UTC: the daily lists are UTC days, so east of UTC the local "yesterday" (in Kiritimati,
    UTC+14, until 14:00 UTC) is a UTC day still being filled, and a digest composed then
    would be final without the rest of it."""
    moment = datetime.fromtimestamp(now, UTC)
    local_today = moment.astimezone(ZoneInfo(time_zone)).date()
    today = min(local_today, moment.date())
    if frequency == "daily":
        return Period.parse("daily", (today - timedelta(days=1)).isoformat())
    previous_week = today - timedelta(days=7)
    year, week, _ = previous_week.isocalendar()
    return Period.parse("weekly", f"{year}-W{week:02d}")


@dataclass
class TopicSection:
    topic: Topic
    hits: list[Hit]


@dataclass
class Digest:
    """What one subscriber gets for one period."""

    subscription: Subscription
    period: Period
    top: list[tuple[StoredPaper, int]]  # (paper, upvotes)
    topics: list[TopicSection] = field(default_factory=list)
    for_you: list[Recommendation] = field(default_factory=list)
    # each organisation spelling of the digest's papers -> the name the site shows for it
    organizations: dict[str, str] = field(default_factory=dict)

    @property
    def paper_keys(self) -> list[int]:
        keys = [paper.key for paper, _ in self.top]
        keys += [hit.paper.key for section in self.topics for hit in section.hits]
        keys += [item.paper.key for item in self.for_you]
        return keys

    @property
    def empty(self) -> bool:
        return not self.paper_keys


def relevance(hit: Hit) -> float:
    """See the module docstring."""
    if hit.similarity is not None:
        return hit.similarity
    return 1.0 if hit.found_by in ("lexical", "both", "identifier") else 0.0


class Composer:
    """Composes digests for many subscribers, sharing feeds and searches between them."""

    def __init__(self, store: Store, engine: SearchEngine) -> None:
        self.store = store
        self.engine = engine
        self._feeds: dict[str, list[tuple[StoredPaper, int]]] = {}
        self._searches: dict[tuple[str, str], list[Hit]] = {}
        self._snippets: dict[tuple[str, int], Hit] = {}
        self._topic_terms: dict[str, frozenset[str]] = {}
        self.searches = 0
        # the site's display names: a paper's own spelling may be "alibaba" where the
        # corpus says "Alibaba" (the mail showed the raw spelling, the cards the name)
        self._names = OrganizationNames(store)

    def _top_papers(self, period: Period) -> list[tuple[StoredPaper, int]]:
        if period.label not in self._feeds:
            feed = (
                daily_feed(self.store, day=period.label)
                if period.frequency == "daily"
                else daily_feed(self.store, week=period.label)
            )
            self._feeds[period.label] = [(item.paper, item.upvotes) for item in feed.items]
        return self._feeds[period.label]

    def _topic_hits(self, topic: Topic, period: Period) -> list[Hit]:
        key = (topic.query, period.label)
        if key not in self._searches:
            try:
                query = parse_query(topic.query).with_filters(
                    since=period.first.isoformat(), until=period.last.isoformat()
                )
                results = self.engine.search(
                    query,
                    limit=TOPIC_DEPTH,
                    snippets=False,  # made below for the few hits a digest keeps
                )
                # a weak match is not news: no close match, no section
                hits = list(results.hits) if results.close_match else []
            except SearchError:
                hits = []
            self._searches[key] = hits
            self.searches += 1
        return self._searches[key]

    def _explained(self, hit: Hit, topic: Topic) -> Hit:
        key = (topic.query, hit.paper.key)
        if key not in self._snippets:
            self._snippets[key] = self.engine.explain(hit, topic.query)
        return self._snippets[key]

    def _has_every_word(self, explained: Hit, topic: Topic) -> bool:
        """Whether the paper holds every word the topic asks for (its index terms)."""
        if topic.query not in self._topic_terms:
            self._topic_terms[topic.query] = frozenset(query_stems_of(parse_query(topic.query)))
        wanted = self._topic_terms[topic.query]
        found = {term for word in explained.matched_terms for term in tokenize(word)}
        return bool(wanted) and wanted <= found

    def compose(self, subscription: Subscription, period: Period, already: set[int]) -> Digest:
        """The digest of one subscriber: nothing they were sent before, nothing twice."""
        seen = set(already)
        top = []
        for paper, upvotes in self._top_papers(period):
            if paper.key not in seen:
                top.append((paper, upvotes))
                seen.add(paper.key)
            if len(top) == TOP_PAPERS:
                break
        digest = Digest(subscription, period, top)
        for topic in subscription.topics:
            chosen: list[Hit] = []
            for hit in self._topic_hits(topic, period):
                if hit.paper.key in seen:
                    continue
                explained = self._explained(hit, topic)
                if relevance(hit) < topic.min_relevance and not self._has_every_word(
                    explained, topic
                ):
                    continue
                chosen.append(explained)
                seen.add(hit.paper.key)
                if len(chosen) == TOPIC_PAPERS:
                    break
            if chosen:
                digest.topics.append(TopicSection(topic, chosen))
        digest.for_you = self._for_you(subscription, period, seen)
        papers = [paper for paper, _ in digest.top]
        papers += [hit.paper for section in digest.topics for hit in section.hits]
        papers += [item.paper for item in digest.for_you]
        digest.organizations = {
            paper.organization: self._names.display(paper.organization)
            for paper in papers
            if paper.organization
        }
        return digest

    def _for_you(
        self, subscription: Subscription, period: Period, seen: set[int]
    ) -> list[Recommendation]:
        """The period's papers picked for the subscriber's account, if they have one."""
        user = find_user_by_email(self.store, subscription.email)
        if user is None:
            return []
        picked = recommend(
            self.engine,
            user.id,
            limit=FOR_YOU_PAPERS,
            between=(period.first.isoformat(), period.last.isoformat()),
            exclude=seen,
        )
        return list(picked.items)


def periods_due(
    subscriptions: Sequence[Subscription], now: float, label: str | None = None
) -> dict[int, Period]:
    """Each subscription's period: ``label`` when given, else its last complete one."""
    due: dict[int, Period] = {}
    for subscription in subscriptions:
        if label is not None:
            due[subscription.id] = Period.parse(subscription.frequency, label)
        else:
            due[subscription.id] = last_complete_period(
                subscription.frequency, subscription.time_zone, now
            )
    return due
