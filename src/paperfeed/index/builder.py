"""``paperfeed index``: bring the index files up to date with the store.

Four stages, each resumable: (0) papers without fresh keywords and TL;DR get them
(``index.annotation_stage``; the keywords are indexed with the title); (1) the lexical
index and the per-paper metadata
arrays take every paper changed since the last run, so new papers are searchable
at once; (2) papers without a fresh vector are embedded in batches, each batch
committed to the store; (3) the vector index is rewritten from the stored vectors;
its HNSW graph (above PAPERFEED_EXACT_SEARCH_LIMIT vectors) is grown, not rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from paperfeed.config import Settings
from paperfeed.index.annotation_stage import annotate_pending
from paperfeed.index.annotations import ANNOTATOR_VERSION
from paperfeed.index.embedder import Embedder, embedding_text, load_configured_embedder
from paperfeed.index.embedding_chunks import embed_chunk_size
from paperfeed.index.lexical import FORMAT_VERSION, Document, LexicalIndex
from paperfeed.index.lexical_files import remove_leftovers, stored_format_version
from paperfeed.index.tokenizer import TOKENIZER_VERSION, tokenize
from paperfeed.index.vectors import VectorIndex
from paperfeed.models import StoredPaper
from paperfeed.progress import progress_bar
from paperfeed.store import Store
from paperfeed.store.annotations import forget_annotations
from paperfeed.store.embedding_rows import (
    count_fresh_embeddings,
    count_papers_to_embed,
    iter_fresh_embeddings,
    papers_to_embed,
    save_embeddings,
)

# Rebuild the vector index this often while embedding, so a long first run makes
# its vectors searchable as it goes.
DENSE_REFRESH_SECONDS = 300.0
# Papers embedded and committed together: this many times PAPERFEED_EMBED_BATCH_SIZE.
# Each update adds a segment; past this many they are merged into one.
MAX_SEGMENTS = 8


@dataclass
class IndexReport:
    """What one ``index`` run did."""

    lexical_added: int = 0
    annotated: int = 0
    embedded: int = 0
    vectors: int = 0
    papers: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.lexical_added > 0 or self.embedded > 0


def lexical_folder(settings: Settings) -> Path:
    return settings.index_dir / "lexical"


def dense_folder(settings: Settings) -> Path:
    return settings.index_dir / "dense"


def metadata_folder(settings: Settings) -> Path:
    return settings.index_dir / "metadata"


def read_state(settings: Settings) -> dict[str, object]:
    path = settings.index_dir / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _write_state(settings: Settings, state: dict[str, object]) -> None:
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    staging = settings.index_dir / "state.tmp"
    staging.write_text(json.dumps(state, indent=1))
    os.replace(staging, settings.index_dir / "state.json")


def document_of(paper: StoredPaper) -> Document:
    """The fields of a paper as the lexical index sees them; its keywords join the title,
    so a keyword match scores like a title word."""
    return Document(
        key=paper.key,
        tokens={
            "title": tokenize(" ; ".join([paper.title, *paper.shown_keywords])),
            "title_only": tokenize(paper.title),  # what ti: requires
            "abstract": tokenize(paper.abstract),
            "authors": tokenize(" ; ".join(paper.authors)),
            "categories": [category.lower() for category in paper.categories],
        },
    )


def date_number(date: str | None) -> int:
    """``YYYY-MM-DD`` as the integer YYYYMMDD (0 when unknown), for range filters."""
    if not date or len(date) < 10:
        return 0
    try:
        return int(date[:4] + date[5:7] + date[8:10])
    except ValueError:
        return 0


def _load_metadata(settings: Settings) -> dict[str, NDArray[np.int32]]:
    folder = metadata_folder(settings)
    return {
        name: np.load(folder / f"{name}.npy")
        if (folder / f"{name}.npy").exists()
        else np.zeros(0, np.int32)
        for name in ("dates", "upvotes")
    }


def _save_metadata(settings: Settings, arrays: dict[str, NDArray[np.int32]]) -> None:
    folder = metadata_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        staging = folder / f"{name}.tmp.npy"
        np.save(staging, array)
        os.replace(staging, folder / f"{name}.npy")


def update_lexical(store: Store, settings: Settings, show_progress: bool = True) -> int:
    """Index papers changed since the last run as a new segment. Returns how many."""
    state = read_state(settings)
    last_sequence = int(state.get("last_sequence", 0))  # type: ignore[call-overload]
    folder = lexical_folder(settings)
    stale = (folder / "manifest.json").exists() and (
        not tokenizer_is_current(state)
        or stored_format_version(folder) != FORMAT_VERSION
        # the title field holds the keywords: other keywords, other terms
        or state.get("annotator_version") != ANNOTATOR_VERSION
    )
    if stale:
        # terms made by another tokenizer would never match today's query terms, and an
        # older format lacks what search now reads (term sequences): index every paper
        # again into fresh segments (the old ones go after the switch)
        last_sequence = 0
    if (folder / "manifest.json").exists():
        remove_leftovers(folder)  # of a run killed mid-save
    if (folder / "manifest.json").exists() and not stale:
        lexical = LexicalIndex.load(folder)
        # the manifest says what the segments hold, even if state.json missed the update
        if lexical.last_sequence is not None:
            last_sequence = lexical.last_sequence
    else:
        lexical = LexicalIndex(
            field_weights={
                "title": settings.title_weight,
                "abstract": 1.0,
                "authors": 1.0,
                "categories": 0.0,
                "title_only": 0.0,  # a filter (ti:), never scored: "title" scores it
            }
        )
    target_sequence = store.max_change_sequence()
    total = store.count_papers_after(last_sequence)
    if total == 0:
        if state.get("last_sequence") != last_sequence:  # a run killed after its switch
            _write_state(settings, state | {"last_sequence": last_sequence})
        return 0
    metadata = _load_metadata(settings)
    documents: list[Document] = []
    with progress_bar("lexical index", total, enabled=show_progress) as progress:
        for batch in store.iter_papers(after_sequence=last_sequence):
            largest = max(paper.key for paper in batch) + 1
            for name, array in metadata.items():
                if len(array) < largest:
                    metadata[name] = np.concatenate(
                        [array, np.zeros(largest - len(array) + 1024, np.int32)]
                    )
            for paper in batch:
                documents.append(document_of(paper))
                metadata["dates"][paper.key] = date_number(paper.date)
                metadata["upvotes"][paper.key] = paper.upvotes or 0
            progress.update(len(batch))
    segment_name = f"segment-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    lexical.add_documents(documents, segment_name)
    if len(lexical.segments) > MAX_SEGMENTS:
        lexical.merge_segments(segment_name + "-merged")
    lexical.last_sequence = target_sequence
    # dates and upvotes first: once the manifest switches, every new paper has its date
    # (a date filter never misses the papers the segments just gained)
    _save_metadata(settings, metadata)
    lexical.save(folder)
    if stale:
        current = {segment.name for segment in lexical.segments}
        for old in folder.glob("segment-*"):
            if old.is_dir() and old.name not in current:
                shutil.rmtree(old, ignore_errors=True)
    _write_state(
        settings,
        state
        | {
            "last_sequence": target_sequence,
            "tokenizer_version": TOKENIZER_VERSION,
            "annotator_version": ANNOTATOR_VERSION,
        },
    )
    return len(documents)


def tokenizer_is_current(state: dict[str, object]) -> bool:
    """Whether the lexical index of ``state`` was built by today's tokenizer (indexes
    from before the version was recorded count as version 1)."""
    return state.get("tokenizer_version", 1) == TOKENIZER_VERSION


def embed_pending(
    store: Store,
    settings: Settings,
    embedder: Embedder,
    limit: int | None = None,
    show_progress: bool = True,
    on_refresh: Callable[[], object] | None = None,
) -> int:
    """Embed papers with no fresh vector, committing each batch. Returns how many."""
    pending = count_papers_to_embed(store, embedder.name)
    if limit is not None:
        pending = min(pending, limit)
    if pending == 0:
        return 0
    done = 0
    last_key = 0
    last_refresh = time.monotonic()
    # One embed() call per committed chunk: the embedder sorts the chunk's texts by length
    # and batches neighbours, so the bigger the chunk, the less padding is encoded.
    chunk = embed_chunk_size(settings)
    with progress_bar(f"embed ({embedder.name})", pending, enabled=show_progress) as progress:
        while done < pending:
            tasks = papers_to_embed(store, embedder.name, min(chunk, pending - done), last_key)
            if not tasks:
                break
            vectors = embedder.embed([embedding_text(task.title, task.abstract) for task in tasks])
            save_embeddings(
                store,
                embedder.name,
                [task.key for task in tasks],
                [task.content_hash for task in tasks],
                vectors,
            )
            last_key = tasks[-1].key
            done += len(tasks)
            progress.update(len(tasks))
            if on_refresh is not None and time.monotonic() - last_refresh > DENSE_REFRESH_SECONDS:
                on_refresh()
                last_refresh = time.monotonic()
    return done


def rebuild_dense(store: Store, settings: Settings, model: str) -> int:
    """Rebuild the vector index from the store's fresh vectors. Returns its size."""
    key_parts: list[NDArray[np.int64]] = []
    vector_parts: list[NDArray[np.float32]] = []
    for keys, vectors in iter_fresh_embeddings(store, model):
        key_parts.append(keys)
        vector_parts.append(vectors)
    if not key_parts:
        return 0
    index = VectorIndex.build(
        model,
        np.concatenate(key_parts),
        np.concatenate(vector_parts),
        exact_limit=settings.exact_search_limit,
        previous=VectorIndex.load(dense_folder(settings)),  # its HNSW graph is grown
    )
    index.save(dense_folder(settings))
    # a new state stamp tells running servers (SearchEngine.reload_if_changed) to reload
    _write_state(settings, read_state(settings) | {"vectors": len(index), "model": model})
    return len(index)


