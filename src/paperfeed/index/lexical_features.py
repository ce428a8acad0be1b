"""Per-candidate query features read from the lexical index: term coverage and proximity.

Both were computed from whole posting lists turned into key sets (``np.unique`` and
``np.isin`` over every holder of every query term) and from each candidate's stored text,
fetched and tokenised again; at 89k papers that was most of a query's CPU time. Here a
candidate is looked up in a posting list by binary search (postings are sorted by doc),
and its term sequence is read from the segment (``index/term_sequences.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.lexical import LexicalIndex, QueryTerm
from paperfeed.index.sorted_lookup import find_sorted
from paperfeed.index.term_sequences import adjacent_pair_shares


def coverage(
    lexical: LexicalIndex,
    terms: Sequence[str],
    keys: NDArray[np.int64],
    known: Sequence[QueryTerm] = (),
) -> NDArray[np.float32]:
    """The idf-weighted share of ``terms`` (distinct, in any default field) each of ``keys``
    contains: ``sum_t idf(t) * [t in d] / sum_t idf(t)``, Lucene's idf as in BM25F.

    ``known``: terms the caller already looked up with :meth:`LexicalIndex.query_terms`
    (the search's scored terms); those over the default fields are not looked up again.
    The keys are sorted by index position once, so each posting list is searched only
    with the candidates of its own segment (at ~1M papers in 12 segments the per-segment
    masks over every candidate cost more than the searches).
    """
    result = np.zeros(len(keys), np.float64)
    if not terms or len(keys) == 0:
        return result.astype(np.float32)
    distinct = list(dict.fromkeys(terms))
    found = {
        lexical.terms[query_term.term_id]: query_term
        for query_term in known
        if query_term.field_name is None
    }
    missing = [(term, None) for term in distinct if term not in found]
    if missing:
        for query_term in lexical.query_terms(missing):
            found[lexical.terms[query_term.term_id]] = query_term
    positions = lexical.positions_of(keys)
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    spans = lexical.segment_spans(ordered)
    total = max(lexical.live_count, 1)
    weight_sum = 0.0
    in_order = np.zeros(len(keys), np.float64)
    for term in distinct:
        looked_up = found.get(term)
        frequency = looked_up.frequency if looked_up is not None else 0
        idf = math.log(1.0 + (total - frequency + 0.5) / (frequency + 0.5))
        weight_sum += idf
        if looked_up is None:
            continue
        has = np.zeros(len(keys), np.bool_)
        for offset, docs, _ in looked_up.parts:
            start, end = spans[offset]
            if start == end or len(docs) == 0:
                continue
            local = ordered[start:end] - offset
            has[start:end] = find_sorted(docs, local)[1]
        in_order += idf * has
    result[order] = in_order
    return (result / weight_sum if weight_sum > 0 else result).astype(np.float32)


def proximity(
    lexical: LexicalIndex, runs: Sequence[Sequence[str]], keys: NDArray[np.int64]
) -> NDArray[np.float32] | None:
    """The share of the query's adjacent term pairs (within each run) that are adjacent
    in each key's title or abstract; None when a segment predates term sequences."""
    if not lexical.has_sequences:
        return None
    pairs = {(run[index], run[index + 1]) for run in runs for index in range(len(run) - 1)}
    if not pairs or len(keys) == 0:
        return np.zeros(len(keys), np.float32)
    vocabulary = lexical.vocabulary
    known = [
        (vocabulary[first], vocabulary[second])
        for first, second in pairs
        if first in vocabulary and second in vocabulary
    ]
    terms, owners = _term_sequences_at(lexical, lexical.positions_of(keys))
    return adjacent_pair_shares(
        terms, owners, len(keys), np.array(known, np.int64).reshape(-1, 2), len(pairs)
    )


def _term_sequences_at(
    lexical: LexicalIndex, positions: NDArray[np.int64]
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """The title + abstract term sequences of the docs at global ``positions`` (-1:
    none), for ``term_sequences.adjacent_pair_shares``: all terms in one array and the
    index into ``positions`` each belongs to (every segment has sequences)."""
    terms: list[NDArray[np.int32]] = []
    owners: list[NDArray[np.int64]] = []
    offsets = lexical.segment_offsets
    segment_of = np.searchsorted(offsets, positions, side="right") - 1
    for index in np.unique(segment_of[positions >= 0]).tolist():
        inside = np.flatnonzero((segment_of == index) & (positions >= 0))
        sequences = lexical.segments[index].sequences
        assert sequences is not None  # the caller checked has_sequences
        found, lengths = sequences.gather(positions[inside] - offsets[index])
        terms.append(found)
        owners.append(np.repeat(inside, lengths))
    if not terms:
        return np.empty(0, np.int32), np.empty(0, np.int64)
    return np.concatenate(terms), np.concatenate(owners)
