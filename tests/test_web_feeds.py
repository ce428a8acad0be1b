"""The RSS feeds over real HTTP against a running server, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree
from email.utils import parsedate_to_datetime

import feedparser
import httpx

from paperfeed.models import Paper
from running_site import ARXIV_ONLY_ID, LATEST_DAY, XSS_ID, XSS_TITLE, Site, csrf_of

ATOM = "{http://www.w3.org/2005/Atom}"
RSS_TYPE = "application/rss+xml; charset=utf-8"


def _channel(response: httpx.Response) -> ElementTree.Element:
    """The parsed ``<channel>`` of an RSS 2.0 response."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == RSS_TYPE
    root = ElementTree.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    return channel


def _linked_ids(channel: ElementTree.Element, base: str) -> list[str]:
    """The arXiv ids the items link to, checking every link points at our paper page."""
    ids = []
    for item in channel.findall("item"):
        link = item.findtext("link") or ""
        assert link.startswith(f"{base}/papers/"), link
        assert item.findtext("guid") == link
        ids.append(link.removeprefix(f"{base}/papers/"))
    return ids


def test_daily_feed_lists_the_latest_day_and_escapes_titles(site: Site) -> None:
    base = site.settings.base_url
    with site.client() as client:
        response = client.get("/rss/daily")
        # without a date the API answers the newest lists, a page at a time (as the original)
        api = client.get("/api/daily_papers", params={"date": LATEST_DAY}).json()
    channel = _channel(response)
    assert channel.findtext("title") == f"Daily papers — {LATEST_DAY}"
    assert channel.findtext("link") == f"{base}/"
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None and self_link.get("href") == f"{base}/rss/daily"
    items = channel.findall("item")
    assert len(items) == 18  # 17 real papers plus the hostile one
    assert _linked_ids(channel, base) == [entry["paper"]["id"] for entry in api]
    assert items[0].findtext("title") == "EnvHarness: Awakening Static Worlds for Agent Learning"
    for item in items:
        published = parsedate_to_datetime(item.findtext("pubDate") or "")
        assert published.date().isoformat() == LATEST_DAY
    # The hostile title survives as text: escaped once in the XML, literal once parsed.
    hostile = next(item for item in items if (item.findtext("link") or "").endswith(XSS_ID))
    assert hostile.findtext("title") == XSS_TITLE
    # The description is HTML to a reader: the abstract's markup is text in it, escaped once
    # for HTML and once for XML, so no reader runs it or drops it.
    assert "&lt;img src=x onerror=alert(2)&gt;" in (hostile.findtext("description") or "")
    assert "<script>" not in response.text and "<img" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "&amp;lt;img src=x onerror=alert(2)&amp;gt;" in response.text


def test_an_item_s_text_and_authors_reach_a_feed_reader_as_written(site: Site) -> None:
    """feedparser (as readers do) takes a description for HTML: text in angle brackets must
    reach it escaped, or it is dropped as an unknown tag. Authors are dc:creator."""
    site.store.upsert_papers(
        [
            Paper(
                "2608.99997",
                title="Tokens <EOS> & <think> in a title",
                abstract="We drop the last <EOS> token; vector<int> & map<K,V> stay. x < y.",
                authors=["Ada Lovelace", "Łukasz Kaiser"],
                daily_date=LATEST_DAY,
                upvotes=1,
                sources=["test"],
            )
        ]
    )
    with site.client() as client:
        daily = client.get("/rss/daily")
    parsed = feedparser.parse(daily.content)
    assert not parsed.bozo, parsed.bozo_exception
    [entry] = [entry for entry in parsed.entries if entry.link.endswith("/2608.99997")]
    assert entry.title == "Tokens <EOS> & <think> in a title"
    shown = html.unescape(re.sub(r"<[^>]+>", "", entry.summary))
    assert "We drop the last <EOS> token; vector<int> & map<K,V> stay. x < y." in shown
    assert [author.name for author in entry.authors] == ["Ada Lovelace", "Łukasz Kaiser"]


def test_daily_feed_for_a_weekend_week_or_bad_date(site: Site) -> None:
    with site.client() as client:
        weekend = client.get("/rss/daily", params={"date": "2026-08-16"})
        week = client.get("/rss/daily", params={"week": "2026-W34"})
        bad = client.get("/rss/daily", params={"date": "bad"})
        both = client.get("/rss/daily", params={"date": LATEST_DAY, "month": "2026-08"})
    empty = _channel(weekend)
    assert empty.findtext("title") == "Daily papers — 2026-08-16"
    assert empty.findall("item") == []
    assert len(_channel(week).findall("item")) == 50  # 109 papers, the feed keeps 50
    assert bad.status_code == 400 and "'bad'" in bad.json()["detail"]
    assert both.status_code == 400 and "date and month" in both.json()["detail"]


