"""Harvesting arXiv over OAI-PMH from a local replay of real records, as ``paperfeed sync`` does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.models import Paper
from paperfeed.store import Store
from paperfeed.store.syncing import harvest_state
from paperfeed.sync.arxiv import harvest_arxiv
from paperfeed.sync.reports import SyncError
from replay_server import Replay, deleted_xml, serve_replay

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# 45 real listings of 2026-07-01 (shared/data/arxiv/arxiv_2026-07.jsonl.gz), all in cs
RECORDS = [json.loads(line) for line in (FIXTURES / "oai" / "arxiv_2026-07-01.jsonl").open()]
DAY = "2026-07-01"
CL_PAPERS = sum("cs.CL" in record["categories"] for record in RECORDS)


@pytest.fixture
def replay() -> Replay:
    return Replay(records=[dict(record) for record in RECORDS], page_size=10)


@pytest.fixture
def oai_url(replay: Replay, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve_replay(replay) as base:
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", f"{base}/oai")
        monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", "")
        monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_BACKOFF_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_TIMEOUT_SECONDS", "5")
        yield f"{base}/oai"


def _sync(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["sync", *arguments])
    return result.exit_code, result.stdout, result.stderr


def test_harvest_follows_tokens_honours_503_and_keeps_every_field(
    oai_url: str, replay: Replay
) -> None:
    replay.faults[2] = ["503"]  # the second page answers 503 Retry-After: 1 once
    started = time.monotonic()
    code, out, err = _sync("arxiv", "--from", DAY, "--no-index")
    assert code == 0, out + err
    assert "arxiv: added 45, updated 0, unchanged 0, rejected 0" in out
    assert time.monotonic() - started >= 1.0  # it waited as the server asked
    pages = [request for request in replay.requests if "ListRecords" in request]
    assert len(pages) == 6  # 5 pages + the retried one
    assert "metadataPrefix=arXiv" in pages[0] and "set=cs" in pages[0]
    assert f"from={DAY}" in pages[0]
    # a resumption token is the only argument besides the verb (OAI-PMH 2.0, 3.4)
    assert all("metadataPrefix" not in page for page in pages[1:])
    assert all(agent.startswith("paperfeed/") for agent in replay.user_agents)
    store = Store(Settings.from_environment().database_url)
    assert store.count_papers() == 45
    first = RECORDS[0]
    paper = store.get_paper(first["id"])
    assert paper is not None
    assert paper.title_raw == first["title"]
    assert paper.authors == first["authors"]  # forenames + keyname
    assert paper.categories == first["categories"]
    assert paper.published == "2026-06-30" and paper.first_listed == DAY
    assert paper.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert paper.sources == ["arxiv-oai"]
    # the same window again changes nothing
    code, out, _ = _sync("arxiv", "--from", DAY, "--no-index")
    assert "added 0, updated 0, unchanged 45, rejected 0" in out
    assert store.count_papers() == 45


def test_resumes_from_the_last_datestamp_and_an_empty_window_is_nothing_new(
    oai_url: str, replay: Replay
) -> None:
    _sync("arxiv", "--from", DAY, "--no-index")
    settings = Settings.from_environment()
    store = Store(settings.database_url)
    state = harvest_state(store, "arxiv:cs")
    assert state is not None and state.last_datestamp == DAY and state.resumption_token is None
    replay.requests.clear()
    code, out, _ = _sync("arxiv", "--no-index")  # carries on from the last datestamp
    assert code == 0 and f"from={DAY}" in replay.requests[0]
    assert "unchanged 45" in out
    code, out, _ = _sync("arxiv", "--from", "2026-07-02", "--no-index")
    assert code == 0  # noRecordsMatch: nothing new, not a failure
    assert "added 0, updated 0, unchanged 0, rejected 0" in out


def test_deleted_record_marks_the_stored_paper_withdrawn_and_a_bad_record_is_rejected(
    oai_url: str, replay: Replay
) -> None:
    settings = Settings.from_environment()
    store = Store(settings.database_url)
    store.upsert_papers(
        [Paper("2606.00001", "Gone", "A paper arXiv deleted.", sources=["arxiv-listing"])]
    )
    replay.deleted.append(("2606.00001", DAY))
    bad = dict(RECORDS[0], id="not-an-id")
    replay.extra_xml[3] = deleted_xml("2606.99999", DAY).replace(
        'status="deleted"', ""
    )  # a header without metadata
    from replay_server import record_xml

    replay.extra_xml[2] = record_xml(bad, DAY)
    code, out, err = _sync("arxiv", "--from", DAY, "--no-index")
    assert code == 0, out + err
    assert "added 45, updated 0, unchanged 0, rejected 2 (1 marked withdrawn)" in out
    assert "bad arXiv id 'not-an-id'" in err and "has no <metadata>" in err
    gone = store.get_paper("2606.00001")
    assert gone is not None and gone.withdrawn_on == "2026-07-02" and gone.title == "Gone"


def test_a_record_stamped_with_no_calendar_day_is_rejected_naming_the_stamp(
    oai_url: str, replay: Replay
) -> None:
    from replay_server import record_xml

    stamped = record_xml(dict(RECORDS[0], id="2606.00002"), DAY)
    replay.extra_xml[2] = stamped.replace(f"<datestamp>{DAY}<", "<datestamp>2026-06-31<")
    code, out, err = _sync("arxiv", "--from", DAY, "--no-index")
    assert code == 0, out + err
    assert "added 45, updated 0, unchanged 0, rejected 1" in out
    assert "bad header datestamp '2026-06-31'" in err
    assert Store(Settings.from_environment().database_url).get_paper("2606.00002") is None


def test_only_followed_categories_are_kept(oai_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_ARXIV_CATEGORIES", "cs.CL")
    code, out, _ = _sync("arxiv", "--from", DAY, "--no-index")
    assert code == 0
    assert f"added {CL_PAPERS}," in out
    assert f"{45 - CL_PAPERS} outside the followed categories skipped" in out


@pytest.mark.parametrize(
    ("settings_change", "arguments", "exit_code", "message"),
    [
        ({"PAPERFEED_ARXIV_CATEGORIES": "cs.CL cs.XX"}, [], 1, "unknown arXiv category 'cs.XX'"),
        ({"PAPERFEED_ARXIV_CATEGORIES": "cs.cl"}, [], 1, "did you mean cs.CL?"),
        ({"PAPERFEED_ARXIV_SETS": "computer-science"}, [], 1, "unknown arXiv OAI-PMH set"),
        # a bad option value is a usage error (exit 2), as for search --since
        ({}, ["--from", "2999-01-01"], 2, "--from 2999-01-01 is in the future"),
        ({}, ["--from", "2026-02-30"], 2, "--from '2026-02-30' is not a date"),
        ({}, ["--from", "2026-13-01"], 2, "--from '2026-13-01' is not a date"),
        ({}, ["--until", "2026-02-30"], 2, "--until '2026-02-30' is not a date"),
        ({}, ["--from", "20260301"], 2, "--from '20260301' is not a date"),
        ({}, ["--from", DAY, "--until", "2026-06-01"], 2, "--until 2026-06-01 is before --from"),
    ],
)
def test_bad_settings_and_dates_are_refused_before_anything_is_fetched(
    oai_url: str,
    replay: Replay,
    monkeypatch: pytest.MonkeyPatch,
    settings_change: dict[str, str],
    arguments: list[str],
    exit_code: int,
    message: str,
) -> None:
    for name, value in settings_change.items():
        monkeypatch.setenv(name, value)
    code, out, err = _sync("arxiv", *arguments)
    assert code == exit_code
    assert message in err and "Traceback" not in err
    assert replay.requests == []


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("malformed", "not well-formed XML: mismatched tag"),
        ("html", "got an HTML page instead of OAI-PMH XML ('502 Bad Gateway')"),
        ("truncated", "the response is truncated"),
        ("500", "HTTP 500"),
        ("cut", "the response was cut off"),
    ],
)
def test_a_bad_page_fails_with_its_url_writes_none_of_it_and_the_next_run_resumes(
    oai_url: str, replay: Replay, fault: str, message: str
) -> None:
    replay.faults[3] = [fault] * 10  # every retry gets the same bad answer
    code, out, err = _sync("arxiv", "--from", DAY, "--no-index")
    assert code == 1
    assert "arxiv: added 20, updated 0, unchanged 0, rejected 0" in out
    assert f"cannot fetch {oai_url}?verb=ListRecords&resumptionToken=" in err or (
        f"{oai_url}?verb=ListRecords&resumptionToken=" in err
    )
    assert message in err and "Traceback" not in err
    store = Store(Settings.from_environment().database_url)
    assert store.count_papers() == 20  # pages 1 and 2, nothing of page 3
    replay.faults.clear()
    code, out, _ = _sync("arxiv", "--no-index")  # no --from: carries on at page 3
    assert code == 0 and "added 25, updated 0, unchanged 0" in out
    assert store.count_papers() == 45


def test_a_server_that_never_answers_times_out(
    oai_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does) but never answers
    port = silent.getsockname()[1]
    monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", f"http://127.0.0.1:{port}/oai")
    monkeypatch.setenv("PAPERFEED_SYNC_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "1")
    started = time.monotonic()
    try:
        code, _, err = _sync("arxiv", "--from", DAY, "--no-index")
    finally:
        silent.close()
    assert code == 1
    assert f"cannot fetch http://127.0.0.1:{port}/oai?verb=ListRecords" in err
    assert "no answer within 0.5 s (2 attempts)" in err
    assert time.monotonic() - started < 20


def test_library_reports_a_failure_instead_of_raising(oai_url: str, replay: Replay) -> None:
    settings = Settings.from_environment()
    store = Store(settings.database_url)
    replay.faults[1] = ["html"] * 10
    report = harvest_arxiv(store, settings, DAY)
    assert report.error is not None and "HTML page" in report.error
    assert report.counts.added == 0
    with pytest.raises(SyncError, match="in the future"):
        harvest_arxiv(store, settings, "2999-01-01")


def _run_cli(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "sync", *arguments],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("stall_page", [1, 3, 5])
def test_kill_9_mid_harvest_loses_nothing_and_the_next_run_completes_it(
    oai_url: str, replay: Replay, stall_page: int
) -> None:
    """The real CLI is killed while it waits for page N: pages 1..N-1 are stored with
    the token of page N, and the next run fetches exactly the rest."""
    replay.faults[stall_page] = ["stall"]
    process = _run_cli("arxiv", "--from", DAY, "--no-index", "--quiet")
    try:
        assert replay.stalled.wait(60), process.communicate(timeout=5)[0]
        time.sleep(0.2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        replay.release()
    assert process.returncode == -signal.SIGKILL
    stored_before = 10 * (stall_page - 1)
    store = Store(Settings.from_environment().database_url)
    assert store.count_papers() == stored_before
    again = _run_cli("arxiv", "--from", DAY, "--no-index", "--quiet")
    output = again.communicate(timeout=120)[0]
    assert again.returncode == 0, output
    assert f"arxiv: added {45 - stored_before}, updated 0, unchanged 0, rejected 0" in output
    assert store.count_papers() == 45
    with store.engine.connect() as connection:
        from sqlalchemy import text

        distinct = connection.scalar(text("SELECT COUNT(DISTINCT arxiv_id) FROM papers"))
    assert distinct == 45
    final = _run_cli("arxiv", "--from", DAY, "--no-index", "--quiet")
    assert "added 0, updated 0, unchanged 45" in final.communicate(timeout=120)[0]


@pytest.mark.parametrize("code", ["badResumptionToken", "badArgument"])
def test_a_token_the_server_forgot_restarts_the_window_and_the_harvest_completes(
    oai_url: str, replay: Replay, code: str
) -> None:
    """A stored token the server no longer knows (it restarted, or the token expired)
    harvests the window anew; with a token as the only argument, a ``badArgument`` can
    only be about the token (OAI-PMH 2.0, 3.6), so it is read the same way."""
    replay.faults[3] = ["html"]
    first_exit, _, _ = _sync("arxiv", "--from", DAY, "--no-index")
    assert first_exit != 0
    store = Store(Settings.from_environment().database_url)
    state = harvest_state(store, "arxiv:cs")
    assert state is not None and state.resumption_token and store.count_papers() == 20
    replay.forget_tokens_with = code
    replay.requests.clear()
    exit_code, out, err = _sync("arxiv", "--no-index")
    assert exit_code == 0, out + err
    assert "added 25, updated 0, unchanged 20, rejected 0" in out
    assert "resumptionToken" in replay.requests[0]
    assert "metadataPrefix=arXiv" in replay.requests[1]  # the window, from its start
    assert store.count_papers() == 45
    state = harvest_state(store, "arxiv:cs")
    assert state is not None and state.resumption_token is None and state.last_datestamp == DAY
    store.close()


def test_harvest_state_and_withdrawals_on_both_databases(
    oai_url: str, replay: Replay, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    settings = Settings.from_environment()
    store = Store(database_url)
    store.upsert_papers([Paper(RECORDS[0]["id"], "Old title", None, sources=["daily-papers"])])
    replay.faults[3] = ["html"]
    first = harvest_arxiv(store, settings, DAY)
    assert first.error is not None and first.counts.added == 19 and first.counts.updated == 1
    state = harvest_state(store, "arxiv:cs")
    assert state is not None and state.resumption_token and state.window_from == DAY
    replay.deleted.append((RECORDS[1]["id"], DAY))
    second = harvest_arxiv(store, settings)  # carries on at page 3
    assert second.error is None and second.counts.added == 25 and second.withdrawn == 1
    assert store.count_papers() == 45
    state = harvest_state(store, "arxiv:cs")
    assert state is not None and state.resumption_token is None and state.last_datestamp == DAY
    withdrawn = store.get_paper(RECORDS[1]["id"])
    assert withdrawn is not None and withdrawn.withdrawn_on == "2026-07-02"
    store.close()
