"""What the search engine keeps between queries: pages of results, whole rankings (every
page and sort order of a query share one) and similar-paper lists. Each cache is bounded
in entries and in bytes (``search.caching``: bounded by entries alone, a worker grew past
1 GiB); all of them are forgotten when the index or the hidden papers change."""

from __future__ import annotations

from paperfeed.models import Hit, SearchResults
from paperfeed.search.caching import ResultCache
from paperfeed.search.ranking import Ranking

RESULT_CACHE_SIZE = 2048  # pages of results kept per process, least recently used out
RANKING_CACHE_SIZE = 256  # whole rankings (up to ~1,100 papers each), for paging and sorts
# ...and at most this many bytes each (search.caching: entries alone grew ~700 MB)
RESULT_CACHE_BYTES = 64 * 1024 * 1024
SIMILAR_CACHE_BYTES = 32 * 1024 * 1024
RANKING_CACHE_BYTES = 64 * 1024 * 1024


class EngineCaches:
    """The engine's three caches, made with this module's bounds (read when made)."""

    def __init__(self) -> None:
        self.results: ResultCache[SearchResults] = ResultCache(
            RESULT_CACHE_SIZE, RESULT_CACHE_BYTES
        )
        self.similar: ResultCache[list[Hit]] = ResultCache(RESULT_CACHE_SIZE, SIMILAR_CACHE_BYTES)
        self.rankings: ResultCache[Ranking] = ResultCache(RANKING_CACHE_SIZE, RANKING_CACHE_BYTES)

    def clear(self) -> None:
        """Forget every page, ranking and similar-paper list."""
        self.results.clear()
        self.similar.clear()
        self.rankings.clear()
