"""The float16 shortlist of an exact search (paperfeed.index.half_precision): the answer
is the exact scan's, with or without filters, from the second search on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import faiss
import numpy as np
import pytest
from numpy.typing import NDArray

from paperfeed.index.half_precision import MIN_ROWS
from paperfeed.index.vectors import VectorIndex, inner_products

ROWS = 3 * MIN_ROWS
DIMENSION = 64


def unit_rows(generator: np.random.Generator, count: int) -> NDArray[np.float32]:
    rows = generator.normal(size=(count, DIMENSION)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def clustered_index(seed: int = 7) -> tuple[VectorIndex, NDArray[np.float32]]:
    """Vectors in tight clusters (as papers on one topic are), so that the scores near
    the 100th best are close together; keys with gaps, as a store's are."""
    generator = np.random.default_rng(seed)
    centres = unit_rows(generator, 40)
    vectors = centres[generator.integers(0, 40, ROWS)] + 0.08 * unit_rows(generator, ROWS)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = np.arange(ROWS, dtype=np.int64) * 3 + 5
    queries = centres[generator.integers(0, 40, 60)] + 0.1 * unit_rows(generator, 60)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return VectorIndex.build("test", keys, vectors, exact_limit=10**6), queries


def exact_answer(
    index: VectorIndex, query: NDArray[np.float32], limit: int, allowed: NDArray[np.bool_] | None
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Every allowed vector scored, best first, ties by key: what the search must give."""
    keys = index.keys if allowed is None else index.keys[allowed[index.keys]]
    vectors = index.vectors if allowed is None else index.vectors[allowed[index.keys]]
    scores = inner_products(vectors, query)
    order = np.lexsort((keys, -scores))[:limit]
    return keys[order], scores[order]


def assert_same_answer(
    found: tuple[NDArray[np.int64], NDArray[np.float32]],
    expected: tuple[NDArray[np.int64], NDArray[np.float32]],
) -> None:
    """The same papers with the same scores, best first. Scores within a rounding of
    each other (float32 sums in another order differ in the last bit) may come in either
    order; no pair in ``expected`` is that close unless it is a tie."""
    np.testing.assert_allclose(found[1], expected[1], atol=1e-6)
    assert set(found[0].tolist()) == set(expected[0].tolist())
    assert (np.diff(found[1]) <= 1e-6).all()
    exact_score = dict(zip(expected[0].tolist(), expected[1].tolist(), strict=True))
    for key, score in zip(found[0].tolist(), found[1].tolist(), strict=True):
        assert abs(exact_score[key] - score) <= 1e-6, key


@pytest.mark.parametrize("limit", [1, 10, 100, 400])
def test_every_search_gives_the_exact_scans_answer(limit: int) -> None:
    index, queries = clustered_index()
    index.search(queries[0], limit)
    assert not index.half_scan.made  # the first search scans exactly
    for query in queries:
        assert_same_answer(index.search(query, limit), exact_answer(index, query, limit, None))
    assert index.half_scan.made


def test_a_filter_keeps_its_papers_only_and_the_answer_exact() -> None:
    index, queries = clustered_index(seed=11)
    generator = np.random.default_rng(3)
    allowed = np.zeros(int(index.keys.max()) + 1, np.bool_)
    allowed[generator.choice(index.keys, 2 * MIN_ROWS, replace=False)] = True
    index.search(queries[0], 10)
    for query in queries:
        for limit in (10, 100):
            found = index.search(query, limit, allowed)
            assert allowed[found[0]].all()
            assert_same_answer(found, exact_answer(index, query, limit, allowed))
    assert index.half_scan.made


@pytest.mark.parametrize("limit", [4000, 7000])
def test_a_filter_that_leaves_fewer_papers_than_the_shortlist(limit: int) -> None:
    index, queries = clustered_index()
    allowed = np.zeros(int(index.keys.max()) + 1, np.bool_)
    allowed[index.keys[::2]] = True  # 6,144 papers: fewer than the shortlist's 8,000 or 12,288
    index.search(queries[0], 10)
    found = index.search(queries[1], limit, allowed)
    assert index.half_scan.made
    assert len(found[0]) == min(limit, ROWS // 2) and allowed[found[0]].all()
    assert_same_answer(found, exact_answer(index, queries[1], limit, allowed))


def test_a_narrow_filter_is_answered_exactly_too() -> None:
    index, queries = clustered_index()
    allowed = np.zeros(int(index.keys.max()) + 1, np.bool_)
    allowed[index.keys[[4, 40, 400, 4000]]] = True
    index.search(queries[0], 10)
    found = index.search(queries[1], 100, allowed)
    assert sorted(found[0].tolist()) == sorted(index.keys[[4, 40, 400, 4000]].tolist())
    assert_same_answer(found, exact_answer(index, queries[1], 100, allowed))


def test_scores_too_close_to_prove_fall_back_to_the_exact_scan() -> None:
    """300 papers whose exact scores are 1e-7 apart (0.01 to 0.01003), far closer than
    float16's rounding moves a score (~1e-5): the half-precision order of them is noise,
    and its 200 best miss some of the exact 100 best. The bound cannot hold there, and
    the exact scan answers. Every other vector points away from the query."""
    generator = np.random.default_rng(5)
    query = unit_rows(generator, 1)[0]
    vectors = unit_rows(generator, ROWS)
    vectors -= np.maximum(vectors @ query, 0)[:, None] * 2 * query  # reflected: scores <= 0
    sideways = unit_rows(generator, 300)
    sideways -= (sideways @ query)[:, None] * query
    sideways /= np.linalg.norm(sideways, axis=1, keepdims=True)
    closeness = 0.01 + 1e-7 * generator.permutation(300)
    vectors[1000:1300] = closeness[:, None] * query + np.sqrt(1 - closeness**2)[:, None] * sideways
    index = VectorIndex.build("test", np.arange(ROWS, dtype=np.int64), vectors, 10**6)
    index.search(query, 100)
    expected = exact_answer(index, query, 100, None)
    assert len(set(expected[1].tolist())) == 100  # no ties: one right order
    found = index.search(query, 100)
    assert index.half_scan.made
    assert_same_answer(found, expected)


def test_a_small_index_is_never_copied() -> None:
    generator = np.random.default_rng(2)
    vectors = unit_rows(generator, MIN_ROWS - 1)
    index = VectorIndex.build(
        "test", np.arange(len(vectors), dtype=np.int64), vectors, exact_limit=10**6
    )
    for query in vectors[:3]:
        assert_same_answer(index.search(query, 10), exact_answer(index, query, 10, None))
    assert not index.half_scan.made


def test_threads_searching_at_once_share_one_copy_and_keep_their_openmp_threads() -> None:
    index, queries = clustered_index(seed=13)
    threads_before = faiss.omp_get_max_threads()
    index.search(queries[0], 50)
    assert not index.half_scan.made
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda query: index.search(query, 50), list(queries) * 3))
    for query, found in zip(list(queries) * 3, answers, strict=True):
        assert_same_answer(found, exact_answer(index, query, 50, None))
    assert index.half_scan.made
    index.search(queries[1], 50)  # in this thread too: its OpenMP threads are put back
    assert faiss.omp_get_max_threads() == threads_before


def test_an_index_made_from_another_has_its_own_copy() -> None:
    index, queries = clustered_index()
    for query in queries[:2]:
        index.search(query, 10)
    assert index.half_scan.made
    reversed_vectors = replace(index, vectors=np.ascontiguousarray(index.vectors[::-1]))
    assert not reversed_vectors.half_scan.made
    for query in queries[:3]:
        assert_same_answer(
            reversed_vectors.search(query, 10), exact_answer(reversed_vectors, query, 10, None)
        )
