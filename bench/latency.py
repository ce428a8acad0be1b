"""Search latency on all shared papers and on a 1M-paper scale-up, next to peer pipelines.

Part 1, all shared papers (~89k) in a reusable paperfeed home (``--home``, default
$PAPERFEED_HOME, else bench/out/latency_home), with their REAL all-MiniLM vectors: the home
must be built once with ``--build`` (ingest + ``paperfeed index``, i.e. every paper embedded:
~35 min on 2 quiet cores, timed and printed), and is reused after that. End-to-end
``SearchEngine.search`` (query embedding, lexical, dense, fusion, page fetch, snippets) for
SciFact claims and short title-word queries, every query distinct (the result caches are
cleared between passes); p50/p95/p99 per stage, wall and CPU (``time.process_time``).
Peers, same texts and queries: rank_bm25 (BM25Okapi) + exact numpy dense + RRF end to end,
and the lexical stage alone against rank_bm25, bm25s and tantivy where installed
(``pip install -e '.[bench]'``). ``--vectors noisy`` is the old shortcut for a home without
real vectors (bundle vectors where the text matches, real + Gaussian noise elsewhere).
Part 2, 1M papers: the 89k lexical index replicated with 10% of each replica's postings
  dropped (noise), and 1M vectors (real + noise) in the HNSW index; the ranking stages
  are timed at 1M (page fetch and snippets do not depend on collection size).

  The 1M HNSW graph takes ~15 min to build on 2 cores: it is saved (``--big-vectors``,
  default bench/out/latency_1m_vectors) and loaded by later runs of the same size, the
  first run's build time printed with it.

Run:  PAPERFEED_HOME=/path/to/home python bench/latency.py --build   # once (~40 min)
      PAPERFEED_HOME=/path/to/home python bench/latency.py [--scale 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from _machine import Machine, add_machine_arguments
from paperfeed.config import Settings
from paperfeed.index.builder import rebuild_dense, update_index
from paperfeed.index.embedder import load_embedder
from paperfeed.index.lexical import LexicalIndex, Postings, Segment
from paperfeed.index.tokenizer import tokenize
from paperfeed.index.vectors import HNSW_EF_CONSTRUCTION, HNSW_LINKS, VectorIndex
from paperfeed.quickstart import BUNDLE
from paperfeed.search.engine import SearchEngine
from paperfeed.search.query import parse_query
from paperfeed.store import Store
from paperfeed.store.embedding_rows import count_fresh_embeddings, save_embeddings
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


def build_real_home(settings: Settings, rows: list[tuple[str, str]]) -> Store:
    """Ingest every shared paper and run ``paperfeed index`` with embedding, timed."""
    store = Store(settings.database_url)
    if not store.count_papers():
        started = time.perf_counter()
        ingest_sources(store, [SHARED / "arxiv", SHARED / "hf_daily_papers" / "papers.jsonl.gz"])
        rows.append(("ingest", f"{time.perf_counter() - started:.1f} s"))
    started, cpu = time.perf_counter(), time.process_time()
    report = update_index(store, settings, embed=True)
    seconds = time.perf_counter() - started
    rows.append(
        (
            "paperfeed index (embed)",
            f"{seconds:.0f} s wall, {time.process_time() - cpu:.0f} s CPU; embedded "
            f"{report.embedded} ({report.embedded / max(seconds, 1e-9):.1f} papers/s), "
            f"{report.vectors} vectors",
        )
    )
    return store


def open_real_home(settings: Settings) -> Store:
    """The home's store, when every paper has a fresh vector of the configured model."""
    store = Store(settings.database_url)
    papers = store.count_papers()
    vectors = count_fresh_embeddings(store, settings.embed_model) if papers else 0
    if papers == 0 or vectors < papers:
        raise SystemExit(
            f"{settings.home}: {papers} papers, {vectors} with a fresh {settings.embed_model!r} "
            "vector. Build the home once (ingest + embed every paper, ~35 min on 2 quiet "
            f"cores):\n  PAPERFEED_HOME={settings.home} python bench/latency.py --build"
        )
    return store


def build_home(settings: Settings, rows: list[tuple[str, str]]) -> Store:
    """A home whose papers without a bundled vector get a real vector plus noise (fast)."""
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


