"""Every sync run, as recorded when it starts and ends, and each source's latest.

A failure is visible on ``/status`` and in ``paperfeed stats``. A run records its process
id and host, so one still "running" whose process on this host has ended (``kill -9``,
the OOM killer, a power cut) is read as failed, and the next sync records it so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from paperfeed.processes import process_ended, this_host
from paperfeed.store import schema
from paperfeed.store.database import Store, UpsertCounts

_RUNS = schema.sync_runs


@dataclass(frozen=True)
class SyncRun:
    """One run of one source (or of the index update), as recorded."""

    id: int
    source: str
    started_at: float
    finished_at: float | None
    status: str  # "running", "ok" or "failed"
    added: int
    updated: int
    unchanged: int
    rejected: int
    withdrawn: int
    detail: str | None
    pid: int | None = None  # the process recording it, on ``host`` (None: before migration 19)
    host: str | None = None

    @property
    def seconds(self) -> float | None:
        return self.finished_at - self.started_at if self.finished_at is not None else None


def start_run(store: Store, source: str) -> int:
    """Record that a run of ``source`` started; returns its id."""
    with store.engine.begin() as connection:
        result = connection.execute(
            _RUNS.insert().values(
                source=source,
                started_at=time.time(),
                status="running",
                pid=os.getpid(),
                host=this_host(),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def finish_run(
    store: Store,
    run_id: int,
    status: str,
    counts: UpsertCounts | None = None,
    rejected: int = 0,
    withdrawn: int = 0,
    detail: str | None = None,
) -> None:
    """Record how a run ended: ``ok`` or ``failed`` (``detail`` says why)."""
    counts = counts or UpsertCounts()
    with store.engine.begin() as connection:
        connection.execute(
            _RUNS.update()
            .where(_RUNS.c.id == run_id)
            .values(
                finished_at=time.time(),
                status=status,
                added=counts.added,
                updated=counts.updated,
                unchanged=counts.unchanged,
                rejected=rejected,
                withdrawn=withdrawn,
                detail=detail,
            )
        )


# A run recorded before migration 19 has no process id to check: still "running" a day
# after it started (no sync takes that long), it is read as stopped.
_UNCHECKABLE_AFTER_SECONDS = 24 * 3600


def _recorded_run(row: object) -> SyncRun:
    values = row._mapping  # type: ignore[attr-defined]
    return SyncRun(**{name: values[name] for name in SyncRun.__dataclass_fields__})


def _why_stopped(run: SyncRun, host: str, now: float) -> str | None:
    """Why a run recorded as running has stopped without finishing, or None while it may
    still run: its process on ``host`` has ended, or it was recorded before process ids
    were kept and started over a day ago."""
    if run.status != "running":
        return None
    if run.pid is None:
        if now - run.started_at > _UNCHECKABLE_AFTER_SECONDS:
            return "stopped without finishing (recorded before process ids were kept)"
        return None
    if run.host == host and process_ended(run.pid, run.started_at):
        return f"stopped without finishing (process {run.pid} ended)"
    return None


def _run_from_row(row: object) -> SyncRun:
    """A run as it stands: one still recorded as running that has stopped (see
    ``_why_stopped``) is failed; one of another host, whose process cannot be checked from
    here, is still running, and says where."""
    run = _recorded_run(row)
    if run.status != "running":
        return run
    host = this_host()
    why = _why_stopped(run, host, time.time())
    if why is not None:
        return replace(run, status="failed", detail=why)
    if run.pid is not None and run.host is not None and run.host != host:
        return replace(run, detail=f"running on host {run.host} (process {run.pid})")
    return run


def settle_ended_runs(store: Store) -> list[SyncRun]:
    """Record as failed, for good, the runs this host recorded as running whose process
    has ended (a sync calls it as it starts), and those recorded before process ids were
    kept that started over a day ago; returns them as they were recorded.

    Their ``finished_at`` stays empty: when the process ended is not known.
    """
    host, now = this_host(), time.time()
    ended: list[SyncRun] = []
    with store.engine.begin() as connection:
        rows = connection.execute(select(_RUNS).where(_RUNS.c.status == "running")).all()
        for run in map(_recorded_run, rows):
            why = _why_stopped(run, host, now)
            if why is None:
                continue
            ended.append(run)
            connection.execute(
                _RUNS.update()
                .where(_RUNS.c.id == run.id, _RUNS.c.status == "running")
                .values(status="failed", detail=why)
            )
    return ended


def running_runs_in(connection: Connection) -> list[SyncRun]:
    """The runs recorded as running, as they stand (see ``_run_from_row``), read on the
    caller's connection."""
    rows = connection.execute(select(_RUNS).where(_RUNS.c.status == "running")).all()
    return [_run_from_row(row) for row in rows]


