"""Array operations on term-major posting matrices (:class:`Postings`): building them from
(term, doc) pairs, merging segments' live documents into one, and taking the best scores.
Pure numpy; the index (:mod:`paperfeed.index.lexical`) decides what to build."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.lexical_types import Postings


def empty_postings(vocabulary_size: int) -> Postings:
    return Postings(
        np.zeros(vocabulary_size + 1, np.int64), np.empty(0, np.int32), np.empty(0, np.float32)
    )


def count_postings(
    term_ids: NDArray[np.int64], doc_ids: NDArray[np.int64], count: int, vocabulary_size: int
) -> Postings:
    """Term frequencies as a term-major sparse matrix, from parallel (term, doc) arrays."""
    if len(term_ids) == 0:
        return empty_postings(vocabulary_size)
    unique, frequencies = np.unique(term_ids * count + doc_ids, return_counts=True)
    indptr = np.zeros(vocabulary_size + 1, np.int64)
    np.cumsum(np.bincount(unique // count, minlength=vocabulary_size), out=indptr[1:])
    return Postings(indptr, (unique % count).astype(np.int32), frequencies.astype(np.float32))


def live_postings(
    parts: Sequence[tuple[NDArray[np.bool_], Postings]], vocabulary_size: int
) -> Postings:
    """One posting matrix over the live documents of ``parts`` (each a segment's live mask
    and postings), renumbered 0.. in order; dead documents are dropped."""
    terms_parts, docs_parts, values_parts = [], [], []
    base = 0
    for live, matrix in parts:
        # new doc number of each live doc of this segment, -1 for dead ones
        renumber = np.full(len(live), -1, np.int64)
        renumber[live] = base + np.arange(int(live.sum()))
        base += int(live.sum())
        term_of = np.repeat(np.arange(len(matrix.indptr) - 1), np.diff(matrix.indptr))
        new_docs = renumber[matrix.docs]
        keep = new_docs >= 0
        terms_parts.append(term_of[keep])
        docs_parts.append(new_docs[keep])
        values_parts.append(matrix.values[keep])
    term_ids = np.concatenate(terms_parts)
    doc_ids = np.concatenate(docs_parts)
    values = np.concatenate(values_parts)
    order = np.lexsort((doc_ids, term_ids))
    indptr = np.zeros(vocabulary_size + 1, np.int64)
    np.cumsum(np.bincount(term_ids, minlength=vocabulary_size), out=indptr[1:])
    return Postings(indptr, doc_ids[order].astype(np.int32), values[order].astype(np.float32))


def best(
    positions: NDArray[np.int64], scores: NDArray[np.float32], limit: int
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """The ``limit`` best of ``positions`` (ascending), best first; ties: lower position first."""
    if limit <= 0:
        return positions[:0], scores[:0]
    if len(positions) > limit:
        kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        keep = scores > kth
        tied = np.flatnonzero(scores == kth)[: limit - int(keep.sum())]
        keep[tied] = True
        positions, scores = positions[keep], scores[keep]
    order = np.argsort(-scores, kind="stable")
    return positions[order], scores[order]
