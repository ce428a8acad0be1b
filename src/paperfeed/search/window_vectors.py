"""The vectors of a window of recent papers, whichever backend holds them.

For you, the cold start's picks and the day's topics score or cluster the papers of a
window (a month, a day) by their vectors. In-process, the whole index is loaded and they
read its rows; with ``PAPERFEED_VECTOR_BACKEND=pgvector`` the vectors are in PostgreSQL
only, so the window's (a few thousand papers at most) are read from it in one statement,
into an index of their own with the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from paperfeed.index.vector_search import VectorSearch
from paperfeed.index.vectors import VectorIndex
from paperfeed.search.engine import SearchEngine


def vectors_within(
    engine: SearchEngine, window: tuple[int, int] | None, also: Sequence[int] = ()
) -> VectorIndex | None:
    """The vectors of the papers dated inside ``window`` (YYYYMMDD, inclusive) and of the
    papers ``also`` names (a user's positives, wherever they are dated); None when no
    paper is embedded. In-process, the whole loaded index."""
    if engine.vectors is not None:
        return engine.vectors
    dense = engine.dense
    if dense is None or len(dense) == 0 or window is None:
        return None
    dates = engine.dates
    keys = np.flatnonzero((dates >= window[0]) & (dates <= window[1])).astype(np.int64)
    keys = np.union1d(keys, np.asarray(list(also), np.int64))
    return vectors_of_keys(dense, keys)


def vectors_of_keys(dense: VectorSearch, keys: np.ndarray) -> VectorIndex:
    """An index of the vectors ``dense`` holds for ``keys`` (those without one left out)."""
    rows = dense.vectors_of(np.asarray(keys, np.int64))
    present = ~np.isnan(rows).any(axis=1) if len(rows) else np.zeros(0, np.bool_)
    return VectorIndex(dense.model, np.asarray(keys, np.int64)[present], rows[present])
