"""The "New on arXiv" feed and the sync status, over real HTTP on a harvested store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paperfeed.config import Settings
from paperfeed.search.feeds import new_on_arxiv
from paperfeed.store import Store
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
        bad = client.get("/new", params={"date": "July"})
        assert bad.status_code == 400 and "July" in bad.text and "is not a date" in bad.text
        # the search's category rule: a value may list several, "cs LG" is refused
        both = client.get("/new", params={"date": DAY, "cat": "cs.CL, math.AG"})
        assert both.text.count('<article class="card"') == expected
        split = client.get("/new", params={"date": DAY, "cat": "cs LG"})
        assert split.status_code == 400 and "category &#39;cs LG&#39;" in split.text
        paper = client.get(f"/papers/{RECORDS[0]['id']}")
        assert "nonexclusive-distrib" in paper.text and 'href="/new?date=2026-07-01"' in paper.text


def test_followed_categories_bound_the_feed(harvested: tuple[Site, Replay]) -> None:
    site, _ = harvested
    feed = new_on_arxiv(site.store, DAY, followed=["cs.CL"])
    assert feed.total == sum("cs.CL" in record["categories"] for record in RECORDS)
    assert all("cs.CL" in item.paper.categories for item in feed.items)


def test_status_shows_every_run_and_a_failure_with_its_reason(
    harvested: tuple[Site, Replay],
) -> None:
    site, replay = harvested
    replay.faults[1] = ["html"] * 10
    report = run_sync(site.store, site.settings, first=DAY, index=False)
    assert report.failed
    with site.client() as client:
        status = client.get("/status")
        assert status.status_code == 200
        assert '<span class="state failed">failed</span>' in status.text
        assert "got an HTML page instead of OAI-PMH XML" in status.text
        assert "2026-07-01" in status.text  # the window of the run that worked
        home = client.get("/")
        assert "Sync of arxiv failed" in home.text and "HTML page" in home.text


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


def test_a_store_never_synced_says_so(settings: Settings) -> None:
    store = Store(settings.database_url)
    feed = new_on_arxiv(store)
    assert feed.day is None and feed.items == []
