"""``paperfeed sync`` against misbehaving servers on loopback: it ends, soon, and says why."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from hostile_server import Hostile, serve_hostile
from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDS = [json.loads(line) for line in (FIXTURES / "oai" / "arxiv_2026-07-01.jsonl").open()]
DAY = "2026-07-01"
DAILY = "2025-06-02"
DAY_ENTRIES = json.loads((FIXTURES / "daily_papers" / f"{DAILY}.json").read_bytes())


@pytest.fixture(autouse=True)
def _fast_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
    monkeypatch.setenv("PAPERFEED_SYNC_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("PAPERFEED_SYNC_TIMEOUT_SECONDS", "5")


@contextmanager
def _serve(hostile: Hostile, monkeypatch: pytest.MonkeyPatch, source: str) -> Iterator[str]:
    with serve_hostile(hostile) as base:
        if source == "arxiv":
            monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", f"{base}/oai")
            monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", "")
        else:
            monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", base)
            monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", "")
        yield base


def _sync(*arguments: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    result = CliRunner().invoke(main, ["sync", *arguments, "--no-index"])
    return result.exit_code, result.stdout, result.stderr, time.monotonic() - started


def _store() -> Store:
    return Store(Settings.from_environment().database_url)


def test_a_repeated_resumption_token_stops_the_harvest_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hostile = Hostile("token-loop", records=RECORDS[:3])
    with _serve(hostile, monkeypatch, "arxiv") as _base:
        code, out, err, seconds = _sync("arxiv", "--from", DAY)
    assert code == 1
    assert "the server sent resumption token 'loop-0' a second time" in err
    assert "verb=ListRecords&resumptionToken=loop-0" in err  # names the URL
    assert "Traceback" not in err
    assert len(hostile.requests) == 2 and seconds < 10
    assert "added 3" in out  # the records it sent are kept
    assert _store().count_papers() == 3


def test_a_run_of_empty_pages_stops_the_harvest(monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = Hostile("empty-pages")
    with _serve(hostile, monkeypatch, "arxiv") as _base:
        code, _out, err, seconds = _sync("arxiv", "--from", DAY)
    assert code == 1
    assert "5 pages in a row held no record yet each sent a resumption token" in err
    assert "'empty-5'" in err
    assert len(hostile.requests) == 5 and seconds < 10


def test_the_request_budget_stops_a_list_that_never_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAPERFEED_SYNC_MAX_REQUESTS", "20")
    hostile = Hostile("fresh-tokens", records=RECORDS[:2])
    with _serve(hostile, monkeypatch, "arxiv") as _base:
        code, _out, err, _seconds = _sync("arxiv", "--from", DAY)
    assert code == 1
    assert "this run's budget of 20 requests is spent (PAPERFEED_SYNC_MAX_REQUESTS)" in err
    assert len(hostile.requests) == 20
    assert _store().count_papers() == 2


@pytest.mark.parametrize("mode", ["drip-body", "drip-headers"])
@pytest.mark.parametrize("source", ["arxiv", "daily-papers"])
def test_a_dripped_answer_fails_at_the_deadline_not_a_read_timeout_later(
    monkeypatch: pytest.MonkeyPatch, mode: str, source: str
) -> None:
    monkeypatch.setenv("PAPERFEED_SYNC_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "1")
    hostile = Hostile(mode)
    with _serve(hostile, monkeypatch, source) as _base:
        code, _out, err, seconds = _sync(source, "--from", DAY if source == "arxiv" else DAILY)
    assert code == 1
    assert "no answer within 2 s (2 attempts)" in err
    assert len(hostile.requests) == 2
    assert seconds < 8, seconds  # two 2 s deadlines; each byte came well within a read timeout


def test_a_long_retry_after_stops_the_source_and_says_retry_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hostile = Hostile("retry-after", retry_after="600")
    with _serve(hostile, monkeypatch, "arxiv") as _base:
        code, _out, err, seconds = _sync("arxiv", "--from", DAY)
    assert code == 1
    assert "HTTP 503" in err
    assert "the server asks to retry after 600 s, longer than the 120 s a sync waits" in err
    assert "try again later" in err
    assert len(hostile.requests) == 1 and seconds < 5


def test_a_retry_after_past_the_time_budget_stops_and_waits_are_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAPERFEED_SYNC_BUDGET_MINUTES", "0.05")  # 3 s
    hostile = Hostile("retry-after", retry_after="1")
    with _serve(hostile, monkeypatch, "daily-papers") as _base:
        code, _out, err, seconds = _sync("daily-papers", "--from", DAILY, "--until", DAILY)
    assert code == 1
    # each wait is shown while it happens, then the budget ends it
    assert "daily-papers: waiting: " in err and "HTTP 503 Service Unavailable; retry 1 of 4" in err
    assert "would pass this run's time budget" in err
    assert "PAPERFEED_SYNC_BUDGET_MINUTES" in err
    assert seconds < 6


def test_a_redirect_to_another_host_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = Hostile("redirect", records=RECORDS[:2])
    with _serve(hostile, monkeypatch, "arxiv") as base:
        port = base.rsplit(":", 1)[1]
        hostile.redirect_to = f"http://localhost:{port}/elsewhere/oai"  # same server, other name
        code, _out, err, _seconds = _sync("arxiv", "--from", DAY)
    assert code == 1
    assert f"redirects to another host (localhost: http://localhost:{port}/elsewhere/oai)" in err
    assert not any(request.startswith("localhost") for request in hostile.requests)
    assert _store().count_papers() == 0


def test_a_redirect_within_the_host_is_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = Hostile("redirect", records=RECORDS[:2])
    with _serve(hostile, monkeypatch, "arxiv") as _base:
        hostile.redirect_to = "/elsewhere/oai?verb=ListRecords"
        code, out, err, _seconds = _sync("arxiv", "--from", DAY)
    assert code == 0, err
    assert "added 2" in out
    assert _store().count_papers() == 2


@pytest.mark.parametrize(
    ("source", "setting"),
    [("arxiv", "PAPERFEED_ARXIV_OAI_URL"), ("daily-papers", "PAPERFEED_DAILY_PAPERS_URL")],
)
def test_an_unresolvable_host_fails_at_once_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, source: str, setting: str
) -> None:
    monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "4")
    monkeypatch.setenv("PAPERFEED_SYNC_BACKOFF_SECONDS", "10")  # a retry would show in the time
    other = "PAPERFEED_DAILY_PAPERS_URL" if source == "arxiv" else "PAPERFEED_ARXIV_OAI_URL"
    monkeypatch.setenv(setting, "http://nonexistent.invalid/oai")
    monkeypatch.setenv(other, "")
    code, _out, err, seconds = _sync(source)
    assert code == 1
    assert "cannot resolve nonexistent.invalid" in err
    assert f"offline? Check the network, or set {setting}=" in err
    assert "Traceback" not in err
    assert seconds < 5


def _entry(arxiv_id: str, **paper: object) -> dict[str, object]:
    entry = copy.deepcopy(DAY_ENTRIES[0])
    assert isinstance(entry, dict)
    entry["paper"].update(id=arxiv_id, **paper)
    return entry


def test_a_day_with_hostile_entries_rejects_just_those_and_keeps_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    entries = [
        json.dumps(DAY_ENTRIES[0]),
        json.dumps(_entry("2506.90001", upvotes=1e308)),
        json.dumps(_entry("2506.90002", upvotes="@")).replace('"@"', "1" + "0" * 30),
        json.dumps(_entry("2506.90003", githubStars="@")).replace('"@"', "9" * 5000),
        json.dumps(_entry("2506.90004", authors=[{"name": f"A{n}"} for n in range(20_000)])),
        json.dumps({**_entry("2506.90005"), "title": "x" * 1_000_000}),
        json.dumps(_entry("2506.90006", deep="@")).replace('"@"', deep),
        json.dumps(DAY_ENTRIES[1]),
    ]
    hostile = Hostile("records", day_body=("[" + ",".join(entries) + "]").encode())
    with _serve(hostile, monkeypatch, "daily-papers") as _base:
        code, out, err, _seconds = _sync("daily-papers", "--from", DAILY, "--until", DAILY)
    assert code == 0, err
    assert "added 2, updated 0, unchanged 0, rejected 6" in out
    assert "Traceback" not in err and "RecursionError" not in err
    rejected = [line for line in err.splitlines() if line.startswith("rejected ")]
    assert len(rejected) == 6
    assert (
        ":2: record 2506.90001: field 'paper.upvotes' must be a whole number from 0 to "
        in (rejected[0])
    )
    assert "got float 1e+308" in rejected[0]
    assert "record 2506.90002: field 'paper.upvotes'" in rejected[1] and "1e+30" in rejected[1]
    assert "record 2506.90003: field 'paper.githubStars'" in rejected[2]
    assert ":5: record 2506.90004: 20,000 authors (at most 5,000)" in rejected[3]
    assert (
        ":6: record 2506.90005: title is 1,000,000 characters long (at most 1,000)" in (rejected[4])
    )
    assert ":7: record 2506.90006: the JSON is nested more than 100 levels deep" in rejected[5]
    store = _store()
    assert store.count_papers() == 2
    assert store.get_paper(DAY_ENTRIES[1]["paper"]["id"]) is not None


def test_a_day_that_is_one_deep_object_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = Hostile("records", day_body=b'{"a":' * 200_000 + b"1" + b"}" * 200_000)
    with _serve(hostile, monkeypatch, "daily-papers") as base:
        code, _out, err, _seconds = _sync("daily-papers", "--from", DAILY, "--until", DAILY)
    assert code == 1
    # the URL of the day (paged: the daily-papers sync asks 100 at a time)
    assert (
        f"{base}/api/daily_papers?date={DAILY}&limit=100: the JSON is nested more than 100" in err
    )
    assert "Traceback" not in err


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_sync_stopped_by_ctrl_c_is_recorded_as_interrupted(
    monkeypatch: pytest.MonkeyPatch, stop: signal.Signals
) -> None:
    """A run stopped by Ctrl+C (or by systemd's or kill's SIGTERM) stayed 'running' on
    /status and in paperfeed stats until the source's next run."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes the request, never answers
        monkeypatch.setenv(
            "PAPERFEED_DAILY_PAPERS_URL", f"http://127.0.0.1:{silent.getsockname()[1]}"
        )
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", "")
        monkeypatch.setenv("PAPERFEED_SYNC_TIMEOUT_SECONDS", "60")
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        # Ctrl+C as a terminal sends it: to a process whose SIGINT is not ignored. A shell
        # without job control starts its background commands (the test run among them)
        # with SIGINT ignored, which the sync would inherit and Python would keep.
        command = [
            sys.executable,
            "-c",
            "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "runpy.run_module('paperfeed.cli', run_name='__main__')",
            "sync",
            "daily-papers",
            "--quiet",
        ]
        with subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True) as run:
            silent.settimeout(30)
            connection, _ = silent.accept()  # the sync is waiting for its answer now
            run.send_signal(stop)
            try:
                _, err = run.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                run.kill()  # a failure, not a run that waits on the sync for ever
                pytest.fail(f"paperfeed sync kept running after {stop.name}")
            finally:
                connection.close()
    assert run.returncode != 0 and "Traceback" not in err, err
    stats = CliRunner().invoke(main, ["stats"])
    assert "daily-papers FAILED at" in stats.stdout, stats.stdout
    assert "interrupted (Ctrl+C or SIGTERM) before it finished" in stats.stdout
