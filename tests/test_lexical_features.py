"""Coverage and proximity read from the index equal the definitions they replace."""

from __future__ import annotations

import gzip
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from paperfeed.index import lexical_features
from paperfeed.index.lexical import Document, LexicalIndex
from paperfeed.index.term_sequences import SEPARATOR, TermSequences, adjacent_pair_shares
from paperfeed.index.tokenizer import tokenize
from paperfeed.quickstart import BUNDLE
from paperfeed.search.fusion import proximity_share

WEIGHTS = {"title": 2.0, "abstract": 1.0, "authors": 1.0, "categories": 0.0}
Texts = dict[int, tuple[str, str]]


def _document(key: int, title: str, abstract: str, authors: list[str]) -> Document:
    return Document(
        key,
        {
            "title": tokenize(title),
            "abstract": tokenize(abstract),
            "authors": tokenize(" ; ".join(authors)),
            "categories": [],
        },
    )


@pytest.fixture(scope="module")
def bundled() -> tuple[LexicalIndex, Texts]:
    """The bundled real corpus in three segments; 500 papers re-indexed with new text."""
    records = []
    with gzip.open(BUNDLE / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        for key, line in enumerate(lines, 1):
            record = json.loads(line)
            authors = [
                str(a.get("name", a)) if isinstance(a, dict) else str(a)
                for a in record.get("authors") or []
            ]
            records.append((key, record["title"], " ".join(record["abstract"].split()), authors))
    index = LexicalIndex(field_weights=WEIGHTS)
    third = len(records) // 3
    index.add_documents([_document(*r) for r in records[:third]], "a")
    index.add_documents([_document(*r) for r in records[third : 2 * third]], "b")
    # re-indexed papers get their abstract reversed: the live copy is the one that counts
    changed = [(k, t, " ".join(reversed(a.split())), au) for k, t, a, au in records[:500]]
    index.add_documents([_document(*r) for r in records[2 * third :] + changed], "c")
    texts = {key: (title, abstract) for key, title, abstract, _ in records}
    texts.update({key: (title, abstract) for key, title, abstract, _ in changed})
    return index, texts


def _reference_coverage(
    index: LexicalIndex, terms: list[str], keys: NDArray[np.int64]
) -> NDArray[np.float32]:
    """The definition as search computed it before: holders as key sets, ``np.isin``."""
    result = np.zeros(len(keys), np.float64)
    total = max(index.live_count, 1)
    weight_sum = 0.0
    for term in dict.fromkeys(terms):
        holders = index.keys_with(term)
        idf = math.log(1.0 + (total - len(holders) + 0.5) / (len(holders) + 0.5))
        weight_sum += idf
        if len(holders):
            result += idf * np.isin(keys, holders)
    return (result / weight_sum).astype(np.float32)


def _queries(texts: Texts) -> list[list[str]]:
    generator = random.Random(5)
    queries = [["model", "learn", "data"], ["diffus", "model", "unknownterm"], ["zzzz"]]
    for key in generator.sample(sorted(texts), 40):
        title, abstract = texts[key]
        queries.append(tokenize(title)[:4])
        words = tokenize(abstract)
        start = generator.randrange(max(1, len(words) - 8))
        queries.append(words[start : start + 8])
    return queries


def _candidates(texts: Texts, generator: random.Random) -> NDArray[np.int64]:
    keys = generator.sample(sorted(texts), 300) + [10**6, 0]  # and two keys not indexed
    return np.array(keys, np.int64)


def test_coverage_equals_the_key_set_definition(bundled: tuple[LexicalIndex, Texts]) -> None:
    index, texts = bundled
    generator = random.Random(1)
    for terms in _queries(texts):
        keys = _candidates(texts, generator)
        found = lexical_features.coverage(index, terms, keys)
        assert np.array_equal(found, _reference_coverage(index, terms, keys)), terms
        # a search passes the terms it scored (some in one field only): the same shares
        scored = index.query_terms([(term, None) for term in terms[::2]] + [(terms[-1], "title")])
        assert np.array_equal(lexical_features.coverage(index, terms, keys, scored), found)
    assert (found[-2:] == 0).all()


def _reference_proximity(texts: Texts, runs: list[list[str]], key: int) -> float:
    if key not in texts:
        return 0.0
    title, abstract = texts[key]
    return proximity_share(runs, tokenize(title) + ["\0"] + tokenize(abstract))


def test_proximity_equals_the_stored_text_definition(
    bundled: tuple[LexicalIndex, Texts], tmp_path: Path
) -> None:
    index, texts = bundled
    generator = random.Random(2)
    runs_of_queries = [[query[:3], query[3:]] for query in _queries(texts)]
    for runs in runs_of_queries:
        keys = _candidates(texts, generator)
        expected = [_reference_proximity(texts, runs, key) for key in keys.tolist()]
        found = lexical_features.proximity(index, runs, keys)
        assert found is not None
        assert np.allclose(found, expected, atol=1e-7), runs
    # some query pair is found somewhere: the test can fail
    title_runs = [tokenize(texts[7][0])]
    assert lexical_features.proximity(index, title_runs, np.array([7]))[0] == 1.0  # type: ignore[index]

    # the same after a merge (dead copies dropped) and after save + load (memory-mapped)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    loaded.merge_segments("merged")
    loaded.save(tmp_path)
    for candidate in (LexicalIndex.load(tmp_path), loaded):
        assert len(candidate.segments) == 1
        for runs in runs_of_queries[:20]:
            keys = _candidates(texts, generator)
            expected = [_reference_proximity(texts, runs, key) for key in keys.tolist()]
            found = lexical_features.proximity(candidate, runs, keys)
            assert found is not None
            assert np.allclose(found, expected, atol=1e-7)


def test_a_segment_without_sequences_says_so(tmp_path: Path) -> None:
    index = LexicalIndex(field_weights=WEIGHTS)
    index.add_documents([_document(1, "Graph neural networks", "graph neural nets", [])], "a")
    index.save(tmp_path)
    for path in tmp_path.glob("a/sequences.*"):
        path.unlink()  # as format 1 wrote it
    old = LexicalIndex.load(tmp_path)
    assert not old.has_sequences
    assert lexical_features.proximity(old, [["graph", "neural"]], np.array([1])) is None
    assert lexical_features.proximity(index, [["graph", "neural"]], np.array([1])).tolist() == [1.0]  # type: ignore[union-attr]


def test_sequences_interleave_titles_and_abstracts() -> None:
    sequences = TermSequences.from_fields(
        np.array([1, 2, 3]),
        np.array([2, 0, 1], np.int32),
        np.array([7, 8, 9]),
        np.array([1, 2, 0], np.int32),
    )
    assert [sequences.sequence(row).tolist() for row in range(3)] == [
        [1, 2, SEPARATOR, 7],
        [SEPARATOR, 8, 9],
        [3, SEPARATOR],
    ]
    picked = TermSequences.concatenate(
        [sequences.rows(np.array([2, 0])), sequences.rows(np.array([1]))]
    )
    assert [picked.sequence(row).tolist() for row in range(3)] == [
        [3, SEPARATOR],
        [1, 2, SEPARATOR, 7],
        [SEPARATOR, 8, 9],
    ]


def test_pairs_never_span_a_separator_or_two_papers() -> None:
    sequences = TermSequences.from_fields(
        np.array([1, 3, 4, 1]),
        np.array([1, 1, 2], np.int32),
        np.array([2, 2]),
        np.array([1, 0, 1], np.int32),
    )
    terms, lengths = sequences.gather(np.array([0, 1, 2]))
    assert terms.tolist() == [
        1,
        SEPARATOR,
        2,
        SEPARATOR,
        3,
        SEPARATOR,
        SEPARATOR,
        4,
        1,
        SEPARATOR,
        2,
        SEPARATOR,
    ]
    owners = np.repeat(np.arange(3), lengths)
    # (1, 2) spans the title/abstract break in the first; (3, 4) would span two papers
    shares = adjacent_pair_shares(
        terms, owners, 3, np.array([[1, 2], [3, 4], [4, 1]]), pair_count=4
    )
    assert shares.tolist() == pytest.approx([0.0, 0.0, 1 / 4])
