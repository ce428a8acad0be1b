"""The sync runs the store keeps, on SQLite and PostgreSQL: each source's latest run and
latest successful run, as every feed page's status line reads them."""

from __future__ import annotations

import time

from sqlalchemy import select

from paperfeed.store import Store, schema
from paperfeed.store.sync_runs import (
    finish_run,
    latest_runs,
    recent_runs,
    settle_ended_runs,
    start_run,
    sync_overview,
)


def test_latest_and_latest_successful_run_of_each_source(database_url: str) -> None:
    store = Store(database_url)
    assert latest_runs(store) == {} and sync_overview(store) == []
    ids: dict[str, list[tuple[int, str]]] = {}
    # interleaved, as the scheduler runs them: b's last two fail, c never succeeds and
    # its last run is still going
    plan = [("a", "ok"), ("b", "ok"), ("c", "failed"), ("a", "failed"), ("b", "ok")]
    plan += [("a", "ok"), ("b", "failed"), ("b", "failed"), ("c", "running")] * 3
    for source, status in plan:
        run = start_run(store, source)
        if status != "running":
            finish_run(store, run, status, detail=None if status == "ok" else "it broke")
        ids.setdefault(source, []).append((run, status))

    def newest(source: str, ok_only: bool = False) -> int:
        return max(run for run, status in ids[source] if status == "ok" or not ok_only)

    found = {name: run.id for name, run in latest_runs(store).items()}
    assert found == {
        "a": newest("a"),
        "a:ok": newest("a", ok_only=True),
        "b": newest("b"),
        "b:ok": newest("b", ok_only=True),
        "c": newest("c"),
    }
    overview = {entry.source: entry for entry in sync_overview(store)}
    assert sorted(overview) == ["a", "b", "c"]
    assert overview["b"].failing and overview["b"].last_ok is not None
    assert overview["c"].last.status == "running" and overview["c"].last_ok is None


def test_a_run_recorded_before_process_ids_were_kept_is_stopped_after_a_day(
    database_url: str,
) -> None:
    """Migration 19 added each run's process id; a run recorded "running" before it has
    none to check, so it read as running for ever. Over a day old, it reads as stopped,
    and the next sync records it so; a younger one is left running."""
    store = Store(database_url)
    old, young = start_run(store, "arxiv"), start_run(store, "daily-papers")
    with store.engine.begin() as connection:
        for run, age in ((old, 25 * 3600), (young, 3600)):
            connection.execute(
                schema.sync_runs.update()
                .where(schema.sync_runs.c.id == run)
                .values(pid=None, host=None, started_at=time.time() - age)
            )
    shown = {run.id: run for run in recent_runs(store)}
    assert shown[old].status == "failed" and "before process ids were kept" in str(
        shown[old].detail
    )
    assert shown[young].status == "running"
    assert [run.id for run in settle_ended_runs(store)] == [old]
    with store.engine.connect() as connection:
        statuses = dict(
            connection.execute(select(schema.sync_runs.c.id, schema.sync_runs.c.status)).all()
        )
    assert statuses == {old: "failed", young: "running"}
    assert settle_ended_runs(store) == []  # recorded once
