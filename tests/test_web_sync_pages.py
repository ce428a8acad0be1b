"""The "New on arXiv" feed and the sync status, over real HTTP on a harvested store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paperfeed.config import Settings
from paperfeed.search.new_listing import new_feed
from paperfeed.store import Store
from paperfeed.store.sync_runs import recent_runs
from paperfeed.sync.running import run_sync
from replay_server import Replay, serve_replay
from running_site import Site, load_site_corpus, serve

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDS = [json.loads(line) for line in (FIXTURES / "oai" / "arxiv_2026-07-01.jsonl").open()]
DAY = "2026-07-01"


@pytest.fixture
def harvested(paperfeed_home: Path) -> Iterator[tuple[Site, Replay]]:
    """The site corpus plus the 45 replayed listings of 2026-07-01, served over HTTP."""
    replay = Replay(records=[dict(record) for record in RECORDS], page_size=20)
    with serve_replay(replay) as base:
        settings = Settings.from_environment(
            {
                "PAPERFEED_HOME": str(paperfeed_home),
                "PAPERFEED_EMBED_MODEL": "hashing",
                "PAPERFEED_ARXIV_OAI_URL": f"{base}/oai",
                "PAPERFEED_DAILY_PAPERS_URL": "",
                "PAPERFEED_SYNC_DELAY_SECONDS": "0",
                "PAPERFEED_PAGE_CACHE_SECONDS": "0",
                "PAPERFEED_ARXIV_API_URL": "",
            }
        )
        folder = paperfeed_home.parent / "site"
        folder.mkdir()
        store = load_site_corpus(settings, folder)
        report = run_sync(store, settings, first=DAY)
        assert not report.failed
        with serve(settings) as url:
            yield Site(url, settings, store), replay
        store.close()


def _titles(html: str) -> list[str]:
    return [part.split("</a>")[0] for part in html.split('<h3 class="title">')[1:]]


def test_new_on_arxiv_lists_the_day_by_category(harvested: tuple[Site, Replay]) -> None:
    site, _ = harvested
    with site.client() as client:
        page = client.get("/new")
        assert page.status_code == 200
        assert "New on arXiv" in page.text and "Jul 1, 2026" in page.text
        assert page.text.count('<article class="card"') == 45
        assert 'href="/new?date=2026-07-01&amp;cat=cs.CL">cs.CL <small>' in page.text
        assert 'class="tag primary"' in page.text  # categories on the cards
        assert "Synced just now (arxiv): 45 new papers." in page.text
        filtered = client.get("/new", params={"date": DAY, "cat": "cs.CL"})
        expected = sum("cs.CL" in record["categories"] for record in RECORDS)
        assert filtered.text.count('<article class="card"') == expected
        assert "cs.CL" in filtered.text
        empty = client.get("/new", params={"date": DAY, "cat": "math.AG"})
        assert "no paper listed on 2026-07-01 is in math.AG" in empty.text
        earlier = client.get("/new", params={"date": "2025-03-18"})  # the listing sample
        assert earlier.status_code == 200
        # a page past the day's end is a 404 naming it, as the daily lists answer (was an
        # empty page linking to the empty page before it)
        past = client.get("/new", params={"date": DAY, "page": 2})
        assert past.status_code == 404 and "page 2 is past the last page (1)" in past.text
        assert client.get("/new", params={"date": DAY, "cat": "math.AG", "page": 1}).is_success
        bad = client.get("/new", params={"date": "July"})
        assert bad.status_code == 400 and "July" in bad.text and "is not a date" in bad.text
        # the search's one category rule: "cs LG" is two halves of cs.LG, not two names
        halves = client.get("/new", params={"date": DAY, "cat": "cs LG"})
        assert halves.status_code == 400 and "&#39;cs LG&#39;" in halves.text
        several = client.get("/new", params={"date": DAY, "cat": "cs.CL, cs.LG"})
        assert several.status_code == 200
        paper = client.get(f"/papers/{RECORDS[0]['id']}")
        assert "nonexclusive-distrib" in paper.text and 'href="/new?date=2026-07-01"' in paper.text


def test_grouped_by_topic_the_next_page_stays_grouped(
    harvested: tuple[Site, Replay], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a day grouped by topic, "Next →" led to the next page as a flat list (the
    daily lists keep the grouping); the pager links also lacked rel=prev/next."""
    from paperfeed.web import sync_pages

    monkeypatch.setattr(sync_pages, "PAGE_SIZE", 20)  # the day's 45 papers: three pages
    site, _ = harvested
    with site.client() as client:
        grouped = client.get("/new", params={"date": DAY, "group": "topics"}).text
        following = f'rel="next" href="/new?date={DAY}&amp;page=2&amp;group=topics"'
        assert following in grouped
        second = client.get("/new", params={"date": DAY, "group": "topics", "page": 2}).text
        assert f'rel="prev" href="/new?date={DAY}&amp;group=topics"' in second
        assert "Page 2 of 3" in second
        flat = client.get("/new", params={"date": DAY, "page": 2}).text
    assert f'rel="next" href="/new?date={DAY}&amp;page=3">' in flat
    assert f'href="/new?date={DAY}&amp;page=2&amp;group=topics">Group by topic' in flat
    assert f'href="/new?date={DAY}&amp;page=2">Flat list' in second


