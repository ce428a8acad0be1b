"""The bundled real corpus, so a fresh install answers searches in seconds."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from paperfeed.config import Settings
from paperfeed.index.annotations import ANNOTATOR_VERSION
from paperfeed.index.builder import update_index
from paperfeed.store import Store
from paperfeed.store.annotations import (
    AnnotationRow,
    fresh_annotations,
    keys_and_hashes,
    keys_with_fresh_annotations,
    save_annotations,
)
from paperfeed.store.embedding_rows import (
    iter_fresh_embeddings,
    keys_with_fresh_vectors,
    save_embeddings,
)
from paperfeed.store.loading import ingest_sources

BUNDLE = Path(__file__).resolve().parent / "data" / "quickstart"
ANNOTATIONS = "annotations.json.gz"


def import_bundled_annotations(store: Store, folder: Path = BUNDLE) -> int:
    """Store the bundle's keywords and TL;DRs for papers whose text still matches and
    that have none for it yet, when today's annotator made them (else the index stage
    makes them). Returns how many."""
    path = folder / ANNOTATIONS
    if not path.exists():
        return 0
    bundle = json.loads(gzip.decompress(path.read_bytes()))
    if bundle.get("annotator_version") != ANNOTATOR_VERSION:
        return 0
    stored = keys_and_hashes(store)
    # a quick start run again rewrites none of them
    fresh = keys_with_fresh_annotations(store)
    rows = [
        AnnotationRow(stored[arxiv_id][0], content_hash, keywords, tldr)
        for arxiv_id, (content_hash, keywords, tldr) in bundle["papers"].items()
        if arxiv_id in stored
        and stored[arxiv_id][1] == content_hash
        and stored[arxiv_id][0] not in fresh
    ]
    for start in range(0, len(rows), 2000):
        save_annotations(store, rows[start : start + 2000])
    return len(rows)


def export_bundled_annotations(store: Store, folder: Path = BUNDLE) -> int:
    """Write the store's fresh keywords and TL;DRs as a bundle. Returns how many."""
    papers = {
        arxiv_id: [content_hash, keywords, tldr]
        for arxiv_id, content_hash, keywords, tldr in fresh_annotations(store)
    }
    document = {"annotator_version": ANNOTATOR_VERSION, "papers": papers}
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    (folder / ANNOTATIONS).write_bytes(gzip.compress(data, mtime=0))
    return len(papers)


def import_bundled_vectors(store: Store, folder: Path = BUNDLE) -> int:
    """Store the bundle's vectors for papers whose text still matches and that have no
    vector of the bundle's model for it yet. Returns how many."""
    manifest_path = folder / "vectors.json"
    if not manifest_path.exists():
        return 0
    manifest = json.loads(manifest_path.read_text())
    vectors = np.load(folder / "vectors.npy").astype(np.float32)
    by_id = {arxiv_id: row for row, arxiv_id in enumerate(manifest["ids"])}
    # one read of every paper's key and hash: a read per paper took ~5 s of a quick start
    stored = keys_and_hashes(store)
    fresh = keys_with_fresh_vectors(store, manifest["model"])  # none rewritten on a rerun
    keys: list[int] = []
    hashes: list[str] = []
    rows: list[int] = []
    for arxiv_id, row in by_id.items():
        key, content_hash = stored.get(arxiv_id, (0, ""))
        if content_hash and content_hash == manifest["hashes"][row] and key not in fresh:
            keys.append(key)
            hashes.append(content_hash)
            rows.append(row)
    chosen = vectors[rows]
    chosen /= np.maximum(np.linalg.norm(chosen, axis=1, keepdims=True), 1e-12)
    for start in range(0, len(keys), 2000):
        save_embeddings(
            store,
            manifest["model"],
            keys[start : start + 2000],
            hashes[start : start + 2000],
            chosen[start : start + 2000],
        )
    return len(keys)


def export_bundled_vectors(store: Store, model: str, folder: Path = BUNDLE) -> int:
    """Write the store's fresh vectors of ``model`` as a bundle (float16). Returns how many."""
    keys_parts, vector_parts = [], []
    for keys, vectors in iter_fresh_embeddings(store, model):
        keys_parts.append(keys)
        vector_parts.append(vectors)
    keys = np.concatenate(keys_parts) if keys_parts else np.empty(0, np.int64)
    papers = store.get_papers(keys.tolist())
    ids = [papers[int(key)].arxiv_id for key in keys]
    hashes = [papers[int(key)].content_hash for key in keys]
    np.save(folder / "vectors.npy", np.concatenate(vector_parts).astype(np.float16))
    (folder / "vectors.json").write_text(json.dumps({"model": model, "ids": ids, "hashes": hashes}))
    return len(ids)


def load_bundled_corpus(store: Store, settings: Settings, show_progress: bool = True) -> str:
    """Ingest the bundled corpus, import its vectors and bring the index up to date."""
    summary = ingest_sources(store, [BUNDLE / "papers.jsonl.gz"], show_progress=show_progress)
    imported = import_bundled_vectors(store)
    # keywords and TL;DRs too: annotating 9,877 papers would add ~15 s to the quick start
    import_bundled_annotations(store)
    report = update_index(store, settings, show_progress=show_progress)
    return (
        f"bundled corpus: added {summary.added}, unchanged {summary.unchanged}, "
        f"rejected {summary.rejected}; imported {imported} bundled vectors; "
        f"embedded {report.embedded} more; {report.vectors} of {report.papers} papers searchable "
        "by meaning"
    )
