"""arXiv's daily listing (RSS, with announce types) read from a local replay next to the
OAI-PMH replay: recorded per paper and day, and shown on ``/new`` in arXiv's sections."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from http_clients import http_client, http_get
from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.models import Paper
from paperfeed.search.new_listing import new_feed
from paperfeed.store import Store, schema
from preprint_replay import PreprintReplay, serve_preprints
from replay_server import Replay, serve_replay
from running_site import free_port, serve

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDS = [json.loads(line) for line in (FIXTURES / "oai" / "arxiv_2026-07-01.jsonl").open()]
DAY = "2026-07-01"
LISTING = (FIXTURES / "arxiv_rss" / "cs_2026-07-01.xml").read_bytes()
WEEKEND = (FIXTURES / "arxiv_rss" / "cs_2026-07-04.xml").read_bytes()
NEW = ["2606.30647", "2606.30775", "2606.30776", "2606.99999"]
CROSS = ["2606.30673"]
REPLACED = ["2606.30754", "2606.30777"]  # replace-cross, replace


@pytest.fixture
def listing() -> PreprintReplay:
    return PreprintReplay(feeds={"cs": LISTING})


@pytest.fixture
def sources(listing: PreprintReplay, monkeypatch: pytest.MonkeyPatch) -> Iterator[PreprintReplay]:
    oai = Replay(records=[dict(record) for record in RECORDS], page_size=20)
    with serve_replay(oai) as oai_base, serve_preprints(listing) as rss_base:
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", f"{oai_base}/oai")
        monkeypatch.setenv("PAPERFEED_ARXIV_RSS_URL", rss_base)
        monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", "")
        monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_BACKOFF_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "0")
        monkeypatch.setenv("PAPERFEED_PAGE_CACHE_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
        yield listing


def _sync(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["sync", *arguments])
    return result.exit_code, result.stdout + result.stderr


def _announcements(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.scalar(select(func.count()).select_from(schema.arxiv_announcements)) or 0
        )


def test_listing_is_recorded_once_and_new_shows_arxivs_sections(sources: PreprintReplay) -> None:
    code, out = _sync("--from", DAY, "--no-index")  # OAI-PMH first, then the listing
    assert code == 0, out
    assert "arxiv: added 45" in out
    assert "arxiv-listing: added 1, updated 0, unchanged 6, rejected 0" in out  # 2606.99999
    assert f"cs {DAY} (7 announced)" in out and "--from/--until ignored" in out
    store = Store(Settings.from_environment().database_url)
    assert _announcements(store) == 7
    listed_only = store.get_paper("2606.99999")
    assert listed_only is not None  # shown minimal: what the listing's item says
    assert listed_only.title == "Sparse Probing of Listing-Only Papers"
    assert listed_only.authors == ["Ada Listed", "Bo Early"]
    assert listed_only.sources == ["arxiv-rss"] and listed_only.first_listed == DAY
    kept = store.get_paper("2606.30775")
    assert kept is not None and kept.sources == ["arxiv-oai"]  # OAI-PMH's record untouched
    code, out = _sync("arxiv-listing", "--no-index")
    assert code == 0 and "arxiv-listing: added 0, updated 0, unchanged 7" in out
    assert _announcements(store) == 7

    feed = new_feed(store, "arxiv", today=date(2026, 7, 1))
    assert feed.exact and feed.day == DAY and not feed.no_announcement_today
    assert [item.paper.arxiv_id for item in feed.items] == NEW + CROSS + REPLACED
    assert feed.sections == {"new": 4, "cross": 1, "replace": 2}
    assert feed.announce_types["2606.30754"] == "replace-cross"
    saturday = new_feed(store, "arxiv", today=date(2026, 7, 4))
    assert saturday.no_announcement_today and saturday.latest == DAY
    crosses = new_feed(store, "arxiv", DAY, kind="cross")
    assert [item.paper.arxiv_id for item in crosses.items] == CROSS

    store.upsert_papers(
        [
            Paper(
                arxiv_id="10.1101/2026.06.29.600001",
                title="Posted on bioRxiv",
                abstract="Cortical waves.",
                categories=["biorxiv.neuroscience"],
                first_listed=DAY,
                sources=["biorxiv"],
            )
        ]
    )
    update_index(store, Settings.from_environment(), show_progress=False)
    with serve(Settings.from_environment()) as url, http_client(base_url=url, timeout=30) as client:
        page = client.get("/new", params={"date": DAY}).text
        ids = re.findall(r'<article class="card" data-id="([^"]+)"', page)
        assert ids == NEW + CROSS + REPLACED
        headings = re.findall(r'<h2 class="section" id="(\w+)">([^<]+)</h2>', page)
        assert headings == [
            ("new", "New submissions"),
            ("cross", "Cross-lists"),
            ("replace", "Replacements"),
        ]
        assert "replacement of a cross-list" in page and "cross-list</p>" in page
        assert "10.1101/2026.06.29.600001" not in page  # not an arXiv paper
        only = client.get("/new", params={"date": DAY, "kind": "replace"}).text
        assert re.findall(r'data-id="(\d{4}\.\d{5})"', only) == REPLACED
        bad = client.get("/new", params={"kind": "crosses"})
        assert bad.status_code == 400 and "unknown section 'crosses'" in html.unescape(bad.text)
        today = client.get("/new").text  # the clock is past 2026-07-01
        assert "No announcement today" in today
        assert f'href="/new?date={DAY}"' in today
        biorxiv = client.get("/new", params={"source": "biorxiv", "date": DAY}).text
        assert "Posted on bioRxiv" in biorxiv and "New on bioRxiv" in biorxiv
        assert "2606.30775" not in biorxiv
        bad_source = client.get("/new", params={"source": "chemrxiv"})
        assert bad_source.status_code == 400


def test_weekend_listing_failures_and_the_setting(
    sources: PreprintReplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources.feeds["cs"] = WEEKEND
    code, out = _sync("arxiv-listing", "--no-index")
    assert code == 0 and "cs: no announcement" in out
    sources.faults["rss:cs"] = ["500"]
    code, out = _sync("arxiv-listing", "--no-index")
    assert code == 1 and "/rss/cs: HTTP 500" in out
    monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "1")  # the retry is said, then succeeds
    sources.faults["rss:cs"] = ["500"]
    code, out = _sync("arxiv-listing", "--no-index")
    assert code == 0 and "arxiv-listing: waiting: " in out and "retry 1 of 1" in out, out
    assert "arxiv-listing cs: 0 announced" in out
    monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "0")
    sources.feeds["cs"] = b"<rss><channel><item></channel></rss>"
    code, out = _sync("arxiv-listing", "--no-index")
    assert code == 1 and "/rss/cs: not XML" in out
    monkeypatch.setenv("PAPERFEED_ARXIV_RSS_URL", "http://no-such-host.invalid")
    code, out = _sync("arxiv-listing", "--no-index")
    assert code == 1 and "set PAPERFEED_ARXIV_RSS_URL= to a server this machine can" in out
    monkeypatch.setenv("PAPERFEED_ARXIV_RSS_URL", "")
    code, out = _sync("arxiv-listing", "--no-index")
    assert code == 1 and "PAPERFEED_ARXIV_RSS_URL is empty" in out


def _listing_of(archive: str, items: list[tuple[str, str, str]]) -> bytes:
    """An RSS listing in rss.arxiv.org's format: ``(id with version, announce type,
    primary category)`` per item."""
    entries = "".join(
        f"""
    <item>
      <title>Listed as {kind} in {archive}</title>
      <link>https://arxiv.org/abs/{versioned.partition("v")[0]}</link>
      <description>arXiv:{versioned} Announce Type: {kind}\x20