def test_followed_categories_bound_the_feed(harvested: tuple[Site, Replay]) -> None:
    site, _ = harvested
    feed = new_feed(site.store, "arxiv", DAY, followed=["cs.CL"])
    assert feed.total == sum("cs.CL" in record["categories"] for record in RECORDS)
    assert all("cs.CL" in item.paper.categories for item in feed.items)


def _make_admin(store: Store, email: str) -> None:
    """Give ``email`` the admin role (migration 9's ``users.role``)."""
    from sqlalchemy import text

    with store.engine.begin() as connection:
        connection.execute(text("UPDATE users SET role = 'admin' WHERE email = :e"), {"e": email})


def test_status_shows_every_run_and_a_failure_with_its_reason_to_admins_only(
    harvested: tuple[Site, Replay],
) -> None:
    from running_site import csrf_of

    site, replay = harvested
    replay.faults[1] = ["html"] * 10
    report = run_sync(site.store, site.settings, first=DAY, index=False)
    assert report.failed
    failed_run = max(
        (run for run in recent_runs(site.store, 10) if run.status == "failed"),
        key=lambda run: run.started_at,
    )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(failed_run.started_at))
    with site.client() as client:
        status = client.get("/status")
        assert status.status_code == 200
        assert '<span class="state failed">failed</span>' in status.text
        assert "HTML page" not in status.text and "the reason is shown to admins" in status.text
        assert "2026-07-01" in status.text  # the window of the run that worked
        home = client.get("/")
        assert f"The last sync of arxiv failed at {when}." in home.text
        assert "HTML page" not in home.text
        form = client.get("/signup").text
        signed_up = client.post(
            "/signup",
            data={
                "email": "ops@example.org",
                "name": "ops",
                "password": "correct horse",
                "csrf_token": csrf_of(form),
            },
        )
        assert signed_up.status_code == 303
        assert "HTML page" not in client.get("/status").text  # signed in, not an admin
        _make_admin(site.store, "ops@example.org")
        status = client.get("/status")
        assert "got an HTML page instead of OAI-PMH XML" in status.text
        assert "HTML page" not in client.get("/").text  # public pages never say why


def test_stats_report_the_syncs(harvested: tuple[Site, Replay], monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from paperfeed.cli import main

    site, _ = harvested
    monkeypatch.setenv("PAPERFEED_HOME", str(site.settings.home))
    result = CliRunner().invoke(main, ["stats", "--json"])
    document = json.loads(result.stdout)
    sources = {entry["source"]: entry for entry in document["sync"]}
    assert sources["arxiv"]["last"]["status"] == "ok" and sources["arxiv"]["last"]["added"] == 45
    assert sources["index"]["last"]["status"] == "ok"
    text = CliRunner().invoke(main, ["stats"]).stdout
    assert "sync:     arxiv OK at" in text
    # a run under way has nothing to say yet: no "RUNNING at 2026-12-07 10:00 UTC: "
    from paperfeed.store.sync_runs import start_run

    start_run(site.store, "arxiv")
    lines = CliRunner().invoke(main, ["stats"]).stdout.splitlines()
    running = [line for line in lines if line.startswith("sync:     arxiv RUNNING at ")]
    assert len(running) == 1 and running[0].endswith(" UTC"), lines


def test_a_store_never_synced_says_so(settings: Settings) -> None:
    store = Store(settings.database_url)
    feed = new_feed(store)
    assert feed.day is None and feed.items == []
