"""Retrieval metrics and the BEIR data layout, shared by bench/quality.py and the tests."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from paperfeed.models import Paper


@dataclass
class BeirDataset:
    """A BEIR-format collection: documents, queries and graded relevance judgments."""

    papers: list[Paper]
    queries: dict[str, str]
    judgments: dict[str, dict[str, int]]


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    """Read ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv`` from ``folder``."""
    papers = []
    with open(folder / "corpus.jsonl") as handle:
        for line in handle:
            record = json.loads(line)
            papers.append(
                Paper(str(record["_id"]), title=record.get("title"), abstract=record.get("text"))
            )
    queries = {}
    with open(folder / "queries.jsonl") as handle:
        for line in handle:
            record = json.loads(line)
            queries[str(record["_id"])] = record["text"]
    judgments: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / f"{split}.tsv") as handle:
        next(handle)  # header: query-id corpus-id score
        for line in handle:
            query_id, doc_id, score = line.split()
            if int(score) > 0:
                judgments.setdefault(query_id, {})[doc_id] = int(score)
    return BeirDataset(papers, queries, judgments)


def ndcg_at(ranked: list[str], relevant: dict[str, int], depth: int = 10) -> float:
    """nDCG@depth with linear gains, rel / log2(rank + 1) (Järvelin & Kekäläinen 2002),
    as computed by pytrec_eval for BEIR."""
    gain = sum(
        relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:depth])
    )
    ideal = sorted(relevant.values(), reverse=True)[:depth]
    best = sum(value / math.log2(rank + 2) for rank, value in enumerate(ideal))
    return gain / best if best else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], depth: int = 100) -> float:
    """Share of the relevant documents found in the first ``depth``."""
    if not relevant:
        return 0.0
    top = set(ranked[:depth])
    return sum(1 for doc in relevant if doc in top) / len(relevant)
