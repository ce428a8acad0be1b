"""A small thread-safe least-recently-used cache for answers that depend only on the index,
bounded in entries and in bytes.

A bound in entries alone is no bound on memory: a ranking holds four dicts over ~1,100
candidates and the papers it read, a page of hits its papers' full text, so 2,048
pages and 256 rankings grew a worker by ~700 MB (bench/memory_soak.py). Each entry's
size is estimated once, when it is kept (``approximate_bytes``), and the least recently
used entries go until the total fits.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Mapping
from itertools import islice
from typing import Generic, TypeVar

import numpy as np

from paperfeed.models import StoredPaper

Value = TypeVar("Value")

# Containers longer than this are sized from a sample of their first items.
_SAMPLE = 4
_ATOMS = (str, bytes, int, float, bool, type(None))


def approximate_bytes(value: object) -> int:
    """About how much memory ``value`` holds, its contents included.

    Walks dataclasses, mappings, sequences and sets; numpy arrays (and values with an
    ``nbytes`` property) count their buffer; a container of more than ``_SAMPLE`` items
    is sized from its first ones, scaled (the cached values are lists of alike items).
    Objects shared with other entries or with the rest of the process are counted in
    full: an over-estimate, on the safe side.
    """
    kind = _KINDS.get(type(value)) or _kind_of(type(value))
    if kind is _ATOM:
        return sys.getsizeof(value)
    if kind is _PAPER:
        return stored_paper_bytes(value)
    if kind is _ARRAY:
        return int(value.nbytes) + 112  # type: ignore[attr-defined]
    size = sys.getsizeof(value)
    if kind is _MAPPING:
        # items() read lazily: some mappings compute their values (over numpy arrays)
        mapping: Mapping[object, object] = value  # type: ignore[assignment]
        pairs = list(islice(mapping.items(), _SAMPLE))
        sampled = sum(approximate_bytes(key) + approximate_bytes(item) for key, item in pairs)
        return size + sampled * len(mapping) // max(1, len(pairs))
    if kind is _COLLECTION:
        collection: Collection[object] = value  # type: ignore[assignment]
        items = list(islice(collection, _SAMPLE))
        sampled = sum(approximate_bytes(item) for item in items)
        return size + sampled * len(collection) // max(1, len(items))
    if isinstance(kind, tuple):  # a dataclass: its fields' names
        return size + sum(approximate_bytes(getattr(value, name)) for name in kind)
    if hasattr(value, "__dict__"):
        return size + sum(approximate_bytes(field) for field in vars(value).values())
    return size


# What approximate_bytes does with a value, decided once per type: the isinstance checks
# against the Mapping ABC and dataclasses.fields() were most of its time (~270 us a search
# kept, for a page of hits and its ranking).
_ATOM, _ARRAY, _MAPPING, _COLLECTION, _OTHER = "atom", "array", "mapping", "collection", "other"
_PAPER = "paper"


def stored_paper_bytes(paper: object) -> int:
    """About what a stored paper holds: its four texts, and 2 KB for its ~30 other fields
    (lists of authors, categories and keywords, a few dates; ``approximate_bytes`` walked
    them all, ~35 calls a paper, four papers sampled per page kept and four per ranking)."""
    assert isinstance(paper, StoredPaper)
    texts = (paper.title, paper.abstract, paper.title_raw, paper.abstract_raw)
    return 2048 + sys.getsizeof(paper) + sum(sys.getsizeof(text) for text in texts)


_KINDS: dict[type, str | tuple[str, ...]] = {}


def _kind_of(kind: type) -> str | tuple[str, ...]:
    found: str | tuple[str, ...] = _OTHER
    if kind is StoredPaper:
        found = _PAPER
    elif issubclass(kind, _ATOMS):
        found = _ATOM
    elif issubclass(kind, np.ndarray) or isinstance(getattr(kind, "nbytes", None), property):
        # numpy arrays, and values that hold theirs in arrays and say how many bytes
        # (``ranking.KeyedNumbers``: sized as a mapping, its ~1,100 keys were listed
        # to sample four, ~70 of a kept ranking's ~80 µs)
        found = _ARRAY
    elif issubclass(kind, Mapping):
        found = _MAPPING
    elif issubclass(kind, list | tuple | set | frozenset):
        found = _COLLECTION
    elif dataclasses.is_dataclass(kind):
        found = tuple(field.name for field in dataclasses.fields(kind))
    _KINDS[kind] = found
    return found


class ResultCache(Generic[Value]):
    """Keeps the most recently used answers, at most ``size`` of them and ``max_bytes`` in
    all (by ``approximate_bytes``); ``clear`` when the index changes."""

    def __init__(
        self,
        size: int,
        max_bytes: int | None = None,
        measure: Callable[[object], int] = approximate_bytes,
    ) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._measure = measure
        self._entries: OrderedDict[Hashable, tuple[Value, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_make(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The cached answer for ``key``, or ``make()``'s, which is then kept.

        ``make`` runs outside the lock: two threads may compute the same answer once
        each, which is cheaper than making every other search wait.
        """
        found = self._lookup(key)
        if found is not None:
            return found[0]
        value = make()
        self.keep(key, value)
        return value

    def get(self, key: Hashable) -> Value | None:
        """The cached answer for ``key`` (now the most recently used), or None."""
        found = self._lookup(key)
        return None if found is None else found[0]

    def _lookup(self, key: Hashable) -> tuple[Value, int] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def keep(self, key: Hashable, value: Value) -> None:
        """Keep ``value`` as the answer for ``key`` (replacing any), the least recently
        used going past the bounds."""
        cost = self._measure(value) if self.max_bytes is not None else 0
        if self.max_bytes is not None and cost > self.max_bytes // 4:
            return  # one huge answer would push out everything else
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.bytes -= previous[1]
            self._entries[key] = (value, cost)
            self.bytes += cost
            while len(self._entries) > self.size or (
                self.max_bytes is not None and self.bytes > self.max_bytes
            ):
                _, (_, dropped) = self._entries.popitem(last=False)
                self.bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0
