"""The one scheduler of ``paperfeed serve``: each job on its schedule, under one lock.

A :class:`Job` is a name, an interval and a tick (one unit of work over a store and a
search engine). :func:`start_jobs` runs each job now and then every interval, each in
its own daemon thread with its own store and engine; a tick that raises is logged and
retried at the next tick. :func:`run_jobs_when_elected` wraps that in the replicas'
scheduler lock (``store/scheduler_lock.py``): however many replicas serve the same
database, one runs the jobs, and another takes over within seconds when it stops.

Two jobs exist: the sync (``sync/scheduling.py``: every source and the index, then the
digests that are due, so they carry what it brought in) and, when the site does not
sync, the digests alone (``digest/scheduling.py``, every five minutes). Every tick is
idempotent, so a missed tick, a restart or a cron job alongside changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from paperfeed.config import Settings
from paperfeed.digest.scheduling import TICK_SECONDS
from paperfeed.digest.scheduling import run_once as send_due_digests
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.store.scheduler_lock import run_when_elected
from paperfeed.store.sync_runs import failed_sources
from paperfeed.sync.reports import SyncError
from paperfeed.sync.running import SyncReport
from paperfeed.sync.scheduling import scheduled_tick

log = logging.getLogger("paperfeed.scheduling")
LOCK_NAME = "schedulers"


@dataclass(frozen=True)
class Job:
    """One scheduled job: ``tick`` runs now, then every ``interval_seconds``."""

    name: str
    interval_seconds: float
    tick: Callable[[Store, SearchEngine], None]


def start_jobs(settings: Settings, jobs: list[Job]) -> Callable[[], None]:
    """Start each job in its own daemon thread; returns a function that stops them all."""
    stops: list[threading.Event] = []
    for job in jobs:
        if job.interval_seconds <= 0:
            raise ValueError(f"job {job.name!r}: interval {job.interval_seconds} is not positive")
        stop = threading.Event()
        stops.append(stop)
        threading.Thread(
            target=_run_job, args=(settings, job, stop), name=f"paperfeed-{job.name}", daemon=True
        ).start()

    def stop_all() -> None:
        for stop in stops:
            stop.set()

    return stop_all


def _run_job(settings: Settings, job: Job, stop: threading.Event) -> None:
    store = Store(settings.database_url)
    engine = SearchEngine(store, settings)
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                job.tick(store, engine)
            except SyncError as error:  # recorded as a failed run, shown on /status
                log.warning("%s refused: %s", job.name, error)
            except Exception:  # a failed tick must not end the schedule; it is retried
                log.exception("%s failed; retrying in %s s", job.name, job.interval_seconds)
            log.debug("%s tick took %.1f s", job.name, time.monotonic() - started)
            stop.wait(job.interval_seconds)
    finally:
        store.close()


def scheduled_jobs(
    settings: Settings, on_sync_report: Callable[[SyncReport], None] | None = None
) -> list[Job]:
    """The jobs the settings ask for: the sync every ``PAPERFEED_SYNC_INTERVAL_MINUTES``
    (with the due digests after each sync when ``PAPERFEED_DIGEST_HOUR`` is set), or
    else the digests alone every five minutes when ``PAPERFEED_DIGEST_HOUR`` is set."""
    if settings.sync_interval_minutes:

        def sync(store: Store, engine: SearchEngine) -> None:
            report = scheduled_tick(store, engine, settings)
            if on_sync_report is not None:
                on_sync_report(report)

        return [Job("sync", settings.sync_interval_minutes * 60.0, sync)]
    if settings.digest_hour is not None:

        def digests(store: Store, engine: SearchEngine) -> None:
            engine.reload_if_changed()
            # a sync run by cron that failed leaves empty periods open (see the CLI's)
            final = not failed_sources(store)
            send_due_digests(store, engine, settings, time.time(), empty_is_final=final)

        return [Job("digests", TICK_SECONDS, digests)]
    return []


def run_jobs_when_elected(
    settings: Settings,
    jobs: list[Job],
    on_elected: Callable[[], None] | None = None,
    on_standby: Callable[[], None] | None = None,
) -> threading.Event:
    """Run ``jobs`` in whichever replica holds the scheduler lock; set the event to stop.

    Args:
        on_elected: called each time this replica takes the lock, before the jobs start.
        on_standby: called once when another replica holds the lock at the first try.
    """

    def start() -> Callable[[], None]:
        if on_elected is not None:
            on_elected()
        return start_jobs(settings, jobs)

    return run_when_elected(settings.database_url, LOCK_NAME, start, on_standby)
