"""index/sorted_lookup.py: values found in an ascending array by binary search."""

from __future__ import annotations

import numpy as np

from paperfeed.index.sorted_lookup import find_sorted


def test_find_sorted_gives_each_value_its_position_or_says_it_is_absent() -> None:
    ordered = np.array([2, 5, 9, 40], np.int64)
    positions, found = find_sorted(ordered, np.array([9, 1, 40, 41, 5, 6], np.int64))
    assert found.tolist() == [True, False, True, False, True, False]
    assert positions[found].tolist() == [2, 3, 1]
    # an absent value still has a position to gather from: within the array, past its end too
    assert all(0 <= position < len(ordered) for position in positions.tolist())


def test_find_sorted_agrees_with_isin_on_random_arrays() -> None:
    generator = np.random.default_rng(3)
    for size in (1, 7, 600):
        ordered = np.sort(generator.choice(5_000, size, replace=False))
        wanted = generator.integers(-5, 5_005, 300)
        positions, found = find_sorted(ordered, wanted)
        assert found.tolist() == np.isin(wanted, ordered).tolist()
        assert (ordered[positions[found]] == wanted[found]).all()