def fresh_caches(engine: SearchEngine) -> None:
    """Empty the result, ranking, similar and query-vector caches: every query is new.
    (Not ``reload``: that would read the 89k index back over part 2's 1M one.)"""
    engine.clear_caches()
    cached = engine.queries.query_vectors
    if cached is not None:
        engine.queries.query_vectors = type(cached)(cached.embedder)


def time_engine(engine: SearchEngine, queries: list[str], full: bool) -> dict[str, list[float]]:
    """Per-stage seconds of each distinct query; ``full`` adds end-to-end ``search`` (wall
    and CPU) and its repeat (answered by the caches), in a separate pass."""
    engine.search("warm up the model and the caches")
    stages: dict[str, list[float]] = {}
    if full:
        fresh_caches(engine)
        for query in tqdm(queries, desc="paperfeed", leave=False):
            started, cpu = time.perf_counter(), time.process_time()
            engine.search(query, limit=10)
            stages.setdefault("end-to-end search", []).append(time.perf_counter() - started)
            stages.setdefault("end-to-end CPU", []).append(time.process_time() - cpu)
            started = time.perf_counter()
            engine.search(query, limit=10)
            stages.setdefault("repeat (cached)", []).append(time.perf_counter() - started)
    fresh_caches(engine)
    for query in tqdm(queries, desc="paperfeed stages", leave=False):
        started = time.perf_counter()
        ranking = engine.rank(parse_query(query), [])
        stages.setdefault("rank (all stages)", []).append(time.perf_counter() - started)
        for stage, seconds in ranking.timings.items():
            stages.setdefault(stage, []).append(seconds)
    return stages


def time_lexical_peers(
    store: Store, engine: SearchEngine, queries: list[str]
) -> list[tuple[str, float, list[float]]]:
    """(peer, build seconds, per-query seconds) of the lexical stage alone, top 10, over
    paperfeed's own tokens (so every peer ranks the same terms): ours, and the peers that
    are installed."""
    assert engine.lexical is not None
    lexical = engine.lexical
    papers = [paper for batch in store.iter_papers(0, 5000) for paper in batch]
    texts = [tokenize(f"{paper.title} {paper.abstract}") for paper in papers]
    tokenized = [tokenize(query) for query in queries]
    results: list[tuple[str, float, list[float]]] = []

    def timed(name: str, build: float, search: Callable[[list[str]], object]) -> None:
        seconds = []
        for tokens in tqdm(tokenized, desc=name, leave=False):
            started = time.perf_counter()
            search(tokens)
            seconds.append(time.perf_counter() - started)
        results.append((name, build, seconds))

    timed(
        "paperfeed BM25F (top 10)",
        0.0,
        lambda tokens: lexical.top(lexical.score([(t, None) for t in tokens]), 10),
    )
    try:
        import bm25s

        started = time.perf_counter()
        retriever = bm25s.BM25()
        retriever.index(texts, show_progress=False)
        build = time.perf_counter() - started
        timed(
            "bm25s",
            build,
            lambda tokens: retriever.retrieve([tokens or ["_"]], k=10, show_progress=False),
        )
    except ImportError:
        print("[latency] bm25s not installed: pip install -e '.[bench]'", file=sys.stderr)
    try:
        import tantivy

        started = time.perf_counter()
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("text", stored=False)
        index = tantivy.Index(builder.build())
        writer = index.writer(heap_size=200_000_000, num_threads=1)
        for tokens in texts:
            writer.add_document(tantivy.Document(text=" ".join(tokens)))
        writer.commit()
        index.reload()
        searcher = index.searcher()
        build = time.perf_counter() - started
        timed(
            "tantivy",
            build,
            lambda tokens: searcher.search(
                index.parse_query(" ".join(tokens) or "_", ["text"]), 10
            ),
        )
    except ImportError:
        print("[latency] tantivy not installed: pip install -e '.[bench]'", file=sys.stderr)
    return results


