"""The `paperfeed` command driven in-process, as a user would type it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.store import Store
from paperfeed.store.sync_runs import recent_runs
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


def test_the_day_files_and_the_flattened_file_ingest_again_as_a_no_op(tmp_path: Path) -> None:
    # the feed lists some papers on two days (4 in the shared day files); the flattened
    # file keeps the first day, the day files end on the second, and the paper's day
    # flipped on every run: `paperfeed ingest hf_daily_papers/` twice said "updated 8"
    entry = json.loads((FIXTURES / "daily_papers" / "2026-06-04.json").read_text())[0]
    days = tmp_path / "daily_papers"
    days.mkdir()
    (days / "2026-06-04.json").write_text(json.dumps([entry]))
    again = entry | {"paper": entry["paper"] | {"upvotes": 40}}
    (days / "2026-06-10.json").write_text(json.dumps([again]))
    flat = tmp_path / "papers.jsonl"
    record = {
        "id": entry["paper"]["id"],
        "title": entry["paper"]["title"],
        "abstract": entry["paper"]["summary"],
        "authors": [author["name"] for author in entry["paper"]["authors"]],
        "daily_date": "2026-06-04",
        "upvotes": 40,
    }
    flat.write_text(json.dumps(record) + "\n")
    assert _run("ingest", "--quiet", str(days), str(flat))[0] == 0
    for sources in ((days, flat), (flat,), (days,), (flat, days)):
        code, out, _ = _run("ingest", "--quiet", *map(str, sources))
        assert code == 0 and "added 0, updated 0," in out, (sources, out)
    code, out, _ = _run("search", entry["paper"]["id"], "--json")
    assert json.loads(out)["hits"][0]["date"] == "2026-06-10"  # the latest list it was on


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


def test_ti_hits_have_the_word_in_their_title() -> None:
    # two of the sample's papers have "image" among their keywords and not in their
    # title; `paperfeed search "ti:image"` listed them
    _ingest_and_index()
    code, out, _ = _run("search", "ti:image", "--json", "--limit", "50")
    assert code == 0
    titles = [hit["title"] for hit in json.loads(out)["hits"]]
    assert titles and all("imag" in title.lower() for title in titles), titles


def test_a_query_is_typed_as_a_user_types_it() -> None:
    # "-video diffusion" (an exclusion first) was refused: "No such option '-v'"
    _ingest_and_index()
    code, out, err = _run("search", "-pose flower", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["query"] == "-pose flower"
    assert "2503.11692" not in [hit["id"] for hit in document["hits"]]  # FloPE: Flower Pose
    # unquoted words are one query, an exclusion among them included
    code, out, err = _run("search", "flower", "pollination", "-pose", "--json")
    assert code == 0, err
    assert json.loads(out)["query"] == "flower pollination -pose"
    # a phrase the shell unquoted stays a phrase; a mistyped option is still an error
    code, out, _ = _run("search", "flower", "pose estimation", "--json")
    assert json.loads(out)["query"] == 'flower "pose estimation"'
    code, _, err = _run("search", "flower", "--limt", "3")
    assert code == 2 and "--limt" in err


def test_latex_greek_is_found_by_its_name(tmp_path: Path) -> None:
    # ingest shows "$\\alpha$-stable" as "α-stable"; "alpha-stable" did not find it
    listing = tmp_path / "listing.jsonl"
    record = {
        "id": "2503.99001",
        "title": "Heavy tails of $\\alpha$-stable L\\'evy processes",
        "abstract": "We bound the tail of $\\alpha$-stable noise and of\n$\\beta$-mixing chains.",
        "authors": ["Ada Lovelace"],
        "categories": ["math.PR"],
        "first_listed": "2025-03-17",
    }
    listing.write_text(json.dumps(record) + "\n")
    code, out, _ = _run("ingest", "--quiet", str(listing), str(ARXIV))
    assert code == 0, out
    assert _run("index", "--quiet", "--no-embed")[0] == 0
    for typed in ("alpha-stable", "α-stable processes", "beta mixing", "ti:alpha"):
        code, out, _ = _run("search", typed, "--json")
        hits = json.loads(out)["hits"]
        assert hits and hits[0]["id"] == "2503.99001", typed
    code, out, _ = _run("search", "alpha-stable", "--json")
    hit = json.loads(out)["hits"][0]
    assert hit["title"] == "Heavy tails of α-stable Lévy processes"
    assert [hit["snippet"][start:end] for start, end in hit["marks"]][:2] == ["α", "stable"]


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
    # one paper found is "1 result" (it said "1 results")
    code, out, _ = _run("search", "2503.11692")
    assert code == 0 and out.startswith("1 result; showing 1–1\n"), out


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


def test_similar_to_text_says_when_nothing_is_close() -> None:
    _ingest_and_index()
    # it printed the nearest papers as if they matched, the first at score 1.0
    code, out, err = _run("similar", "--text", "qzxwv flurble")
    assert code == 0
    assert out.startswith("no close match; the nearest papers by meaning:\n"), out
    assert "note: no close match: no paper has these words" in err
    code, out, err = _run("similar", "--text", "flower pollination algorithm optimisation")
    assert code == 0 and out.startswith("  1. ") and "no close match" not in out + err


def test_bad_options_name_the_value() -> None:
    code, _, err = _run("search", "x", "--sort", "newest")
    assert code == 2 and "newest" in err
    code, _, err = _run("similar", "not-an-id")  # a malformed argument: a usage error
    assert code == 2 and "Invalid value for 'ARXIV_ID': 'not-an-id' is not an arXiv id" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_a_setting_that_is_no_finite_number_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``PAPERFEED_TRENDING_HALF_LIFE_HOURS=nan`` (or ``inf``) used to start the site,
    whose every trending page then answered 500."""
    monkeypatch.setenv("PAPERFEED_TRENDING_HALF_LIFE_HOURS", value)
    code, _, err = _run("stats")
    assert code == 1
    assert f"PAPERFEED_TRENDING_HALF_LIFE_HOURS='{value}' is not a finite number" in err


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
