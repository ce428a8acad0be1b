"""Syncing on a schedule inside ``paperfeed serve``, then sending the digests that are due.

``paperfeed serve`` starts one scheduler in its parent process, however many workers it
forks, when ``PAPERFEED_SYNC_INTERVAL_MINUTES`` is set. The first sync runs at once,
then one every interval. Everything a tick does is idempotent (a sync re-run changes
nothing, a digest is composed once per subscriber and period), so a missed tick, a
restart, or a cron job running ``paperfeed sync`` alongside changes nothing.
``scheduled_tick`` is the one unit of work: a lock against other hosts can wrap it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from paperfeed.config import Settings
from paperfeed.digest.scheduling import run_once as send_due_digests
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.sync.reports import SyncError
from paperfeed.sync.running import SyncReport, run_sync

log = logging.getLogger("paperfeed.sync")


def scheduled_tick(store: Store, engine: SearchEngine, settings: Settings) -> SyncReport:
    """One scheduled sync of every configured source and the index, then due digests.

    Digests go out only when ``PAPERFEED_DIGEST_HOUR`` is set, after the sync so they
    carry the papers it brought in.
    """
    report = run_sync(store, settings)
    for source in report.sources:
        if source.error:
            log.warning("sync of %s failed: %s", source.source, source.error)
        else:
            log.info("sync of %s: %s", source.source, source.summary())
    if settings.digest_hour is not None:
        engine.reload_if_changed()
        send_due_digests(store, engine, settings, time.time())
    return report


def start_sync_scheduler(
    settings: Settings, on_report: Callable[[SyncReport], None] | None = None
) -> threading.Event:
    """Run ``scheduled_tick`` now and then every interval in a daemon thread.

    Args:
        on_report: called with each tick's report (``paperfeed serve`` prints it).

    Returns:
        An event; set it to stop the schedule.
    """
    interval = (settings.sync_interval_minutes or 0) * 60.0
    if interval <= 0:
        raise ValueError("PAPERFEED_SYNC_INTERVAL_MINUTES is not set: no schedule to run")
    stop = threading.Event()

    def loop() -> None:
        store = Store(settings.database_url)
        engine = SearchEngine(store, settings)
        while not stop.is_set():
            try:
                report = scheduled_tick(store, engine, settings)
                if on_report is not None:
                    on_report(report)
            except SyncError as error:  # recorded as a failed run, shown on /status
                log.warning("scheduled sync refused: %s", error)
            except Exception:  # a failed tick is recorded as a failed run; retry next tick
                log.exception("scheduled sync failed; retrying in %s s", interval)
            stop.wait(interval)
        store.close()

    threading.Thread(target=loop, name="paperfeed-sync", daemon=True).start()
    return stop
