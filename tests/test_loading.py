"""Ingest runs: summaries, strict mode, and a kill -9 in the middle."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperfeed.store import Store
from paperfeed.store.loading import StrictIngestError, ingest_sources

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _write_many(path: Path, count: int) -> None:
    """``count`` listing records built from the real sample, with fresh ids."""
    template = json.loads((FIXTURES / "cli_arxiv_sample.jsonl").read_text().splitlines()[0])
    with gzip.open(path, "wt") as handle:
        for number in range(count):
            record = dict(template, id=f"2501.{number:05d}", title=f"{template['title']} {number}")
            handle.write(json.dumps(record) + "\n")


def _count_rows(database: Path) -> int:
    """Committed papers, read without migrating (the CLI owns the schema)."""
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as connection:
            return int(connection.execute("select count(*) from papers").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # schema not created yet


def test_summary_counts_and_rejections(database_url: str) -> None:
    store = Store(database_url)
    summary = ingest_sources(
        store,
        [FIXTURES / "cli_bad_records.jsonl", FIXTURES / "cli_arxiv_sample.jsonl"],
        "arxiv-listing",
        show_progress=False,
    )
    assert (summary.added, summary.updated, summary.unchanged, summary.rejected) == (30, 0, 0, 3)
    assert [rejection.line for rejection in summary.rejections] == [1, 2, 3]
    assert "no title and no abstract" in summary.rejections[0].reason


def test_strict_keeps_what_came_before_and_stops(tmp_path: Path, database_url: str) -> None:
    source = tmp_path / "mixed.jsonl"
    good = (FIXTURES / "cli_arxiv_sample.jsonl").read_text().splitlines()
    source.write_text("\n".join(good[:5] + ["{broken"] + good[5:]) + "\n")
    store = Store(database_url)
    with pytest.raises(StrictIngestError) as raised:
        ingest_sources(store, [source], strict=True, show_progress=False)
    assert raised.value.rejection.line == 6
    assert store.count_papers() == 5


def test_kill_minus_nine_loses_nothing_and_rerun_completes(tmp_path: Path) -> None:
    """Kill the real CLI mid-ingest; the store stays consistent and a re-run finishes."""
    source = tmp_path / "many.jsonl.gz"
    _write_many(source, 30_000)
    environment = dict(os.environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "ingest", "--quiet", str(source)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    database = Path(environment["PAPERFEED_HOME"]) / "paperfeed.db"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if _count_rows(database) >= 2000:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    store = Store(f"sqlite:///{database}")
    stored = store.count_papers()
    assert 0 < stored < 30_000, process.stderr.read() if process.stderr else ""
    assert stored % 1000 == 0  # whole batches only: no half-written batch
    summary = ingest_sources(store, [source], show_progress=False)
    assert summary.unchanged == stored
    assert summary.added == 30_000 - stored
    assert store.count_papers() == 30_000
