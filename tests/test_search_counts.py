"""Result counts past the candidate depth: the page, the JSON API and the CLI say how
many papers match, not how many were ranked (1,000 lexical candidates + a few by meaning
used to read "1001 results" for a word 1,250 papers contain)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import feedparser
import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.models import Paper
from paperfeed.store import Store
from running_site import Site, serve

MATCHING = 1250


LATE_ID = "2603.00001"


def _crowd() -> list[Paper]:
    return [
        Paper(
            f"2601.{number:05d}",
            title=f"Topic {number} of the study",
            abstract=f"We train a diffusion model on set {number} and report {number % 7} gains.",
            authors=["A. Writer"],
            daily_date=f"2026-01-{number % 28 + 1:02d}",
        )
        for number in range(MATCHING)
    ] + [
        Paper(
            f"2602.{number:05d}",
            title=f"Graph study {number}",
            abstract="Message passing on molecules.",
            authors=["B. Writer"],
            daily_date="2026-02-02",
        )
        for number in range(60)
    ]


def _site(settings: Settings, papers: list[Paper]) -> Iterator[Site]:
    store = Store(settings.database_url)
    store.upsert_papers(papers)
    update_index(store, settings, show_progress=False)
    with serve(settings) as url:
        yield Site(url, settings, store)
    store.close()


@pytest.fixture
def crowded_site(settings: Settings) -> Iterator[Site]:
    """1,250 papers on diffusion (all with the phrase "diffusion model") and 60 without."""
    yield from _site(settings, _crowd())


@pytest.fixture
def crowded_site_with_a_late_paper(settings: Settings) -> Iterator[Site]:
    """The crowd, and a newer paper that names diffusion once in a long abstract: the
    lowest BM25F of all, past the 1,000 candidates a relevance order ranks (and the only
    one with upvotes)."""
    late = Paper(
        LATE_ID,
        title="Field notes on coastal erosion",
        abstract=" ".join(["Sediment cores and tide gauges along the coast."] * 40)
        + " A diffusion term closes the budget.",
        authors=["C. Writer"],
        daily_date="2026-03-02",
        upvotes=7,
    )
    yield from _site(settings, [*_crowd(), late])


def test_the_count_is_every_matching_paper_past_the_candidate_depth(crowded_site: Site) -> None:
    with crowded_site.client() as client:
        api = client.get("/api/search", params={"q": "diffusion", "limit": 5}).json()
        page = client.get("/search", params={"q": "diffusion"}).text
        trend = client.get("/api/papers/search/trend", params={"q": "diffusion"}).json()
    assert api["total"] == MATCHING == trend["total"] and api["total_exact"] is True
    assert 1000 <= api["ranked"] < MATCHING
    assert "1,250 results" in page
    assert f"The best {api['ranked']:,} are ranked here" in page
    pages = int(re.search(r"Page 1 of (\d+)", page).group(1))  # type: ignore[union-attr]
    assert pages == -(-api["ranked"] // 20)  # paging reaches what was ranked, no empty pages
    runner = CliRunner()
    printed = runner.invoke(main, ["search", "diffusion", "--limit", "3"])
    as_json = json.loads(runner.invoke(main, ["search", "diffusion", "--json"]).output)
    assert printed.exit_code == 0 and "1,250 results; showing 1–3" in printed.output
    assert as_json["total"] == MATCHING and as_json["total_exact"] is True


def test_a_phrase_past_the_depth_is_an_honest_lower_bound(crowded_site: Site) -> None:
    with crowded_site.client() as client:
        api = client.get("/api/search", params={"q": '"diffusion model"'}).json()
        page = client.get("/search", params={"q": '"diffusion model"'}).text
        small = client.get("/api/search", params={"q": '"message passing"'}).json()
    # word order is checked for the ranked candidates only: at least that many match
    assert api["total_exact"] is False and 1000 <= api["total"] <= MATCHING
    assert f"{api['total']:,}+ results" in page
    assert small == small | {"total": 60, "total_exact": True, "ranked": 60}


def test_date_and_upvote_orders_reach_a_match_past_the_candidate_depth(
    crowded_site_with_a_late_paper: Site,
) -> None:
    """A date order (the page's sort, the API, the CLI, a saved search's RSS feed) used to
    sort only the 1,001 best by relevance: the newest paper naming the word, ranked past
    them, was on no page and never reached a feed reader. The same for most upvoted."""
    site = crowded_site_with_a_late_paper
    with site.client() as client:
        relevance = client.get("/api/search", params={"q": "diffusion", "limit": 100}).json()
        newest = client.get("/api/search", params={"q": "diffusion", "sort": "date"}).json()
        page = client.get("/search", params={"q": "diffusion", "sort": "date"}).text
        feed = feedparser.parse(client.get("/rss/search", params={"q": "diffusion"}).content)
        upvoted = client.get("/api/search", params={"q": "diffusion", "sort": "upvotes"}).json()
        last = client.get(
            "/search", params={"q": "diffusion", "sort": "date", "page": -(-1251 // 20)}
        )
    assert relevance["ranked"] < relevance["total"] == 1251
    assert LATE_ID not in [hit["id"] for hit in relevance["hits"]]
    assert newest["hits"][0]["id"] == LATE_ID and newest["hits"][0]["found_by"] == "lexical"
    assert newest["ranked"] == newest["total"] == 1251  # every match is reachable
    assert upvoted["hits"][0]["id"] == LATE_ID and upvoted["hits"][0]["upvotes"] == 7
    assert f'href="/papers/{LATE_ID}"' in page and "are ranked here" not in page
    assert feed.entries[0].link.endswith(f"/papers/{LATE_ID}")
    assert last.status_code == 200 and "Page 63 of 63" in last.text
    runner = CliRunner()
    printed = json.loads(
        runner.invoke(main, ["search", "diffusion", "--sort", "date", "--json"]).output
    )
    assert printed["hits"][0]["id"] == LATE_ID
