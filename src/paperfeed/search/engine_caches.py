"""What the search engine keeps between queries: pages of results, whole rankings (every
page and sort order of a query share one), similar-paper lists and the papers they show.
Each cache is bounded in entries and in bytes (``search.caching``: bounded by entries
alone, a worker grew past 1 GiB); all of them are forgotten when the index or the hidden
papers change."""

from __future__ import annotations

from collections.abc import Sequence

from paperfeed.models import Hit, SearchResults, StoredPaper
from paperfeed.search.caching import ResultCache
from paperfeed.search.ranking import Ranking
from paperfeed.store import Store

RESULT_CACHE_SIZE = 2048  # pages of results kept per process, least recently used out
RANKING_CACHE_SIZE = 256  # whole rankings (up to ~1,100 papers each), for paging and sorts
# ...and at most this many bytes each (search.caching: entries alone grew ~700 MB)
RESULT_CACHE_BYTES = 64 * 1024 * 1024
SIMILAR_CACHE_BYTES = 32 * 1024 * 1024
RANKING_CACHE_BYTES = 64 * 1024 * 1024
# papers read for pages of hits, by key: distinct searches share many (a page of 20 read
# from the database cost ~1.6 ms of CPU here, ~80 us a paper)
PAPER_CACHE_SIZE = 4096
PAPER_CACHE_BYTES = 16 * 1024 * 1024


class RecentPapers:
    """Papers by store key, the most recently read kept, like the pages that show them,
    until the index is reloaded (a change to a paper reaches search with the next
    ``paperfeed index``, which reloads the engine)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._papers: ResultCache[StoredPaper] = ResultCache(PAPER_CACHE_SIZE, PAPER_CACHE_BYTES)

    def get_papers(self, keys: Sequence[int]) -> dict[int, StoredPaper]:
        """As ``Store.get_papers``: missing keys are absent; one query for those not kept."""
        found: dict[int, StoredPaper] = {}
        missing = []
        for key in keys:
            paper = self._papers.get(key)
            if paper is None:
                missing.append(key)
            else:
                found[key] = paper
        if missing:
            read = self.store.get_papers(missing)
            for key, paper in read.items():
                self._papers.keep(key, paper)
            found.update(read)
        return found

    def clear(self) -> None:
        self._papers.clear()


class EngineCaches:
    """The engine's caches, made with this module's bounds (read when made)."""

    def __init__(self, store: Store) -> None:
        self.papers = RecentPapers(store)
        self.results: ResultCache[SearchResults] = ResultCache(
            RESULT_CACHE_SIZE, RESULT_CACHE_BYTES
        )
        self.similar: ResultCache[list[Hit]] = ResultCache(RESULT_CACHE_SIZE, SIMILAR_CACHE_BYTES)
        self.rankings: ResultCache[Ranking] = ResultCache(RANKING_CACHE_SIZE, RANKING_CACHE_BYTES)

    def clear(self) -> None:
        """Forget every page, ranking, similar-paper list and paper."""
        self.papers.clear()
        self.results.clear()
        self.similar.clear()
        self.rankings.clear()
