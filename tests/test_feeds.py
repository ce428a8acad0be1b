"""The daily list and trending, on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from paperfeed.models import Paper
from paperfeed.search import feeds
from paperfeed.search.feeds import FeedError, daily_feed, total_upvotes, trending
from paperfeed.store import Store
from paperfeed.store.accounts import insert_user, insert_vote


def _paper(arxiv_id: str, day: str | None, upvotes: int | None) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        title=f"Paper {arxiv_id}",
        abstract="An abstract.",
        authors=["A. Author"],
        daily_date=day,
        upvotes=upvotes,
        sources=["daily-papers-flat"],
    )


def _noon(day: str) -> float:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).timestamp()


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    store.upsert_papers(
        [
            _paper("2608.00001", "2026-08-14", 5),  # Friday
            _paper("2608.00002", "2026-08-14", 50),
            _paper("2608.00003", "2026-08-17", 10),  # Monday
            _paper("2608.00004", "2026-08-17", 10),
            _paper("2608.00005", "2026-07-31", 100),
            _paper("2608.00006", None, None),  # on no daily list
        ]
    )
    return store


def test_latest_day_by_default_most_upvoted_first(store: Store) -> None:
    feed = daily_feed(store, today=date(2026, 8, 20))
    assert (feed.period, feed.label) == ("day", "2026-08-17")
    # equal upvotes: the higher arXiv id first, as the original site (and stable)
    assert [item.paper.arxiv_id for item in feed.items] == ["2608.00004", "2608.00003"]
    assert (feed.previous, feed.next) == ("2026-08-16", "2026-08-18")


def test_future_days_are_never_the_default(store: Store) -> None:
    assert daily_feed(store, today=date(2026, 8, 15)).label == "2026-08-14"


def test_empty_day_names_the_nearest_days_with_papers(store: Store) -> None:
    feed = daily_feed(store, day="2026-08-15")
    assert feed.items == []
    assert (feed.nearest_before, feed.nearest_after) == ("2026-08-14", "2026-08-17")


def test_week_and_month(store: Store) -> None:
    week = daily_feed(store, week="2026-W33")  # Mon 2026-08-10 .. Sun 08-16
    assert (week.first, week.last) == ("2026-08-10", "2026-08-16")
    assert [item.paper.arxiv_id for item in week.items] == ["2608.00002", "2608.00001"]
    assert (week.previous, week.next) == ("2026-W32", "2026-W34")
    month = daily_feed(store, month="2026-08")
    assert len(month.items) == 4 and (month.previous, month.next) == ("2026-07", "2026-09")
    december = daily_feed(store, month="2026-12")
    assert (december.last, december.next) == ("2026-12-31", "2027-01")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"day": "2026-02-30"}, "date '2026-02-30' is not a date"),
        ({"week": "2026-34"}, "week '2026-34' is not an ISO week"),
        ({"week": "2026-W54"}, "week '2026-W54' does not exist"),
        ({"month": "2026-13"}, "month '2026-13' is not a month"),
        ({"day": "2026-08-14", "week": "2026-W33"}, "not date and week"),
    ],
)
def test_bad_periods_name_the_value(store: Store, arguments: dict[str, str], message: str) -> None:
    with pytest.raises(FeedError, match=message):
        daily_feed(store, **arguments)


def test_local_votes_add_to_source_upvotes(store: Store) -> None:
    user = insert_user(store, "a@example.org", "a", "hash")
    paper = store.get_paper("2608.00004")
    assert paper is not None
    assert insert_vote(store, user.id, paper.key)
    assert not insert_vote(store, user.id, paper.key)  # one vote per user per paper
    assert total_upvotes(store, [paper]) == {paper.key: 11}
    feed = daily_feed(store, day="2026-08-17")
    assert [(item.paper.arxiv_id, item.upvotes) for item in feed.items] == [
        ("2608.00004", 11),
        ("2608.00003", 10),
    ]


def test_trending_decays_votes_by_age(store: Store) -> None:
    now = _noon("2026-08-17")
    items = trending(store, half_life_hours=72, now=now)
    scores = {item.paper.arxiv_id: item.score for item in items}
    # 50 votes three days (one half-life) old count as 25; 10 fresh votes as 10
    assert scores["2608.00002"] == pytest.approx(25.0)
    assert scores["2608.00003"] == pytest.approx(10.0)
    assert scores["2608.00001"] == pytest.approx(2.5)
    # 100 votes 17 days old: 100 * 2**(-17/3) = 1.97
    assert scores["2608.00005"] == pytest.approx(100 * 2 ** (-17 / 3))
    assert [item.paper.arxiv_id for item in items][:2] == ["2608.00002", "2608.00003"]
    # a short half-life lets the fresh papers overtake
    fast = trending(store, half_life_hours=12, now=now)
    assert [item.paper.arxiv_id for item in fast][:2] == ["2608.00003", "2608.00004"]


def test_trending_counts_fresh_local_votes(store: Store) -> None:
    now = _noon("2026-08-17")
    old = store.get_paper("2608.00006")  # on no daily list, never upvoted at the source
    assert old is not None
    for number in range(30):
        user = insert_user(store, f"u{number}@example.org", "u", "hash")
        insert_vote(store, user.id, old.key, at=now - 3600)
    items = trending(store, half_life_hours=72, now=now)
    assert items[0].paper.arxiv_id == "2608.00006"
    assert items[0].score == pytest.approx(30 * 2 ** (-1 / 72))
    assert items[0].upvotes == 30


def test_trending_order_does_not_depend_on_the_clock(store: Store) -> None:
    later = trending(store, half_life_hours=48, now=_noon("2026-11-22"))
    at_the_time = trending(store, half_life_hours=48, now=_noon("2026-08-17"))
    assert [i.paper.arxiv_id for i in later] == [i.paper.arxiv_id for i in at_the_time]


def test_trending_on_an_empty_store(database_url: str) -> None:
    assert trending(Store(database_url)) == []
    with pytest.raises(FeedError, match="half-life -1"):
        trending(Store(database_url), half_life_hours=-1)
    for endless in (float("nan"), float("inf")):
        with pytest.raises(FeedError, match=f"half-life {endless!r} hours"):
            trending(Store(database_url), half_life_hours=endless)


def test_a_half_life_of_centuries_reads_every_vote(store: Store) -> None:
    """A window of ten half-lives reaching before 1970 used to overflow the date (500)."""
    items = trending(store, half_life_hours=1e300, now=_noon("2026-08-17"))
    assert [item.paper.arxiv_id for item in items][:2] == ["2608.00005", "2608.00002"]


def test_a_vote_after_the_newest_daily_list_keeps_the_window(store: Store) -> None:
    """The window is anchored at the newest daily list, not the newest vote: a vote cast
    months after the archive ends counts once, at full weight, and empties nothing."""
    before = trending(store, half_life_hours=48, now=_noon("2026-12-06"))
    paper = store.get_paper("2608.00006")
    assert paper is not None
    user = insert_user(store, "late@example.org", "late", "hash")
    insert_vote(store, user.id, paper.key, at=_noon("2026-12-06"))
    after = trending(store, half_life_hours=48, now=_noon("2026-12-06"))
    scores = {item.paper.arxiv_id: item.score for item in after}
    assert {item.paper.arxiv_id for item in before} < set(scores)
    assert scores["2608.00006"] == pytest.approx(1.0)
    assert scores["2608.00003"] == pytest.approx(10.0)  # the list of 08-17 is the anchor


def test_trending_cut_at_a_tie_keeps_the_lower_arxiv_ids(store: Store) -> None:
    """Only the papers at or above the last place's score are read: the cut must still be
    the full ranking's first papers, ties broken by arXiv id (2608.00003 and .00004 both
    have 10 upvotes of the same day, and so has 2607.99999, stored after them)."""
    store.upsert_papers([_paper("2607.99999", "2026-08-17", 10)])
    now = _noon("2026-08-17")
    ranking = [item.paper.arxiv_id for item in trending(store, half_life_hours=72, now=now)]
    assert ranking == [
        "2608.00002",
        "2607.99999",
        "2608.00003",
        "2608.00004",
        "2608.00001",
        "2608.00005",
    ]
    for limit in range(1, 8):
        cut = trending(store, half_life_hours=72, limit=limit, now=now)
        assert [item.paper.arxiv_id for item in cut] == ranking[:limit]


def test_a_vote_brings_a_papers_source_upvotes_from_before_the_window(store: Store) -> None:
    """The window (ten half-lives) bounds which daily lists are read; a paper voted on
    here counts its source's upvotes too, decayed from its own daily date. (The window
    holds the four papers of 08-14 and 08-17; asked for more, the list goes on before it.)"""
    now = _noon("2026-08-17")
    assert "2608.00005" not in [i.paper.arxiv_id for i in trending(store, 12, 4, now=now)]
    paper = store.get_paper("2608.00005")  # 100 upvotes on 2026-07-31, 34 half-lives back
    assert paper is not None
    user = insert_user(store, "voter@example.org", "voter", "hash")
    insert_vote(store, user.id, paper.key, at=now + 3600)  # after the anchor: weight 1
    scores = {item.paper.arxiv_id: item.score for item in trending(store, 12, now=now + 7200)}
    assert scores["2608.00005"] - 1.0 == pytest.approx(100 * 2.0**-34, rel=1e-6)


def test_trending_goes_on_before_a_window_too_small_for_the_list(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paper submitted today is today's daily list: the window (ten half-lives of 48 h)
    then holds that list alone. The list goes on with what was trending at the end of the
    lists before, in their order, each scored as decayed to the newest window's anchor."""
    at_the_archive_end = trending(store, half_life_hours=48, now=_noon("2026-08-17"))
    store.upsert_papers([_paper("2612.00001", "2026-12-07", 3)])
    today = trending(store, half_life_hours=48, now=_noon("2026-12-07"))
    assert [item.paper.arxiv_id for item in today] == ["2612.00001"] + [
        item.paper.arxiv_id for item in at_the_archive_end
    ]
    assert today[0].score == pytest.approx(3.0)
    assert all(item.score < 1e-10 for item in today[1:])  # 112 days: 56 half-lives
    two = trending(store, half_life_hours=48, limit=2, now=_noon("2026-12-07"))
    assert [item.paper.arxiv_id for item in two] == [item.paper.arxiv_id for item in today[:2]]
    # the earlier windows fill a page's worth, not the whole archive (a caller asking
    # for "all", to filter them, read ~9,300 papers in 0.8 s on the quick-start corpus)
    monkeypatch.setattr(feeds, "_FILLED_AT_MOST", 3)
    everything = trending(store, half_life_hours=48, limit=1_000_000, now=_noon("2026-12-07"))
    assert [item.paper.arxiv_id for item in everything] == [
        item.paper.arxiv_id for item in today[:3]
    ]
