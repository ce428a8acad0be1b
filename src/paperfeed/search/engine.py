"""Hybrid search over the store and its index: the one ranking every caller uses."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from paperfeed.config import Settings
from paperfeed.index.builder import read_state, tokenizer_is_current
from paperfeed.index.embedder import Embedder, embedding_text
from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.search_index import index_status, load_search_index, state_stamp
from paperfeed.index.vector_search import DenseFilter, InProcessVectors, VectorSearch
from paperfeed.index.vectors import VectorIndex
from paperfeed.models import Hit, SearchResults, StoredPaper
from paperfeed.search.engine_caches import EngineCaches
from paperfeed.search.filters import phrase_matches, query_filter
from paperfeed.search.fusion import FUSIONS, Candidates, FusionWeights
from paperfeed.search.hidden import HiddenPapers
from paperfeed.search.query import ParsedQuery, SearchError, parse_query
from paperfeed.search.query_embedding import QueryEmbedding
from paperfeed.search.ranking import (
    DENSE_DEPTH,
    LEXICAL_DEPTH,
    Ranking,
    best_similarity,
    every_allowed,
    floored_order,
    fused_scores,
    gather,
    is_close_match,
    ranking_of,
    restrict,
)
from paperfeed.search.results import (
    PageRequest,
    category_notes,
    no_match_note,
    page_of_results,
    query_stems_of,
)
from paperfeed.search.similar import make_hit, similar_hits
from paperfeed.search.snippets import describe_match
from paperfeed.store import Store

SORTS = ("relevance", "date", "upvotes")
__all__ = ["DENSE_DEPTH", "LEXICAL_DEPTH", "SORTS", "Ranking", "SearchEngine", "SearchError"]


class SearchEngine:
    """Search and similar-paper lookups; load once, query many times."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.lexical: LexicalIndex | None = None
        # the in-process index (the recommender reads its matrix), and what search asks:
        # the same index wrapped, or pgvector (PAPERFEED_VECTOR_BACKEND)
        self._vectors: VectorIndex | None = None
        self.dense: VectorSearch | None = None
        self.dates = np.zeros(0, np.int32)
        self.upvotes = np.zeros(0, np.int32)
        self.queries = QueryEmbedding(settings)
        self._loaded_state: tuple[int, int] | None = None
        self.caches = EngineCaches(store)
        self._tokenizer_current = True
        self._index_built = True
        self.hidden = HiddenPapers(store)
        # called with each fresh ranking's stage timings (the metrics layer listens);
        # a cached ranking was timed when it was made
        self.timing_observers: list[Callable[[Mapping[str, float]], None]] = []
        self.reload()

    @property
    def vectors(self) -> VectorIndex | None:
        """The in-process vector index (None with the pgvector backend)."""
        return self._vectors

    @vectors.setter
    def vectors(self, index: VectorIndex | None) -> None:
        self._vectors = index
        self.dense = InProcessVectors(index) if index is not None else None

    def reload_if_changed(self) -> bool:
        """Reload when ``paperfeed index`` has written a new index since the last load.

        One ``stat`` per call, so a long-running server can call it on every request.
        """
        hidden_changed = self.refresh_hidden()
        if state_stamp(self.settings) == self._loaded_state:
            return hidden_changed
        self.reload()
        return True

    def refresh_hidden(self, force: bool = False) -> bool:
        """Re-read which papers a moderator hid (see ``search.hidden``); a change forgets
        the cached pages. Returns whether it changed."""
        changed = self.hidden.refresh(force)
        if changed and hasattr(self, "caches"):
            self.clear_caches()
        return changed

    @property
    def hidden_keys(self) -> frozenset[int]:
        """Keys of the papers hidden by a moderator, as of the last refresh."""
        return self.hidden.keys

    def clear_caches(self) -> None:
        """Forget every cached page, ranking and similar-paper list (the query embeddings
        stay: they depend on the text alone)."""
        self.caches.clear()

    def reload(self) -> None:
        """Re-read the index files (after ``paperfeed index`` ran)."""
        self._loaded_state = state_stamp(self.settings)
        state = read_state(self.settings)
        # no state: no index was ever built here (not one built by an older tokenizer)
        self._index_built = bool(state)
        self._tokenizer_current = not state or tokenizer_is_current(state)
        if hasattr(self, "caches"):
            self.clear_caches()
        self.refresh_hidden(force=True)
        loaded = load_search_index(self.store, self.settings)
        self.lexical, self._vectors, self.dense = loaded.lexical, loaded.vectors, loaded.dense
        if loaded.dates is not None and loaded.upvotes is not None:
            self.dates, self.upvotes = loaded.dates, loaded.upvotes

    # -- the embedder is loaded on first use: a lexical-only query never pays for it --

    def embedder(self) -> Embedder | None:
        """The query embedder, loaded on first use (None: it cannot be loaded)."""
        return self.queries.embedder()

    def query_vector(self, text: str) -> NDArray[np.float32] | None:
        """The embedding of a query text (cached by text), or None without an embedder."""
        return self.queries.vector(text)

    def _searchable(self) -> int:
        return self.lexical.live_count if self.lexical is not None else 0

    # -- filters -----------------------------------------------------------------

    def allowed_mask(self, query: ParsedQuery) -> NDArray[np.bool_] | None:
        """Mask over paper keys from categories, dates, exclusions and required fields
        (None: no filter); topic trends count under the same filters."""
        return self._filters(query).mask

    def _filters(self, query: ParsedQuery) -> DenseFilter:
        """The query's restrictions (see :func:`paperfeed.search.filters.query_filter`),
        less the papers hidden by a moderator."""
        filters = query_filter(self.lexical, self.dates, query)
        if self.lexical is None:
            return filters
        return self.hidden.restrict(filters, max(len(self.dates), self.lexical.key_span))

    # -- ranking -----------------------------------------------------------------

    def _query_vector_for(self, query: ParsedQuery, notes: list[str]) -> NDArray[np.float32] | None:
        """The embedding of the query's text, or None (a note says why) when the dense
        side is off."""
        if not query.semantic_text:
            return None
        # (with no index at all, the note above says it once: no second "run paperfeed index")
        why_not = notes if self._index_built else []
        if self.queries.usable(self.dense, self._searchable(), why_not) is None:
            return None
        return self.query_vector(query.semantic_text)

    def candidates(
        self,
        query: ParsedQuery,
        use_lexical: bool = True,
        use_dense: bool = True,
        query_vector: NDArray[np.float32] | None = None,
        fetched: dict[int, StoredPaper] | None = None,
    ) -> tuple[Candidates, list[str], dict[str, float]]:
        """The query's candidates with every fusion feature, before fusion (the
        evaluation fuses the same candidates many ways).

        ``query_vector`` skips embedding the query when the caller has its vector.
        """
        notes: list[str] = []
        timings: dict[str, float] = {}
        started = time.perf_counter()
        filters = self._filters(query)
        timings["filters"] = time.perf_counter() - started
        if use_dense and query_vector is None:
            started = time.perf_counter()
            query_vector = self._query_vector_for(query, notes)
            timings["embed"] = time.perf_counter() - started
        started = time.perf_counter()
        found = gather(
            self.store,
            self.lexical if use_lexical else None,
            self.dense if use_dense else None,
            query.scored_terms,
            query.segments,
            query_vector if use_dense else None,
            filters,
            prose=query.reads_as_prose,
            matrix=self.vectors,
            fetched=fetched,
            keep_rest=not query.phrases,  # a phrase's matches past the depth are unchecked
        )
        if query.phrases:
            found = restrict(
                found, np.isin(found.keys, phrase_matches(self.store, query, found.keys))
            )
        timings["candidates"] = time.perf_counter() - started
        return found, notes, timings

    def rank(
        self,
        query: ParsedQuery,
        notes: list[str] | None = None,
        use_lexical: bool = True,
        use_dense: bool = True,
        fusion: str | None = None,
        dense_weight: float | None = None,
        weights: FusionWeights | None = None,
        query_vector: NDArray[np.float32] | None = None,
    ) -> Ranking:
        """Lexical and dense candidates under the query's filters, fused, floored.

        ``use_lexical``/``use_dense`` switch a side off; ``fusion``, ``dense_weight`` and
        ``weights`` override the settings (the evaluation compares them on the same
        queries); ``notes``, when given, also receives the ranking's notes. Dense-only
        candidates under the relevance floor are dropped; when no
        paper matches the words and none reaches the floor, ``close_match`` is false.
        """
        method = fusion or self.settings.fusion
        if method not in FUSIONS:
            raise SearchError(f"unknown fusion {method!r} (expected one of {', '.join(FUSIONS)})")
        if not query.scored_terms and not query.semantic_text:
            browsing = not query.has_content  # only a browsing search ranks an empty query
            return every_allowed(self.lexical, self.allowed_mask(query), browsing)
        fetched: dict[int, StoredPaper] = {}
        found, found_notes, timings = self.candidates(
            query, use_lexical, use_dense, query_vector, fetched
        )
        notes = found_notes if notes is None else notes
        if notes is not found_notes:
            notes += found_notes
        started = time.perf_counter()
        weight = self.settings.dense_weight if dense_weight is None else dense_weight
        scores = fused_scores(found, self.vectors or self.dense, method, weights, weight)
        floor = self.settings.min_similarity
        order = floored_order(found, scores, floor)
        close = is_close_match(found, floor)
        best = best_similarity(found)
        if not close:
            # nothing matches: the few nearest by meaning, scored by their cosine, with a
            # note, and a count of 0
            notes.append(no_match_note(best, floor))
            scores = np.nan_to_num(found.cosine.astype(np.float64), nan=0.0)
        timings["fusion"] = time.perf_counter() - started
        for observe in self.timing_observers:
            observe(timings)
        # past the depth, a phrase's word order is unchecked: count what was checked
        counted = not (query.phrases and found.lexical_beyond)
        return ranking_of(found, order, scores, close, best, notes, timings, fetched, counted)

    # -- public API --------------------------------------------------------------

    def search(
        self,
        query: ParsedQuery | str,
        limit: int = 10,
        offset: int = 0,
        sort: str = "relevance",
        categories: Sequence[str] = (),
        since: str | None = None,
        until: str | None = None,
        snippets: bool = True,
        browse: bool = False,
    ) -> SearchResults:
        """Search with a parsed query (or its text) plus explicit filters.

        Args:
            query: the query, parsed at the edge by ``parse_query`` (text is parsed here).
            limit: hits per page (1..1000).
            offset: hits to skip (paging).
            sort: ``relevance``, ``date`` (newest first) or ``upvotes``.
            categories: extra category filters, e.g. ``cs.LG``.
            since, until: extra date bounds, ``YYYY-MM-DD`` (or ``YYYY``/``YYYY-MM``).
            snippets: make snippets and matched terms (``explain`` makes them later
                for the few hits a caller keeps; the digest does).
            browse: a query without words lists every paper under its filters, newest
                first (``relevance`` has nothing to rank), instead of none.

        Raises:
            SearchError: naming the bad value: a sort, limit or offset out of range, a
                category that is not a category name, a date that is not a date.

        Pages are cached, keyed by the query's canonical form, until the index is
        reloaded. Upvote order is not cached, since votes change between index updates.
        Results and hits are immutable and may be shared between callers.
        """
        parsed = parse_query(query) if isinstance(query, str) else query
        if categories or since or until:
            parsed = parsed.with_filters(categories, since, until)
        if sort not in SORTS:
            raise SearchError(f"unknown sort {sort!r} (expected one of {', '.join(SORTS)})")
        if not 1 <= limit <= 1000:
            raise SearchError(f"limit {limit} is out of range (expected 1..1000)")
        if offset < 0:
            raise SearchError(f"offset {offset} is negative")

        browsing = browse and not parsed.has_content and not parsed.arxiv_ids
        sort = "date" if browsing and sort == "relevance" else sort

        def run() -> SearchResults:
            return self._search(parsed, PageRequest(offset, limit, sort, snippets), browsing)

        found = (
            run()
            if sort == "upvotes"
            else self.caches.results.get_or_make(
                (parsed.canonical, limit, offset, sort, snippets, browsing), run
            )
        )
        # the cached page belongs to the canonical form: this spelling's text and notes
        return replace(
            found, query=parsed.text, notes=parsed.notes + found.notes, hits=list(found.hits)
        )

    def _search(self, query: ParsedQuery, page: PageRequest, browsing: bool) -> SearchResults:
        notes: list[str] = []
        if not self._index_built:
            notes.append("there is no search index yet: run paperfeed index")
        elif not self._tokenizer_current:
            notes.append(
                "the index was built by an older version of the tokenizer: "
                "run paperfeed index to rebuild it"
            )
        pinned: list[int] = []
        for arxiv_id in query.arxiv_ids:
            paper = self.store.get_paper(arxiv_id)
            if paper is None or paper.key in self.hidden_keys:
                notes.append(f"no paper {arxiv_id} in this paperfeed")
            else:
                pinned.append(paper.key)
        if not query.has_content and not query.has_filters and not browsing:
            if not pinned and not query.arxiv_ids:
                notes.append("empty query: type some words, a phrase or a filter")
            papers = self.caches.papers.get_papers(pinned)
            pinned_hits = [
                self._hit(papers[key], 1.0, set(), "identifier", None, None) for key in pinned
            ]
            return SearchResults(
                query.text,
                pinned_hits[page.offset : page.offset + page.limit],
                len(pinned_hits),
                page.offset,
                notes,
            )
        # one ranking serves every page and sort order of the same query
        ranking = self.caches.rankings.get_or_make(query.canonical, lambda: self.rank(query))
        notes += ranking.notes
        if query.categories and (not ranking.keys or not ranking.close_match):
            notes += category_notes(self.lexical, query.categories)
        return page_of_results(
            self.store,
            query,
            ranking,
            pinned,
            page,
            notes,
            self.dates,
            self.upvotes,
            self.caches.papers.get_papers,
        )

    def explain(self, hit: Hit, query: ParsedQuery | str) -> Hit:
        """A copy of ``hit`` (found with ``snippets=False``) with its snippet and matched
        terms for ``query``; the hit itself, shared by the result cache, is unchanged."""
        parsed = parse_query(query) if isinstance(query, str) else query
        paper = hit.paper
        snippet, matched = describe_match(
            paper.title, paper.abstract or paper.title, query_stems_of(parsed)
        )
        return replace(hit, snippet=snippet, matched_terms=tuple(matched))

    _hit = staticmethod(make_hit)

    # -- similar papers: the same candidates and fusion, the paper's text as the query --

    def similar(self, arxiv_id: str, limit: int = 10) -> list[Hit]:
        """Papers most like ``arxiv_id`` (never itself): its vector's neighbours and a
        lexical "more like this" on its title and abstract, fused like a search.
        Cached until the index is reloaded, like ``search``."""
        return list(
            self.caches.similar.get_or_make(
                (arxiv_id, limit), lambda: self._similar_uncached(arxiv_id, limit)
            )
        )

    def _similar_uncached(self, arxiv_id: str, limit: int) -> list[Hit]:
        paper = self.store.get_paper(arxiv_id)
        if paper is None:
            raise SearchError(f"no paper {arxiv_id!r} in this paperfeed")
        vector = self.dense.vector_of(paper.key) if self.dense is not None else None
        return self.similar_ranked(f"{paper.title} {paper.abstract}", vector, limit, paper.key)

    def similar_to_text(self, text: str, limit: int = 10) -> list[Hit]:
        """Papers most like a pasted abstract: dense and lexical neighbours fused."""
        if not text.strip():
            raise SearchError("empty text: paste an abstract or a title")
        notes: list[str] = []
        embedder = (
            self.queries.usable(self.dense, self._searchable(), notes)
            if self.dense is not None
            else None
        )
        vector = embedder.embed([embedding_text("", text)])[0] if embedder is not None else None
        return self.similar_ranked(text, vector, limit, None)

    def similar_ranked(
        self,
        text: str,
        vector: NDArray[np.float32] | None,
        limit: int,
        exclude: int | None,
        fusion: str | None = None,
        use_lexical: bool = True,
    ) -> list[Hit]:
        """The ``limit`` papers most like ``text`` (whose embedding is ``vector``, when
        there is one), by the engine's fusion; ``exclude`` and hidden papers are never
        returned."""
        hidden = self.hidden_keys
        hits = similar_hits(
            self.store,
            self.lexical if use_lexical else None,
            self.dense,
            self.vectors,
            text,
            vector,
            limit + len(hidden),
            exclude,
            fusion or self.settings.fusion,
            self.settings.dense_weight,
        )
        return [hit for hit in hits if hit.paper.key not in hidden][:limit]

    def status(self) -> dict[str, Any]:
        """Index state for ``paperfeed stats``."""
        return index_status(self.settings, self.lexical, self.dense)
