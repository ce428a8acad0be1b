"""The one question the search engine asks of a vector store: the top-k papers for a vector.

Two implementations: :class:`InProcessVectors` (the index files each replica loads:
exact below ``PAPERFEED_EXACT_SEARCH_LIMIT`` vectors, faiss HNSW above) and
:class:`paperfeed.index.pgvector_index.PgVectorSearch` (an HNSW index inside PostgreSQL,
``PAPERFEED_VECTOR_BACKEND=pgvector``). The engine fuses either's candidates with BM25F
the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from paperfeed.config import Settings
from paperfeed.index.dense_filters import NO_FILTER as NO_FILTER
from paperfeed.index.dense_filters import Candidates as Candidates
from paperfeed.index.dense_filters import DenseFilter as DenseFilter
from paperfeed.index.vectors import VectorIndex
from paperfeed.store import Store


class VectorSearch(Protocol):
    """Nearest papers by cosine similarity, for the vectors of one embedding model."""

    model: str
    kind: str  # "exact", "hnsw" (faiss) or "pgvector": what ``paperfeed stats`` shows

    def __len__(self) -> int:
        """How many papers have a (fresh) vector."""
        ...

    def vector_of(self, key: int) -> NDArray[np.float32] | None:
        """The stored vector of paper ``key``, or None."""
        ...

    def vectors_of(self, keys: NDArray[np.int64]) -> NDArray[np.float32]:
        """The vectors of ``keys`` as rows (NaN rows for keys without one), in one read:
        a query's ~1,100 candidates are scored from them."""
        ...

    def search(
        self, query: NDArray[np.float32], limit: int, filters: DenseFilter = NO_FILTER
    ) -> Candidates:
        """Keys and cosine scores of the ``limit`` nearest allowed papers, best first."""
        ...


class InProcessVectors:
    """The index files loaded into this process (see :mod:`paperfeed.index.vectors`)."""

    def __init__(self, index: VectorIndex) -> None:
        self.index = index
        self.model = index.model
        self.kind = "hnsw" if index.hnsw is not None else "exact"

    def __len__(self) -> int:
        return len(self.index)

    def vector_of(self, key: int) -> NDArray[np.float32] | None:
        return self.index.vector_of(key)

    def vectors_of(self, keys: NDArray[np.int64]) -> NDArray[np.float32]:
        return self.index.vectors_of(keys)

    def search(
        self, query: NDArray[np.float32], limit: int, filters: DenseFilter = NO_FILTER
    ) -> Candidates:
        return self.index.search(query, limit, filters.mask)


def load_vector_search(store: Store, settings: Settings, folder: Path) -> VectorSearch | None:
    """The configured backend over the current vectors, or None when there are none.

    Args:
        store: the papers (and, for pgvector, the vectors).
        settings: ``vector_backend`` and ``embed_model`` choose what is searched.
        folder: where the in-process index files are.
    """
    if settings.vector_backend == "pgvector":
        from paperfeed.index.pgvector_index import PgVectorSearch

        return PgVectorSearch.open(store, settings.embed_model)
    index = VectorIndex.load(folder, settings.hnsw_ef_search)
    return InProcessVectors(index) if index is not None else None
