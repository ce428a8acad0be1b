"""Sending on a schedule inside ``paperfeed serve``: each subscriber at their local hour.

Every few minutes (``paperfeed.scheduling`` runs ``run_once`` every ``TICK_SECONDS``)
the scheduler queues the digests of subscribers whose local time has
reached the configured hour (daily: yesterday's papers; weekly: last week's, from
Monday on) and delivers what is due. Each step is idempotent, so a missed tick, a
restart or a cron job running ``paperfeed digest send`` alongside changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from paperfeed.config import Settings
from paperfeed.digest.sending import Mailer, deliver_due, queue_digests
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.store.subscriptions import Subscription

TICK_SECONDS = 300.0
log = logging.getLogger("paperfeed.digest")


def is_due(subscription: Subscription, hour: int, now: float) -> bool:
    """Whether the subscriber's local clock has reached ``hour`` today."""
    local = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(subscription.time_zone))
    return local.hour >= hour


def run_once(
    store: Store, engine: SearchEngine, settings: Settings, now: float, empty_is_final: bool = True
) -> None:
    """Queue what is due at ``now`` for both frequencies, then deliver.

    ``empty_is_final`` False (after a failed sync): an empty period is not recorded, so
    it is composed again once the sync brings its papers.
    """
    hour = settings.digest_hour if settings.digest_hour is not None else 0
    for frequency in ("daily", "weekly"):
        queue_digests(
            store,
            engine,
            settings,
            frequency,
            now=now,
            include=lambda subscription: is_due(subscription, hour, now),
            empty_is_final=empty_is_final,
        )
    deliver_due(store, Mailer(settings))  # what is due by the clock, whatever ``now`` says
