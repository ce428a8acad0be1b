"""The scheduled sync's unit of work: every configured source and the index, then the
digests that are due (``paperfeed.scheduling`` runs it every
``PAPERFEED_SYNC_INTERVAL_MINUTES`` inside ``paperfeed serve``). Everything it does is
idempotent (a sync re-run changes nothing, a digest is composed once per subscriber and
period), so a missed tick, a restart, or a cron job running ``paperfeed sync`` alongside
changes nothing.
"""

from __future__ import annotations

import logging
import time

from paperfeed.config import Settings
from paperfeed.digest.scheduling import run_once as send_due_digests
from paperfeed.search import SearchEngine
from paperfeed.store import Store
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
        # after a failed sync an empty day may only be missing what failed to come in:
        # it stays open for the next tick instead of being recorded as empty for good
        send_due_digests(store, engine, settings, time.time(), empty_is_final=not report.failed)
    return report
