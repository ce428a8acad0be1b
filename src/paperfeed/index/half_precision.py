"""A half-precision copy of the vectors that finds the exact nearest ones in half the reads.

An exact search scans every vector once. For the bundled 9,877 papers that is 15 MB of
float32, more than this kind of CPU keeps in its caches, so the scan waits on memory:
2.3-2.9 ms a query on the AMD EPYC of issue 23 (numpy's one-thread matrix-vector
product), about a tenth of a search request's CPU. The same scan over a float16 copy
(faiss's ``IndexScalarQuantizer`` with ``QT_fp16``, which reads the halves with SIMD and
multiplies in float32) took 0.73-0.82 ms (docs/benchmarks.md, sixteenth session).

The copy only *shortlists*: it takes more rows than asked for, their float32 vectors score
them exactly, and the answer is the exact one, which a bound proves. Rounding a vector
``x`` to float16 moves each coordinate by at most ``e_j`` (the largest error in dimension
``j``, measured when the copy is made), so a row's half-precision score is within
``eps = sum_j |q_j| e_j`` of its exact one (plus float32 summation slack). Every row left
out of the shortlist scored at most the shortlist's lowest half-precision score ``s``,
so its exact score is at most ``s + eps``; when the ``limit``-th best exact score of the
shortlist is above that, no row left out can be in the answer. When it is not (rare: it
needs scores within ~0.001 of each other across the whole margin), the caller scans
exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Below this many vectors (6 MB of float32) the exact scan stays in the caches and is as
# fast as the copy: no copy is made, and a filter that keeps fewer is scanned exactly
# (over the 9,877 bundled vectors, a filter keeping 1 in 5 took 0.58 ms exactly and ~0.8
# from the copy; over 50,000, where the exact scan copies 10,000 scattered rows, 8.5-9.7).
MIN_ROWS = 4096
# float32 summation over 384 dimensions in a different order: |error| <= d * 2**-24 * sum
# |q_j x_j| <= ~2.3e-5 for unit vectors; this covers it with room.
SUMMATION_SLACK = 1e-4


def shortlist_size(limit: int, rows: int) -> int:
    """How many rows the half-precision scan takes for ``limit``: twice as many, and at
    least 64 more, so the bound holds unless scores crowd the whole margin."""
    return min(rows, max(2 * limit, limit + 64))


class HalfPrecisionScan:
    """The vectors of an index rounded to float16, in faiss's flat scalar-quantiser index
    (row ``i`` here is row ``i`` of the float32 matrix)."""

    def __init__(self, vectors: NDArray[np.float32]) -> None:
        import faiss

        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        self.rows, self.dimension = matrix.shape
        self._index = faiss.IndexScalarQuantizer(
            self.dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        self._index.add(matrix)
        # e_j: the largest rounding error in each dimension (see the module docstring), of
        # the halves faiss scans (it rounds a tie away from zero, numpy to even: the same
        # error, but measured on its own codes nothing rests on that)
        rounded = self._index.sa_decode(self._index.sa_encode(matrix))
        self.largest_errors = np.abs(matrix - rounded).max(axis=0).astype(np.float64)

    def error_bound(self, query: NDArray[np.float32]) -> float:
        """How far any row's half-precision score can be from its exact one."""
        return float(np.abs(query).astype(np.float64) @ self.largest_errors) + SUMMATION_SLACK

    def shortlist(
        self, query: NDArray[np.float32], count: int, rows: NDArray[np.bool_] | None
    ) -> tuple[NDArray[np.int64], float]:
        """The ``count`` rows with the best half-precision scores (among ``rows`` where it
        is given), in no particular order, and the lowest of those scores."""
        import faiss

        parameters = selector = bits = None
        if rows is not None:
            # faiss keeps pointers to both: they stay referenced here until the search ends
            bits = np.packbits(rows, bitorder="little")  # bit i of byte i // 8: row i
            selector = faiss.IDSelectorBitmap(len(rows), faiss.swig_ptr(bits))
            parameters = faiss.SearchParameters()
            parameters.sel = selector
        with _one_openmp_thread(faiss):
            scores, positions = self._index.search(
                np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1),
                count,
                params=parameters,
            )
        del parameters, selector, bits
        found = positions[0] >= 0  # faiss pads with -1 when fewer rows qualify
        lowest = float(scores[0][found].min()) if found.any() else float("-inf")
        return positions[0][found].astype(np.int64), lowest


@contextmanager
def _one_openmp_thread(faiss: Any) -> Iterator[None]:
    """One OpenMP thread for the search, in this thread only (OpenMP's thread count is
    per calling thread), put back after. faiss parallelises over queries; with one query
    a second thread only spins: on 2 cores that took 2.19 against 0.82 CPU ms a scan.
    ``paperfeed index`` building a graph in the same thread keeps every core."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


class LazyHalfPrecisionScan:
    """A :class:`HalfPrecisionScan` made on an index's second exact search, once, for
    every thread: a command that searches once (``paperfeed search``) scans exactly and
    never pays for importing faiss (~0.3 s) and the copy (~20 ms for 9,877 vectors).
    An index's vectors never change (``paperfeed index`` writes a new index), so neither
    does its copy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._searches = 0
        self._scan: HalfPrecisionScan | None = None

    @property
    def made(self) -> bool:
        """Whether the copy exists (searches shortlist from it)."""
        return self._scan is not None

    def get(self, vectors: NDArray[np.float32]) -> HalfPrecisionScan | None:
        """The copy of ``vectors`` when it is worth having and this is not the first
        search; None otherwise (the caller scans exactly)."""
        if self._scan is not None:
            return self._scan
        if len(vectors) < MIN_ROWS or not self._lock.acquire(blocking=False):
            return None  # while one thread makes the copy, the others scan exactly
        try:
            self._searches += 1
            if self._scan is None and self._searches >= 2:
                self._scan = HalfPrecisionScan(vectors)
        finally:
            self._lock.release()
        return self._scan
