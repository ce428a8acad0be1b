"""A date naming no calendar day already in the database (written by a version whose
ingest checked only the shape) leaves the daily lists, trending, the APIs and the feeds
answering over real HTTP: such a date is read as no date."""

from __future__ import annotations

from sqlalchemy import text

from running_site import LATEST_DAY, XSS_ID, Site

NEWEST_LOOKING = "2608.00677"  # its bad daily date sorts after every real one
IN_THE_MONTH = "2608.06270"  # its bad daily date sorts inside August's


def _write_impossible_dates(site: Site) -> None:
    with site.store.engine.begin() as connection:
        connection.execute(
            text("UPDATE papers SET daily_date = '2026-08-32' WHERE arxiv_id = :id"),
            {"id": NEWEST_LOOKING},
        )
        connection.execute(
            text(
                "UPDATE papers SET daily_date = '2026-08-00', published = '2003-02-31', "
                "upvotes = 500 WHERE arxiv_id = :id"
            ),
            {"id": IN_THE_MONTH},
        )


def test_lists_trending_apis_and_feeds_skip_a_stored_impossible_date(site: Site) -> None:
    _write_impossible_dates(site)
    pages = [
        "/",
        "/?week=2026-W34",
        "/?month=2026-08",
        "/trending",
        "/api/daily_papers",
        "/api/daily_papers?month=2026-08&sort=trending",
        "/api/trending",
        "/rss/daily",
        "/rss/trending",
        f"/papers/{IN_THE_MONTH}",
    ]
    with site.client() as client:
        answers = {page: client.get(page) for page in pages}
        daily = client.get("/api/daily_papers", params={"date": LATEST_DAY}).json()
        paper = client.get(f"/api/papers/{IN_THE_MONTH}").json()
        month = client.get("/api/daily_papers?month=2026-08&sort=trending&limit=100").json()

    assert {page: answer.status_code for page, answer in answers.items()} == dict.fromkeys(
        pages, 200
    )
    # the latest list is still the latest real day, and neither paper is on a list
    assert LATEST_DAY in answers["/"].text and "2026-08-32" not in answers["/"].text
    assert XSS_ID in [entry["paper"]["id"] for entry in daily]
    listed = {entry["paper"]["id"] for entry in month}
    assert NEWEST_LOOKING not in listed and IN_THE_MONTH not in listed
    # an impossible publication date is no timestamp: the daily date would be none either
    assert paper["publishedAt"] is None and "submittedOnDailyAt" not in paper
