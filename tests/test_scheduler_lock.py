"""The scheduler lock: one holder per name and database, handed over when it goes."""

from __future__ import annotations

import threading
import time

import pytest

from paperfeed.store import Store
from paperfeed.store.scheduler_lock import SchedulerLock, lock_key, run_when_elected


def test_one_holder_per_name(database_url: str) -> None:
    Store(database_url).close()
    first, second = SchedulerLock(database_url, "digests"), SchedulerLock(database_url, "digests")
    other = SchedulerLock(database_url, "sync")
    try:
        assert first.try_acquire() and first.held
        assert not second.try_acquire() and not second.held
        assert other.try_acquire()  # another name is another lock
        first.release()
        assert second.try_acquire() and second.held
    finally:
        for lock in (first, second, other):
            lock.release()


def test_a_standby_takes_over_when_the_holder_stops(database_url: str) -> None:
    Store(database_url).close()
    running: list[str] = []
    standing_by: list[str] = []

    def starter(name: str):  # type: ignore[no-untyped-def]
        def start() -> threading.Event:
            running.append(name)
            return threading.Event()

        return start

    stop_a = run_when_elected(database_url, "schedulers", starter("a"), poll_seconds=0.1)
    deadline = time.monotonic() + 10
    while running != ["a"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    stop_b = run_when_elected(
        database_url,
        "schedulers",
        starter("b"),
        on_standby=lambda: standing_by.append("b"),
        poll_seconds=0.1,
    )
    time.sleep(0.5)
    assert running == ["a"] and standing_by == ["b"]
    stop_a.set()  # the holder goes: its lock is released
    while running != ["a", "b"]:
        assert time.monotonic() < deadline, running
        time.sleep(0.02)
    stop_b.set()


def test_lock_names_are_checked_and_keys_stable() -> None:
    with pytest.raises(ValueError, match="lock name 'no spaces!'"):
        SchedulerLock("sqlite:///x.db", "no spaces!")
    assert lock_key("digests") == lock_key("digests") != lock_key("sync")
    assert -(2**63) <= lock_key("digests") < 2**63
