"""Search quality: every ranking on every kind of query, plus the relevance floor.

Query sets (bench/query_sets.py; seeded, split into train and test by paper id):

1. BEIR SciFact: natural-language claims, nDCG@10 and Recall@100 (test: 300 queries,
   train: 809, the tuning data).
2. Keyword lists on the bundled daily-papers corpus (9,877 papers with vectors): 2-4
   technical terms or noun phrases from a paper's abstract, as an author lists them;
   the paper must come back. MRR@10 and Success@10.
3. Known-item: the three rarest title words, and the full title.
4. Keyword lists over all ~89k shared papers (``--full``), lexical side only; with
   ``--full-home`` (a home where every shared paper is embedded: bench/latency.py
   --build) every ranking, dense included, on real vectors.
5. Similar papers: for a paper, the others sharing two or more of its authors count as
   relevant; nDCG@10 and Success@10 of ``similar`` under each fusion.
6. The relevance floor: the best cosine of nonsense queries against real keyword queries.

Run:  python bench/quality.py [--sweep] [--full] [--sample 1000]
It builds throw-away paperfeed homes under bench/out/ (re-used when present); SciFact's
vectors come from ``python bench/embedders.py --models minilm --save-vectors
bench/out/scifact_minilm``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from _machine import Machine, add_machine_arguments
from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.index.vectors import VectorIndex
from paperfeed.models import StoredPaper
from paperfeed.quickstart import load_bundled_corpus
from paperfeed.search.engine import SearchEngine
from paperfeed.search.evaluation import load_beir, ndcg_at
from paperfeed.search.fusion import Candidates, FusionWeights, fuse
from paperfeed.search.query import parse_query
from paperfeed.search.ranking import floored_order, fused_scores, with_feedback
from paperfeed.store import Store
from paperfeed.store.embedding_rows import save_embeddings
from paperfeed.store.loading import ingest_sources
from query_sets import (
    Case,
    coauthor_cases,
    keyword_queries,
    known_item_queries,
    nonsense_queries,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"
SCIFACT = SHARED / "eval" / "beir_scifact"
DEFAULT = FusionWeights()
CACHE_VERSION = 2  # bump when the candidates' features change
REUSE = [False]  # --reuse: read candidates gathered by an earlier run

# A ranking: its name and how it orders one query's candidates (positions into keys),
# given the vectors of the corpus (for dense feedback).
Ranker = Callable[[Candidates, VectorIndex | None], NDArray[np.int64]]


def _fused(method: str, weights: FusionWeights | None = None, dense: float = 0.3) -> Ranker:
    def order(found: Candidates, vectors: VectorIndex | None) -> NDArray[np.int64]:
        scores = fused_scores(found, vectors, method, weights, dense)
        return floored_order(found, scores, MIN_SIMILARITY[0])

    return order


MIN_SIMILARITY = [Settings.from_environment({"PAPERFEED_HOME": "/nonexistent"}).min_similarity]
RANKINGS: list[tuple[str, Ranker]] = [
    ("BM25F only", lambda found, _: found.lexical_order),
    ("dense only", lambda found, _: found.dense_order),
    ("RRF (k=60)", _fused("rrf", dense=0.5)),
    ("weighted min-max 0.3 (old)", _fused("weighted", dense=0.3)),
    (
        "calibrated, scores only",
        _fused("calibrated", replace(DEFAULT, coverage=0, proximity=0, feedback_weight=0)),
    ),
    ("calibrated, no feedback", _fused("calibrated", replace(DEFAULT, feedback_weight=0))),
    ("calibrated *", _fused("calibrated", DEFAULT)),
]
LEXICAL_RANKINGS = [
    ("BM25F only", RANKINGS[0][1]),
    ("BM25F + coverage + proximity *", _fused("calibrated", DEFAULT)),
]


# PAPERFEED_EXACT_SEARCH_LIMIT / PAPERFEED_HNSW_EF_SEARCH from the environment: compare
# the dense side's exact scan with HNSW (each limit gets its own homes under bench/out).
_PASSED_THROUGH = ("PAPERFEED_EXACT_SEARCH_LIMIT", "PAPERFEED_HNSW_EF_SEARCH")


@dataclass
class Prepared:
    """One query set's cases with their candidates, gathered once, fused many ways."""

    name: str
    metric: str  # "mrr" or "ndcg"
    cases: list[Case]
    candidates: list[Candidates]
    relevant: list[NDArray[np.bool_]]  # which candidates are targets, for each case
    vectors: VectorIndex | None