def test_trending_feed_follows_the_trending_api(site: Site) -> None:
    with site.client() as client:
        feed = _channel(client.get("/rss/trending"))
        api = client.get("/api/trending").json()
    assert feed.findtext("title") == "Trending papers"
    ids = _linked_ids(feed, site.settings.base_url)
    assert len(ids) == 50 and ids == [entry["paper"]["id"] for entry in api]


def test_search_feed_follows_the_newest_first_search(site: Site) -> None:
    with site.client() as client:
        response = client.get("/rss/search", params={"q": "agent"})
        api = client.get("/api/search", params={"q": "agent", "sort": "date", "limit": 50}).json()
        missing = client.get("/rss/search")
    feed = _channel(response)
    assert feed.findtext("title") == "Papers matching “agent”"
    ids = _linked_ids(feed, site.settings.base_url)
    assert ids and ids == [hit["id"] for hit in api["hits"]]
    assert missing.status_code == 400 and "'q'" in missing.json()["detail"]


def test_a_filtered_search_is_followed_with_its_filters(site: Site) -> None:
    # the page of "learning" in cs.CV until 2025 linked /rss/search?q=learning: every
    # category and date, not the search the reader was looking at
    filters = {"cat": "cs.CV", "until": "2025-12"}
    with site.client() as client:
        page = client.get("/search", params={"q": "learning"} | filters).text
        link = re.search(r'href="(/rss/search\?[^"]+)">follow as RSS', page)
        assert link is not None
        response = client.get(html.unescape(link.group(1)))
        api = client.get(
            "/api/search", params={"q": "learning", "sort": "date", "limit": 50} | filters
        ).json()
        unfiltered = client.get("/api/search", params={"q": "learning", "limit": 1}).json()
        bad = client.get("/rss/search", params={"q": "learning", "since": "garbage"})
    feed = _channel(response)
    ids = _linked_ids(feed, site.settings.base_url)
    assert ids and ids == [hit["id"] for hit in api["hits"]]
    assert api["total"] < unfiltered["total"]
    assert "cat=cs.CV" in (feed.findtext("link") or "")
    # named as filtered: it read "Papers matching “learning”", as the unfiltered feed does
    assert feed.findtext("title") == "Papers matching “learning” (cat cs.CV, until 2025-12)"
    assert bad.status_code == 400 and "'garbage'" in bad.json()["detail"]


def test_control_characters_never_break_a_feed(site: Site) -> None:
    """One paper with a control character in its title, or a query with one, used to
    make the whole document malformed XML for every reader."""
    site.store.upsert_papers(
        [
            Paper(
                "2608.99998",
                title="Bell\x07 and \x01start of heading\x0b in a title",
                abstract="An abstract with a form feed\x0c and a NUL-free escape\x1b.",
                authors=["Ctrl\x02 Person"],
                daily_date=LATEST_DAY,
                upvotes=2,
                sources=["test"],
            )
        ]
    )
    with site.client() as client:
        daily = client.get("/rss/daily")
        searched = client.get("/rss/search", params={"q": "a\x01b"})
    for response in (daily, searched):
        assert response.status_code == 200, response.text
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.version == "rss20"
        _channel(response)  # a strict XML parser reads it too
    titles = [entry.title for entry in feedparser.parse(daily.content).entries]
    assert any("Bell and start of heading in a title" in title for title in titles)
    searched_title = feedparser.parse(searched.content).feed.title
    assert "\x01" not in searched_title and "ab" in searched_title


def test_feeds_validate_as_rss_2(site: Site) -> None:
    with site.client() as client:
        responses = [
            client.get("/rss/daily"),
            client.get("/rss/trending"),
            client.get("/rss/search", params={"q": "agent"}),
        ]
    for response in responses:
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo and parsed.version == "rss20"
        assert parsed.feed.title and parsed.feed.link
        for entry in parsed.entries:
            assert entry.link.startswith(site.settings.base_url + "/papers/")
            assert entry.id == entry.link and entry.published_parsed is not None


