"""Topic trends over real HTTP: the JSON counts, checked against the stored papers, and the
SVG chart on the search page (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

from paperfeed.index.tokenizer import tokenize
from paperfeed.store import Store
from running_site import Site


def _all_papers(store: Store) -> list:  # type: ignore[type-arg]
    return [paper for batch in store.iter_papers() for paper in batch]


def _contains_all(paper, query_words: list[str]) -> bool:  # type: ignore[no-untyped-def]
    terms = set(tokenize(f"{paper.title} {paper.abstract} {' ; '.join(paper.authors)}"))
    return all(term in terms for word in query_words for term in tokenize(word))


def test_trend_counts_are_the_papers_with_every_word_per_month(site: Site) -> None:
    with site.client() as client:
        response = client.get("/api/papers/search/trend", params={"q": "agent benchmark"})
    assert response.status_code == 200
    body = response.json()
    papers = _all_papers(site.store)
    expected: dict[str, int] = {}
    for paper in papers:
        if paper.date and _contains_all(paper, ["agent", "benchmark"]):
            expected[paper.date[:7]] = expected.get(paper.date[:7], 0) + 1
    months = {entry["month"]: entry["count"] for entry in body["months"]}
    assert {month: count for month, count in months.items() if count} == expected
    assert body["total"] == sum(expected.values()) > 5
    # every month of the corpus, zeros included, with the corpus's own count
    labels = [entry["month"] for entry in body["months"]]
    assert labels[0] == "2025-03" and labels[-1] == "2026-08" and len(labels) == 18
    corpus = {entry["month"]: entry["corpus"] for entry in body["months"]}
    assert corpus["2026-08"] == sum(1 for p in papers if (p.date or "").startswith("2026-08"))
    assert corpus["2025-10"] == 0


def test_filters_narrow_the_trend_like_the_search(site: Site) -> None:
    with site.client() as client:
        category = client.get("/api/papers/search/trend", params={"q": "cat:cs.RO"}).json()
        bounded = client.get(
            "/api/papers/search/trend", params={"q": "agent", "since": "2026-08-20"}
        ).json()
        excluded = client.get("/api/papers/search/trend", params={"q": "agent -benchmark"}).json()
        everything = client.get("/api/papers/search/trend", params={"q": "agent"}).json()
    papers = _all_papers(site.store)
    assert category["total"] == sum(1 for p in papers if "cs.RO" in p.categories)
    assert bounded["total"] == sum(
        1 for p in papers if (p.date or "") >= "2026-08-20" and _contains_all(p, ["agent"])
    )
    with_benchmark = sum(1 for p in papers if _contains_all(p, ["agent", "benchmark"]))
    assert excluded["total"] == everything["total"] - with_benchmark


def test_a_category_no_paper_is_in_says_so_as_the_search_does(site: Site) -> None:
    """A trend of 0 for ``cat:cs.XX`` came with no notes, where the search says why."""
    with site.client() as client:
        trend = client.get("/api/papers/search/trend", params={"q": "agent cat:cs.XX"}).json()
        search = client.get("/api/search", params={"q": "agent cat:cs.XX"}).json()
        known = client.get("/api/papers/search/trend", params={"q": "cat:cs.RO"}).json()
    assert trend["total"] == 0
    assert "no paper in this paperfeed is in cs.XX" in trend["notes"]
    assert "no paper in this paperfeed is in cs.XX" in search["notes"]
    assert known["total"] > 0 and known["notes"] == []


def test_bad_trend_queries_are_400s(site: Site) -> None:
    with site.client() as client:
        empty = client.get("/api/papers/search/trend", params={"q": ""})
        missing = client.get("/api/papers/search/trend")
        stop_words = client.get("/api/papers/search/trend", params={"q": "the of"})
    assert empty.status_code == 400 and "nothing to count" in empty.json()["detail"]
    assert missing.status_code == 400
    assert stop_words.status_code == 200 and stop_words.json()["total"] == 0


def test_search_page_draws_the_trend_as_inline_svg(site: Site) -> None:
    with site.client() as client:
        page = client.get("/search", params={"q": "agent"})
        nothing = client.get("/search", params={"q": "zzzyyyxxx"})
        hostile = client.get("/search", params={"q": "agent <script>alert(5)</script>"})
    assert page.status_code == 200
    figure = re.search(r'<figure class="chart" id="trend">(.*?)</figure>', page.text, re.S)
    assert figure is not None
    assert figure.group(1).count('<rect class="bar"') == 18  # one bar a month
    assert "<title>2026-08:" in figure.group(1) and "Papers per month matching agent" in page.text
    assert "<script" not in figure.group(1)
    assert 'id="trend"' not in nothing.text  # nothing matches: no empty chart
    assert "<script>alert(5)" not in hostile.text
