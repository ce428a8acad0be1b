"""The daily loop end to end: ``paperfeed sync`` over both sources, and ``paperfeed serve``
syncing on its schedule, showing the day's papers and mailing digests after the sync."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from http_clients import http_get
from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.digest.subscribing import subscribe
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.store.subscriptions import confirm_subscription, outbox_counts
from paperfeed.sync.scheduling import scheduled_tick
from replay_server import Replay, serve_replay
from running_site import free_port

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDS = [json.loads(line) for line in (FIXTURES / "oai" / "arxiv_2026-07-01.jsonl").open()]
DAY_FILE = (FIXTURES / "daily_papers" / "2025-06-02.json").read_bytes()  # 2 entries


@pytest.fixture
def today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture
def replay(today: str) -> Replay:
    """Today's arXiv listings (the 45 real ones, re-dated) and yesterday's daily list."""
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    records = [dict(record, datestamp=today) for record in RECORDS]
    return Replay(records=records, page_size=20, days={yesterday: DAY_FILE}, response_date=today)


@pytest.fixture
def sources(replay: Replay, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve_replay(replay) as base:
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", f"{base}/oai")
        monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", base)
        monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_BACKOFF_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_TIMEOUT_SECONDS", "5")
        monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
        yield base


def test_sync_runs_every_source_then_the_index(sources: str, replay: Replay, today: str) -> None:
    result = CliRunner().invoke(main, ["sync", "--quiet"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "arxiv: added 45, updated 0, unchanged 0, rejected 0 in " in out
    assert "daily-papers: added 2, updated 0, unchanged 0, rejected 0 in " in out
    assert "index: +47 searchable, embedded 47; 47 of 47 papers have vectors" in out
    assert "sync done in" in out
    # the first run reaches back 7 days for both sources
    week_ago = (datetime.now(UTC).date() - timedelta(days=6)).isoformat()
    assert any(f"from={week_ago}" in request for request in replay.requests)
    assert any(f"date={week_ago}" in request for request in replay.requests)
    search = CliRunner().invoke(main, ["search", RECORDS[3]["title"], "--json"])
    assert json.loads(search.stdout)["hits"][0]["id"] == RECORDS[3]["id"]
    again = CliRunner().invoke(main, ["sync", "--quiet"])
    assert again.exit_code == 0
    assert "arxiv: added 0, updated 0, unchanged 45" in again.stdout
    assert "index: +0 searchable, embedded 0" in again.stdout
    replay.faults[1] = ["503"] * 10
    replay.retry_after = "0"
    failed = CliRunner().invoke(main, ["sync", "arxiv", "--quiet"])
    assert failed.exit_code == 1
    assert "arxiv: FAILED: cannot fetch" in failed.stderr and "HTTP 503" in failed.stderr
    stats = CliRunner().invoke(main, ["stats"]).stdout
    assert "sync:     arxiv FAILED at" in stats and "HTTP 503" in stats
    assert "last successful sync" in stats


def test_serve_syncs_on_its_schedule_shows_the_day_and_mails_digests_after(
    sources: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, today: str
) -> None:
    received: list[bytes] = []

    class Inbox:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
            received.append(envelope.content)
            return "250 OK"

    smtp_port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    store = Store(settings.database_url)
    confirm_subscription(store, subscribe(store, "reader@example.org", "daily", "UTC").id)
    store.close()
    monkeypatch.setenv("PAPERFEED_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERFEED_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("PAPERFEED_DIGEST_HOUR", "0")
    monkeypatch.setenv("PAPERFEED_SYNC_INTERVAL_MINUTES", "60")
    monkeypatch.setenv("PAPERFEED_PAGE_CACHE_SECONDS", "0")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "serve", "--port", str(port), "--workers", "2"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    title = RECORDS[0]["title"]
    started = time.monotonic()
    try:
        page = ""
        while time.monotonic() - started < 60 and server.poll() is None:
            try:
                page = http_get(f"http://127.0.0.1:{port}/new", timeout=5).text
            except httpx.TransportError:
                page = ""
            if title in page and received:
                break
            time.sleep(0.3)
        elapsed = time.monotonic() - started
        status = http_get(f"http://127.0.0.1:{port}/status", timeout=5).text
        searched = http_get(
            f"http://127.0.0.1:{port}/api/search",
            params={"q": title, "limit": 1},
            timeout=10,
        ).json()
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
        controller.stop()
    assert title in page, output
    assert elapsed < 60
    assert '<span class="state ok">ok</span>' in status
    assert searched["hits"][0]["id"] == RECORDS[0]["id"]
    assert "syncing arxiv, daily-papers every 60 min (first sync now)" in output
    assert "arxiv: added 45" in output and "daily-papers: added 2" in output
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    assert len(received) == 1, output
    assert f"Subject: Daily papers {yesterday}: 2 papers".encode() in received[0]


def test_serve_refuses_a_schedule_that_cannot_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SYNC_INTERVAL_MINUTES", "5")
    monkeypatch.setenv("PAPERFEED_ARXIV_CATEGORIES", "cs.CL cs.XX")
    result = subprocess.run(
        [sys.executable, "-m", "paperfeed.cli", "serve", "--port", str(free_port())],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "cannot sync on a schedule: unknown arXiv category 'cs.XX'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def mailed(
    sources: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[bytes]]:
    """A real SMTP server on loopback, a confirmed daily subscriber, digests at hour 0."""
    received: list[bytes] = []

    class Inbox:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
            received.append(envelope.content)
            return "250 OK"

    smtp_port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    monkeypatch.setenv("PAPERFEED_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERFEED_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("PAPERFEED_DIGEST_HOUR", "0")
    monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "0")
    store = Store(settings.database_url)
    confirm_subscription(store, subscribe(store, "reader@example.org", "daily", "UTC").id)
    store.close()
    yield received
    controller.stop()


def test_a_failed_sync_does_not_close_yesterday_as_empty_for_good(
    mailed: list[bytes], replay: Replay
) -> None:
    """The scheduled sync failed to fetch yesterday's daily list, the digests that ran
    after it found yesterday empty and recorded it so; once the source was back, the
    next tick skipped yesterday as "composed before" and its digest never went out."""
    configured = Settings.from_environment()
    store = Store(configured.database_url)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    replay.faults[yesterday] = ["500"]  # the daily-papers site is down for this tick
    try:
        engine = SearchEngine(store, configured)
        first = scheduled_tick(store, engine, configured)
        assert first.failed and mailed == []
        assert outbox_counts(store) == {}  # yesterday is not closed as empty
        second = scheduled_tick(store, engine, configured)
        assert not second.failed
    finally:
        store.close()
    assert len(mailed) == 1
    assert f"Subject: Daily papers {yesterday}: 2 papers".encode() in mailed[0]


def test_the_cron_line_after_a_failed_sync_mails_yesterday_once_it_comes_in(
    mailed: list[bytes], replay: Replay
) -> None:
    """`paperfeed sync; paperfeed digest send` (the README's cron line): the same as the
    scheduler, with the CLI as cron runs it."""
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    replay.faults[yesterday] = ["500"]
    runner = CliRunner()
    assert runner.invoke(main, ["sync", "--quiet", "--no-embed"]).exit_code == 1
    early = runner.invoke(main, ["digest", "send", "--quiet"])
    assert early.exit_code == 0 and "1 with nothing new" in early.stdout, early.output
    assert "the last sync of daily-papers failed" in early.stderr
    assert mailed == []
    assert runner.invoke(main, ["sync", "--quiet", "--no-embed"]).exit_code == 0
    later = runner.invoke(main, ["digest", "send", "--quiet"])
    assert later.exit_code == 0 and "sent 1, failed 0" in later.stdout, later.output
    assert f"Subject: Daily papers {yesterday}: 2 papers".encode() in mailed[0]
    again = runner.invoke(main, ["digest", "send", "--quiet"])
    assert "1 composed before" in again.stdout and len(mailed) == 1