def update_pgvector(
    store: Store, settings: Settings, model: str, show_progress: bool = False
) -> int:
    """Copy new vectors into PostgreSQL's HNSW index (``PAPERFEED_VECTOR_BACKEND=pgvector``);
    no index files are written. Returns how many papers pgvector can search."""
    from paperfeed.index import pgvector_index

    dimension = pgvector_index.stored_dimension(store, model)
    if dimension is None:
        return 0
    pgvector_index.prepare(store, model, dimension)
    pgvector_index.sync_vectors(store, model, show_progress)
    pgvector_index.create_hnsw_index(store, model, dimension)
    count = pgvector_index.count_vectors(store, model)
    # a new state stamp tells running servers to look again (new count, new model)
    state = read_state(settings)
    if state.get("vectors") != count or state.get("model") != model:
        _write_state(settings, state | {"vectors": count, "model": model})
    return count


def update_index(
    store: Store,
    settings: Settings,
    embed: bool = True,
    embed_limit: int | None = None,
    show_progress: bool = True,
    ray_address: str | None = None,
) -> IndexReport:
    """Run the three stages; safe to interrupt and re-run at any point.

    Args:
        store: the papers.
        settings: where the index lives and which model embeds.
        embed: run the (slow) embedding stage.
        embed_limit: embed at most this many papers in this run.
        show_progress: progress bars on stderr.
        ray_address: embed on this Ray cluster (``auto`` or ``host:port``) instead of
            in this process (see :mod:`paperfeed.index.ray_backfill`).
    """
    started = time.monotonic()
    report = IndexReport()
    made_by = read_state(settings).get("annotator_version")
    if made_by is not None and made_by != ANNOTATOR_VERSION:
        forget_annotations(store)  # made by another annotator: make them again
    report.annotated = annotate_pending(store, lexical_folder(settings), show_progress)
    report.lexical_added = update_lexical(store, settings, show_progress)
    model = settings.embed_model
    in_database = settings.vector_backend == "pgvector"

    def refresh() -> object:
        if in_database:
            return update_pgvector(store, settings, model)
        return rebuild_dense(store, settings, model)

    if embed and ray_address is not None:
        from paperfeed.index.ray_backfill import embed_pending_on_ray

        report.embedded = embed_pending_on_ray(
            store,
            settings,
            ray_address,
            limit=embed_limit,
            show_progress=show_progress,
            on_refresh=refresh,
        )
    elif embed:
        embedder = load_configured_embedder(settings)
        model = embedder.name
        report.embedded = embed_pending(
            store,
            settings,
            embedder,
            limit=embed_limit,
            show_progress=show_progress,
            on_refresh=refresh,
        )
    if in_database:
        report.vectors = update_pgvector(store, settings, model, show_progress)
        report.papers = store.count_papers()
        report.seconds = time.monotonic() - started
        return report
    existing = VectorIndex.load(dense_folder(settings))
    fresh = count_fresh_embeddings(store, model)
    if report.embedded or existing is None or existing.model != model or len(existing) != fresh:
        report.vectors = rebuild_dense(store, settings, model)
    else:
        report.vectors = len(existing)
    report.papers = store.count_papers()
    report.seconds = time.monotonic() - started
    return report
