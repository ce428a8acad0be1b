"""The dense index: exact search, and an HNSW graph grown across `paperfeed index` runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from paperfeed.config import Settings
from paperfeed.index.builder import dense_folder, update_index
from paperfeed.index.vectors import VectorIndex
from paperfeed.models import Paper
from paperfeed.search import SearchEngine
from paperfeed.store import Store


def _unit(rows: int, seed: int, dimension: int = 32) -> NDArray[np.float32]:
    vectors = np.random.default_rng(seed).normal(size=(rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _recall_at_10(index: VectorIndex, queries: NDArray[np.float32]) -> float:
    exact = VectorIndex(index.model, index.keys, index.vectors)
    found = [
        len(set(index.search(q, 10)[0].tolist()) & set(exact.search(q, 10)[0].tolist())) / 10
        for q in queries
    ]
    return float(np.mean(found))


def test_the_graph_grows_with_new_and_changed_vectors(tmp_path: Path) -> None:
    keys = np.arange(1, 2001, dtype=np.int64)
    vectors = _unit(2000, 1)
    first = VectorIndex.build("m", keys, vectors, exact_limit=0)
    assert first.hnsw is not None and first.hnsw.ntotal == 2000
    first.save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    assert loaded is not None and loaded.hnsw is not None

    # the next run: 300 new papers, 50 re-embedded, 20 gone
    changed = keys[100:150]
    new_vectors = vectors.copy()
    new_vectors[100:150] = _unit(50, 2)
    keep = np.ones(2000, np.bool_)
    keep[1500:1520] = False
    all_keys = np.concatenate([keys[keep], np.arange(5001, 5301)])
    all_vectors = np.concatenate([new_vectors[keep], _unit(300, 3)])
    second = VectorIndex.build("m", all_keys, all_vectors, exact_limit=0, previous=loaded)
    assert second.hnsw is loaded.hnsw  # grown, not rebuilt
    assert second.hnsw_added == 350 and second.hnsw.ntotal == 2350
    assert second.hnsw_keys is not None and int((second.hnsw_keys < 0).sum()) == 70

    gone = set(keys[1500:1520].tolist())
    for row in range(0, len(all_keys), 97):
        found, scores = second.search(all_vectors[row], 10)
        assert found[0] == all_keys[row] and scores[0] == pytest.approx(1.0, abs=1e-4)
        assert not gone & set(found.tolist())
    for key in changed[:10]:  # a re-embedded paper is found by its new vector only
        row = int(np.flatnonzero(all_keys == key)[0])
        assert second.search(all_vectors[row], 1)[0][0] == key
    assert _recall_at_10(second, _unit(50, 4)) >= 0.95

    second.save(tmp_path)
    again = VectorIndex.load(tmp_path)
    assert again is not None and again.hnsw is not None and again.hnsw.ntotal == 2350
    np.testing.assert_array_equal(
        again.search(all_vectors[7], 10)[0], second.search(all_vectors[7], 10)[0]
    )


def test_a_mostly_replaced_graph_is_rebuilt() -> None:
    keys = np.arange(1, 1001, dtype=np.int64)
    first = VectorIndex.build("m", keys, _unit(1000, 1), exact_limit=0)
    second = VectorIndex.build("m", keys, _unit(1000, 2), exact_limit=0, previous=first)
    assert second.hnsw is not first.hnsw and second.hnsw.ntotal == 1000
    other_model = VectorIndex.build("other", keys, _unit(1000, 2), exact_limit=0, previous=second)
    assert other_model.hnsw is not second.hnsw


def test_filters_and_the_exact_fallback() -> None:
    keys = np.arange(1, 1001, dtype=np.int64)
    vectors = _unit(1000, 5)
    index = VectorIndex.build("m", keys, vectors, exact_limit=0)
    allowed = np.zeros(1001, np.bool_)
    allowed[[3, 500, 999]] = True  # too few for the graph: the exact scan answers
    found, _ = index.search(vectors[499], 10, allowed)
    assert sorted(found.tolist()) == [3, 500, 999] and found[0] == 500


def test_vectors_of_gives_each_key_its_row_and_nan_without_one() -> None:
    keys = np.array([2, 5, 9, 14], dtype=np.int64)
    vectors = _unit(4, 7)
    index = VectorIndex("m", keys, vectors)
    asked = np.array([9, 3, 2, 20, 14, 0, 9], dtype=np.int64)  # any order, repeats, gaps
    rows = index.vectors_of(asked)
    assert rows.shape == (7, 32) and rows.dtype == np.float32
    for row, key in zip(rows, asked.tolist(), strict=True):
        if key in keys:
            np.testing.assert_array_equal(row, vectors[keys.tolist().index(key)])
        else:
            assert np.isnan(row).all()
    assert index.vectors_of(np.empty(0, np.int64)).shape == (0, 32)
    empty = VectorIndex("m", np.empty(0, np.int64), np.empty((0, 32), np.float32))
    assert np.isnan(empty.vectors_of(np.array([1], np.int64))).all()


def test_an_index_saved_before_hnsw_keys_existed_still_loads(tmp_path: Path) -> None:
    keys = np.arange(10, 1010, dtype=np.int64)
    vectors = _unit(1000, 6)
    VectorIndex.build("m", keys, vectors, exact_limit=0).save(tmp_path)
    (tmp_path / "hnsw_keys.npy").unlink()
    old = VectorIndex.load(tmp_path)
    assert old is not None and old.hnsw is not None
    assert old.search(vectors[42], 1)[0][0] == keys[42]
    np.save(tmp_path / "hnsw_keys.npy", keys[:10])  # torn: lengths disagree -> exact search
    torn = VectorIndex.load(tmp_path)
    assert torn is not None and torn.hnsw is None
    assert torn.search(vectors[42], 1)[0][0] == keys[42]


def test_paperfeed_index_grows_the_graph_between_runs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_EMBED_MODEL", "hashing")
    monkeypatch.setenv("PAPERFEED_EXACT_SEARCH_LIMIT", "0")
    settings = Settings.from_environment()
    store = Store(settings.database_url)
    words = ["graph", "neural", "diffusion", "protein", "robot", "language", "vision", "sparse"]

    def papers(start: int, count: int) -> list[Paper]:
        return [
            Paper(
                f"2403.{number:05d}",
                title=f"{words[number % 8]} {words[(number // 8) % 8]} study {number}",
                abstract=f"We study {words[(number * 3) % 8]} methods, case {number}.",
            )
            for number in range(start, start + count)
        ]

    store.upsert_papers(papers(1, 120))
    update_index(store, settings, show_progress=False)
    first = VectorIndex.load(dense_folder(settings))
    assert first is not None and first.hnsw is not None and first.hnsw.ntotal == 120
    store.upsert_papers(papers(121, 30))
    update_index(store, settings, show_progress=False)
    grown = VectorIndex.load(dense_folder(settings))
    assert grown is not None and grown.hnsw is not None
    assert grown.hnsw.ntotal == 150 and grown.hnsw_keys is not None
    np.testing.assert_array_equal(grown.hnsw_keys[:120], first.hnsw_keys)  # type: ignore[arg-type]
    results = SearchEngine(store, settings).search("protein robot study 140")
    assert "2403.00140" in [hit.paper.arxiv_id for hit in results.hits]
