"""The engine's result cache: least recently used out, emptied on reload."""

from __future__ import annotations

import pytest

from paperfeed.search.caching import ResultCache


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
