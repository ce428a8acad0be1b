"""Liveness and readiness: what a load balancer asks before sending traffic.

Liveness (``/healthz``) is the process answering at all: no database, no index, so a
slow database never gets a healthy process restarted. Readiness (``/readyz``) is
whether this process can serve real answers now: the database answers, the search
index is loaded, and, when the server syncs on a schedule, the last successful sync is
recent enough.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from paperfeed.config import Settings
from paperfeed.search import SearchEngine
from paperfeed.store.sync_runs import first_run_started_at, sync_overview

# without PAPERFEED_READY_MAX_SYNC_AGE_HOURS: three missed intervals, at least an hour
DEFAULT_SYNC_INTERVALS = 3
MINIMUM_SYNC_AGE_HOURS = 1.0
INDEX_SOURCE = "index"


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and what it found."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    """Every check; ready when all passed."""

    checks: tuple[Check, ...] = field(default=())

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_json(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "not ready",
            "not_ready": [check.name for check in self.checks if not check.ok],
            "checks": {
                check.name: {"ok": check.ok, "detail": check.detail} for check in self.checks
            },
        }


def max_sync_age_hours(settings: Settings) -> float | None:
    """How old the last successful sync may be; None when the server does not sync."""
    if settings.sync_interval_minutes is None:
        return None
    if settings.ready_max_sync_age_hours is not None:
        return settings.ready_max_sync_age_hours
    return max(MINIMUM_SYNC_AGE_HOURS, DEFAULT_SYNC_INTERVALS * settings.sync_interval_minutes / 60)


def _database(engine: SearchEngine) -> Check:
    try:
        with engine.store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return Check("database", False, f"the database does not answer: {reason}")
    return Check("database", True, "answers")


def _index(engine: SearchEngine, papers: int | None) -> Check:
    if engine.lexical is not None:
        return Check("index", True, f"{engine.lexical.live_count} papers searchable")
    if papers == 0:
        return Check("index", True, "no papers yet, so nothing to index")
    return Check("index", False, "no search index loaded: run paperfeed index")


def _sync(engine: SearchEngine, settings: Settings, now: float) -> Check | None:
    limit = max_sync_age_hours(settings)
    if limit is None:
        return None
    sources = [entry for entry in sync_overview(engine.store) if entry.source != INDEX_SOURCE]
    if not sources:
        return Check("sync", True, "no sync has run yet (the first runs at start)")
    stale = []
    ages = []
    for entry in sources:
        if entry.last_ok is not None:
            hours = (now - entry.last_ok.started_at) / 3600
            ages.append(f"{entry.source} {hours:.1f} h ago")
        else:
            # a source that never succeeded counts from its first attempt on record (its
            # latest attempt would make every failed retry look like a fresh sync)
            first = first_run_started_at(engine.store, entry.source) or entry.last.started_at
            hours = (now - first) / 3600
            ages.append(f"{entry.source} never (first tried {hours:.1f} h ago)")
        if hours > limit:
            stale.append(entry.source)
    summary = "last successful sync: " + ", ".join(ages) + f" (limit {limit:g} h)"
    if stale:
        return Check("sync", False, f"sync is stale for {', '.join(stale)}; {summary}")
    return Check("sync", True, summary)


def check_readiness(
    engine: SearchEngine, settings: Settings, now: float | None = None
) -> Readiness:
    """Run every readiness check against ``engine`` (its store and loaded index)."""
    database = _database(engine)
    checks = [database]
    papers: int | None = None
    if database.ok:
        try:
            papers = engine.store.count_papers()
        except SQLAlchemyError:
            papers = None
    checks.append(_index(engine, papers))
    if database.ok:
        sync = _sync(engine, settings, time.time() if now is None else now)
        if sync is not None:
            checks.append(sync)
    return Readiness(tuple(checks))
