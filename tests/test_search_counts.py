"""Result counts past the candidate depth: the page, the JSON API and the CLI say how
many papers match, not how many were ranked (1,000 lexical candidates + a few by meaning
used to read "1001 results" for a word 1,250 papers contain)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.models import Paper
from paperfeed.store import Store
from running_site import Site, serve

MATCHING = 1250


@pytest.fixture
def crowded_site(settings: Settings) -> Iterator[Site]:
    """1,250 papers on diffusion (all with the phrase "diffusion model") and 60 without."""
    store = Store(settings.database_url)
    papers = [
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
    store.upsert_papers(papers)
    update_index(store, settings, show_progress=False)
    with serve(settings) as url:
        yield Site(url, settings, store)
    store.close()


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
