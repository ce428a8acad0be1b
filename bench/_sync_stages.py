"""The stages a sync benchmark times after its harvest, and the table it prints: shared by
``bench/sync.py`` (a day of arXiv) and ``bench/biorxiv_sync.py`` (a day of bioRxiv)."""

from __future__ import annotations

import os
import time

from paperfeed.config import Settings
from paperfeed.index.builder import dense_folder, embed_pending, rebuild_dense, update_lexical
from paperfeed.index.embedder import load_embedder
from paperfeed.search import SearchEngine
from paperfeed.store import Store

Row = tuple[str, float, str]


def index_stages(store: Store, settings: Settings, title: str, paper_id: str) -> list[Row]:
    """Time the lexical update (then check that ``title`` finds ``paper_id``), the
    embedding of every pending paper and the vector index rebuild, one row each."""
    rows: list[Row] = []
    started = time.perf_counter()
    lexical = update_lexical(store, settings, show_progress=False)
    seconds = time.perf_counter() - started
    hits = SearchEngine(store, settings).search(title, limit=1).hits
    found = bool(hits) and hits[0].paper.arxiv_id == paper_id
    rows.append(("lexical", seconds, f"{lexical} papers; a title search finds its paper: {found}"))
    started = time.perf_counter()
    embedder = load_embedder(settings.embed_model, threads=settings.embed_threads)
    loading = time.perf_counter() - started
    embedded = embed_pending(store, settings, embedder, show_progress=False)
    seconds = time.perf_counter() - started
    rows.append(
        (
            "embed",
            seconds,
            f"{embedded} papers with {embedder.name} ({embedded / seconds:.1f}/s, "
            f"model load {loading:.1f} s)",
        )
    )
    started = time.perf_counter()
    vectors = rebuild_dense(store, settings, embedder.name)
    seconds = time.perf_counter() - started
    rows.append(("vectors", seconds, f"{vectors} vectors in {dense_folder(settings).name}/"))
    return rows


def print_stage_table(
    heading: str, rows: list[Row], load_before: tuple[float, float, float], target_seconds: float
) -> None:
    """The stages, their total (all but ``parse``) against the target, and the load."""
    load_after = os.getloadavg()
    total = sum(seconds for name, seconds, _ in rows if name != "parse")
    print(f"{heading}, cores {os.cpu_count()}")
    print(f"load average before: {' '.join(f'{value:.2f}' for value in load_before)}")
    print(f"{'stage':<10}{'seconds':>10}  detail")
    for name, seconds, detail in rows:
        print(f"{name:<10}{seconds:>10.2f}  {detail}")
    print(
        f"{'total':<10}{total:>10.2f}  harvest + lexical + embed + vectors "
        f"(target <= {target_seconds:g} s)"
    )
    print(f"load average after:  {' '.join(f'{value:.2f}' for value in load_after)}")
