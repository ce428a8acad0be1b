"""Papers hidden by a moderator, kept out of every search without a reindex.

The hidden papers are a small table (``store.moderation``). Each search process keeps
their keys, re-read at most every ``REFRESH_SECONDS`` (and at once by the process that
hid or showed a paper), and joins them into every query's filter mask: the in-process
search skips them like any filtered-out paper, and a database search (pgvector) drops
them from what it returns through the mask it cannot see otherwise (``term_mask``).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.vector_search import DenseFilter
from paperfeed.store import Store
from paperfeed.store.moderation import hidden_paper_keys

REFRESH_SECONDS = 2.0


class HiddenPapers:
    """The keys of the hidden papers as of the last refresh."""

    def __init__(self, store: Store, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._keys = np.empty(0, np.int64)
        self._set: frozenset[int] = frozenset()
        self._read_at = float("-inf")

    def refresh(self, force: bool = False) -> bool:
        """Re-read the keys (unless read less than ``refresh_seconds`` ago and not
        ``force``). Returns whether they changed."""
        now = time.monotonic()
        if not force and now - self._read_at < self.refresh_seconds:
            return False
        self._read_at = now
        keys = np.asarray(hidden_paper_keys(self.store), np.int64)
        if np.array_equal(keys, self._keys):
            return False
        self._keys = keys
        self._set = frozenset(keys.tolist())
        return True

    @property
    def keys(self) -> frozenset[int]:
        return self._set

    def restrict(self, filters: DenseFilter, size: int) -> DenseFilter:
        """``filters`` that also leave the hidden papers out (unchanged when none is).

        Args:
            filters: the query's restrictions.
            size: the length of a mask over paper keys (one more than the largest key).
        """
        if not len(self._keys):
            return filters
        length = max(size, len(filters.mask) if filters.mask is not None else 0, 1)
        visible = np.ones(length, np.bool_)
        visible[self._keys[self._keys < length]] = False

        def joined(mask: NDArray[np.bool_] | None) -> NDArray[np.bool_]:
            return visible if mask is None else mask & visible[: len(mask)]

        return replace(filters, mask=joined(filters.mask), term_mask=joined(filters.term_mask))
