"""A query's candidates and the features fusion scores them on (see ``search.fusion``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from paperfeed.index import lexical_features
from paperfeed.index.lexical import LexicalIndex, QueryTerm
from paperfeed.index.sorted_lookup import find_sorted
from paperfeed.index.vector_search import NO_FILTER, DenseFilter, VectorSearch
from paperfeed.index.vectors import VectorIndex, inner_products
from paperfeed.models import StoredPaper
from paperfeed.search.fusion import Candidates, FusionWeights, fuse, proximity_share
from paperfeed.search.snippets import content_stems
from paperfeed.store import Store

Number = TypeVar("Number", int, float)

LEXICAL_DEPTH = 1000
DENSE_DEPTH = 100
# The proximity feature needs the papers' text: it is computed for the best of each list.
PROXIMITY_LEXICAL = 50
PROXIMITY_DENSE = 20
NEAREST_WHEN_NO_MATCH = 3  # papers shown, with a note, when nothing is a close match


class KeyedNumbers(Mapping[int, Number]):
    """A read-only mapping from paper keys to numbers, held in two arrays: a ranking's
    ranks, scores and cosines (~1,100 each) are made in microseconds this way, where
    dicts of Python numbers took a fair share of a search's CPU time; a page looks up
    ten of them."""

    def __init__(
        self, keys: NDArray[np.int64], values: NDArray[Any], kind: Callable[[Any], Number]
    ) -> None:
        order = np.argsort(keys, kind="stable")
        self._keys = np.asarray(keys, np.int64)[order]
        self._values = np.asarray(values)[order]
        self._kind: Callable[[Any], Number] = kind

    def __getitem__(self, key: int) -> Number:
        index = int(np.searchsorted(self._keys, key))
        if index < len(self._keys) and self._keys[index] == key:
            value: Number = self._kind(self._values[index])
            return value
        raise KeyError(key)

    def get_many(self, keys: Sequence[int]) -> list[Number | None]:
        """The numbers of ``keys`` in their order, None where a key is absent: one search
        for a page's keys (a lookup a key through ``Mapping.get``, which raises and
        catches ``KeyError`` for each absent one, took ~4 us; a page makes 80)."""
        wanted = np.asarray(keys, np.int64)
        if not len(self._keys) or not len(wanted):
            return [None] * len(wanted)
        positions, found = find_sorted(self._keys, wanted)
        values = self._values[positions].tolist()
        kind = self._kind
        return [
            kind(value) if hit else None for value, hit in zip(values, found.tolist(), strict=True)
        ]

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys.tolist())

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def nbytes(self) -> int:
        """The bytes of its two arrays (what ``caching.approximate_bytes`` counts)."""
        return int(self._keys.nbytes + self._values.nbytes)


def numbers_for(numbers: Mapping[int, Number], keys: Sequence[int]) -> list[Number | None]:
    """``numbers.get(key)`` for each of ``keys``, in one search when ``numbers`` is a
    ``KeyedNumbers`` (a ranking's scores, ranks and cosines)."""
    if isinstance(numbers, KeyedNumbers):
        return numbers.get_many(keys)
    return [numbers.get(key) for key in keys]


def candidate_rows(
    vectors: VectorIndex | VectorSearch | None, keys: NDArray[np.int64]
) -> NDArray[np.float32] | None:
    """The unit vectors of ``keys`` (NaN rows for keys without one), read once per query
    from whichever backend holds them: the cosines to the query and to its fed-back vector
    are then two products. None without vectors."""
    if vectors is None or len(vectors) == 0:
        return None
    return vectors.vectors_of(keys)


def proximity(
    store: Store,
    lexical: LexicalIndex | None,
    segments: Sequence[Sequence[str]],
    keys: NDArray[np.int64],
    fetched: dict[int, StoredPaper] | None = None,
) -> NDArray[np.float32]:
    """The proximity feature of ``keys``: from the index's term sequences, or, for an
    index written before it kept them (until ``paperfeed index`` rebuilds it), from the
    stored title and abstract, the papers read then added to ``fetched``."""
    result = np.zeros(len(keys), np.float32)
    if not any(len(run) > 1 for run in segments) or len(keys) == 0:
        return result
    if lexical is not None:
        from_index = lexical_features.proximity(lexical, segments, keys)
        if from_index is not None:
            return from_index
    papers = store.get_papers(keys.tolist())
    if fetched is not None:
        fetched.update(papers)
    for position, key in enumerate(keys.tolist()):
        paper = papers.get(key)
        if paper is not None:
            # a sentinel between title and abstract: no pair spans the two
            text_terms = content_stems(paper.title) + ["\0"] + content_stems(paper.abstract)
            result[position] = proximity_share(segments, text_terms)
    return result


def absent_from(keys: NDArray[np.int64], among: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which of ``keys`` are not in ``among``, by a sort and a binary search: ``np.isin``
    took ~100 us for a query's 100 dense keys among its ~600 lexical ones (numpy 2.4),
    this ~10 us."""
    if len(among) == 0:
        return np.ones(len(keys), np.bool_)
    _, present = find_sorted(np.sort(among), keys)
    return ~present


def gather(
    store: Store,
    lexical: LexicalIndex | None,
    vectors: VectorSearch | None,
    scored_terms: Sequence[tuple[str, str | None]],
    segments: Sequence[Sequence[str]],
    query_vector: NDArray[np.float32] | None,
    filters: DenseFilter = NO_FILTER,
    lexical_depth: int = LEXICAL_DEPTH,
    dense_depth: int = DENSE_DEPTH,
    prose: bool = False,
    matrix: VectorIndex | None = None,
    fetched: dict[int, StoredPaper] | None = None,
    keep_rest: bool = False,
) -> Candidates:
    """The lexical top ``lexical_depth`` and the dense top ``dense_depth`` under
    ``filters``, with every feature of each (cosines from ``matrix``, the in-process
    vectors, when there is one); with ``keep_rest``, the keys of the lexical matches
    past the depth too (a search's date and upvote orders reach them)."""
    allowed = filters.mask
    lexical_keys = np.empty(0, np.int64)
    lexical_scores = np.empty(0, np.float32)
    matching = np.empty(0, np.int64)
    scores: NDArray[np.float32] | None = None
    query_terms: list[QueryTerm] = []
    if lexical is not None and scored_terms:
        query_terms = lexical.query_terms(list(scored_terms))
        scores = lexical.score_query_terms(query_terms)
        lexical_keys, lexical_scores = lexical.top(scores, lexical_depth, allowed)
        matching = lexical.positive_keys(scores, allowed)
    dense_keys = np.empty(0, np.int64)
    if vectors is not None and query_vector is not None:
        dense_keys, _ = vectors.search(query_vector, dense_depth, filters)
    extra = dense_keys[absent_from(dense_keys, lexical_keys)]
    keys = np.concatenate([lexical_keys, extra]).astype(np.int64)
    lexical_all = np.concatenate([lexical_scores, np.zeros(len(extra), np.float32)])
    if scores is not None and lexical is not None and len(extra):
        # the BM25F of dense candidates outside the lexical list: looked up, not taken as 0
        positions = lexical.positions_of(extra)
        lexical_all[len(lexical_keys) :] = np.where(
            positions >= 0, scores[np.maximum(positions, 0)], 0.0
        )
    # each dense key's position in ``keys`` (every one is there: lexical or extra)
    sorter = np.argsort(keys, kind="stable")
    dense_order = sorter[np.searchsorted(keys, dense_keys, sorter=sorter)].astype(np.int64)
    distinct = list(dict.fromkeys(term for term, _ in scored_terms))
    window = np.union1d(
        np.arange(min(PROXIMITY_LEXICAL, len(lexical_keys))), dense_order[:PROXIMITY_DENSE]
    ).astype(np.int64)
    near = np.zeros(len(keys), np.float32)
    near[window] = proximity(store, lexical, segments, keys[window], fetched)
    rows = candidate_rows(matrix if matrix is not None else vectors, keys)
    if rows is not None and query_vector is not None:
        cosine = inner_products(rows, query_vector)  # NaN where a key has no vector
    else:
        cosine = np.full(len(keys), np.nan, np.float32)
    return Candidates(
        keys=keys,
        lexical=lexical_all.astype(np.float32),
        cosine=cosine.astype(np.float32),
        coverage=(
            lexical_features.coverage(lexical, distinct, keys, query_terms)
            if lexical is not None
            else np.zeros(len(keys), np.float32)
        ),
        proximity=near,
        lexical_order=np.arange(len(lexical_keys), dtype=np.int64),
        dense_order=dense_order,
        terms=len(distinct),
        prose=prose,
        query_vector=query_vector,
        vectors=rows,
        # extras with a positive BM25F are lexical matches past the depth: not counted
        # twice (every candidate with a positive BM25F is among ``matching``)
        lexical_beyond=max(0, len(matching) - int((lexical_all > 0).sum())),
        # every match, the candidates among them: a set difference here cost every
        # search; the rare date and upvote orders skip the ranked keys themselves
        lexical_rest=matching if keep_rest else None,
    )


def restrict(candidates: Candidates, keep: NDArray[np.bool_]) -> Candidates:
    """The candidates where ``keep`` is true, lists and features re-aligned."""
    positions = np.flatnonzero(keep)
    new_position = np.full(len(candidates.keys), -1, np.int64)
    new_position[positions] = np.arange(len(positions))

    def order(old: NDArray[np.int64]) -> NDArray[np.int64]:
        mapped = new_position[old]
        return mapped[mapped >= 0]

    return Candidates(
        keys=candidates.keys[positions],
        lexical=candidates.lexical[positions],
        cosine=candidates.cosine[positions],
        coverage=candidates.coverage[positions],
        proximity=candidates.proximity[positions],
        lexical_order=order(candidates.lexical_order),
        dense_order=order(candidates.dense_order),
        terms=candidates.terms,
        prose=candidates.prose,
        query_vector=candidates.query_vector,
        vectors=candidates.vectors[positions] if candidates.vectors is not None else None,
        lexical_beyond=candidates.lexical_beyond,  # unchecked by ``keep``: an upper bound
        lexical_rest=None,  # unchecked by ``keep``: not known to match
    )


def best_similarity(candidates: Candidates) -> float | None:
    """The best cosine among the candidates, or None without a dense side."""
    if not len(candidates.cosine) or np.isnan(candidates.cosine).all():
        return None
    return float(np.nanmax(candidates.cosine))


def is_close_match(candidates: Candidates, floor: float) -> bool:
    """Some candidate has a query term, or one is at least ``floor`` similar."""
    best = best_similarity(candidates)
    return bool((candidates.lexical > 0).any()) or (best is not None and best >= floor)


def floored_order(
    candidates: Candidates, scores: NDArray[np.float64], floor: float
) -> NDArray[np.int64]:
    """Positions of the candidates best first by ``scores``, under the relevance floor:
    a candidate without any query term must be at least ``floor`` similar; when no
    candidate is a close match, the nearest few by meaning (none without vectors)."""
    cosine = np.nan_to_num(candidates.cosine, nan=-1.0)
    if not is_close_match(candidates, floor):
        nearest = NEAREST_WHEN_NO_MATCH if best_similarity(candidates) is not None else 0
        return np.argsort(-cosine, kind="stable")[:nearest].astype(np.int64)
    order = np.argsort(-scores, kind="stable")
    if best_similarity(candidates) is not None:
        order = order[((candidates.lexical > 0) | (cosine >= floor))[order]]
    return order.astype(np.int64)


def with_feedback(
    candidates: Candidates,
    first_scores: NDArray[np.float64],
    vectors: VectorIndex | VectorSearch | None,
    depth: int,
    weight: float,
) -> Candidates:
    """Rocchio pseudo-relevance feedback on the dense side: the query vector moved
    towards the mean vector of the ``depth`` best candidates of a first fusion
    (``q' = q + weight * mean``, renormalised), and every candidate's cosine to ``q'``.
    Without vectors, or with ``weight`` 0, the candidates are returned as they are."""
    query_vector = candidates.query_vector
    if vectors is None or query_vector is None or weight <= 0 or depth <= 0:
        return candidates
    best = np.argsort(-first_scores, kind="stable")[:depth]
    # candidates read back without their vectors (bench/quality.py's cache) read them now
    rows = candidates.vectors
    if rows is None:
        rows = candidate_rows(vectors, candidates.keys)
        if rows is None:
            return candidates
    chosen = rows[best]
    present = chosen[~np.isnan(chosen[:, 0])] if len(chosen) else chosen
    if not len(present):
        return candidates
    moved = query_vector + weight * np.mean(present, axis=0)
    moved = (moved / max(float(np.linalg.norm(moved)), 1e-12)).astype(np.float32)
    return replace(candidates, cosine=inner_products(rows, moved).astype(np.float32))


def fused_scores(
    candidates: Candidates,
    vectors: VectorIndex | VectorSearch | None,
    method: str,
    weights: FusionWeights | None,
    dense_weight: float,
) -> NDArray[np.float64]:
    """``fuse`` the candidates; for calibrated fusion with feedback, a second pass over
    the cosines to the fed-back query vector."""
    scores = fuse(candidates, method, weights, dense_weight)
    if method == "calibrated":
        weights = weights or FusionWeights()
        if weights.feedback_weight > 0:
            moved = with_feedback(
                candidates, scores, vectors, weights.feedback_depth, weights.feedback_weight
            )
            scores = fuse(moved, method, weights, dense_weight)
    return scores


@dataclass(frozen=True)
class Ranking:
    """Fused candidates of one query, best first, before paging (cached and shared:
    never changed once made).

    ``close_match`` is false when no paper matched the query's words and none came
    within the relevance floor by meaning; ``keys`` then holds the nearest few only.
    """

    keys: tuple[int, ...]
    scores: Mapping[int, float]
    lexical_ranks: Mapping[int, int]
    semantic_ranks: Mapping[int, int]
    similarities: Mapping[int, float]
    timings: Mapping[str, float]
    close_match: bool = True
    best_similarity: float | None = None
    notes: tuple[str, ...] = field(default=())
    # papers read while ranking (the proximity window): a page among them needs no read
    papers: Mapping[int, StoredPaper] = field(default_factory=dict)
    # every matching paper, including lexical matches past the candidate depth (None:
    # ``len(keys)``); not exact when phrases filter more than the candidates
    matches: int | None = None
    matches_exact: bool = True
    # every lexical match (the ranked keys among them), when known (not under a quoted
    # phrase): a date order reaches them too, so the newest match is never left out
    beyond: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))


def every_allowed(
    lexical: LexicalIndex | None, allowed: NDArray[np.bool_] | None, browsing: bool = False
) -> Ranking:
    """The ranking of a query of filters alone (``cat:cs.CL since:2025-06``): every
    allowed live paper matches, in key order. ``allowed`` None (no filter) matches none,
    unless ``browsing`` (an empty search box that lists every paper)."""
    keys: list[int] = []
    if lexical is not None and (allowed is not None or browsing):
        live = lexical.live_keys()
        if allowed is not None:
            live = live[live < len(allowed)]
            live = live[allowed[live]]
        keys = live.tolist()
    empty: Mapping[int, int] = MappingProxyType({})
    return Ranking(
        keys=tuple(keys),
        scores=MappingProxyType(dict.fromkeys(keys, 1.0)),
        lexical_ranks=MappingProxyType({key: rank for rank, key in enumerate(keys, 1)}),
        semantic_ranks=empty,
        similarities=MappingProxyType({}),
        timings=MappingProxyType({}),
    )


def ranking_of(
    found: Candidates,
    order: NDArray[np.int64],
    scores: NDArray[np.float64],
    close: bool,
    best: float | None,
    notes: Sequence[str],
    timings: Mapping[str, float],
    fetched: Mapping[int, StoredPaper],
    counted: bool,
) -> Ranking:
    """The ranking of ``found`` in ``order`` (positions into it) with their ``scores``;
    ``counted``: every match past the depth was checked (not so under a phrase), so the
    count is exact and a date order may reach them."""
    has_cosine = ~np.isnan(found.cosine)
    return Ranking(
        keys=tuple(found.keys[order].tolist()),
        scores=KeyedNumbers(found.keys[order], scores[order], float),
        lexical_ranks=KeyedNumbers(
            found.keys[found.lexical_order], np.arange(1, len(found.lexical_order) + 1), int
        ),
        semantic_ranks=KeyedNumbers(
            found.keys[found.dense_order], np.arange(1, len(found.dense_order) + 1), int
        ),
        similarities=KeyedNumbers(found.keys[has_cosine], found.cosine[has_cosine], float),
        timings=MappingProxyType(timings),
        close_match=close,
        best_similarity=best,
        notes=tuple(notes),
        papers=MappingProxyType(fetched),
        matches=len(order) + (found.lexical_beyond if counted else 0),
        matches_exact=counted,
        beyond=found.lexical_rest
        if found.lexical_rest is not None and counted
        else np.empty(0, np.int64),
    )
