"""Hybrid search over the store and its index: the one ranking every caller uses."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from paperfeed.config import Settings
from paperfeed.index.builder import dense_folder, lexical_folder, metadata_folder, read_state
from paperfeed.index.embedder import (
    Embedder,
    EmbedderError,
    QueryVectors,
    embedding_text,
    load_configured_embedder,
)
from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.tokenizer import tokenize, words
from paperfeed.index.vector_search import (
    DenseFilter,
    InProcessVectors,
    VectorSearch,
    load_vector_search,
)
from paperfeed.index.vectors import VectorIndex
from paperfeed.models import Hit, SearchResults, StoredPaper
from paperfeed.search.caching import ResultCache
from paperfeed.search.fusion import reciprocal_rank_fusion, weighted_fusion
from paperfeed.search.query import ParsedQuery, parse_query
from paperfeed.search.snippets import describe_match, query_stems
from paperfeed.store import Store
from paperfeed.store.accounts import count_all_votes

SORTS = ("relevance", "date", "upvotes")
LEXICAL_DEPTH = 1000
DENSE_DEPTH = 100
RESULT_CACHE_SIZE = 2048  # pages of results kept per process, least recently used out
RANKING_CACHE_SIZE = 256  # whole rankings (up to ~1,100 papers each), for paging and sorts


class SearchError(ValueError):
    """A search parameter is out of range; the message names it and its value."""


@dataclass
class Ranking:
    """Fused candidates of one query, best first, before paging."""

    keys: list[int]
    scores: dict[int, float]
    lexical_ranks: dict[int, int]
    semantic_ranks: dict[int, int]
    timings: dict[str, float]
    query_vector: NDArray[np.float32] | None = None


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
        self._embedder: Embedder | None = None
        self._query_vectors: QueryVectors | None = None
        self._embedder_error: str | None = None
        self._loaded_state: tuple[int, int] | None = None
        self._results: ResultCache[SearchResults] = ResultCache(RESULT_CACHE_SIZE)
        self._similar: ResultCache[list[Hit]] = ResultCache(RESULT_CACHE_SIZE)
        self._rankings: ResultCache[tuple[Ranking, list[str]]] = ResultCache(RANKING_CACHE_SIZE)
        self.reload()

    def _state_stamp(self) -> tuple[int, int] | None:
        try:
            status = (self.settings.index_dir / "state.json").stat()
        except FileNotFoundError:
            return None
        return (status.st_mtime_ns, status.st_size)

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
        if self._state_stamp() == self._loaded_state:
            return False
        self.reload()
        return True

    def reload(self) -> None:
        """Re-read the index files (after ``paperfeed index`` ran)."""
        self._loaded_state = self._state_stamp()
        if hasattr(self, "_results"):
            self._results.clear()
            self._similar.clear()
            self._rankings.clear()
        folder = lexical_folder(self.settings)
        self.lexical = LexicalIndex.load(folder) if (folder / "manifest.json").exists() else None
        if self.settings.vector_backend == "pgvector":
            self._vectors = None
            self.dense = load_vector_search(self.store, self.settings, dense_folder(self.settings))
        else:
            self.vectors = VectorIndex.load(
                dense_folder(self.settings), self.settings.hnsw_ef_search
            )
        metadata = metadata_folder(self.settings)
        if (metadata / "dates.npy").exists():
            self.dates = np.load(metadata / "dates.npy")
            self.upvotes = np.load(metadata / "upvotes.npy")

    # -- the embedder is loaded on first use: a lexical-only query never pays for it --

    def embedder(self) -> Embedder | None:
        if self._embedder is None and self._embedder_error is None:
            try:
                self._embedder = load_configured_embedder(self.settings, for_queries=True)
                self._query_vectors = QueryVectors(self._embedder, self.settings.query_cache_size)
            except EmbedderError as error:
                self._embedder_error = str(error)
        return self._embedder

    def query_vector(self, text: str) -> NDArray[np.float32] | None:
        """The embedding of a query text (cached by text), or None without an embedder."""
        if self.embedder() is None or self._query_vectors is None:
            return None
        return self._query_vectors.vector(text)

    def _dense_usable(self, notes: list[str]) -> Embedder | None:
        if self.dense is None or len(self.dense) == 0:
            notes.append("semantic search is off: no paper is embedded yet (run paperfeed index)")
            return None
        embedder = self.embedder()
        if embedder is None:
            notes.append(f"semantic search is off: {self._embedder_error}")
            return None
        if embedder.name != self.dense.model:
            notes.append(
                f"semantic search is off: the vectors were made by {self.dense.model!r}, "
                f"the configured model is {embedder.name!r} (run paperfeed index)"
            )
            return None
        searchable = self.lexical.live_count if self.lexical is not None else 0
        if len(self.dense) < searchable:
            notes.append(
                f"semantic search covers {len(self.dense)} of {searchable} papers so far "
                "(run paperfeed index to embed the rest)"
            )
        return embedder

    # -- filters -----------------------------------------------------------------

    def _allowed_mask(self, query: ParsedQuery) -> NDArray[np.bool_] | None:
        """Mask over paper keys from categories, dates, exclusions and required fields."""
        return self._filters(query).mask

    def _filters(self, query: ParsedQuery) -> DenseFilter:
        """The query's restrictions: as one mask over paper keys (categories, dates,
        exclusions, required fields), and split for a database that filters by category
        and date itself but cannot see the word-based ones."""
        lexical = self.lexical
        if lexical is None:
            return DenseFilter()
        size = max(len(self.dates), int(lexical.live_keys().max(initial=0)) + 1)
        allowed: NDArray[np.bool_] | None = None
        by_terms: NDArray[np.bool_] | None = None

        def restrict(mask: NDArray[np.bool_], term: bool = False) -> None:
            nonlocal allowed, by_terms
            allowed = mask if allowed is None else allowed & mask
            if term:
                by_terms = mask if by_terms is None else by_terms & mask

        def mask_of(keys: NDArray[np.int64]) -> NDArray[np.bool_]:
            mask = np.zeros(size, np.bool_)
            mask[keys[keys < size]] = True
            return mask

        if query.categories:
            # duplicates across categories are harmless in a mask: no np.unique needed
            restrict(
                mask_of(
                    np.concatenate(
                        [
                            lexical.keys_with(category.lower(), "categories")
                            for category in query.categories
                        ]
                    )
                )
            )
        if query.since or query.until:
            dates = np.zeros(size, np.int32)
            dates[: len(self.dates)] = self.dates[:size]
            low = int(query.since.replace("-", "")) if query.since else 0
            high = int(query.until.replace("-", "")) if query.until else 99_999_999
            restrict((dates >= low) & (dates <= high))
        for field_name, value in query.fielded:
            for term in tokenize(value):
                restrict(mask_of(lexical.keys_with(term, field_name)), term=True)
        for phrase in query.phrases:
            for term in tokenize(phrase):
                restrict(mask_of(lexical.keys_with(term)), term=True)
        for value in query.excluded:
            for term in tokenize(value):
                restrict(~mask_of(lexical.keys_with(term)), term=True)
        return DenseFilter(
            mask=allowed,
            categories=tuple(category.lower() for category in query.categories),
            since=query.since,
            until=query.until,
            term_mask=by_terms,
        )

    def _category_notes(self, categories: Sequence[str]) -> list[str]:
        """Why a ``cat:`` filter matched nothing: no paper has categories, or not these."""
        lexical = self.lexical
        if lexical is None:
            return []
        if any(len(lexical.keys_with(name.lower(), "categories")) for name in categories):
            return []
        asked = ", ".join(f"cat:{name}" for name in categories)
        if not lexical.length_totals.get("categories", 0):
            return [
                f"no paper in this collection has categories, so {asked} matches nothing "
                "(the daily-papers feed gives none; arXiv listings and `paperfeed sync arxiv` do)"
            ]
        return [f"no paper in this collection is in {asked.replace('cat:', '')}"]

    # -- ranking -----------------------------------------------------------------

    def rank(
        self,
        query: ParsedQuery,
        notes: list[str],
        use_lexical: bool = True,
        use_dense: bool = True,
        fusion: str | None = None,
        dense_weight: float | None = None,
    ) -> Ranking:
        """Lexical and dense candidates under the query's filters, fused.

        ``use_lexical``/``use_dense`` switch a side off; ``fusion`` and ``dense_weight``
        override the settings (the evaluation compares them on the same queries).
        """
        timings: dict[str, float] = {}
        started = time.perf_counter()
        filters = self._filters(query)
        allowed = filters.mask
        lexical_keys = np.empty(0, np.int64)
        lexical_scores = np.empty(0, np.float32)
        if self.lexical is not None and use_lexical:
            terms: list[tuple[str, str | None]] = [
                (term, None) for text in query.words + query.phrases for term in tokenize(text)
            ]
            terms += [
                (term, field_name)
                for field_name, value in query.fielded
                for term in tokenize(value)
            ]
            if terms:
                scores = self.lexical.score(terms)
                lexical_keys, lexical_scores = self.lexical.top(scores, LEXICAL_DEPTH, allowed)
            elif allowed is not None:
                # filters alone (e.g. "cat:cs.CL since:2025-06"): every allowed paper matches
                live = self.lexical.live_keys()
                lexical_keys = live[allowed[live[live < len(allowed)]]]
                lexical_scores = np.ones(len(lexical_keys), np.float32)
        timings["lexical"] = time.perf_counter() - started
        dense_keys = np.empty(0, np.int64)
        dense_scores = np.empty(0, np.float32)
        vector: NDArray[np.float32] | None = None
        semantic_text = query.semantic_text
        if semantic_text and use_dense:
            embedder = self._dense_usable(notes)
            if embedder is not None and self.dense is not None and self._query_vectors:
                started = time.perf_counter()
                vector = self._query_vectors.vector(semantic_text)
                timings["embed"] = time.perf_counter() - started
                started = time.perf_counter()
                dense_keys, dense_scores = self.dense.search(vector, DENSE_DEPTH, filters)
                timings["dense"] = time.perf_counter() - started
        started = time.perf_counter()
        if query.phrases:
            keep = self._phrase_matches(query, np.concatenate([lexical_keys, dense_keys]))
            lexical_mask = np.isin(lexical_keys, keep)
            dense_mask = np.isin(dense_keys, keep)
            lexical_keys, lexical_scores = lexical_keys[lexical_mask], lexical_scores[lexical_mask]
            dense_keys, dense_scores = dense_keys[dense_mask], dense_scores[dense_mask]
        weight = self.settings.dense_weight if dense_weight is None else dense_weight
        if (fusion or self.settings.fusion) == "weighted":
            fused = weighted_fusion(
                (lexical_keys, lexical_scores), (dense_keys, dense_scores), alpha=weight
            )
        else:
            # weights 2(1-w) and 2w: w = 0.5 is plain RRF
            fused = reciprocal_rank_fusion(
                [lexical_keys, dense_keys], weights=[2 * (1 - weight), 2 * weight]
            )
        ordered = sorted(fused, key=lambda key: -fused[key])
        timings["fusion"] = time.perf_counter() - started
        return Ranking(
            keys=ordered,
            scores=fused,
            lexical_ranks={key: rank for rank, key in enumerate(lexical_keys.tolist(), 1)},
            semantic_ranks={key: rank for rank, key in enumerate(dense_keys.tolist(), 1)},
            timings=timings,
            query_vector=vector,
        )

    def _rank_noted(self, query: ParsedQuery) -> tuple[Ranking, list[str]]:
        notes: list[str] = []
        return self.rank(query, notes), notes

    def _phrase_matches(self, query: ParsedQuery, candidates: NDArray[np.int64]) -> list[int]:
        """The candidates whose text contains every quoted phrase, word for word."""
        papers = self.store.get_papers(sorted(set(candidates.tolist())))
        phrases = [" " + " ".join(words(phrase)) + " " for phrase in query.phrases]
        keep = []
        for key, paper in papers.items():
            text = " " + " ".join(words(f"{paper.title} . {paper.abstract}")) + " "
            if all(phrase in text for phrase in phrases):
                keep.append(key)
        return keep

    # -- public API --------------------------------------------------------------

    def search(
        self,
        text: str,
        limit: int = 10,
        offset: int = 0,
        sort: str = "relevance",
        categories: Sequence[str] = (),
        since: str | None = None,
        until: str | None = None,
        snippets: bool = True,
    ) -> SearchResults:
        """Search with the query syntax plus explicit filters.

        Args:
            text: the query (see ``paperfeed.search.query``).
            limit: hits per page (1..1000).
            offset: hits to skip (paging).
            sort: ``relevance``, ``date`` (newest first) or ``upvotes``.
            categories: extra ``cat:`` filters.
            since, until: extra date bounds, ``YYYY-MM-DD`` (or ``YYYY``/``YYYY-MM``).
            snippets: make snippets and matched terms (``explain`` makes them later
                for the few hits a caller keeps; the digest does).

        Pages are cached until the index is reloaded: the answer depends only on the
        index and the stored papers it points at. Upvote order is not cached, since
        votes change between index updates.
        """

        def run() -> SearchResults:
            return self._search(text, limit, offset, sort, categories, since, until, snippets)

        if sort == "upvotes":
            return run()
        key = (text, limit, offset, sort, tuple(categories), since, until, snippets)
        return self._results.get_or_make(key, run)

    def _search(
        self,
        text: str,
        limit: int = 10,
        offset: int = 0,
        sort: str = "relevance",
        categories: Sequence[str] = (),
        since: str | None = None,
        until: str | None = None,
        snippets: bool = True,
    ) -> SearchResults:
        if sort not in SORTS:
            raise SearchError(f"unknown sort {sort!r} (expected one of {', '.join(SORTS)})")
        if not 1 <= limit <= 1000:
            raise SearchError(f"limit {limit} is out of range (expected 1..1000)")
        if offset < 0:
            raise SearchError(f"offset {offset} is negative")
        extra = " ".join(
            [f"cat:{category}" for category in categories]
            + ([f"since:{since}"] if since else [])
            + ([f"until:{until}"] if until else [])
        )
        query_text = f"{text} {extra}".strip() if extra else text
        query = parse_query(query_text)
        notes = list(query.notes)
        hits: list[Hit] = []
        pinned: list[int] = []
        for arxiv_id in query.arxiv_ids:
            paper = self.store.get_paper(arxiv_id)
            if paper is None:
                notes.append(f"no paper {arxiv_id} in this collection")
            else:
                pinned.append(paper.key)
        if not query.has_content and not query.categories and not (query.since or query.until):
            if not pinned and not query.arxiv_ids:
                notes.append("empty query: type some words, a phrase or a filter")
            papers = self.store.get_papers(pinned)
            hits = [self._hit(papers[key], 1.0, set(), "identifier", None, None) for key in pinned]
            return SearchResults(text, hits[offset : offset + limit], len(hits), offset, notes)
        # one ranking serves every page and sort order of the same query
        ranking, ranking_notes = self._rankings.get_or_make(
            query_text, lambda: self._rank_noted(query)
        )
        notes += ranking_notes
        if query.categories and not ranking.keys:
            notes += self._category_notes(query.categories)
        pinned_keys = set(pinned)
        keys = pinned + [key for key in ranking.keys if key not in pinned_keys]
        if sort == "date":
            keys.sort(key=lambda key: -int(self.dates[key]) if key < len(self.dates) else 0)
        elif sort == "upvotes":
            # source upvotes from the index plus the votes cast here since
            local = count_all_votes(self.store)
            keys.sort(
                key=lambda key: (
                    -(
                        (int(self.upvotes[key]) if key < len(self.upvotes) else 0)
                        + local.get(key, 0)
                    )
                )
            )
        page = keys[offset : offset + limit]
        papers = self.store.get_papers(page)
        stems = self._stems(query) if snippets else None
        for key in page:
            paper = papers.get(key)
            if paper is None:
                continue  # deleted since the index was built
            lexical_rank = ranking.lexical_ranks.get(key)
            semantic_rank = ranking.semantic_ranks.get(key)
            if key in pinned:
                found_by = "identifier"
            elif lexical_rank and semantic_rank:
                found_by = "both"
            else:
                found_by = "lexical" if lexical_rank else "semantic"
            hit = self._hit(
                paper, ranking.scores.get(key, 1.0), stems, found_by, lexical_rank, semantic_rank
            )
            hit.similarity = self._similarity(ranking.query_vector, key)
            hits.append(hit)
        return SearchResults(text, hits, len(keys), offset, notes)

    def _similarity(self, query_vector: NDArray[np.float32] | None, key: int) -> float | None:
        """Cosine of the query and the paper (both vectors are unit length), when both exist."""
        if query_vector is None or self.dense is None:
            return None
        vector = self.dense.vector_of(key)
        return None if vector is None else float(np.dot(query_vector, vector))

    @staticmethod
    def _stems(query: ParsedQuery) -> set[str]:
        return query_stems(query.words + query.phrases + [value for _, value in query.fielded])

    def explain(self, hit: Hit, text: str) -> Hit:
        """Fill in the snippet and matched terms of a hit found with ``snippets=False``."""
        stems = self._stems(parse_query(text))
        paper = hit.paper
        hit.snippet, hit.matched_terms = describe_match(
            paper.title, paper.abstract or paper.title, stems
        )
        return hit

    @staticmethod
    def _hit(
        paper: StoredPaper,
        score: float,
        stems: set[str] | None,
        found_by: str,
        lexical_rank: int | None,
        semantic_rank: int | None,
    ) -> Hit:
        snippet, matched = "", list[str]()
        if stems is not None:
            snippet, matched = describe_match(paper.title, paper.abstract or paper.title, stems)
        return Hit(
            paper=paper,
            score=float(score),
            snippet=snippet,
            matched_terms=matched,
            found_by=found_by,
            lexical_rank=lexical_rank,
            semantic_rank=semantic_rank,
        )

    def similar(self, arxiv_id: str, limit: int = 10) -> list[Hit]:
        """Papers most like ``arxiv_id`` (never itself): its vector's neighbours,
        or, before it is embedded, a lexical "more like this" on its title and abstract.
        Cached until the index is reloaded, like ``search``."""
        return self._similar.get_or_make(
            (arxiv_id, limit), lambda: self._similar_uncached(arxiv_id, limit)
        )

    def _similar_uncached(self, arxiv_id: str, limit: int) -> list[Hit]:
        paper = self.store.get_paper(arxiv_id)
        if paper is None:
            raise SearchError(f"no paper {arxiv_id!r} in this collection")
        vector = self.dense.vector_of(paper.key) if self.dense is not None else None
        if vector is not None:
            keys, scores = self.dense.search(vector, limit + 1)  # type: ignore[union-attr]
            ranked = [(int(k), float(s)) for k, s in zip(keys, scores, strict=True)]
            return self._hits_for([(k, s) for k, s in ranked if k != paper.key][:limit], "semantic")
        return self._similar_lexical(f"{paper.title} {paper.abstract}", limit, exclude=paper.key)

    def similar_to_text(self, text: str, limit: int = 10) -> list[Hit]:
        """Papers most like a pasted abstract: dense and lexical neighbours fused."""
        if not text.strip():
            raise SearchError("empty text: paste an abstract or a title")
        notes: list[str] = []
        embedder = self._dense_usable(notes) if self.dense is not None else None
        lexical = self._lexical_neighbours(text, 100, exclude=None)
        dense: list[int] = []
        if embedder is not None and self.dense is not None:
            keys, _ = self.dense.search(embedder.embed([embedding_text("", text)])[0], 100)
            dense = keys.tolist()
        fused = reciprocal_rank_fusion([np.array(lexical, np.int64), np.array(dense, np.int64)])
        best = sorted(fused, key=lambda key: -fused[key])[:limit]
        return self._hits_for([(key, fused[key]) for key in best], "both" if dense else "lexical")

    def _lexical_neighbours(self, text: str, limit: int, exclude: int | None) -> list[int]:
        if self.lexical is None:
            return []
        # the 40 most frequent content terms stand in for the whole text
        counts: dict[str, int] = {}
        for term in tokenize(text):
            counts[term] = counts.get(term, 0) + 1
        terms = sorted(counts, key=lambda term: -counts[term])[:40]
        keys, _ = self.lexical.top(self.lexical.score([(t, None) for t in terms]), limit + 1)
        return [int(key) for key in keys if key != exclude][:limit]

    def _similar_lexical(self, text: str, limit: int, exclude: int) -> list[Hit]:
        keys = self._lexical_neighbours(text, limit, exclude)
        return self._hits_for([(key, 1.0 / rank) for rank, key in enumerate(keys, 1)], "lexical")

    def _hits_for(self, ranked: list[tuple[int, float]], found_by: str) -> list[Hit]:
        papers = self.store.get_papers([key for key, _ in ranked])
        return [
            self._hit(papers[key], score, set(), found_by, None, None)
            for key, score in ranked
            if key in papers
        ]

    def status(self) -> dict[str, Any]:
        """Index state for ``paperfeed stats``."""
        state = read_state(self.settings)
        return {
            "lexical_documents": self.lexical.live_count if self.lexical else 0,
            "lexical_segments": len(self.lexical.segments) if self.lexical else 0,
            "vectors": len(self.dense) if self.dense is not None else 0,
            "vector_model": self.dense.model if self.dense is not None else None,
            "vector_search": "none" if self.dense is None else self.dense.kind,
            "last_sequence": state.get("last_sequence", 0),
        }
