"""The one scheduler: jobs tick now and every interval, a failing tick is retried, and
the settings pick the jobs (sync with digests after it, or digests alone)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from paperfeed.config import Settings
from paperfeed.scheduling import Job, scheduled_jobs, start_jobs
from paperfeed.search import SearchEngine
from paperfeed.store import Store


def test_each_job_ticks_now_and_again_and_a_failing_tick_is_retried(settings: Settings) -> None:
    Store(settings.database_url).close()  # a migrated store for the jobs to open
    counts = {"steady": 0, "flaky": 0}
    seen_stores: list[Store] = []
    lock = threading.Lock()

    def steady(store: Store, engine: SearchEngine) -> None:
        with lock:
            counts["steady"] += 1
            seen_stores.append(store)

    def flaky(store: Store, engine: SearchEngine) -> None:
        with lock:
            counts["flaky"] += 1
        raise RuntimeError("the mail server is down")

    stop = start_jobs(settings, [Job("steady", 0.05, steady), Job("flaky", 0.05, flaky)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and min(counts.values()) < 3:
        time.sleep(0.02)
    stop()
    assert counts["steady"] >= 3 and counts["flaky"] >= 3  # the raising job kept its schedule
    assert len({id(store) for store in seen_stores}) == 1  # one store per job, kept open
    settled = dict(counts)
    time.sleep(0.3)
    assert counts["steady"] <= settled["steady"] + 1  # stopped (at most a tick in flight)


def test_the_settings_choose_the_jobs(settings: Settings) -> None:
    assert scheduled_jobs(settings) == []
    digests_only = scheduled_jobs(replace(settings, digest_hour=7))
    assert [(job.name, job.interval_seconds) for job in digests_only] == [("digests", 300.0)]
    syncing = scheduled_jobs(replace(settings, digest_hour=7, sync_interval_minutes=60))
    # the digests go out after each sync, in the sync job: one job, not two
    assert [(job.name, job.interval_seconds) for job in syncing] == [("sync", 3600.0)]