def _settings(home: Path, model: str) -> Settings:
    passed = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
    if "PAPERFEED_EXACT_SEARCH_LIMIT" in passed:
        home = home.with_name(f"{home.name}_exact{passed['PAPERFEED_EXACT_SEARCH_LIMIT']}")
    return Settings.from_environment(
        {"PAPERFEED_HOME": str(home), "PAPERFEED_EMBED_MODEL": model} | passed
    )


FIELDS = ("keys", "lexical", "cosine", "coverage", "proximity", "lexical_order", "dense_order")


def _cache_path(name: str, cases: list[Case], use_dense: bool, home: Path) -> Path:
    """Where the candidates of ``cases`` on the home ``home`` are kept: a home of other
    vectors (``--scifact-vectors``) gets its own file."""
    digest = hashlib.sha256(
        json.dumps([CACHE_VERSION, use_dense, home.name] + [c.text for c in cases]).encode()
    ).hexdigest()[:16]
    return OUT / "candidates" / f"{name.replace(' ', '_').replace(',', '')}-{digest}.npz"


def _save(path: Path, found_all: list[Candidates], relevant: list[NDArray[np.bool_]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, NDArray[np.generic]] = {}
    for field in FIELDS:
        arrays[field] = np.concatenate([getattr(found, field) for found in found_all])
        arrays[field + "_sizes"] = np.array([len(getattr(f, field)) for f in found_all])
    arrays["relevant"] = np.concatenate(relevant)
    arrays["terms"] = np.array([found.terms for found in found_all])
    arrays["prose"] = np.array([found.prose for found in found_all])
    dimension = next((len(f.query_vector) for f in found_all if f.query_vector is not None), 0)
    arrays["query_vectors"] = np.array(
        [
            f.query_vector if f.query_vector is not None else np.full(dimension, np.nan)
            for f in found_all
        ],
        np.float32,
    ).reshape(len(found_all), dimension)
    np.savez(path, **arrays)  # plain arrays, no pickle


def _load(path: Path) -> tuple[list[Candidates], list[NDArray[np.bool_]]]:
    data = np.load(path)
    parts = {
        field: np.split(data[field], np.cumsum(data[field + "_sizes"])[:-1]) for field in FIELDS
    }
    relevant = np.split(data["relevant"], np.cumsum(data["keys_sizes"])[:-1])
    found_all = []
    for index in range(len(data["terms"])):
        vector = data["query_vectors"][index] if data["query_vectors"].shape[1] else None
        found_all.append(
            Candidates(
                **{field: parts[field][index] for field in FIELDS},
                terms=int(data["terms"][index]),
                prose=bool(data["prose"][index]),
                query_vector=None if vector is None or np.isnan(vector).any() else vector,
            )
        )
    return found_all, relevant


def prepare(
    engine: SearchEngine, name: str, metric: str, cases: list[Case], use_dense: bool = True
) -> Prepared:
    """Gather every case's candidates (or read them back from bench/out/candidates)."""
    path = _cache_path(name, cases, use_dense, engine.settings.home)
    vectors = engine.vectors if use_dense else None
    if REUSE[0] and path.exists():
        found_all, relevant = _load(path)
        return Prepared(name, metric, cases, found_all, relevant, vectors)
    found_all, relevant = [], []
    for case in tqdm(cases, desc=name, leave=False):
        found, _, _ = engine.candidates(parse_query(case.text), use_dense=use_dense)
        papers = engine.store.get_papers(found.keys.tolist())
        ids = [papers[key].arxiv_id if key in papers else "" for key in found.keys.tolist()]
        found_all.append(found)
        relevant.append(np.array([doc in case.targets for doc in ids], np.bool_))
    _save(path, found_all, relevant)
    return Prepared(name, metric, cases, found_all, relevant, vectors)


_DISCOUNT = 1.0 / np.log2(np.arange(2, 102))


def score(prepared: Prepared, ranker: Ranker, split: str | None = None) -> tuple[float, float]:
    """(MRR@10, Success@10) or (nDCG@10, Recall@100) of ``ranker`` over the set."""
    first, second = [], []
    for case, found, relevant in zip(
        prepared.cases, prepared.candidates, prepared.relevant, strict=True
    ):
        if split is not None and case.split != split:
            continue
        hits = relevant[ranker(found, prepared.vectors)[:100]]
        if prepared.metric == "ndcg":  # binary gains (SciFact's judgments are all 1)
            ideal = _DISCOUNT[: min(len(case.targets), 10)].sum()
            first.append(float((hits[:10] * _DISCOUNT[: len(hits[:10])]).sum() / ideal))
            second.append(float(hits.sum()) / len(case.targets))
        else:
            top = np.flatnonzero(hits[:10])
            first.append(1.0 / (top[0] + 1) if len(top) else 0.0)
            second.append(1.0 if len(top) else 0.0)
    return (float(np.mean(first)), float(np.mean(second))) if first else (0.0, 0.0)


def table(
    sets: Sequence[tuple[Prepared, str | None]], rankings: Sequence[tuple[str, Ranker]]
) -> None:
    print(f"{'ranking':<31} {'query set':<40} {'metric':<15} {'value':>7} {'2nd':>7}")
    for (prepared, split), (name, ranker) in itertools.product(sets, rankings):
        first, second = score(prepared, ranker, split)
        label = f"{prepared.name}" + (f" [{split}]" if split else "")
        count = sum(1 for case in prepared.cases if split is None or case.split == split)
        metric = "nDCG@10 / R@100" if prepared.metric == "ndcg" else "MRR@10 / S@10"
        print(f"{name:<31} {label + f' (n={count})':<40} {metric:<15} {first:>7.4f} {second:>7.4f}")


# -- the homes ---------------------------------------------------------------------


def build_scifact(model: str, vectors_folder: Path) -> SearchEngine:
    """A paperfeed home holding the SciFact corpus and its vectors: one home for each
    vectors file (re-used while that file is unchanged), so that other vectors
    (``--scifact-vectors``, e.g. from another token window) are not ranked as the first."""
    vectors_file = vectors_folder / "vectors.npy"
    vectors_digest = (
        hashlib.sha256(vectors_file.read_bytes()).hexdigest()[:12]
        if vectors_file.exists()
        else "no_vectors"
    )
    home = OUT / f"scifact_home_{model.replace(':', '_')}_{vectors_digest}"
    settings = _settings(home, model)
    store = Store(settings.database_url)
    if store.count_papers() == 0:
        papers = load_beir(SCIFACT).papers
        for start in range(0, len(papers), 1000):
            store.upsert_papers(papers[start : start + 1000])
        if (vectors_folder / "vectors.npy").exists():
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
    update_index(store, settings, embed=False, show_progress=False)
    return SearchEngine(store, settings)


def scifact_cases(split: str) -> list[Case]:
    dataset = load_beir(SCIFACT, split)
    return [
        Case("claim", dataset.queries[query_id], frozenset(relevant), split)
        for query_id, relevant in dataset.judgments.items()
    ]


def dense_search_label(engine: SearchEngine) -> str:
    """How the engine's dense side searches: exact, or HNSW with its ef_search."""
    vectors = engine.vectors
    if vectors is None or vectors.hnsw is None:
        return "exact"
    return f"HNSW ef={engine.settings.hnsw_ef_search}"


def all_papers(store: Store) -> dict[int, StoredPaper]:
    return {paper.key: paper for batch in store.iter_papers() for paper in batch}


def full_corpus_engine(home: Path | None = None) -> SearchEngine:
    """Every shared paper (arXiv listings + the daily-papers archive): lexical only in a
    throw-away home, or the given ``home`` with every paper embedded (its vectors; the
    exact/HNSW settings from the environment apply)."""
    if home is not None:
        # PAPERFEED_INDEX_DIR too: an index folder of its own for an HNSW variant
        names = (*_PASSED_THROUGH, "PAPERFEED_INDEX_DIR")
        passed = {key: os.environ[key] for key in names if key in os.environ}
        settings = Settings.from_environment({"PAPERFEED_HOME": str(home)} | passed)
        store = Store(settings.database_url)
        if not store.count_papers():
            raise SystemExit(f"{home}: no papers; build it with bench/latency.py --build")
        update_index(store, settings, embed=False, show_progress=False)
        return SearchEngine(store, settings)
    settings = _settings(OUT / "full_home", "minilm")
    store = Store(settings.database_url)
    if store.count_papers() == 0:
        sources = sorted((SHARED / "arxiv").glob("*.jsonl.gz"))
        sources.append(SHARED / "hf_daily_papers" / "papers.jsonl.gz")
        ingest_sources(store, sources, show_progress=False)
    update_index(store, settings, embed=False, show_progress=False)
    return SearchEngine(store, settings)


# -- the sweep ------------------------------------------------------------------------


def sweep(train_sets: Sequence[Prepared]) -> FusionWeights:
    """Grid over the calibrated weights on the train splits; the best mean wins.

    Feedback is computed once per set from the default first pass (the engine feeds back
    from the first pass of the weights in use; the tables use the engine's way)."""
    grid = [
        FusionWeights(short, long, short_terms, long_terms, coverage, proximity, 3, feedback)
        for short in (0.0, 0.05, 0.1)
        for long in (0.5, 0.6, 0.7, 0.8, 0.9)
        for short_terms, long_terms in ((3, 8), (4, 10))
        for coverage in (0.2, 0.3, 0.5)
        for proximity in (0.2, 0.3, 0.5)
        for feedback in (0.0, 0.25, 0.5, 0.75)
    ]
    # (id of the candidates, feedback weight) -> the candidates with fed-back cosines
    moved: dict[tuple[int, float], Candidates] = {}
    first_pass = replace(DEFAULT, feedback_weight=0)
    for prepared in train_sets:
        for case, found in zip(prepared.cases, prepared.candidates, strict=True):
            if case.split != "train":
                continue
            first = fuse(found, "calibrated", first_pass)
            for feedback in {weights.feedback_weight for weights in grid}:
                moved[(id(found), feedback)] = with_feedback(
                    found, first, prepared.vectors, 3, feedback
                )

    def ranker_for(weights: FusionWeights) -> Ranker:
        def order(found: Candidates, _: VectorIndex | None) -> NDArray[np.int64]:
            scores = fuse(moved[(id(found), weights.feedback_weight)], "calibrated", weights)
            return floored_order(found, scores, MIN_SIMILARITY[0])

        return order

    header = " ".join(f"{prepared.name[:18]:>18}" for prepared in train_sets)
    print(f"{'dense short/long, terms, cov, prox, fb':<38} {header} {'mean':>7}")
    results = []
    for weights in tqdm(grid, desc="sweep", leave=False):
        values = [score(p, ranker_for(weights), "train")[0] for p in train_sets]
        results.append((float(np.mean(values)), weights, values))
    results.sort(key=lambda item: -item[0])
    for mean, weights, values in results[:25] + [item for item in results if item[1] == DEFAULT]:
        label = (
            f"{weights.dense_short:.2f}/{weights.dense_long:.2f}, "
            f"{weights.short_terms}-{weights.long_terms}, {weights.coverage:.2f}, "
            f"{weights.proximity:.2f}, {weights.feedback_weight:.2f}"
            + (" *" if weights == DEFAULT else "")
        )
        print(f"{label:<38} " + " ".join(f"{v:>18.4f}" for v in values) + f" {mean:>7.4f}")
    print(f"({len(grid)} settings; the 25 best and the default shown)")
    return results[0][1]


def floor_report(engine: SearchEngine, keyword: Prepared) -> None:
    """Best cosine of nonsense queries vs. real keyword queries (the floor's calibration)."""
    nonsense = []
    lexical_hits = 0
    for text in nonsense_queries(300):
        found, _, _ = engine.candidates(parse_query(text))
        if (found.lexical > 0).any():
            lexical_hits += 1
        if len(found.cosine) and not np.isnan(found.cosine).all():
            nonsense.append(float(np.nanmax(found.cosine)))
    real = [
        float(np.nanmax(found.cosine))
        for found in keyword.candidates
        if len(found.cosine) and not np.isnan(found.cosine).all()
    ]
    percentiles = (1, 5, 50, 95, 99)
    print(f"{'queries':<40} " + " ".join(f"{f'p{p}':>6}" for p in percentiles) + f" {'max':>6}")
    for label, values in (
        ("nonsense (n=300), best cosine", nonsense),
        (f"keyword lists (n={len(real)}), best cosine", real),
    ):
        cells = " ".join(f"{np.percentile(values, p):>6.3f}" for p in percentiles)
        print(f"{label:<40} {cells} {max(values):>6.3f}")
    floor = MIN_SIMILARITY[0]
    print(
        f"floor {floor:.2f}: nonsense queries above it {np.mean(np.array(nonsense) >= floor):.1%}, "
        f"keyword queries below it {np.mean(np.array(real) < floor):.1%}; "
        f"nonsense queries with some lexical match: {lexical_hits}/300"
    )


def similar_report(engine: SearchEngine, cases: list[Case]) -> None:
    rows: list[tuple[str, str | None, bool]] = [
        ("dense only (old similar)", "dense", True),
        ("lexical only", "lexical", True),
        ("RRF (old similar_to_text)", "rrf", True),
        ("calibrated *", None, True),
    ]
    print(f"{'ranking':<31} {'query set':<40} {'nDCG@10':>7} {'S@10':>7}")
    for name, method, _ in rows:  # the similar-paper path of the engine, as the site calls it
        ndcg, success = [], []
        for case in tqdm(cases, desc=name, leave=False):
            paper = engine.store.get_paper(case.text)
            assert paper is not None and engine.vectors is not None
            vector = engine.vectors.vector_of(paper.key)
            text = f"{paper.title} {paper.abstract}"
            if method == "dense":
                hits = engine.similar_ranked(text, vector, 10, paper.key, use_lexical=False)
            elif method == "lexical":
                hits = engine.similar_ranked(text, None, 10, paper.key)
            else:
                hits = engine.similar_ranked(text, vector, 10, paper.key, fusion=method)
            ranked = [hit.paper.arxiv_id for hit in hits]
            ndcg.append(ndcg_at(ranked, dict.fromkeys(case.targets, 1)))
            success.append(any(doc in case.targets for doc in ranked))
        label = f"co-authored papers (n={len(cases)})"
        print(f"{name:<31} {label:<40} {np.mean(ndcg):>7.4f} {np.mean(success):>7.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--scifact-vectors", type=Path, default=OUT / "scifact_minilm")
    parser.add_argument("--sample", type=int, default=1000, help="keyword queries per corpus")
    parser.add_argument("--known-items", type=int, default=300, help="known-item papers")
    parser.add_argument("--similar", type=int, default=300, help="similar-paper cases")
    parser.add_argument("--skip-scifact", action="store_true", help="the bundled corpus only")
    parser.add_argument("--scifact-limit", type=int, default=0, help="first N queries (smoke)")
    parser.add_argument("--sweep", action="store_true", help="grid over the fusion weights")
    parser.add_argument("--full", action="store_true", help="also the ~89k shared papers")
    parser.add_argument(
        "--full-home",
        type=Path,
        default=None,
        help="with --full: a home with every shared paper embedded (bench/latency.py --build)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="read the candidates an earlier run gathered (bench/out/candidates) instead of "
        "searching again; only for tuning the fusion on unchanged features",
    )
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    REUSE[0] = arguments.reuse
    machine = Machine.check(arguments)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.time()
    print(f"load average before: {os.getloadavg()}")

    scifact_sets: list[Prepared] = []
    if not arguments.skip_scifact:
        scifact = build_scifact(arguments.model, arguments.scifact_vectors)
        limit = arguments.scifact_limit or None
        scifact_sets = [
            prepare(scifact, "SciFact", "ndcg", scifact_cases(split)[:limit])
            for split in ("test", "train")
        ]
        print(f"{len(scifact.vectors or ())} SciFact vectors")

    settings = _settings(OUT / f"daily_home_{arguments.model.replace(':', '_')}", arguments.model)
    store = Store(settings.database_url)
    load_bundled_corpus(store, settings, show_progress=False)
    daily = SearchEngine(store, settings)
    assert daily.lexical is not None
    papers = all_papers(store)
    keywords = prepare(
        daily,
        "keyword lists, bundled",
        "mrr",
        keyword_queries(papers, arguments.sample),
    )
    known = known_item_queries(papers, daily.lexical, arguments.known_items)
    rare = prepare(daily, "3 rare title words", "mrr", [c for c in known if c.kind[0] == "3"])
    titles = prepare(daily, "full title", "mrr", [c for c in known if c.kind[0] == "f"])
    print(f"\n{store.count_papers()} bundled papers")
    print("keyword query examples:")
    for case in keywords.cases[:6]:
        print(f"  {case.text!r} -> {next(iter(case.targets))}")

    if arguments.sweep:
        print("\n## sweep of calibrated fusion, train splits only")
        sweep([keywords] + scifact_sets[1:])

    print("\n## every ranking, test splits (and the whole known-item sets)")
    table(
        [
            *[(prepared, None) for prepared in scifact_sets],
            (keywords, "test"),
            (keywords, "train"),
            (rare, None),
            (titles, None),
        ],
        RANKINGS,
    )
    if arguments.full:
        embedded = arguments.full_home is not None
        full = full_corpus_engine(arguments.full_home)
        assert full.lexical is not None
        dense_label = f"dense {dense_search_label(full)}" if embedded else "lexical only"
        full_keywords = prepare(
            full,
            f"keyword lists, all shared, {dense_label}",
            "mrr",
            keyword_queries(all_papers(full.store), arguments.sample),
            use_dense=embedded,
        )
        print(f"\n## all {full.store.count_papers()} shared papers, {dense_label}")
        rankings = RANKINGS if embedded else LEXICAL_RANKINGS
        table([(full_keywords, "test"), (full_keywords, "train")], rankings)

    print("\n## similar papers (bundled corpus)")
    similar_report(daily, coauthor_cases(papers, arguments.similar))
    print("\n## relevance floor (bundled corpus)")
    floor_report(daily, keywords)
    print(f"\n({time.time() - started:.0f}s; load average after: {os.getloadavg()})")
    machine.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
