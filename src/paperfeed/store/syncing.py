"""What the syncs keep in the database: where each harvest stands, and every sync run.

A harvest page is stored in one transaction together with the point to resume from
(its resumption token), so a process killed at any moment leaves either the whole page
and the token after it, or neither. Sync runs are recorded as they start and end, so
a failure is visible on ``/status`` and in ``paperfeed stats``. A run records its process
id and host, so one still "running" whose process on this host has ended (``kill -9``,
the OOM killer, a power cut) is read as failed, and the next sync records it so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from paperfeed.models import Paper
from paperfeed.processes import process_ended, this_host
from paperfeed.store import schema
from paperfeed.store.database import (
    Store,
    UpsertCounts,
    resolve_doi_aliases,
    upsert_papers_in,
)
from paperfeed.store.sequencing import next_change_sequence

_STATE = schema.harvest_state
_RUNS = schema.sync_runs


@dataclass(frozen=True)
class HarvestState:
    """Where the incremental harvest of one source stands."""

    source: str
    last_datestamp: str | None  # the latest day completely harvested
    window_from: str | None  # a harvest under way: its window...
    window_until: str | None
    resumption_token: str | None  # ...and the token of its next page


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


def harvest_state(store: Store, source: str) -> HarvestState | None:
    """The stored state of ``source`` (``"arxiv:cs"``), or None before its first harvest."""
    with store.engine.connect() as connection:
        row = connection.execute(select(_STATE).where(_STATE.c.source == source)).first()
    if row is None:
        return None
    return HarvestState(
        row.source, row.last_datestamp, row.window_from, row.window_until, row.resumption_token
    )


def _write_state(connection: Connection, source: str, **values: object) -> None:
    values["updated_at"] = time.time()
    exists = connection.scalar(
        select(func.count()).select_from(_STATE).where(_STATE.c.source == source)
    )
    if exists:
        connection.execute(_STATE.update().where(_STATE.c.source == source).values(**values))
    else:
        connection.execute(_STATE.insert().values(source=source, **values))


def _mark_withdrawn(connection: Connection, arxiv_ids: Sequence[str], day: str) -> int:
    """Mark stored papers withdrawn (votes, lists and collections stay); returns how many."""
    if not arxiv_ids:
        return 0
    papers = schema.papers
    keys = list(
        connection.scalars(
            select(papers.c.key).where(
                papers.c.arxiv_id.in_(list(arxiv_ids)), papers.c.withdrawn_on.is_(None)
            )
        )
    )
    if not keys:
        return 0
    sequence = next_change_sequence(connection)
    connection.execute(
        papers.update()
        .where(papers.c.key.in_(keys))
        .values(
            withdrawn_on=day,
            change_sequence=sequence,
            updated_at=datetime.now(UTC).isoformat(),
        )
    )
    return len(keys)


def store_harvest_page(
    store: Store,
    source: str,
    papers: Iterable[Paper],
    deleted: Sequence[str],
    deleted_on: str,
    window: tuple[str | None, str | None],
    next_token: str | None,
) -> tuple[UpsertCounts, int]:
    """Store one page and the point to resume from, in one transaction.

    Args:
        source: e.g. ``"arxiv:cs"``.
        papers: the page's papers.
        deleted: arXiv ids the page reports deleted; stored ones are marked withdrawn.
        deleted_on: the date to mark them with.
        window: the harvest's ``(from, until)``.
        next_token: the resumption token of the next page (None: the list is done).

    Returns:
        The upsert counts and how many stored papers were marked withdrawn.
    """
    with store.engine.begin() as connection:
        counts = upsert_papers_in(connection, papers)
        withdrawn = _mark_withdrawn(connection, deleted, deleted_on)
        _write_state(
            connection,
            source,
            window_from=window[0],
            window_until=window[1],
            resumption_token=next_token,
        )
    return counts, withdrawn


def store_preprint_page(
    store: Store,
    source: str,
    papers: Sequence[Paper],
    window: tuple[str, str],
    next_cursor: int | None,
) -> UpsertCounts:
    """Store one page of bioRxiv/medRxiv details and the cursor of the next, in one
    transaction (``next_cursor`` None: the window is done).

    A record of a version older than the one stored (re-harvesting an earlier window, or
    a service listing newest first) never brings the paper back to that version's text;
    but its posting date, when earlier than the stored one, is still the paper's first
    (``published`` and ``first_listed``), as if the versions had come in order.
    """
    with store.engine.begin() as connection:
        resolved = resolve_doi_aliases(connection, list(papers))
        ids = sorted({paper.arxiv_id for paper in resolved})
        stored: dict[str, tuple[str | None, str | None, str | None]] = {}
        papers_table = schema.papers.c
        for start in range(0, len(ids), 500):
            rows = connection.execute(
                select(
                    papers_table.arxiv_id,
                    papers_table.updated,
                    papers_table.published,
                    papers_table.first_listed,
                ).where(papers_table.arxiv_id.in_(ids[start : start + 500]))
            )
            stored.update(
                {row.arxiv_id: (row.updated, row.published, row.first_listed) for row in rows}
            )
        current = []
        for paper in resolved:
            updated, published, first_listed = stored.get(paper.arxiv_id, (None, None, None))
            if (paper.updated or "") >= (updated or ""):
                current.append(paper)
            else:
                dates = _earlier_dates(paper, published, first_listed)
                if dates is not None:
                    current.append(dates)
        counts = upsert_papers_in(connection, current)
        counts.unchanged += len(resolved) - len(current)
        _write_state(
            connection,
            source,
            window_from=window[0],
            window_until=window[1],
            resumption_token=None if next_cursor is None else str(next_cursor),
        )
    return counts


def _earlier_dates(older: Paper, published: str | None, first_listed: str | None) -> Paper | None:
    """Only the dates of an older version's record that are earlier than the stored
    ones (None when there are none): merged, they change nothing else. A first version
    seen after a later one (no first listing stored) brings its own date, in place of
    the later version's estimate."""
    if older.first_listed and first_listed is None and older.published:
        earlier_published: str | None = older.published
    else:
        earlier_published = _earlier(older.published, published)
    earlier_listed = _earlier(older.first_listed, first_listed)
    if earlier_published is None and earlier_listed is None:
        return None
    return Paper(
        older.arxiv_id,
        published=earlier_published,
        first_listed=earlier_listed,
        sources=older.sources,
    )


