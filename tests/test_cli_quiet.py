"""``--quiet`` is for cron, which mails whatever a job writes: on standard error a run that
went well says nothing (no INFO log line, no note), and one that did not still says why.

Each command runs as its own process, as cron runs it, on a small home with the bundled
MiniLM embedder (whose loading logs the fusion probe at INFO).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay_server import Replay, cli_environment, serve_replay

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAY = "2025-06-02"  # 2 entries in the shared daily_papers_api.tar.gz


def _run(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperfeed.cli", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def replay() -> Replay:
    return Replay(days={DAY: (FIXTURES / "daily_papers" / f"{DAY}.json").read_bytes()})


@pytest.fixture
def environment(paperfeed_home: Path, replay: Replay) -> Iterator[dict[str, str]]:
    """A cron job's environment: a home, the replayed daily-papers site, MiniLM."""
    with serve_replay(replay) as base:
        yield cli_environment(
            paperfeed_home,
            base,
            PAPERFEED_EMBED_MODEL="minilm",
            PAPERFEED_SYNC_BACKOFF_SECONDS="0",
            PAPERFEED_SYNC_TIMEOUT_SECONDS="5",
            PAPERFEED_BASE_URL="https://papers.example.org",
        )


def test_a_quiet_run_that_went_well_writes_nothing_on_standard_error(
    environment: dict[str, str], tmp_path: Path
) -> None:
    window = ("--from", "2025-06-01", "--until", "2025-06-03")
    for command in (
        ("ingest", "--quiet", str(FIXTURES / "cli_daily_sample.jsonl")),
        ("sync", "daily-papers", *window, "--quiet"),  # fetches, embeds with MiniLM
        ("index", "--quiet"),
        ("digest", "send", "--quiet"),
        ("backup", "--quiet", str(tmp_path / "nightly")),
    ):
        done = _run(environment, *command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert done.stderr == "", (command, done.stderr)
        assert done.stdout, command  # the result is still said, on standard output
    # without --quiet the same runs say more: the log lines and the note were there to hide
    loud = _run(environment, "sync", "daily-papers", *window)
    assert "INFO job sync ok" in loud.stderr, loud.stderr
    noted = _run(environment, "backup", str(tmp_path / "noted"))
    assert "note: the secret key is not in the backup" in noted.stderr


def test_a_quiet_run_still_says_what_went_wrong(
    environment: dict[str, str], replay: Replay, tmp_path: Path
) -> None:
    replay.faults[DAY] = ["500"] * 10  # the site fails that day, retries included
    failed = _run(environment, "sync", "daily-papers", "--from", DAY, "--until", DAY, "--quiet")
    assert failed.returncode == 1
    assert "daily-papers: FAILED" in failed.stderr, failed.stderr
    assert "WARNING job sync failed" in failed.stderr  # the job's log line, as a warning
    # a setting that makes every mail wrong is a warning, --quiet or not
    unset = {**environment, "PAPERFEED_BASE_URL": ""}
    digest = _run(unset, "digest", "send", "--quiet")
    assert "warning: PAPERFEED_BASE_URL is not set" in digest.stderr, digest.stderr
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    refused = _run(environment, "backup", "--quiet", str(a_file / "nightly"))
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: cannot write a backup to"), refused.stderr
