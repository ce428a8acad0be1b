"""Each indexed paper's title and abstract as the sequence of its term ids, in order.

The proximity feature of search (``search.fusion``: the share of a query's adjacent term
pairs that are adjacent in a paper) reads these instead of fetching the stored text of
every candidate and tokenising it again: per query that was ~70 database rows and ~10k
words stemmed; here it is a few array slices and one ``np.isin``.

A segment's sequences are one flat ``int32`` array of term ids and an ``indptr``: paper
``i`` of the segment is ``terms[indptr[i]:indptr[i + 1]]``, its title terms, then
``SEPARATOR``, then its abstract terms (the separator keeps a pair from spanning the
two, as the stored-text path does with a sentinel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SEPARATOR = -1  # between a title and its abstract; no term has a negative id
FILE_PREFIX = "sequences"


@dataclass
class TermSequences:
    """The term-id sequences of one segment's papers (row ``i`` is the segment's doc ``i``)."""

    indptr: NDArray[np.int64]
    terms: NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def from_fields(
        cls,
        title_terms: NDArray[np.int64],
        title_lengths: NDArray[np.int32],
        abstract_terms: NDArray[np.int64],
        abstract_lengths: NDArray[np.int32],
    ) -> TermSequences:
        """Interleave per-paper title and abstract term ids (each flat, in paper order)."""
        titles = title_lengths.astype(np.int64)
        abstracts = abstract_lengths.astype(np.int64)
        indptr = np.zeros(len(titles) + 1, np.int64)
        np.cumsum(titles + 1 + abstracts, out=indptr[1:])
        terms = np.full(int(indptr[-1]), SEPARATOR, np.int32)
        starts = indptr[:-1]
        terms[_destinations(starts, titles)] = title_terms
        terms[_destinations(starts + titles + 1, abstracts)] = abstract_terms
        return cls(indptr, terms)

    def rows(self, rows: NDArray[np.int64]) -> TermSequences:
        """The sequences of ``rows`` only, in that order (a merge keeps the live ones)."""
        lengths = np.diff(self.indptr)[rows]
        indptr = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        sources = _destinations(self.indptr[rows], lengths)
        return TermSequences(indptr, np.asarray(self.terms[sources], np.int32))

    @classmethod
    def concatenate(cls, parts: Sequence[TermSequences]) -> TermSequences:
        if not parts:
            return cls(np.zeros(1, np.int64), np.empty(0, np.int32))
        shifts = np.cumsum([0] + [int(part.indptr[-1]) for part in parts[:-1]])
        indptr = np.concatenate(
            [np.zeros(1, np.int64)]
            + [part.indptr[1:] + shift for part, shift in zip(parts, shifts, strict=True)]
        )
        return cls(indptr, np.concatenate([np.asarray(part.terms) for part in parts]))

    def sequence(self, row: int) -> NDArray[np.int32]:
        return np.asarray(self.terms[self.indptr[row] : self.indptr[row + 1]])

    def gather(self, rows: NDArray[np.int64]) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """The sequences of ``rows`` in one array, each followed by a SEPARATOR, and the
        length of each with its separator."""
        lengths = self.indptr[rows + 1] - self.indptr[rows]
        with_separator = lengths + 1
        starts = np.zeros(len(rows), np.int64)
        np.cumsum(with_separator[:-1], out=starts[1:])
        result = np.full(int(with_separator.sum()), SEPARATOR, np.int32)
        result[_destinations(starts, lengths)] = self.terms[
            _destinations(self.indptr[rows], lengths)
        ]
        return result, with_separator

    def save(self, folder: Path) -> None:
        np.save(folder / f"{FILE_PREFIX}.indptr.npy", self.indptr)
        np.save(folder / f"{FILE_PREFIX}.terms.npy", self.terms)

    @classmethod
    def load(cls, folder: Path) -> TermSequences | None:
        """The segment's sequences, or None for a segment written before they existed.
        The terms are memory-mapped: a query touches only its candidates' pages."""
        terms_path = folder / f"{FILE_PREFIX}.terms.npy"
        if not terms_path.exists():
            return None
        return cls(
            np.load(folder / f"{FILE_PREFIX}.indptr.npy"), np.load(terms_path, mmap_mode="r")
        )


def _destinations(starts: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])``, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, np.int64)
    run_starts = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=run_starts[1:])
    result: NDArray[np.int64] = np.repeat(starts - run_starts, lengths) + np.arange(total)
    return result


def adjacent_pair_shares(
    terms: NDArray[np.int32],
    owners: NDArray[np.int64],
    count: int,
    pairs: NDArray[np.int64],
    pair_count: int,
) -> NDArray[np.float32]:
    """For each of ``count`` sequences, the share of ``pair_count`` distinct query pairs
    present in it as adjacent terms.

    ``terms`` holds sequences (as :meth:`TermSequences.gather` gives them: each followed by
    a SEPARATOR, so no pair spans two) and ``owners`` the sequence of each term; ``pairs``
    the ``(first, second)`` term ids of the query pairs whose terms are both in the
    vocabulary (the others are present nowhere)."""
    result = np.zeros(count, np.float32)
    if pair_count == 0 or len(pairs) == 0 or len(terms) < 2:
        return result
    values = terms.astype(np.int64)
    width = int(max(values.max(initial=0), pairs.max(initial=0))) + 1
    first, second = values[:-1], values[1:]
    codes = first * width + second
    wanted = np.unique(pairs[:, 0] * width + pairs[:, 1])
    hits = np.flatnonzero(np.isin(codes, wanted) & (first >= 0) & (second >= 0))
    if len(hits) == 0:
        return result
    which = np.searchsorted(wanted, codes[hits])
    distinct = np.unique(owners[hits] * len(wanted) + which)
    result[:] = np.bincount(distinct // len(wanted), minlength=count) / pair_count
    return result
