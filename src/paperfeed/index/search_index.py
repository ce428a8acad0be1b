"""What a search process loads from the index folder (the builder names every file in
it): the lexical index, the vectors (in-process, or pgvector's search over the store),
and each paper's date and source upvotes. One place for the engine to read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from paperfeed.config import Settings
from paperfeed.index.builder import dense_folder, lexical_folder, metadata_folder, read_state
from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.vector_search import InProcessVectors, VectorSearch, load_vector_search
from paperfeed.index.vectors import VectorIndex
from paperfeed.store import Store


@dataclass(frozen=True)
class SearchIndex:
    """The loaded index; None where nothing is built yet."""

    lexical: LexicalIndex | None
    vectors: VectorIndex | None  # the in-process index (None with pgvector)
    dense: VectorSearch | None  # what dense search asks: those vectors, or pgvector
    dates: NDArray[np.int32] | None  # per key: the shown date as days (index = key)
    upvotes: NDArray[np.int32] | None  # per key: the source's upvotes


def load_search_index(store: Store, settings: Settings) -> SearchIndex:
    """Read the index files the builder wrote (and open pgvector when configured)."""
    folder = lexical_folder(settings)
    lexical = LexicalIndex.load(folder) if (folder / "manifest.json").exists() else None
    vectors: VectorIndex | None = None
    dense: VectorSearch | None
    if settings.vector_backend == "pgvector":
        dense = load_vector_search(store, settings, dense_folder(settings))
    else:
        vectors = VectorIndex.load(dense_folder(settings), settings.hnsw_ef_search)
        dense = InProcessVectors(vectors) if vectors is not None else None
    metadata = metadata_folder(settings)
    dates = upvotes = None
    if (metadata / "dates.npy").exists():
        dates = np.load(metadata / "dates.npy")
        upvotes = np.load(metadata / "upvotes.npy")
    return SearchIndex(lexical, vectors, dense, dates, upvotes)


def state_stamp(settings: Settings) -> tuple[int, int] | None:
    """When the builder last wrote its state file (mtime, size), or None: one ``stat``,
    cheap enough to ask on every request whether to reload."""
    try:
        status = (settings.index_dir / "state.json").stat()
    except FileNotFoundError:
        return None
    return (status.st_mtime_ns, status.st_size)


def index_status(
    settings: Settings, lexical: LexicalIndex | None, dense: VectorSearch | None
) -> dict[str, Any]:
    """What ``paperfeed stats`` says of the loaded index."""
    state = read_state(settings)
    return {
        "lexical_documents": lexical.live_count if lexical else 0,
        "lexical_segments": len(lexical.segments) if lexical else 0,
        "vectors": len(dense) if dense is not None else 0,
        "vector_model": dense.model if dense is not None else None,
        "vector_search": "none" if dense is None else dense.kind,
        "last_sequence": state.get("last_sequence", 0),
    }
