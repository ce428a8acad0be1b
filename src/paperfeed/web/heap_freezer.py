"""Keeping a serving worker's long-lived objects out of the garbage collector's walks.

A full collection walks every container the process holds, and its pause is the tail of
a search's latency: on the development machine ~100 ms for the ~130k objects a worker
holds after a few thousand searches (cached pages and rankings, analysed abstracts),
about 1 µs an object, as the walk misses the CPU caches. What survives a full collection
is, nearly all of it, what the worker keeps (caches, the index, the app): after each one
the survivors are frozen (``gc.freeze``: moved where collections do not look), so the
next full collection walks only what arrived since. Full collections are then cheap, and
run as often as middle ones (``gc.set_threshold``'s third value 1 instead of 10), so each
walks only what a few dozen requests left: their pauses fell from 76-121 ms to 5-19 ms,
searches' CPU per request from 12.5-26.1 to 10.4-19.0 ms (docs/benchmarks.md).

A frozen object is still freed when its last reference goes; only garbage in reference
cycles among frozen objects waits (a request in flight when a collection ran, say). So
once per ``rescan_seconds`` the freezer thaws everything just before a full collection,
which then sees the whole heap once, and freezes again after it: that garbage is bounded
by what two minutes make (~2 objects a request: a template render's closures and what
they hold, measured), and one pause as long as before is paid per period instead of one
every few hundred requests.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

RESCAN_SECONDS = 120.0
FULL_COLLECTION_EVERY = 1  # middle collections between two full ones (CPython's default: 10)
OLDEST = 2  # the generation a full collection collects


class HeapFreezer:
    """Installed with :meth:`install` (a ``gc.callbacks`` entry), removed with
    :meth:`remove`; ``freezes`` and ``rescans`` count what it did."""

    def __init__(
        self,
        rescan_seconds: float = RESCAN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rescan_seconds = rescan_seconds
        self.clock = clock
        self.last_rescan = clock()
        self.freezes = 0
        self.rescans = 0
        self._thresholds: tuple[int, int, int] | None = None

    def install(self) -> None:
        """Collect once, freeze what the process holds now, and freeze again after every
        full collection from now on."""
        gc.collect()
        gc.freeze()
        self.last_rescan = self.clock()
        if self not in gc.callbacks:
            gc.callbacks.append(self)
            self._thresholds = gc.get_threshold()
            youngest, middle, _ = self._thresholds
            gc.set_threshold(youngest, middle, FULL_COLLECTION_EVERY)

    def remove(self) -> None:
        """Stop freezing, and give the collector back everything frozen."""
        if self in gc.callbacks:
            gc.callbacks.remove(self)
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        gc.unfreeze()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != OLDEST:
            return
        if phase == "start":
            now = self.clock()
            if now - self.last_rescan >= self.rescan_seconds:
                # this collection, before it starts, sees everything again
                gc.unfreeze()
                self.last_rescan = now
                self.rescans += 1
        elif phase == "stop":
            gc.freeze()
            self.freezes += 1
