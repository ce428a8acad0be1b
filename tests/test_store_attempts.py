"""Attempt counters under parallel claims, on SQLite and PostgreSQL (issue 19 item 6)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from paperfeed.store import Store
from paperfeed.store.attempts import (
    attempts_of,
    claim_spaced_attempt,
    claim_window_attempt,
    clear_attempts,
    forget_attempts_before,
    release_attempt,
)

DELAYS = [0.0] * 5 + [30.0, 60.0]


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()


def test_forty_parallel_claims_get_exactly_the_free_five(store: Store) -> None:
    # separate connections from a pool, as separate requests (or workers) would have
    with ThreadPoolExecutor(max_workers=20) as pool:
        claimed = list(
            pool.map(
                lambda _: claim_spaced_attempt(store, "pair", 1000.0, DELAYS, 86400), range(40)
            )
        )
    assert claimed.count(True) == 5
    assert attempts_of(store, "pair") == (5, 1000.0)
    # the sixth waits 30 s after the latest, the seventh 60 s after the sixth
    assert not claim_spaced_attempt(store, "pair", 1029.0, DELAYS, 86400)
    assert claim_spaced_attempt(store, "pair", 1030.0, DELAYS, 86400)
    assert not claim_spaced_attempt(store, "pair", 1089.0, DELAYS, 86400)
    assert claim_spaced_attempt(store, "pair", 1090.0, DELAYS, 86400)
    # a day later the count starts again
    assert claim_spaced_attempt(store, "pair", 1090.0 + 86401, DELAYS, 86400)
    assert attempts_of(store, "pair")[0] == 1
    clear_attempts(store, "pair")
    assert attempts_of(store, "pair") == (0, 0.0)


def test_window_claims_stop_at_the_limit_and_a_release_gives_one_back(store: Store) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        claimed = list(
            pool.map(lambda _: claim_window_attempt(store, "client", 500.0, 3, 900), range(30))
        )
    assert claimed.count(True) == 3
    release_attempt(store, "client")
    assert claim_window_attempt(store, "client", 600.0, 3, 900)
    assert not claim_window_attempt(store, "client", 1399.0, 3, 900)
    assert claim_window_attempt(store, "client", 1401.0, 3, 900)  # a new window
    assert attempts_of(store, "client") == (1, 1401.0)


def test_old_counters_are_forgotten(store: Store) -> None:
    assert claim_window_attempt(store, "old", 100.0, 3, 900)
    assert claim_window_attempt(store, "new", 5000.0, 3, 900)
    assert forget_attempts_before(store, 1000.0) == 1
    assert attempts_of(store, "old") == (0, 0.0) and attempts_of(store, "new")[0] == 1
