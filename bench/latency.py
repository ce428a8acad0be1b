"""Ingest, index and search speed on all the shared papers, next to a peer pipeline.

Steps, each timed in this one run:
1. ingest every shared paper (arXiv listings + daily-papers) into a fresh SQLite home and
   build the lexical index (`index --no-embed`): the "searchable in <= 2 minutes" target;
2. vectors: the real all-MiniLM vectors of the bundled corpus, and for papers without one
   a real vector plus Gaussian noise (re-normalised): marked as such in the output;
3. end-to-end `SearchEngine.search` (query embedding included) for a set of queries
   (SciFact claims + known-item title words), p50/p95/p99 per stage;
4. the peer: rank_bm25 (BM25Okapi) + exact numpy dense search over the same texts and
   vectors, with the same query embedding, timed on the same queries.

Run:  python bench/latency.py [--queries 200] [--peer-queries 30]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from paperfeed.config import Settings
from paperfeed.index.builder import rebuild_dense, update_index
from paperfeed.index.embedder import load_embedder
from paperfeed.index.tokenizer import tokenize
from paperfeed.quickstart import BUNDLE
from paperfeed.search.engine import SearchEngine
from paperfeed.search.query import parse_query
from paperfeed.store import Store
from paperfeed.store.embedding_rows import save_embeddings
from paperfeed.store.loading import ingest_sources

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"


def percentiles(values: list[float]) -> str:
    array = np.array(values) * 1000
    return " ".join(f"{np.percentile(array, p):8.2f}" for p in (50, 95, 99))


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--peer-queries", type=int, default=30)
    arguments = parser.parse_args()
    home = OUT / "latency_home"
    settings = Settings.from_environment(
        {"PAPERFEED_HOME": str(home), "PAPERFEED_EMBED_MODEL": "minilm"}
    )
    fresh = not (home / "paperfeed.db").exists()
    store = Store(settings.database_url)
    rows: list[tuple[str, str]] = []
    if fresh:
        started = time.perf_counter()
        summary = ingest_sources(
            store,
            [SHARED / "arxiv", SHARED / "hf_daily_papers" / "papers.jsonl.gz"],
        )
        ingest_seconds = time.perf_counter() - started
        started = time.perf_counter()
        update_index(store, settings, embed=False)
        lexical_seconds = time.perf_counter() - started
        rows.append(
            (
                "ingest (all shared papers)",
                f"{ingest_seconds:.1f} s, "
                f"{summary.added / ingest_seconds:.0f} papers/s, {summary.rejected} rejected",
            )
        )
        rows.append(("lexical index build", f"{lexical_seconds:.1f} s"))
        rows.append(("ingest + lexical, total", f"{ingest_seconds + lexical_seconds:.1f} s"))
    papers = store.count_papers()
    # -- vectors: real where the bundle has them, real + noise elsewhere ------------------
    manifest = json.loads((BUNDLE / "vectors.json").read_text())
    real = np.load(BUNDLE / "vectors.npy").astype(np.float32)
    by_id = {arxiv_id: row for row, arxiv_id in enumerate(manifest["ids"])}
    if fresh:
        generator = np.random.default_rng(0)
        real_count = 0
        for batch in store.iter_papers(0, 5000):
            vectors = np.empty((len(batch), real.shape[1]), np.float32)
            for position, paper in enumerate(batch):
                row = by_id.get(paper.arxiv_id)
                if row is not None and manifest["hashes"][row] == paper.content_hash:
                    vectors[position] = real[row]
                    real_count += 1
                else:
                    noisy = real[generator.integers(len(real))] + generator.normal(
                        0, 0.05, real.shape[1]
                    )
                    vectors[position] = noisy / np.linalg.norm(noisy)
            save_embeddings(
                store, "minilm", [p.key for p in batch], [p.content_hash for p in batch], vectors
            )
        started = time.perf_counter()
        rebuild_dense(store, settings, "minilm")
        rows.append(
            (
                "vector index build",
                f"{time.perf_counter() - started:.1f} s "
                f"({real_count} real vectors, {papers - real_count} real+noise)",
            )
        )
    engine = SearchEngine(store, settings)
    # -- queries ------------------------------------------------------------------
    with open(SHARED / "eval/beir_scifact/queries.jsonl") as handle:
        claims = [json.loads(line)["text"] for line in handle]
    random.Random(1).shuffle(claims)
    titles = [
        paper.title
        for paper in store.get_papers(
            random.Random(2).sample(engine.lexical.live_keys().tolist(), arguments.queries)
        ).values()
    ]
    keyword = [" ".join(title.split()[:4]) for title in titles]
    queries = claims[: arguments.queries // 2] + keyword[: arguments.queries // 2]
    engine.search("warm up the model and the caches")
    stages: dict[str, list[float]] = {}
    totals: list[float] = []
    for query in tqdm(queries, desc="paperfeed search"):
        started = time.perf_counter()
        results = engine.search(query, limit=10)
        totals.append(time.perf_counter() - started)
        ranking = engine.rank(parse_query(query), [])
        for stage, seconds in ranking.timings.items():
            stages.setdefault(stage, []).append(seconds)
        assert results.hits
    # -- peer: rank_bm25 + exact numpy dense, same embedder -------------------------------
    from rank_bm25 import BM25Okapi

    started = time.perf_counter()
    keys, texts = [], []
    for batch in store.iter_papers(0, 5000):
        for paper in batch:
            keys.append(paper.key)
            texts.append(tokenize(f"{paper.title} {paper.abstract}"))
    bm25 = BM25Okapi(texts)
    matrix = np.asarray(engine.vectors.vectors)  # type: ignore[union-attr]
    peer_build = time.perf_counter() - started
    embedder = load_embedder("minilm")
    peer_totals: list[float] = []
    ours_same: list[float] = []
    for query in tqdm(queries[: arguments.peer_queries], desc="peer rank_bm25+numpy"):
        started = time.perf_counter()
        scores = bm25.get_scores(tokenize(query))
        lexical_top = np.argsort(-scores)[:100]
        dense_scores = matrix @ embedder.embed([query])[0]
        dense_top = np.argsort(-dense_scores)[:100]
        fused: dict[int, float] = {}
        for ranking_list in (lexical_top, dense_top):
            for rank, position in enumerate(ranking_list.tolist(), 1):
                fused[position] = fused.get(position, 0.0) + 1 / (60 + rank)
        sorted(fused, key=lambda position: -fused[position])[:10]
        peer_totals.append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.search(query, limit=10)
        ours_same.append(time.perf_counter() - started)
    print(
        f"\npaperfeed on {papers} papers ({len(engine.vectors or [])} vectors, "
        f"{engine.status()['vector_search']} dense search), {len(queries)} queries"
    )
    for name, value in rows:
        print(f"  {name:<28} {value}")
    print(f"\n{'stage (ms)':<28} {'p50':>8} {'p95':>8} {'p99':>8}")
    for stage, values in stages.items():
        print(f"  {stage:<26} {percentiles(values)}")
    print(f"  {'end-to-end search':<26} {percentiles(totals)}")
    print(
        f"\npeer on the same {len(peer_totals)} queries (rank_bm25 + numpy exact, build "
        f"{peer_build:.1f} s)"
    )
    print(f"  {'peer end-to-end':<26} {percentiles(peer_totals)}")
    print(f"  {'paperfeed end-to-end':<26} {percentiles(ours_same)}")
    print(
        f"  ratio of medians (peer / paperfeed): "
        f"{np.median(peer_totals) / np.median(ours_same):.1f}x"
    )
    print(f"\npeak memory of this process: {peak_memory_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