def test_one_vote_today_leaves_trending_full_on_an_archive(site: Site) -> None:
    """The fixture archive ends on 2026-08-21; a vote cast here today used to move the
    trending window past every August vote, leaving only the voted paper (20 → 1)."""
    trending_card = '<h3 class="title"><span class="rank">'
    with site.client() as client:
        before = client.get("/api/trending", params={"limit": 20}).json()
        page_before = client.get("/trending").text.count(trending_card)
        rss_before = len(_channel(client.get("/rss/trending")).findall("item"))
        form = client.get("/signup").text
        client.post(
            "/signup",
            data={
                "email": "voter@example.org",
                "name": "Voter",
                "password": "correct horse",
                "csrf_token": csrf_of(form),
            },
        )
        voted = client.post(
            "/api/papers/2608.20335/upvote",
            headers={"X-CSRF-Token": csrf_of(client.get("/papers/2608.20335").text)},
        )
        assert voted.status_code == 200, voted.text
        after = client.get("/api/trending", params={"limit": 20}).json()
        page_after = client.get("/trending").text.count(trending_card)
        rss_after = len(_channel(client.get("/rss/trending")).findall("item"))
    assert len(before) == len(after) == 20
    assert page_before == page_after == 50
    assert rss_before == rss_after == 50
    # the fresh vote still counts: the voted paper is on the list
    assert "2608.20335" in [entry["paper"]["id"] for entry in after]


def test_a_paper_submitted_today_leaves_trending_full_on_an_archive(site: Site) -> None:
    """Submitting a paper puts it on today's list, the newest daily list: trending's window
    used to move to today and hold only that paper's day, emptying the list (20 → 0 on the
    fixture archive, which ends on 2026-08-21) as one vote did before."""
    trending_card = '<h3 class="title"><span class="rank">'
    with site.client() as client:
        before = [entry["paper"]["id"] for entry in client.get("/api/trending?limit=20").json()]
        form = client.get("/signup").text
        client.post(
            "/signup",
            data={
                "email": "submitter@example.org",
                "name": "Submitter",
                "password": "correct horse",
                "csrf_token": csrf_of(form),
            },
        )
        submitted = client.post(
            "/submit",
            data={"arxiv_id": ARXIV_ONLY_ID, "csrf_token": csrf_of(client.get("/submit").text)},
        )
        assert submitted.status_code == 303, submitted.text
        after = [entry["paper"]["id"] for entry in client.get("/api/trending?limit=20").json()]
        page_after = client.get("/trending").text.count(trending_card)
        rss_after = len(_channel(client.get("/rss/trending")).findall("item"))
    assert len(before) == len(after) == 20
    assert page_after == rss_after == 50
    # what was trending at the archive's end follows whatever today's list holds
    kept = [paper_id for paper_id in after if paper_id != ARXIV_ONLY_ID]
    assert kept == before[: len(kept)]


def test_a_feed_reader_polling_an_unchanged_feed_gets_304(site: Site) -> None:
    """Feed readers poll; every poll got the whole feed again (no ETag to send back)."""
    from account_helpers import make_token, sign_up

    url = f"{site.url}/rss/trending"
    first = feedparser.parse(url)
    assert first.status == 200 and first.entries and first.etag.startswith('W/"')
    # the anonymous page cache's copy answers the reader's tag...
    again = feedparser.parse(url, etag=first.etag)
    assert again.status == 304 and not again.entries
    # ...and so does the feed itself (a request the cache does not take)
    with site.client(headers={"Authorization": "Bearer not-a-cache-hit"}) as client:
        fresh = client.get("/rss/trending", headers={"If-None-Match": first.etag})
        assert fresh.status_code == 304 and fresh.content == b""
        assert fresh.headers["etag"] == first.etag
        other = client.get("/rss/trending", headers={"If-None-Match": 'W/"another"'})
        assert other.status_code == 200 and other.headers["etag"] == first.etag
    # a new comment is a new version of the paper's discussion feed
    paper_feed = f"{site.url}/rss/papers/{ARXIV_ONLY_ID}"
    before = feedparser.parse(paper_feed)
    assert before.status == 200
    with site.client() as browser:
        sign_up(browser, "poller@example.org", "correct horse battery")
        token = make_token(browser)
    with site.client(headers={"Authorization": f"Bearer {token}"}) as api:
        posted = api.post(f"/api/papers/{ARXIV_ONLY_ID}/comments", json={"text": "New here"})
        assert posted.status_code == 201, posted.text
    with site.client(headers={"Authorization": "Bearer not-a-cache-hit"}) as client:
        after = client.get(f"/rss/papers/{ARXIV_ONLY_ID}", headers={"If-None-Match": before.etag})
    assert after.status_code == 200 and "New here" in after.text
    assert after.headers["etag"] != before.etag
