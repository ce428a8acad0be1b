"""The serving worker's heap freezer: survivors of a full collection leave the
collector's walks, cyclic garbage among them is still collected once per rescan."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from paperfeed.web.heap_freezer import FULL_COLLECTION_EVERY, HeapFreezer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Node:
    """A container that can sit in a reference cycle and be watched with a weakref."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def freezer(clock: Clock) -> Iterator[HeapFreezer]:
    thresholds = gc.get_threshold()
    heap_freezer = HeapFreezer(rescan_seconds=60.0, clock=clock)
    heap_freezer.install()
    try:
        yield heap_freezer
    finally:
        heap_freezer.remove()
        assert gc.get_threshold() == thresholds


def tracked(value: object) -> bool:
    """Whether a collection would walk ``value`` (frozen objects are in no generation)."""
    return any(item is value for item in gc.get_objects())


def test_survivors_of_a_full_collection_are_frozen(freezer: HeapFreezer) -> None:
    kept = [Node() for _ in range(3)]
    assert tracked(kept[0])  # new: in the youngest generation
    gc.collect()
    assert not tracked(kept[0])
    assert freezer.freezes >= 1
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[2] == FULL_COLLECTION_EVERY


def test_a_young_collection_freezes_nothing(freezer: HeapFreezer) -> None:
    before = freezer.freezes
    kept = Node()
    gc.collect(0)
    assert freezer.freezes == before
    assert tracked(kept)


def test_cyclic_garbage_among_frozen_objects_waits_for_the_rescan(
    freezer: HeapFreezer, clock: Clock
) -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first
    watch = weakref.ref(first)
    gc.collect()  # both alive: frozen
    del first, second
    gc.collect()
    assert watch() is not None  # a frozen cycle is not walked: it waits
    clock.now += 59.0
    gc.collect()
    assert watch() is not None
    clock.now += 2.0  # past rescan_seconds: this full collection sees everything
    gc.collect()
    assert watch() is None
    assert freezer.rescans == 1


def test_a_frozen_object_is_still_freed_by_its_last_reference(freezer: HeapFreezer) -> None:
    alone = Node()
    watch = weakref.ref(alone)
    gc.collect()
    assert not tracked(alone)
    del alone
    assert watch() is None


def test_remove_gives_everything_back(clock: Clock) -> None:
    heap_freezer = HeapFreezer(clock=clock)
    heap_freezer.install()
    kept = Node()
    gc.collect()
    assert not tracked(kept)
    heap_freezer.remove()
    assert tracked(kept)
    assert gc.get_freeze_count() == 0
    assert heap_freezer not in gc.callbacks