def _earlier(day: str | None, stored: str | None) -> str | None:
    """``day`` when it is before ``stored`` (or nothing is stored), else None."""
    return day if day and (stored is None or day < stored) else None


def upsert_with_state(
    store: Store, source: str, papers: Iterable[Paper], last_datestamp: str
) -> UpsertCounts:
    """Store papers and advance ``source``'s last datestamp together (one transaction).

    The datestamp never moves back: re-fetching an earlier day leaves it where it is.
    """
    with store.engine.begin() as connection:
        counts = upsert_papers_in(connection, papers)
        old = connection.scalar(select(_STATE.c.last_datestamp).where(_STATE.c.source == source))
        _write_state(connection, source, last_datestamp=max(filter(None, [old, last_datestamp])))
    return counts


def finish_harvest(store: Store, source: str, last_datestamp: str | None) -> None:
    """A harvest window is complete: forget its token, remember how far it reached."""
    with store.engine.begin() as connection:
        values: dict[str, object] = {
            "window_from": None,
            "window_until": None,
            "resumption_token": None,
        }
        if last_datestamp is not None:
            old = connection.scalar(
                select(_STATE.c.last_datestamp).where(_STATE.c.source == source)
            )
            values["last_datestamp"] = max(filter(None, [old, last_datestamp]))
        _write_state(connection, source, **values)


def forget_resumption(store: Store, source: str) -> None:
    """Drop a stale token (the server no longer knows it); the window is harvested anew."""
    with store.engine.begin() as connection:
        _write_state(connection, source, resumption_token=None)


# -- sync runs -----------------------------------------------------------------------


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


def _stopped(pid: int) -> str:
    return f"stopped without finishing (process {pid} ended)"


def _recorded_run(row: object) -> SyncRun:
    values = row._mapping  # type: ignore[attr-defined]
    return SyncRun(**{name: values[name] for name in SyncRun.__dataclass_fields__})


def _has_ended(run: SyncRun, host: str) -> bool:
    """Whether ``run`` is recorded as running by a process of ``host`` that is gone."""
    return (
        run.status == "running"
        and run.pid is not None
        and run.host == host
        and process_ended(run.pid, run.started_at)
    )


def _run_from_row(row: object) -> SyncRun:
    """A run as it stands: one still recorded as running whose process on this host has
    ended is failed; one of another host, whose process cannot be checked from here, is
    still running, and says where."""
    run = _recorded_run(row)
    if run.status != "running" or run.pid is None or run.host is None:
        return run
    host = this_host()
    if run.host != host:
        return replace(run, detail=f"running on host {run.host} (process {run.pid})")
    if process_ended(run.pid, run.started_at):
        return replace(run, status="failed", detail=_stopped(run.pid))
    return run


def settle_ended_runs(store: Store) -> list[SyncRun]:
    """Record as failed, for good, the runs this host recorded as running whose process
    has ended (a sync calls it as it starts); returns them as they were recorded.

    Their ``finished_at`` stays empty: when the process ended is not known.
    """
    host = this_host()
    with store.engine.begin() as connection:
        rows = connection.execute(
            select(_RUNS).where(_RUNS.c.status == "running", _RUNS.c.host == host)
        ).all()
        ended = [run for run in map(_recorded_run, rows) if _has_ended(run, host)]
        for run in ended:
            assert run.pid is not None
            connection.execute(
                _RUNS.update()
                .where(_RUNS.c.id == run.id, _RUNS.c.status == "running")
                .values(status="failed", detail=_stopped(run.pid))
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
