"""``/api/daily_papers`` as a library, on SQLite and PostgreSQL: trending over the whole
site, paged, and trending within a period, whose votes count up to the period's end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paperfeed.models import Paper
from paperfeed.search.daily_listing import DailyQuery, daily_papers
from paperfeed.search.feeds import FeedItem, trending
from paperfeed.store import Store
from paperfeed.store.accounts import insert_user, insert_vote


def _noon(day: str) -> float:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).timestamp()


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    days = ["2026-08-17", "2026-08-18", "2026-08-19", "2026-08-24", "2026-08-25"]
    store.upsert_papers(
        Paper(
            arxiv_id=f"2608.{number:05d}",
            title=f"Paper {number}",
            abstract="An abstract.",
            authors=["A. Author"],
            daily_date=days[number % len(days)],
            upvotes=(number * 7) % 11,  # ties among them, and papers without upvotes
            submitted_by="ada" if number % 3 == 0 else "bob",
            sources=["daily-papers-flat"],
        )
        for number in range(1, 16)
    )
    return store


def _ids(items: list[FeedItem]) -> list[str]:
    return [item.paper.arxiv_id for item in items]


def test_trending_pages_are_slices_of_the_whole_ranking(store: Store) -> None:
    whole = _ids(trending(store, limit=100))
    assert len(whole) >= 10
    pages = [
        _ids(daily_papers(store, DailyQuery(sort="trending", limit=4, page=page)))
        for page in range(4)
    ]
    assert sum(pages, []) == whole
    by_ada = _ids(daily_papers(store, DailyQuery(sort="trending", submitter="ada")))
    assert by_ada == [arxiv_id for arxiv_id in whole if int(arxiv_id[-5:]) % 3 == 0]


def test_trending_within_a_week_counts_votes_up_to_its_end(store: Store) -> None:
    week = DailyQuery(week="2026-W34", sort="trending")  # 2026-08-17 .. 2026-08-23
    before = _ids(daily_papers(store, week))
    last = store.get_paper(before[-1])
    assert last is not None
    voters = [insert_user(store, f"u{n}@example.org", f"u{n}", "hash") for n in range(12)]
    # votes after the week's last list do not move it, however many
    for voter in voters:
        insert_vote(store, voter.id, last.key, at=_noon("2026-08-30"))
    assert _ids(daily_papers(store, week)) == before
    # the same votes cast on its last day do
    other = store.get_paper(before[-2])
    assert other is not None
    for voter in voters:
        insert_vote(store, voter.id, other.key, at=_noon("2026-08-19") - 60)
    assert _ids(daily_papers(store, week))[0] == other.arxiv_id
