"""search/ranking.py: a ranking's numbers looked up a page at a time."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest

from paperfeed.search.ranking import KeyedNumbers, absent_from, numbers_for


def _scores() -> KeyedNumbers[float]:
    keys = np.array([40, 7, 1_000_003, 12, 3], np.int64)  # a ranking's order, not sorted
    return KeyedNumbers(keys, np.array([0.5, 0.25, 0.125, 1.0, 0.75]), float)


def test_get_many_answers_as_one_get_a_key_does() -> None:
    scores = _scores()
    asked = [3, 4, 40, 1_000_003, 0, 12, 12, 2_000_000, -1, 7]
    found = scores.get_many(asked)
    assert found == [scores.get(key) for key in asked]
    assert found == [0.75, None, 0.5, 0.125, None, 1.0, 1.0, None, None, 0.25]
    assert all(type(value) is float for value in found if value is not None)


def test_ranks_come_back_as_ints_and_empty_inputs_as_nones() -> None:
    ranks = KeyedNumbers(np.array([9, 2], np.int64), np.arange(1, 3), int)
    assert ranks.get_many([2, 9, 5]) == [2, 1, None]
    assert all(type(rank) is int for rank in ranks.get_many([2, 9]))
    empty = KeyedNumbers(np.empty(0, np.int64), np.empty(0), float)
    assert empty.get_many([1, 2]) == [None, None]
    assert ranks.get_many([]) == []


@pytest.mark.parametrize(
    "numbers",
    [MappingProxyType({3: 0.75, 40: 0.5}), {3: 0.75, 40: 0.5}],
    ids=["browsing ranking", "dict"],
)
def test_numbers_for_takes_any_mapping(numbers: dict[int, float]) -> None:
    assert numbers_for(numbers, [40, 5, 3]) == [0.5, None, 0.75]


def test_numbers_for_a_random_page_matches_single_lookups() -> None:
    generator = np.random.default_rng(5)
    keys = generator.choice(50_000, 1_100, replace=False)
    numbers = KeyedNumbers(keys, generator.random(1_100), float)
    page = [*keys[:10].tolist(), *generator.integers(0, 50_000, 10).tolist()]
    assert numbers_for(numbers, page) == [numbers.get(key) for key in page]


def test_absent_from_agrees_with_isin() -> None:
    generator = np.random.default_rng(8)
    for size, among_size in ((100, 622), (100, 0), (0, 50), (7, 1), (300, 300)):
        keys = generator.choice(2_000, size, replace=False).astype(np.int64)
        among = generator.choice(2_000, among_size, replace=False).astype(np.int64)
        expected = ~np.isin(keys, among)
        assert absent_from(keys, among).tolist() == expected.tolist()
    assert absent_from(np.array([5, 9], np.int64), np.array([9, 9, 1], np.int64)).tolist() == [
        True,
        False,
    ]
