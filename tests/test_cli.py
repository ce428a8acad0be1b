"""The `paperfeed` command driven in-process, as a user would type it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.store import Store
from paperfeed.store.syncing import recent_runs
from running_site import free_port

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARXIV = FIXTURES / "cli_arxiv_sample.jsonl"  # first 30 records of arxiv_2025-03.jsonl.gz
DAILY = FIXTURES / "cli_daily_sample.jsonl"  # first 20 records of papers.jsonl.gz
BAD = FIXTURES / "cli_bad_records.jsonl"


def _run(*arguments: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments), input=input)
    return result.exit_code, result.stdout, result.stderr


def _ingest_and_index() -> None:
    code, out, _ = _run("ingest", "--quiet", str(ARXIV), str(DAILY))
    assert code == 0, out
    assert "added 50, updated 0, unchanged 0, rejected 0" in out
    code, out, _ = _run("index", "--quiet")
    assert code == 0, out
    assert "50 of 50 papers have vectors" in out


def test_ingest_is_idempotent_and_summarised() -> None:
    _ingest_and_index()
    code, out, _ = _run("ingest", "--quiet", str(ARXIV))
    assert code == 0
    assert "added 0, updated 0, unchanged 30, rejected 0" in out


def test_bad_records_are_reported_and_skipped() -> None:
    code, out, err = _run("ingest", "--quiet", str(BAD), str(ARXIV), "--format", "arxiv-listing")
    assert code == 0
    assert "added 30" in out and "rejected 3" in out
    assert "cli_bad_records.jsonl:1:" in err and "cli_bad_records.jsonl:2:" in err
    assert "Traceback" not in err


def test_strict_stops_at_the_first_bad_record() -> None:
    code, _, err = _run("ingest", "--quiet", "--strict", "--format", "arxiv-listing", str(BAD))
    assert code == 1
    assert "cli_bad_records.jsonl:1" in err and "--strict" in err


def test_missing_source_is_a_clear_error() -> None:
    code, _, err = _run("ingest", "/nonexistent/papers.jsonl")
    assert code != 0
    assert "/nonexistent/papers.jsonl" in err and "Traceback" not in err


def test_search_prints_hits_and_json() -> None:
    _ingest_and_index()
    code, out, _ = _run("search", "pollination flower pose", "--limit", "3")
    assert code == 0
    assert "FloPE: Flower Pose Estimation for Precision Pollination" in out
    assert "found by" in out
    code, out, _ = _run("search", "iris biometric", "--json", "--category", "cs.CV")
    document = json.loads(out)
    assert document["hits"][0]["id"] == "2503.11930"
    assert {"id", "title", "authors", "date", "upvotes", "snippet", "found_by"} <= set(
        document["hits"][0]
    )


def test_batch_search_writes_one_line_per_query_in_order(tmp_path: Path) -> None:
    _ingest_and_index()
    queries = tmp_path / "queries.txt"
    queries.write_text("flower pollination\n\nLDPC codes\n")
    code, out, _ = _run("search", "--batch", str(queries), "--limit", "2")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["query"] for line in lines] == ["flower pollination", "", "LDPC codes"]
    assert lines[0]["hits"][0]["id"] == "2503.11692"
    assert lines[1]["hits"] == []
    assert lines[2]["hits"][0]["id"] == "2503.11954"


def test_a_failed_batch_query_is_a_line_with_its_error_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    _ingest_and_index()
    queries = tmp_path / "queries.txt"
    # a query that fails, and a line in Latin-1 among UTF-8 ones
    queries.write_bytes(
        b"flower pollination\nsince:2026 until:2025 x\ncaf\xe9 au lait\nLDPC codes\n"
    )
    code, out, err = _run("search", "--batch", str(queries), "--limit", "2")
    assert code == 1 and "Traceback" not in err
    assert "2 of 4 queries failed" in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 4
    assert lines[0]["hits"][0]["id"] == "2503.11692" and "error" not in lines[0]
    assert lines[1]["query"] == "since:2026 until:2025 x"
    assert lines[1]["error"].startswith("since 2026-01-01 is after until 2025-12-31")
    assert lines[1]["hits"] == [] and lines[1]["total"] == 0
    assert lines[2]["error"] == "line 3 is not UTF-8 (byte 0xe9)"
    assert lines[3]["hits"][0]["id"] == "2503.11954" and "error" not in lines[3]


def test_an_offset_past_the_last_result_says_so() -> None:
    _ingest_and_index()
    code, out, _ = _run("search", "learning", "--json")
    total = json.loads(out)["total"]
    assert code == 0 and total > 1
    code, out, _ = _run("search", "learning", "--offset", "5000")
    assert code == 0
    assert out == f"--offset 5,000 is past the last of {total} results\n"
    code, out, _ = _run("search", "learning", "--offset", str(total - 1))
    assert out.startswith(f"{total} results; showing {total}–{total}")
    code, out, _ = _run("search", "zzzqqqxx", "--offset", "5")
    assert code == 0 and "no papers match" in out


def test_similar_and_stats() -> None:
    _ingest_and_index()
    code, out, _ = _run("similar", "arXiv:2503.11692v1", "--json")
    assert code == 0
    ids = [hit["id"] for hit in json.loads(out)]
    assert "2503.11692" not in ids and len(ids) == 10
    code, out, _ = _run("stats", "--json")
    stats = json.loads(out)
    assert stats["papers"] == 50
    assert stats["sources"] == {"arxiv-listing": 30, "daily-papers": 20}
    assert stats["vectors"] == 50 and stats["lexical_documents"] == 50


def test_bad_options_name_the_value() -> None:
    code, _, err = _run("search", "x", "--sort", "newest")
    assert code == 2 and "newest" in err
    code, _, err = _run("similar", "not-an-id")
    assert code == 1 and "'not-an-id'" in err


@pytest.mark.postgres
def test_the_same_commands_work_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", postgres_url)
    _ingest_and_index()
    code, out, _ = _run("search", "flower pollination", "--json", "--limit", "1")
    assert code == 0
    assert json.loads(out)["hits"][0]["id"] == "2503.11692"
    code, out, _ = _run("stats", "--json")
    assert json.loads(out)["database"].startswith("/paperfeed_test_")


def test_an_index_folder_that_cannot_be_written_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PAPERFEED_INDEX_DIR where no folder can be made (under a file here; read-only
    under systemd's ProtectSystem=strict): `index` and `sync` ended in a traceback, and
    the sync's index run was left "running"."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PAPERFEED_INDEX_DIR", str(blocker / "index"))
    code, out, _ = _run("ingest", "--quiet", str(ARXIV))
    assert code == 0, out
    result = CliRunner().invoke(main, ["index", "--quiet"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Not a directory" in result.stderr and str(blocker) in result.stderr
    monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "0")
    monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", "")
    synced = CliRunner().invoke(main, ["sync", "--quiet"])
    assert synced.exit_code == 1 and isinstance(synced.exception, SystemExit), synced.output
    assert "index: FAILED: [Errno 20] Not a directory" in synced.output
    store = Store(Settings.from_environment().database_url)
    states = {run.source: run.status for run in recent_runs(store)}
    store.close()
    assert states["index"] == "failed"
