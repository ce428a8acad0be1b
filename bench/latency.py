"""Search latency on all shared papers and on a 1M-paper scale-up, next to a peer pipeline.

Part 1, all shared papers (~89k), in a paperfeed home under bench/out/latency_home:
  vectors are the real all-MiniLM vectors of the bundled corpus where a paper has one,
  and a real vector plus Gaussian noise (re-normalised) elsewhere (embedding all 89k on
  2 cores takes hours); end-to-end ``SearchEngine.search`` (query embedding, lexical,
  dense, fusion, page fetch, snippets) for SciFact claims and short title-word queries;
  p50/p95/p99 per stage. The peer: rank_bm25 (BM25Okapi) + exact numpy dense search +
  RRF over the same texts, vectors and query embedder, on the same queries.
Part 2, 1M papers: the 89k lexical index replicated with 10% of each replica's postings
  dropped (noise), and 1M vectors (real + noise) in the HNSW index; the ranking stages
  are timed at 1M (page fetch and snippets do not depend on collection size).

Run:  python bench/latency.py [--queries 200] [--peer-queries 30] [--scale 1000000]
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
from numpy.typing import NDArray
from tqdm import tqdm

from paperfeed.config import Settings
from paperfeed.index.builder import rebuild_dense, update_index
from paperfeed.index.embedder import load_embedder
from paperfeed.index.lexical import LexicalIndex, Postings, Segment
from paperfeed.index.tokenizer import tokenize
from paperfeed.index.vector_search import InProcessVectors
from paperfeed.index.vectors import VectorIndex
from paperfeed.quickstart import BUNDLE
from paperfeed.search.engine import SearchEngine
from paperfeed.search.query import parse_query
from paperfeed.store import Store
from paperfeed.store.embedding_rows import save_embeddings
from paperfeed.store.loading import ingest_sources

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"
NOISE = 0.05


def percentiles(seconds: list[float]) -> str:
    array = np.array(seconds) * 1000
    return " ".join(f"{np.percentile(array, p):8.2f}" for p in (50, 95, 99))


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def noisy_copies(
    real: NDArray[np.float32], count: int, generator: np.random.Generator
) -> NDArray[np.float32]:
    """``count`` unit vectors: random real vectors plus Gaussian noise."""
    picked = real[generator.integers(len(real), size=count)]
    noisy = picked + generator.normal(0, NOISE, picked.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def build_home(settings: Settings, rows: list[tuple[str, str]]) -> Store:
    store = Store(settings.database_url)
    if store.count_papers():
        return store
    started = time.perf_counter()
    ingest_sources(store, [SHARED / "arxiv", SHARED / "hf_daily_papers" / "papers.jsonl.gz"])
    update_index(store, settings, embed=False)
    rows.append(("ingest + lexical index", f"{time.perf_counter() - started:.1f} s"))
    manifest = json.loads((BUNDLE / "vectors.json").read_text())
    real = np.load(BUNDLE / "vectors.npy").astype(np.float32)
    by_id = {arxiv_id: row for row, arxiv_id in enumerate(manifest["ids"])}
    generator = np.random.default_rng(0)
    real_count = 0
    for batch in store.iter_papers(0, 5000):
        vectors = noisy_copies(real, len(batch), generator)
        for position, paper in enumerate(batch):
            row = by_id.get(paper.arxiv_id)
            if row is not None and manifest["hashes"][row] == paper.content_hash:
                vectors[position] = real[row]
                real_count += 1
        keys = [paper.key for paper in batch]
        save_embeddings(store, "minilm", keys, [p.content_hash for p in batch], vectors)
    started = time.perf_counter()
    rebuild_dense(store, settings, "minilm")
    rows.append(
        (
            "vector index build",
            f"{time.perf_counter() - started:.1f} s ({real_count} real vectors, "
            f"{store.count_papers() - real_count} real + noise)",
        )
    )
    return store


def make_queries(store: Store, engine: SearchEngine, count: int) -> list[str]:
    with open(SHARED / "eval" / "beir_scifact" / "queries.jsonl") as handle:
        claims = [json.loads(line)["text"] for line in handle]
    random.Random(1).shuffle(claims)
    assert engine.lexical is not None
    keys = random.Random(2).sample(engine.lexical.live_keys().tolist(), count)
    titles = [" ".join(paper.title.split()[:4]) for paper in store.get_papers(keys).values()]
    return claims[: count // 2] + titles[: count - count // 2]


def time_engine(engine: SearchEngine, queries: list[str], full: bool) -> dict[str, list[float]]:
    """Per-stage seconds of each query; ``full`` adds end-to-end ``search``."""
    engine.search("warm up the model and the caches")
    stages: dict[str, list[float]] = {}
    for query in tqdm(queries, desc="paperfeed", leave=False):
        started = time.perf_counter()
        if full:
            engine.search(query, limit=10)
            stages.setdefault("end-to-end search", []).append(time.perf_counter() - started)
        started = time.perf_counter()
        ranking = engine.rank(parse_query(query), [])
        stages.setdefault("rank (all stages)", []).append(time.perf_counter() - started)
        for stage, seconds in ranking.timings.items():
            stages.setdefault(stage, []).append(seconds)
    return stages


def time_peer(store: Store, engine: SearchEngine, queries: list[str]) -> tuple[float, list[float]]:
    from rank_bm25 import BM25Okapi

    started = time.perf_counter()
    texts = [
        tokenize(f"{paper.title} {paper.abstract}")
        for batch in store.iter_papers(0, 5000)
        for paper in batch
    ]
    bm25 = BM25Okapi(texts)
    assert isinstance(engine.vectors, InProcessVectors)
    matrix = np.asarray(engine.vectors.index.vectors)
    build = time.perf_counter() - started
    embedder = load_embedder("minilm")
    seconds = []
    for query in tqdm(queries, desc="peer", leave=False):
        started = time.perf_counter()
        scores = bm25.get_scores(tokenize(query))
        lexical_top = np.argsort(-scores)[:100]
        dense_top = np.argsort(-(matrix @ embedder.embed([query])[0]))[:100]
        fused: dict[int, float] = {}
        for ranking in (lexical_top, dense_top):
            for rank, position in enumerate(ranking.tolist(), 1):
                fused[position] = fused.get(position, 0.0) + 1 / (60 + rank)
        sorted(fused, key=lambda position: -fused[position])[:10]
        seconds.append(time.perf_counter() - started)
    return build, seconds


def replicate_lexical(lexical: LexicalIndex, copies: int, seed: int) -> LexicalIndex:
    """``copies`` copies of the index's live documents, each losing 10% of its postings."""
    lexical.merge_segments("base")
    base = lexical.segments[0]
    span = int(base.keys.max()) + 1
    generator = np.random.default_rng(seed)
    replicated = LexicalIndex(
        field_weights=lexical.field_weights,
        k1=lexical.k1,
        b=lexical.b,
        terms=lexical.terms,
        vocabulary=lexical.vocabulary,
    )

    def thin(postings: Postings) -> Postings:
        keep = generator.random(len(postings.docs)) >= 0.1
        term_of = np.repeat(np.arange(len(postings.indptr) - 1), np.diff(postings.indptr))
        indptr = np.zeros_like(postings.indptr)
        np.cumsum(np.bincount(term_of[keep], minlength=len(indptr) - 1), out=indptr[1:])
        return Postings(indptr, postings.docs[keep], postings.values[keep])

    for copy in range(copies):
        replicated.segments.append(
            Segment(
                name=f"copy-{copy}",
                keys=base.keys + copy * span,
                live=np.ones(len(base.keys), np.bool_),
                lengths=base.lengths,
                fields={name: thin(p) if copy else p for name, p in base.fields.items()},
                combined=thin(base.combined) if copy else base.combined,
            )
        )
    replicated.length_totals = {k: v * copies for k, v in lexical.length_totals.items()}
    replicated.indexed_documents = lexical.indexed_documents * copies
    replicated._refresh_global_arrays()
    return replicated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--peer-queries", type=int, default=30)
    parser.add_argument("--scale", type=int, default=1_000_000, help="0 skips part 2")
    arguments = parser.parse_args()
    home = OUT / "latency_home"
    settings = Settings.from_environment(
        {"PAPERFEED_HOME": str(home), "PAPERFEED_EMBED_MODEL": "minilm"}
    )
    rows: list[tuple[str, str]] = []
    store = build_home(settings, rows)
    engine = SearchEngine(store, settings)
    queries = make_queries(store, engine, arguments.queries)
    stages = time_engine(engine, queries, full=True)
    peer_build, peer = time_peer(store, engine, queries[: arguments.peer_queries])
    ours = time_engine(engine, queries[: arguments.peer_queries], full=True)["end-to-end search"]
    status = engine.status()
    print(
        f"\nPart 1: {store.count_papers()} papers, {status['vectors']} vectors "
        f"({status['vector_search']} dense search), {len(queries)} queries"
    )
    for name, value in rows:
        print(f"  {name:<26} {value}")
    print(f"  {'stage (ms)':<26} {'p50':>8} {'p95':>8} {'p99':>8}")
    for stage, values in stages.items():
        print(f"  {stage:<26} {percentiles(values)}")
    print(
        f"\n  peer on the same {len(peer)} queries: rank_bm25 + numpy exact + RRF "
        f"(build {peer_build:.1f} s)"
    )
    print(f"  {'peer end-to-end':<26} {percentiles(peer)}")
    print(f"  {'paperfeed end-to-end':<26} {percentiles(ours)}")
    print(f"  median ratio peer / paperfeed: {np.median(peer) / np.median(ours):.1f}x")
    print(f"  peak memory so far: {peak_memory_mb():.0f} MB")

    if arguments.scale:
        assert engine.lexical is not None and isinstance(engine.vectors, InProcessVectors)
        copies = -(-arguments.scale // engine.lexical.live_count)
        started = time.perf_counter()
        big_lexical = replicate_lexical(engine.lexical, copies, seed=3)
        lexical_seconds = time.perf_counter() - started
        count = big_lexical.live_count
        real = np.asarray(engine.vectors.index.vectors, dtype=np.float32)
        keys = big_lexical.live_keys()
        vectors = noisy_copies(real, count, np.random.default_rng(4))
        started = time.perf_counter()
        big_vectors = VectorIndex.build("minilm", keys, vectors, settings.exact_search_limit)
        vector_seconds = time.perf_counter() - started
        engine.lexical, engine.vectors = big_lexical, InProcessVectors(big_vectors)
        span = int(keys.max()) + 1
        engine.dates = np.resize(engine.dates, span)
        engine.upvotes = np.resize(engine.upvotes, span)
        big = time_engine(engine, queries, full=False)
        print(
            f"\nPart 2: {count:,} papers ({copies} noisy copies), {len(big_vectors):,} vectors "
            f"({'hnsw' if big_vectors.hnsw is not None else 'exact'})"
        )
        print(f"  {'lexical replicas built':<26} {lexical_seconds:.1f} s")
        print(f"  {'vector index build':<26} {vector_seconds:.1f} s")
        print(f"  {'stage (ms)':<26} {'p50':>8} {'p95':>8} {'p99':>8}")
        for stage, values in big.items():
            print(f"  {stage:<26} {percentiles(values)}")
        fetch = np.array(stages["end-to-end search"]) - np.array(stages["rank (all stages)"])
        print(f"  {'+ page fetch & snippets':<26} {percentiles(list(fetch))}  (from part 1)")
        print(f"  peak memory: {peak_memory_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
