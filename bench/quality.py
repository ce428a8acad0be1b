"""Search quality: BM25 only, dense only and hybrid, on two kinds of query.

1. BEIR SciFact (natural-language claims, 300 test queries with relevance judgments):
   nDCG@10 and Recall@100, the standard BEIR protocol.
2. Known-item search on the bundled daily-papers corpus (short technical queries): for
   a seeded sample of papers, a query made of a few of the title's rarest words, and a
   query made of the title itself; the paper must come back. Reports MRR@10 and
   Success@10 (found in the top 10).

Run:  python bench/quality.py [--scifact-vectors bench/out/scifact_minilm] [--sample 300]
It builds throw-away paperfeed homes under bench/out/ (re-used when present).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from _machine import Machine, add_machine_arguments
from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.index.tokenizer import tokenize
from paperfeed.quickstart import load_bundled_corpus
from paperfeed.search.engine import SearchEngine
from paperfeed.search.evaluation import load_beir, ndcg_at, recall_at
from paperfeed.search.query import parse_query
from paperfeed.store import Store
from paperfeed.store.embedding_rows import save_embeddings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"
SCIFACT = SHARED / "eval" / "beir_scifact"
# (name, lexical side, dense side, fusion, dense weight)
MODES: list[tuple[str, bool, bool, str, float | None]] = [
    ("BM25 only", True, False, "rrf", None),
    ("dense only", False, True, "rrf", None),
    ("hybrid RRF (k=60)", True, True, "rrf", 0.5),
    ("hybrid weighted (0.5)", True, True, "weighted", 0.5),
    ("hybrid weighted (0.3) *", True, True, "weighted", 0.3),
]
SWEEP = [
    (f"{fusion} w={weight}", True, True, fusion, weight)
    for fusion in ("rrf", "weighted")
    for weight in (0.3, 0.4, 0.5, 0.6, 0.7)
]


# PAPERFEED_EXACT_SEARCH_LIMIT / PAPERFEED_HNSW_EF_SEARCH from the environment: compare
# the dense side's exact scan with HNSW (each limit gets its own homes under bench/out).
_PASSED_THROUGH = ("PAPERFEED_EXACT_SEARCH_LIMIT", "PAPERFEED_HNSW_EF_SEARCH")


def _settings(home: Path, model: str) -> Settings:
    passed = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
    if "PAPERFEED_EXACT_SEARCH_LIMIT" in passed:
        home = home.with_name(f"{home.name}_exact{passed['PAPERFEED_EXACT_SEARCH_LIMIT']}")
    return Settings.from_environment(
        {"PAPERFEED_HOME": str(home), "PAPERFEED_EMBED_MODEL": model} | passed
    )


def build_scifact(model: str, vectors_folder: Path | None) -> SearchEngine:
    """A paperfeed home holding the SciFact corpus and its vectors."""
    home = OUT / f"scifact_home_{model.replace(':', '_')}"
    settings = _settings(home, model)
    store = Store(settings.database_url)
    if store.count_papers() == 0:
        papers = load_beir(SCIFACT).papers
        for start in range(0, len(papers), 1000):
            store.upsert_papers(papers[start : start + 1000])
        if vectors_folder is not None and (vectors_folder / "vectors.npy").exists():
            ids = json.loads((vectors_folder / "ids.json").read_text())
            vectors = np.load(vectors_folder / "vectors.npy")
            keys, hashes, rows = [], [], []
            for row, doc_id in enumerate(ids):
                paper = store.get_paper(str(doc_id))
                if paper is not None:
                    keys.append(paper.key)
                    hashes.append(paper.content_hash)
                    rows.append(row)
            save_embeddings(store, model, keys, hashes, vectors[rows])
    update_index(store, settings)
    return SearchEngine(store, settings)


def evaluate_scifact(
    engine: SearchEngine, modes: list[tuple[str, bool, bool, str, float | None]], split: str
) -> list[tuple[str, float, float]]:
    dataset = load_beir(SCIFACT, split)
    rows = []
    for name, lexical, dense, fusion, weight in modes:
        ndcg, recall = [], []
        for query_id, relevant in tqdm(dataset.judgments.items(), desc=name, leave=False):
            query = parse_query(dataset.queries[query_id])
            ranking = engine.rank(query, [], lexical, dense, fusion, weight)
            papers = engine.store.get_papers(ranking.keys[:100])
            ranked = [papers[key].arxiv_id for key in ranking.keys[:100] if key in papers]
            ndcg.append(ndcg_at(ranked, relevant))
            recall.append(recall_at(ranked, relevant))
        rows.append((name, float(np.mean(ndcg)), float(np.mean(recall))))
    return rows


def known_item_queries(
    engine: SearchEngine, sample: int, seed: int = 7
) -> list[tuple[str, str, str]]:
    """(kind, query, arxiv id): rare title words, and the full title, of sampled papers."""
    lexical = engine.lexical
    assert lexical is not None
    keys = lexical.live_keys().tolist()
    random.Random(seed).shuffle(keys)
    papers = engine.store.get_papers(keys[: sample * 2])
    queries = []
    for key in keys[: sample * 2]:
        paper = papers.get(key)
        if paper is None or not paper.title:
            continue
        words = [word for word in paper.title.replace(":", " ").split() if tokenize(word)]
        # rarest three words of the title, by document frequency
        words.sort(key=lambda word: len(lexical.keys_with(tokenize(word)[0])))
        if len(words) < 3:
            continue
        queries.append(("3 rare title words", " ".join(words[:3]), paper.arxiv_id))
        queries.append(("full title", paper.title.replace('"', ""), paper.arxiv_id))
        if len(queries) >= sample * 2:
            break
    return queries


def evaluate_known_items(
    engine: SearchEngine, sample: int, modes: list[tuple[str, bool, bool, str, float | None]]
) -> list[tuple[str, str, float, float]]:
    queries = known_item_queries(engine, sample)
    rows = []
    for name, lexical, dense, fusion, weight in modes:
        by_kind: dict[str, list[int | None]] = {}
        for kind, text, arxiv_id in tqdm(queries, desc=f"known-item {name}", leave=False):
            ranking = engine.rank(parse_query(text), [], lexical, dense, fusion, weight)
            top = engine.store.get_papers(ranking.keys[:10])
            ranked = [top[key].arxiv_id for key in ranking.keys[:10] if key in top]
            rank = ranked.index(arxiv_id) + 1 if arxiv_id in ranked else None
            by_kind.setdefault(kind, []).append(rank)
        for kind, ranks in by_kind.items():
            mrr = float(np.mean([1 / rank if rank else 0.0 for rank in ranks]))
            success = float(np.mean([rank is not None for rank in ranks]))
            rows.append((name, f"{kind} (n={len(ranks)})", mrr, success))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--scifact-vectors", type=Path, default=OUT / "scifact_minilm")
    parser.add_argument("--sample", type=int, default=300, help="known-item papers")
    parser.add_argument("--skip-scifact", action="store_true")
    parser.add_argument("--skip-known-item", action="store_true")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also sweep fusion method and dense weight on SciFact's train split (809 "
        "queries, not the test split) and on the known-item queries",
    )
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.time()
    if not arguments.skip_scifact:
        engine = build_scifact(arguments.model, arguments.scifact_vectors)
        print(f"\nBEIR SciFact, 300 test queries, model {arguments.model}")
        print(f"{'ranking':<24} {'nDCG@10':>8} {'R@100':>8}")
        for name, ndcg, recall in evaluate_scifact(engine, MODES, "test"):
            print(f"{name:<24} {ndcg:>8.4f} {recall:>8.4f}")
        if arguments.sweep:
            print("\nfusion sweep, SciFact train split (tuning data)")
            for name, ndcg, recall in evaluate_scifact(engine, SWEEP, "train"):
                print(f"{name:<24} {ndcg:>8.4f} {recall:>8.4f}")
    if not arguments.skip_known_item:
        home = OUT / f"daily_home_{arguments.model.replace(':', '_')}"
        settings = _settings(home, arguments.model)
        store = Store(settings.database_url)
        load_bundled_corpus(store, settings)
        engine = SearchEngine(store, settings)
        count = store.count_papers()
        print(f"\nKnown-item search on the bundled daily-papers corpus ({count} papers)")
        print(f"{'ranking':<24} {'queries':<30} {'MRR@10':>8} {'S@10':>8}")
        modes = MODES + SWEEP if arguments.sweep else MODES
        for name, kind, mrr, success in evaluate_known_items(engine, arguments.sample, modes):
            print(f"{name:<24} {kind:<30} {mrr:>8.4f} {success:>8.4f}")
    print(f"\n({time.time() - started:.0f}s)")
    machine.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
