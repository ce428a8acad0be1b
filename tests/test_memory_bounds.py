"""A worker's caches are bounded in bytes: under a stream of distinct searches and pages
over real HTTP, its memory stops growing once they are full (bench/memory_soak.py is the
10-minute version on the quick-start corpus)."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from paperfeed.search import caching, engine_caches, snippets
from paperfeed.web import page_cache
from running_site import Site

BUDGET = 256 * 1024  # per cache, for the test: small, so a few hundred requests fill them


@pytest.fixture
def small_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, name in (
        (engine_caches, "RESULT_CACHE_BYTES"),
        (engine_caches, "SIMILAR_CACHE_BYTES"),
        (engine_caches, "RANKING_CACHE_BYTES"),
        (engine_caches, "PAPER_CACHE_BYTES"),
        (page_cache, "MAX_BYTES"),
        (snippets, "ANALYSED_BYTES"),
    ):
        monkeypatch.setattr(module, name, BUDGET)


# memory does not depend on the database: SQLite only, to keep the default tier quick
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_memory_levels_off_under_distinct_searches(small_caches: None, site: Site) -> None:
    with site.client() as client:
        month = client.get("/api/daily_papers", params={"month": "2026-08"}).json()
        ids = [entry["paper"]["id"] for entry in month]
        vocabulary = sorted(
            {
                word.strip(".,:;()").lower()
                for entry in month
                for word in entry["title"].split()
                if len(word) > 3 and word.strip(".,:;()").isalpha()
            }
        )
        chooser = random.Random(7)

        def drive(rounds: int) -> None:
            for number in range(rounds):
                query = " ".join(chooser.sample(vocabulary, 2))
                pages = [
                    client.get("/search", params={"q": query}),
                    client.get("/api/search", params={"q": f"{query} {number}"}),
                    client.get(
                        f"/api/papers/{chooser.choice(ids)}/similar",
                        params={"limit": 1 + number % 10},
                    ),
                ]
                assert [page.status_code for page in pages] == [200, 200, 200]

        # traced from before the caches fill: what the second round pushes out of them
        # then counts as freed. Traced only from the second round, everything the caches
        # took in during it counted as growth, though they had only replaced what they
        # held (0.9 MiB of the 1 MiB allowed, on a site whose corpus fits every cache).
        tracemalloc.start()
        try:
            drive(60)  # fills every cache past its budget
            before = _paperfeed_bytes()
            drive(60)
            grown = _paperfeed_bytes() - before
        finally:
            tracemalloc.stop()
    # six caches of BUDGET each, all full already: what is left is noise. Only memory
    # allocated by paperfeed's own lines counts (what its caches hold is made there): the
    # test's HTTP client, the log capture and the libraries' buffers share this process
    assert grown < 1024 * 1024, f"grew {grown / 2**20:.1f} MiB over 60 rounds"


def _paperfeed_bytes() -> int:
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, "*/paperfeed/*")]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


def test_sizes_are_estimated_with_their_contents() -> None:
    assert caching.approximate_bytes(["x" * 1000] * 100) > 100_000
    cache: caching.ResultCache[str] = caching.ResultCache(size=100, max_bytes=10_000)
    for number in range(50):
        cache.get_or_make(number, lambda: "y" * 1000)
    assert cache.bytes <= 10_000 and 5 <= len(cache) <= 10
