"""What a dense search is asked and answers, shared by every vector backend: the filter
and the candidates. :mod:`paperfeed.index.vector_search` (the protocol and the in-process
backend) and :mod:`paperfeed.index.pgvector_index` both import these from here, so the
backends never import each other at module level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Candidates = tuple[NDArray[np.int64], NDArray[np.float32]]


@dataclass(frozen=True)
class DenseFilter:
    """Which papers a dense search may return.

    Attributes:
        mask: every restriction of the query as a mask over paper keys (index = key),
            or None for no restriction; what an in-process search applies.
        categories: ``cat:`` filters (any of them), lowercased.
        since, until: date bounds, ``YYYY-MM-DD``, on the paper's shown date.
        term_mask: the restrictions a database cannot see (fielded words, phrases,
            exclusions: they come from the lexical index), or None when there are none.
    """

    mask: NDArray[np.bool_] | None = None
    categories: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    term_mask: NDArray[np.bool_] | None = None


NO_FILTER = DenseFilter()