def compare_dense(
    engine: SearchEngine, queries: list[str], hnsw: VectorIndex | None = None
) -> tuple[list[str], VectorIndex]:
    """Exact scan vs HNSW over the engine's vectors on the queries' real embeddings: the
    dense stage's ms (top 100, as the engine asks) and HNSW's recall@10 / @100 vs exact.
    Returns the table lines and the HNSW index (built here, timed, unless given)."""
    assert engine.vectors is not None
    exact = VectorIndex(engine.vectors.model, engine.vectors.keys, engine.vectors.vectors)
    lines = []
    if hnsw is None or hnsw.hnsw is None:
        started = time.perf_counter()
        hnsw = VectorIndex.build(exact.model, exact.keys, np.asarray(exact.vectors), 0)
        label = f"HNSW build (M={HNSW_LINKS}, efC={HNSW_EF_CONSTRUCTION})"
        lines.append(f"  {label:<26} {time.perf_counter() - started:.1f} s")
    vectors = [engine.query_vector(query) for query in queries]
    seconds: list[float] = []
    exact_top = []
    for vector in vectors:
        assert vector is not None
        started = time.perf_counter()
        exact_top.append(exact.search(vector, 100)[0])
        seconds.append(time.perf_counter() - started)
    lines.append(f"  {'dense exact':<26} {percentiles(seconds)}")
    configured = hnsw.ef_search
    for ef in sorted({128, 256, 512, configured}):
        hnsw.ef_search = ef
        seconds, recall10, recall100 = [], [], []
        for vector, expected in zip(vectors, exact_top, strict=True):
            started = time.perf_counter()
            found, _ = hnsw.search(vector, 100)  # type: ignore[arg-type]
            seconds.append(time.perf_counter() - started)
            recall10.append(len(set(found[:10].tolist()) & set(expected[:10].tolist())) / 10)
            recall100.append(len(set(found.tolist()) & set(expected.tolist())) / 100)
        lines.append(
            f"  {f'dense HNSW ef={ef}':<26} {percentiles(seconds)}  recall vs exact @10 "
            f"{np.mean(recall10):.4f} @100 {np.mean(recall100):.4f}"
        )
    hnsw.ef_search = configured
    return lines, hnsw


def time_peer(store: Store, engine: SearchEngine, queries: list[str]) -> tuple[float, list[float]]:
    from rank_bm25 import BM25Okapi

    started = time.perf_counter()
    texts = [
        tokenize(f"{paper.title} {paper.abstract}")
        for batch in store.iter_papers(0, 5000)
        for paper in batch
    ]
    bm25 = BM25Okapi(texts)
    assert engine.vectors is not None
    matrix = np.asarray(engine.vectors.vectors)
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
                sequences=base.sequences,  # proximity reads the copied paper's text
            )
        )
    replicated.length_totals = {k: v * copies for k, v in lexical.length_totals.items()}
    replicated.indexed_documents = lexical.indexed_documents * copies
    replicated._refresh_global_arrays()
    return replicated


