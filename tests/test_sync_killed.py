"""A sync killed where it stands (``kill -9``, the OOM killer, a power cut) records no end:
its run is read as stopped once its process is gone, and the next sync records it so.

The sync runs as cron runs it, a process of its own, against the replayed daily-papers
site, which holds its answer until the test has killed it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from http_clients import http_get
from paperfeed.config import Settings
from paperfeed.store import Store, schema
from paperfeed.store.sync_runs import recent_runs, start_run
from replay_server import Replay, cli_environment, serve_replay
from running_site import serve

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAY = "2025-06-02"  # 2 entries in the shared daily_papers_api.tar.gz
STOPPED = "stopped without finishing (process {pid} ended)"


@pytest.fixture
def replay() -> Replay:
    return Replay(days={DAY: (FIXTURES / "daily_papers" / f"{DAY}.json").read_bytes()})


@pytest.fixture
def environment(paperfeed_home: Path, replay: Replay) -> Iterator[dict[str, str]]:
    with serve_replay(replay) as base:
        yield cli_environment(paperfeed_home, base, PAPERFEED_SYNC_TIMEOUT_SECONDS="60")


def _paperfeed(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperfeed.cli", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _recorded(settings: Settings, source: str) -> list[tuple[str, str | None]]:
    """``source``'s runs as the database holds them, oldest first: (status, detail)."""
    store = Store(settings.database_url)
    runs = schema.sync_runs.c
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(runs.status, runs.detail).where(runs.source == source).order_by(runs.id)
        ).all()
    store.close()
    return [(status, detail) for status, detail in rows]


def _metrics(settings: Settings) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with serve(settings) as url:
        text = http_get(f"{url}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_sync_killed_with_sigkill_is_shown_stopped_and_the_next_sync_records_it(
    environment: dict[str, str], replay: Replay, settings: Settings
) -> None:
    replay.faults[DAY] = ["stall"]  # the day's answer waits: the sync is mid-way
    window = ("--from", DAY, "--until", DAY)
    killed = subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "sync", "daily-papers", *window, "--quiet"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert replay.stalled.wait(60), "the sync never asked for the day"
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(30) == -signal.SIGKILL
    finally:
        killed.kill()
    stopped = STOPPED.format(pid=killed.pid)
    assert _recorded(settings, "daily-papers") == [("running", None)]  # what the kill left
    # another host's sync, under way: its process cannot be checked from here
    store = Store(settings.database_url)
    elsewhere = start_run(store, "arxiv")
    with store.engine.begin() as connection:
        connection.execute(
            schema.sync_runs.update()
            .where(schema.sync_runs.c.id == elsewhere)
            .values(host="worker-2", pid=4242)
        )
    store.close()

    stats = _paperfeed(environment, "stats")
    assert stats.returncode == 0, stats.stderr
    assert "daily-papers FAILED at " in stats.stdout and f": {stopped}" in stats.stdout
    assert "arxiv RUNNING at " in stats.stdout, stats.stdout
    assert ": running on host worker-2 (process 4242)" in stats.stdout
    metrics = _metrics(settings)
    in_progress = "paperfeed_sync_runs_in_progress"
    assert (in_progress, (("source", "daily-papers"),)) not in metrics
    assert metrics[(in_progress, (("source", "arxiv"),))] == 1
    failed = (("source", "daily-papers"), ("status", "failed"))
    assert metrics[("paperfeed_sync_runs_total", failed)] == 1

    replay.release()
    again = _paperfeed(environment, "sync", "daily-papers", *window, "--quiet")
    assert again.returncode == 0, again.stderr
    store = Store(settings.database_url)
    runs = [(run.source, run.status, run.detail) for run in recent_runs(store)]
    store.close()
    assert runs[0][:2] == ("index", "ok") and runs[1][:2] == ("daily-papers", "ok")
    # recorded for good: the killed run is failed in the database itself now
    assert ("daily-papers", "failed", stopped) in runs
    assert [status for status, _ in _recorded(settings, "daily-papers")] == ["failed", "ok"]
    assert _recorded(settings, "arxiv") == [("running", None)]  # the other host's, left be
    assert _metrics(settings)[("paperfeed_sync_runs_total", failed)] == 1  # never went down


def test_a_process_id_taken_by_a_later_process_is_not_the_run_s(database_url: str) -> None:
    """After a reboot (a power cut) ids are handed out again: the process now holding a
    run's id started after the run did, so the run's own process has ended."""
    store = Store(database_url)
    mine = start_run(store, "arxiv")  # this test's process: alive, started before it
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        reused = start_run(store, "daily-papers")
        with store.engine.begin() as connection:
            connection.execute(
                schema.sync_runs.update()
                .where(schema.sync_runs.c.id == reused)
                .values(pid=later.pid, started_at=time.time() - 3600)
            )
        seen = {run.id: run for run in recent_runs(store)}
    finally:
        later.kill()
        later.wait()
    assert seen[mine].status == "running" and seen[mine].detail is None
    assert seen[reused].status == "failed"
    assert seen[reused].detail == STOPPED.format(pid=later.pid)
    store.close()
