"""The engine's result cache: least recently used out, emptied on reload, and each kept
answer sized close to the memory it holds."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from paperfeed.search.caching import ResultCache, approximate_bytes
from paperfeed.search.ranking import KeyedNumbers


def test_keeps_the_most_recently_used_answers() -> None:
    made: list[str] = []
    cache: ResultCache[str] = ResultCache(size=2)

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    assert cache.get_or_make("a", lambda: make("a")) == "A"
    assert cache.get_or_make("b", lambda: make("b")) == "B"
    assert cache.get_or_make("a", lambda: make("a")) == "A"  # a is now the most recent
    cache.get_or_make("c", lambda: make("c"))  # evicts b, the least recently used
    cache.get_or_make("a", lambda: make("a"))
    cache.get_or_make("b", lambda: make("b"))
    assert made == ["a", "b", "c", "b"]
    cache.clear()
    cache.get_or_make("a", lambda: make("a"))
    assert made[-1] == "a"


def test_a_failed_answer_is_not_kept() -> None:
    cache: ResultCache[int] = ResultCache(size=4)

    def fail() -> int:
        raise ValueError("no such paper")

    for _ in range(2):
        with pytest.raises(ValueError, match="no such paper"):
            cache.get_or_make("x", fail)
    assert cache.get_or_make("x", lambda: 7) == 7


class _CountedKeys(KeyedNumbers):
    iterated = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        _CountedKeys.iterated += 1
        return super().__iter__()


def test_a_rankings_numbers_are_sized_by_their_arrays_without_listing_them() -> None:
    generator = np.random.default_rng(3)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    numbers = _CountedKeys(
        generator.permutation(1_100).astype(np.int64), generator.random(1_100), float
    )
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    size = approximate_bytes(numbers)
    assert _CountedKeys.iterated == 0
    # two arrays of 1,100 eight-byte numbers; sized as a mapping of Python numbers: 57 KB
    assert 2 * 8 * 1_100 <= size <= 2 * held
    assert numbers[int(numbers._keys[5])] == numbers._values[5]
