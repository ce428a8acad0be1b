"""The sync runs the store keeps, on SQLite and PostgreSQL: each source's latest run and
latest successful run, as every feed page's status line reads them."""

from __future__ import annotations

from paperfeed.store import Store
from paperfeed.store.sync_runs import finish_run, latest_runs, start_run, sync_overview


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
