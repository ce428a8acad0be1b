"""Top-k BM25F with MaxScore pruning: the same best ``limit`` papers as exhaustive scoring,
without reading every posting of every query term.

MaxScore (Turtle & Flood, "Query evaluation: strategies and optimizations", 1995) needs an
upper bound of each term's contribution: ``ub(t) = idf(t) * m / (k1 + m)`` with ``m`` the
largest tf~ in the term's postings (``tf / (k1 + tf)`` grows with tf). Terms are taken in
decreasing bound, which is rare terms (short posting lists) first. Their postings are read
in full, giving partial scores for the union of their documents and ``theta``, the
``limit``-th best partial score among the papers the filters allow. Once the bounds of the
terms not yet read add up to less than ``theta``, no paper outside the union can reach the
top ``limit``: the remaining (long, common-word) posting lists are only probed, by binary
search, at the surviving candidates. Scores are summed in float32 in the order
:meth:`LexicalIndex.query_terms` gives (rarest first), the order ``score`` sums in, so the
result is bit-identical to ``index.top(index.score(terms), limit, allowed)`` (ties broken by
index position in both); ``tests/test_lexical_topk.py`` checks it on the real bundled corpus.

Not (yet) the engine's path: measured in CPU time on a loaded machine, it only matched
exhaustive scoring at ``limit=10`` and was slower at the engine's depth of 1,000, where the
1,000th partial score stays low and few lists can be skipped (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.lexical_types import Postings, QueryTerm, Segment
from paperfeed.index.postings import best
from paperfeed.index.sorted_lookup import find_sorted

# Float32 sums in another order differ in the last bits: bounds get this much slack so a
# pruning decision never depends on rounding.
_SLACK = 1e-4


def term_maxima(segment: Segment) -> NDArray[np.float32]:
    """Largest tf~ of each term in ``segment``'s default-field postings (computed once)."""
    if segment.term_maxima is None:
        segment.term_maxima = _maxima(segment.combined)
    return segment.term_maxima


def _maxima(postings: Postings) -> NDArray[np.float32]:
    sizes = np.diff(postings.indptr)
    maxima = np.zeros(len(sizes), np.float32)
    filled = sizes > 0
    if len(postings.values):
        maxima[filled] = np.maximum.reduceat(postings.values, postings.indptr[:-1][filled])
    return maxima


def _upper_bound(index: LexicalIndex, query_term: QueryTerm) -> float:
    """The most one paper can get from ``query_term`` (with slack for float32 rounding)."""
    largest = 0.0
    for offset, _, values in query_term.parts:
        if query_term.field_name is None:
            maxima = term_maxima(index.segment_at(offset)[0])
            if query_term.term_id < len(maxima):
                largest = max(largest, float(maxima[query_term.term_id]))
        else:  # field-restricted postings are normalised per query: take their maximum
            largest = max(largest, float(values.max()))
    return query_term.idf * largest / (index.k1 + largest) * (1 + _SLACK) + 1e-7


def _valid(
    index: LexicalIndex, positions: NDArray[np.int64], allowed: NDArray[np.bool_] | None
) -> NDArray[np.bool_]:
    """Which positions are live papers that the filter mask allows."""
    valid = index._live[positions]
    if allowed is not None:
        keys = index._keys[positions]
        inside = keys < len(allowed)
        valid &= inside
        valid[inside] &= allowed[keys[inside]]
    return valid


def _probe(
    index: LexicalIndex,
    query_term: QueryTerm,
    candidates: NDArray[np.int64],
    spans: dict[int, tuple[int, int]],
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Rows of ``candidates`` (sorted positions) holding the term, and its contributions;
    ``spans`` is ``index.segment_spans(candidates)``."""
    rows_parts, value_parts = [], []
    for offset, docs, values in query_term.parts:
        low, high = spans[offset]
        local = candidates[low:high] - offset
        if not len(local):
            continue
        found, present = find_sorted(docs, local)
        rows_parts.append(low + np.flatnonzero(present))
        value_parts.append(values[found[present]])
    if not rows_parts:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    contributions = index.contributions(query_term.idf, np.concatenate(value_parts))
    return np.concatenate(rows_parts), contributions


def top_k(
    index: LexicalIndex,
    terms: Sequence[tuple[str, str | None]],
    limit: int,
    allowed: NDArray[np.bool_] | None = None,
    stats: dict[str, int] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Keys and BM25F scores of the best ``limit`` papers for ``terms``, best first.

    The same answer as ``index.top(index.score(terms), limit, allowed)``; see the module doc.
    ``stats``, when given, receives ``terms``, ``read`` (terms whose postings were read in
    full; ``read == terms`` means no pruning was possible) and ``candidates``.
    """
    query_terms = index.query_terms(terms)  # rarest first: the order score() sums in
    if limit <= 0 or not query_terms:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    bounds = [_upper_bound(index, query_term) for query_term in query_terms]
    remaining = np.cumsum(bounds[::-1])[::-1].tolist() + [0.0]
    scores = np.zeros(len(index._keys), np.float32)  # calloc: only touched pages cost
    seen = np.zeros(len(index._keys), np.bool_)
    union_parts: list[NDArray[np.int64]] = []
    theta = 0.0
    read = 0
    for read, query_term in enumerate(query_terms):  # noqa: B007 (read is used after)
        if theta > 0 and remaining[read] < theta:
            break  # no paper outside the union can reach the top ``limit`` any more
        for offset, docs, values in query_term.parts:
            positions = offset + docs.astype(np.int64)
            scores[positions] += index.contributions(query_term.idf, values)
            fresh = positions[~seen[positions]]
            seen[fresh] = True
            union_parts.append(fresh)
        if read + 1 < len(query_terms):
            union = np.concatenate(union_parts)
            union_parts = [union]
            partial = scores[union][_valid(index, union, allowed)]
            if len(partial) >= limit:  # float32 sums only grow: a lower bound of the k-th
                theta = float(np.partition(partial, len(partial) - limit)[len(partial) - limit])
    else:
        read = len(query_terms)
    union = np.sort(np.concatenate(union_parts))
    union = union[_valid(index, union, allowed)]
    if read < len(query_terms):
        # drop what cannot reach theta even with every remaining term, then probe the rest
        reach = scores[union].astype(np.float64) * (1 + _SLACK) + remaining[read]
        union = union[reach >= theta]
        candidate_scores = scores[union]
        spans = index.segment_spans(union)
        for query_term in query_terms[read:]:
            rows, contributions = _probe(index, query_term, union, spans)
            candidate_scores[rows] += contributions
    else:
        candidate_scores = scores[union]
    if stats is not None:
        stats.update(terms=len(query_terms), read=read, candidates=len(union))
    positive = candidate_scores > 0
    positions, best_scores = best(union[positive], candidate_scores[positive], limit)
    return index._keys[positions], best_scores
