"""One log line per job: ``paperfeed sync`` against a replayed OAI-PMH server and
``paperfeed digest send``, as text and as JSON (``PAPERFEED_LOG_FORMAT``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from replay_server import Replay, serve_replay

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDS = [json.loads(line) for line in (FIXTURES / "oai" / "arxiv_2026-07-01.jsonl").open()]


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_sync_and_digest_each_log_one_json_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_LOG_FORMAT", "json")
    monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", "")
    monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
    runner = CliRunner()
    with serve_replay(Replay(records=[dict(record) for record in RECORDS], page_size=20)) as base:
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", f"{base}/oai")
        # not --quiet: that leaves standard error to warnings and errors (test_cli_quiet)
        synced = runner.invoke(main, ["sync", "--from", "2026-07-01"])
    assert synced.exit_code == 0, synced.output
    [job] = [entry for entry in _json_lines(synced.stderr) if entry.get("job") == "sync"]
    assert job["event"] == "job" and job["outcome"] == "ok" and job["level"] == "info"
    assert job["added"] == len(RECORDS) and job["sources"] == ["arxiv"]
    assert isinstance(job["ms"], float) and job["failed_sources"] == []
    sent = runner.invoke(main, ["digest", "send"])
    assert sent.exit_code == 0, sent.output
    [digest] = [entry for entry in _json_lines(sent.stderr) if entry.get("job") == "digest-send"]
    assert digest["outcome"] == "ok" and digest["sent"] == 0 and digest["failed"] == 0


def test_a_failed_sync_logs_a_failed_job_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", "")
    monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
    monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "0")
    replay = Replay(records=[dict(record) for record in RECORDS], page_size=20)
    replay.faults[1] = ["html"] * 5
    with serve_replay(replay) as base:
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", f"{base}/oai")
        synced = CliRunner().invoke(main, ["sync", "--quiet", "--from", "2026-07-01"])
    assert synced.exit_code == 1
    # (a handler another library put on the root logger may repeat it in its own format)
    lines = [line for line in synced.stderr.splitlines() if "WARNING job sync failed" in line]
    assert lines and "(arxiv)" in lines[0]
    with pytest.raises(ValueError):
        json.loads(lines[0])  # text, one line
