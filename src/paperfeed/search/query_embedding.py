"""The query side's embedder: loaded on the first query that needs it (a lexical-only
query never pays for it), with the per-text cache of query vectors."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from paperfeed.config import Settings
from paperfeed.index.embedder import (
    Embedder,
    EmbedderError,
    QueryVectors,
    load_configured_embedder,
)
from paperfeed.index.vector_search import VectorSearch


class QueryEmbedding:
    """The configured embedder for queries (``PAPERFEED_QUERY_THREADS``) and its cache."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embedder: Embedder | None = None
        self.query_vectors: QueryVectors | None = None
        self.error: str | None = None  # why it could not be loaded

    def embedder(self) -> Embedder | None:
        """The embedder, loaded on first use; None (and ``error`` says why) when it
        cannot be loaded."""
        if self._embedder is None and self.error is None:
            try:
                self._embedder = load_configured_embedder(self.settings, for_queries=True)
                self.query_vectors = QueryVectors(self._embedder, self.settings.query_cache_size)
            except EmbedderError as error:
                self.error = str(error)
        return self._embedder

    def vector(self, text: str) -> NDArray[np.float32] | None:
        """The embedding of a query text (cached by text), or None without an embedder."""
        if self.embedder() is None or self.query_vectors is None:
            return None
        return self.query_vectors.vector(text)

    def usable(
        self, dense: VectorSearch | None, searchable: int, notes: list[str]
    ) -> Embedder | None:
        """The embedder when dense search can run over ``dense`` (vectors of this model
        exist), else None; ``notes`` gets why not, or how much is embedded so far."""
        if dense is None or len(dense) == 0:
            notes.append("semantic search is off: no paper is embedded yet (run paperfeed index)")
            return None
        embedder = self.embedder()
        if embedder is None:
            notes.append(f"semantic search is off: {self.error}")
            return None
        if embedder.name != dense.model:
            notes.append(
                f"semantic search is off: the vectors were made by {dense.model!r}, "
                f"the configured model is {embedder.name!r} (run paperfeed index)"
            )
            return None
        if len(dense) < searchable:
            notes.append(
                f"semantic search covers {len(dense)} of {searchable} papers so far "
                "(run paperfeed index to embed the rest)"
            )
        return embedder