Abstract: Listed in two followed archives.</description>
      <guid isPermaLink="false">oai:arXiv.org:{versioned}</guid>
      <category>{primary}</category>
      <category>cs.CV</category>
      <pubDate>Wed, 01 Jul 2026 00:00:00 -0400</pubDate>
      <arxiv:announce_type>{kind}</arxiv:announce_type>
      <dc:creator>Ada Listed</dc:creator>
    </item>"""
        for versioned, kind, primary in items
    )
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
  version="2.0">
  <channel>
    <title>{archive} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{archive}</link>
    <description>{archive} updates on the arXiv.org e-print archive.</description>
    <pubDate>Wed, 01 Jul 2026 00:00:00 -0400</pubDate>{entries}
  </channel>
</rss>""".encode()


def test_a_paper_in_two_followed_listings_keeps_its_own_archives_type(
    sources: PreprintReplay, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    # 2606.30673 is a cross-list in cs and a new submission in eess (its primary archive);
    # 2606.30754 a replaced cross-list in cs and a replacement in eess: whichever listing
    # is read first, /new shows the first as new and the second as a replacement
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERFEED_ARXIV_SETS", "cs eess")
    sources.feeds["eess"] = _listing_of(
        "eess", [("2606.30673v1", "new", "eess.IV"), ("2606.30754v2", "replace", "eess.SP")]
    )
    code, out = _sync("arxiv-listing", "--no-index")
    assert code == 0, out
    store = Store(Settings.from_environment().database_url)
    assert _announcements(store) == 7  # one announcement a paper and day
    feed = new_feed(store, "arxiv", DAY)
    assert feed.announce_types["2606.30673"] == "new"
    assert feed.announce_types["2606.30754"] == "replace"
    assert feed.sections == {"new": 5, "replace": 2}
    # read again, in the other order: nothing changes
    monkeypatch.setenv("PAPERFEED_ARXIV_SETS", "eess cs")
    code, out = _sync("arxiv-listing", "--no-index")
    assert code == 0 and "added 0, updated 0" in out, out
    again = new_feed(store, "arxiv", DAY)
    assert again.announce_types == feed.announce_types
    with serve(Settings.from_environment()) as url:
        page = http_get(f"{url}/new", params={"date": DAY, "kind": "cross"}, timeout=30).text
        assert "2606.30673" not in page


def test_a_listing_that_failed_says_from_until_were_ignored_without_a_stray_bracket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAPERFEED_ARXIV_RSS_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "0")
    code, out = _sync("arxiv-listing", "--from", DAY, "--no-index", "--quiet")
    assert code == 1 and "arxiv-listing: FAILED" in out
    assert "[the listing holds the latest announcement only: --from/--until ignored]" in out
    assert "[ (" not in out