def big_vector_index(
    folder: Path, real: NDArray[np.float32], keys: NDArray[np.int64], exact_limit: int
) -> tuple[VectorIndex, str]:
    """Part 2's vectors (``real`` + noise, seed 4) for ``keys`` in a vector index: loaded
    from ``folder`` when a run before saved one made the same way, else built and saved
    there. Also the build's description (seconds, and whether it was this run's)."""
    made = {
        "count": len(keys),
        "real": len(real),
        "first_key": int(keys[0]),
        "last_key": int(keys[-1]),
        "exact_limit": exact_limit,
        "links": HNSW_LINKS,
        "ef_construction": HNSW_EF_CONSTRUCTION,
    }
    recipe = folder / "recipe.json"
    saved = json.loads(recipe.read_text()) if recipe.exists() else {}
    if saved.get("made") == made:  # only then read the ~3 GB of vectors and graph
        loaded = VectorIndex.load(folder)
        if loaded is not None:
            return loaded, f"{saved['seconds']:.1f} s (saved by an earlier run; loaded)"
    vectors = noisy_copies(real, len(keys), np.random.default_rng(4))
    started = time.perf_counter()
    built = VectorIndex.build("minilm", keys, vectors, exact_limit)
    seconds = time.perf_counter() - started
    built.save(folder)
    recipe.write_text(json.dumps({"made": made, "seconds": seconds}, indent=1))
    return built, f"{seconds:.1f} s (this run; saved to {folder})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="default: $PAPERFEED_HOME")
    parser.add_argument("--build", action="store_true", help="ingest and embed the home first")
    parser.add_argument("--vectors", choices=("real", "noisy"), default="real")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--peer-queries", type=int, default=30)
    parser.add_argument("--scale", type=int, default=1_000_000, help="0 skips part 2")
    parser.add_argument(
        "--big-vectors",
        type=Path,
        default=OUT / "latency_1m_vectors",
        help="where part 2's vector index is saved and reused (same size, seed and vectors)",
    )
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    home = arguments.home or Path(os.environ.get("PAPERFEED_HOME") or OUT / "latency_home")
    # the other PAPERFEED_* settings from the environment apply (e.g. an HNSW variant:
    # PAPERFEED_INDEX_DIR=... PAPERFEED_EXACT_SEARCH_LIMIT=50000)
    settings = Settings.from_environment(
        dict(os.environ) | {"PAPERFEED_HOME": str(home), "PAPERFEED_EMBED_MODEL": "minilm"}
    )
    rows: list[tuple[str, str]] = []
    if arguments.vectors == "noisy":
        store = build_home(settings, rows)
    elif arguments.build:
        machine = Machine.check(arguments)  # the embed time is a figure too
        store = build_real_home(settings, rows)
        for name, value in rows:  # now: a busy machine below would end the run
            print(f"  {name:<26} {value}", flush=True)
        machine.report(sys.stderr)
    else:
        store = open_real_home(settings)
    machine = Machine.check(arguments)
    engine = SearchEngine(store, settings)
    queries = make_queries(store, engine, arguments.queries)
    stages = time_engine(engine, queries, full=True)
    peer_build, peer = time_peer(store, engine, queries[: arguments.peer_queries])
    ours = time_engine(engine, queries[: arguments.peer_queries], full=True)["end-to-end search"]
    lexical_peers = time_lexical_peers(store, engine, queries)
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
    print(f"\n  lexical stage alone, top 10, same tokens, {len(queries)} queries")
    print(f"  {'lexical (ms)':<26} {'p50':>8} {'p95':>8} {'p99':>8}    build")
    for name, build, seconds in lexical_peers:
        print(f"  {name:<26} {percentiles(seconds)} {build:7.1f} s")
    dense_lines, _ = compare_dense(engine, queries)
    print(f"\n  dense stage alone, {len(queries)} queries   (ms)  p50      p95      p99")
    print("\n".join(dense_lines))
    print(f"  peak memory so far: {peak_memory_mb():.0f} MB")

    if arguments.scale:
        assert engine.lexical is not None and engine.vectors is not None
        copies = -(-arguments.scale // engine.lexical.live_count)
        started = time.perf_counter()
        big_lexical = replicate_lexical(engine.lexical, copies, seed=3)
        lexical_seconds = time.perf_counter() - started
        count = big_lexical.live_count
        real = np.asarray(engine.vectors.vectors, dtype=np.float32)
        keys = big_lexical.live_keys()
        big_vectors, vector_build = big_vector_index(
            arguments.big_vectors, real, keys, settings.exact_search_limit
        )
        engine.lexical, engine.vectors = big_lexical, big_vectors
        span = int(keys.max()) + 1
        engine.dates = np.resize(engine.dates, span)
        engine.upvotes = np.resize(engine.upvotes, span)
        big = time_engine(engine, queries, full=False)
        print(
            f"\nPart 2: {count:,} papers ({copies} noisy copies), {len(big_vectors):,} vectors "
            f"({'hnsw' if big_vectors.hnsw is not None else 'exact'})"
        )
        print(f"  {'lexical replicas built':<26} {lexical_seconds:.1f} s")
        print(f"  {'vector index build':<26} {vector_build}")
        print(f"  {'stage (ms)':<26} {'p50':>8} {'p95':>8} {'p99':>8}")
        for stage, values in big.items():
            print(f"  {stage:<26} {percentiles(values)}")
        if big_vectors.hnsw is not None:
            print("\n".join(compare_dense(engine, queries, big_vectors)[0]))
        fetch = np.array(stages["end-to-end search"]) - np.array(stages["rank (all stages)"])
        print(f"  {'+ page fetch & snippets':<26} {percentiles(list(fetch))}  (from part 1)")
        print(f"  peak memory: {peak_memory_mb():.0f} MB")
    machine.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