def recent_runs(store: Store, limit: int = 20) -> list[SyncRun]:
    """The latest runs, newest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(_RUNS).order_by(_RUNS.c.started_at.desc(), _RUNS.c.id.desc()).limit(limit)
        ).all()
    return [_run_from_row(row) for row in rows]


def latest_runs(store: Store) -> dict[str, SyncRun]:
    """The latest run of each source, and the latest successful one as ``"<source>:ok"``.

    Runs are never deleted (a year of half-hourly syncs is ~50,000), and every feed page
    shows this: each answer is read by the index on ``(source, started_at)``, one seek a
    source, where grouping every run by source took 22 ms a page at 55,000 runs.
    """
    runs = _RUNS.c
    found: dict[str, SyncRun] = {}
    with store.engine.connect() as connection:
        # the sources, one index seek each (a "loose index scan"): there are a handful
        source = connection.scalar(select(func.min(runs.source)))
        while source is not None:
            newest = (
                select(_RUNS)
                .where(runs.source == source)
                .order_by(runs.started_at.desc(), runs.id.desc())
                .limit(1)
            )
            newest_ok = newest.where(runs.status == "ok")
            for suffix, query in (("", newest), (":ok", newest_ok)):
                row = connection.execute(query).first()
                if row is not None:
                    found[source + suffix] = _run_from_row(row)
            source = connection.scalar(select(func.min(runs.source)).where(runs.source > source))
    return found


def failed_sources(store: Store) -> list[str]:
    """The sources (and the index) whose latest run failed: what they should have
    brought in may be missing, so the digests leave an empty period open."""
    return sorted(
        source
        for source, run in latest_runs(store).items()
        if not source.endswith(":ok") and run.status == "failed"
    )


def first_run_started_at(store: Store, source: str) -> float | None:
    """When ``source``'s first run on record began (None: it never ran): one index seek."""
    with store.engine.connect() as connection:
        started = connection.scalar(
            select(func.min(_RUNS.c.started_at)).where(_RUNS.c.source == source)
        )
    return None if started is None else float(started)


@dataclass(frozen=True)
class SourceStatus:
    """The latest run of one source, and its latest successful one."""

    source: str
    last: SyncRun
    last_ok: SyncRun | None

    @property
    def failing(self) -> bool:
        return self.last.status == "failed"

    def to_json(self) -> dict[str, object]:
        def run(value: SyncRun | None) -> dict[str, object] | None:
            if value is None:
                return None
            return {
                "status": value.status,
                "started_at": datetime.fromtimestamp(value.started_at, UTC).isoformat(),
                "seconds": round(value.seconds, 3) if value.seconds is not None else None,
                "added": value.added,
                "updated": value.updated,
                "unchanged": value.unchanged,
                "rejected": value.rejected,
                "withdrawn": value.withdrawn,
                "detail": value.detail,
            }

        return {"source": self.source, "last": run(self.last), "last_ok": run(self.last_ok)}


def sync_overview(store: Store) -> list[SourceStatus]:
    """Every source that ever ran, with its latest and latest successful run."""
    runs = latest_runs(store)
    return [
        SourceStatus(name, run, runs.get(f"{name}:ok"))
        for name, run in sorted(runs.items())
        if not name.endswith(":ok")
    ]


def overview_lines(overview: Sequence[SourceStatus]) -> list[str]:
    """The sync lines of ``paperfeed stats``: each source's last run, and its last success
    when the last run failed."""
    if not overview:
        return ["sync:     never run (paperfeed sync)"]
    lines = []
    for entry in overview:
        last = entry.last
        when = datetime.fromtimestamp(last.started_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        said = f": {last.detail}" if last.detail else ""  # a run under way has no detail yet
        lines.append(f"sync:     {entry.source} {last.status.upper()} at {when}{said}")
        if entry.failing and entry.last_ok is not None:
            ok_when = datetime.fromtimestamp(entry.last_ok.started_at, UTC)
            lines.append(f"          last successful sync {ok_when:%Y-%m-%d %H:%M} UTC")
    return lines
