"""MaxScore top-k must return exactly what exhaustive BM25F scoring returns."""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from paperfeed.index.lexical import Document, LexicalIndex, best
from paperfeed.index.lexical_topk import top_k
from paperfeed.index.tokenizer import tokenize
from paperfeed.quickstart import BUNDLE

WEIGHTS = {"title": 2.0, "abstract": 1.0, "authors": 1.0, "categories": 0.0}


def _exhaustive(
    index: LexicalIndex,
    terms: list[tuple[str, str | None]],
    limit: int,
    allowed: NDArray[np.bool_] | None,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Score every document, keep the allowed positive ones, sort by (-score, position)."""
    scores = index.score(terms)
    positions = np.flatnonzero(scores > 0)
    if allowed is not None:
        keys = index._keys[positions]
        positions = positions[(keys < len(allowed)) & allowed[np.minimum(keys, len(allowed) - 1)]]
    order = np.lexsort((positions, -scores[positions]))[:limit]
    return index._keys[positions[order]], scores[positions[order]]


@dataclass(frozen=True)
class Paper:
    key: int
    title: str
    abstract: str
    authors: list[str]

    def document(self) -> Document:
        """The fields as ``paperfeed index`` tokenises them (builder.document_of)."""
        return Document(
            self.key,
            {
                "title": tokenize(self.title),
                "abstract": tokenize(self.abstract),
                "authors": tokenize(" ; ".join(self.authors)),
                "categories": [],
            },
        )


@pytest.fixture(scope="module")
def bundled() -> tuple[LexicalIndex, list[Paper]]:
    """The real bundled daily-papers corpus in three segments, some papers re-indexed."""
    papers = []
    with gzip.open(BUNDLE / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        for key, line in enumerate(lines, 1):
            record = json.loads(line)
            authors = [
                str(a.get("name", a)) if isinstance(a, dict) else str(a)
                for a in record.get("authors") or []
            ]
            papers.append(
                Paper(key, record["title"], " ".join(record["abstract"].split()), authors)
            )
    index = LexicalIndex(field_weights=WEIGHTS)
    third = len(papers) // 3
    index.add_documents([p.document() for p in papers[:third]], "a")
    index.add_documents([p.document() for p in papers[third : 2 * third]], "b")
    # the last segment also re-indexes 500 papers of the first: their old copies go dead
    index.add_documents([p.document() for p in papers[2 * third :] + papers[:500]], "c")
    return index, papers


def _queries(papers: list[Paper]) -> list[list[tuple[str, str | None]]]:
    generator = random.Random(3)
    queries: list[list[tuple[str, str | None]]] = []
    for paper in generator.sample(papers, 60):
        title = tokenize(paper.title)
        abstract = tokenize(paper.abstract)
        queries.append([(t, None) for t in title])  # the full title
        queries.append([(t, None) for t in title[:3]])  # a prefix
        if len(abstract) > 20:  # a claim-like run of abstract words, common ones included
            start = generator.randrange(len(abstract) - 12)
            queries.append([(t, None) for t in abstract[start : start + 12]])
    queries.append([("model", None), ("learn", None), ("data", None)])  # all very common
    queries.append([("diffus", None), ("model", None), ("ti_", "title")])
    queries.append([("divers", None), ("languag", "title"), ("model", None)])
    return queries


@pytest.mark.parametrize("limit", [1, 10, 100, 1000])
def test_top_k_equals_exhaustive_scoring_on_the_bundled_corpus(
    bundled: tuple[LexicalIndex, list[Paper]], limit: int
) -> None:
    index, papers = bundled
    read_less = 0
    for terms in _queries(papers):
        stats: dict[str, int] = {}
        keys, scores = top_k(index, terms, limit, stats=stats)
        expected_keys, expected_scores = _exhaustive(index, terms, limit, None)
        np.testing.assert_array_equal(keys, expected_keys)
        np.testing.assert_array_equal(scores, expected_scores)  # bit for bit
        if stats and stats["read"] < stats["terms"]:
            read_less += 1
    # the pruning does happen: for many queries some posting lists were only probed
    assert read_less >= 20


def test_top_k_equals_exhaustive_under_a_filter_mask(
    bundled: tuple[LexicalIndex, list[Paper]],
) -> None:
    index, papers = bundled
    generator = np.random.default_rng(5)
    size = len(papers) + 1
    for density in (0.02, 0.3, 0.9):
        allowed = generator.random(size) < density
        for terms in _queries(papers)[:60]:
            for limit in (10, 1000):
                keys, scores = top_k(index, terms, limit, allowed)
                expected_keys, expected_scores = _exhaustive(index, terms, limit, allowed)
                np.testing.assert_array_equal(keys, expected_keys)
                np.testing.assert_array_equal(scores, expected_scores)
                assert allowed[keys].all()


def test_top_agrees_with_top_k_and_breaks_ties_by_position() -> None:
    index = LexicalIndex(field_weights={"abstract": 1.0})
    # ten identical documents: every score ties, so the lower positions must win
    index.add_documents(
        [Document(key, {"abstract": ["same", "words", f"w{key}"]}) for key in range(1, 11)], "s"
    )
    index.add_documents(
        [Document(key, {"abstract": ["other", "text"]}) for key in range(11, 200)], "t"
    )
    terms: list[tuple[str, str | None]] = [("same", None), ("other", None)]
    keys, _ = index.top(index.score(terms), 3)
    assert keys.tolist() == top_k(index, terms, 3)[0].tolist()
    assert keys.tolist() == [1, 2, 3]


def test_best_keeps_the_lowest_positions_among_ties() -> None:
    positions = np.arange(6, dtype=np.int64)
    scores = np.array([1, 3, 3, 2, 3, 3], np.float32)
    chosen, chosen_scores = best(positions, scores, 3)
    assert chosen.tolist() == [1, 2, 4]
    assert chosen_scores.tolist() == [3, 3, 3]
    assert best(positions, scores, 0)[0].tolist() == []


def test_unknown_terms_and_empty_queries_give_nothing(
    bundled: tuple[LexicalIndex, list[Paper]],
) -> None:
    index, _ = bundled
    assert len(top_k(index, [("zzqxunknown", None)], 10)[0]) == 0
    assert len(top_k(index, [], 10)[0]) == 0


def test_saved_and_loaded_index_gives_the_same_top_k(
    bundled: tuple[LexicalIndex, list[Paper]], tmp_path: Path
) -> None:
    index, papers = bundled
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    for terms in _queries(papers)[:30]:
        np.testing.assert_array_equal(top_k(loaded, terms, 100)[0], top_k(index, terms, 100)[0])
