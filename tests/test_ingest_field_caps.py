"""Field caps: an oversized record is rejected whole, named, counted, at ingest and at sync."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.ingest.records import FIELD_CAPS
from paperfeed.store import Store
from replay_server import Replay, serve_replay

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = [json.loads(line) for line in (FIXTURES / "cli_arxiv_sample.jsonl").open()]
OAI_RECORDS = [json.loads(line) for line in (FIXTURES / "oai" / "arxiv_2026-07-01.jsonl").open()]


def _oversized(base: dict[str, object], arxiv_id: str, **fields: object) -> dict[str, object]:
    return {**base, "id": arxiv_id, **fields}


def test_ingest_rejects_oversized_records_by_name_and_keeps_the_rest(tmp_path: Path) -> None:
    good, template = SAMPLE[0], SAMPLE[1]
    records = [
        good,
        _oversized(template, "2503.90001", title="x" * 1_000_000),
        _oversized(template, "2503.90002", authors=[f"Author {n}" for n in range(20_000)]),
        _oversized(template, "2503.90003", abstract="y" * 20_001),
        _oversized(template, "2503.90004", authors=["Ada Lovelace", "z" * 1_001]),
        _oversized(template, "2503.90005", comment="c" * 5_001),
        _oversized(template, "2503.90006", categories=["cs.LG"] * 51),
        # at the caps exactly: kept
        _oversized(
            template,
            "2503.90007",
            title="t" * FIELD_CAPS["title"],
            authors=["a"] * FIELD_CAPS["authors"],
        ),
    ]
    source = tmp_path / "hostile.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records))
    result = CliRunner().invoke(main, ["ingest", str(source), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "added 2, updated 0, unchanged 0, rejected 6" in result.stdout
    err = result.stderr
    assert f"rejected {source}:2: record 2503.90001: title is 1,000,000 characters long " in err
    assert "(at most 1,000)" in err
    assert f"{source}:3: record 2503.90002: 20,000 authors (at most 5,000)" in err
    assert f"{source}:4: record 2503.90003: abstract is 20,001 characters long" in err
    assert f"{source}:5: record 2503.90004: author 2 is 1,001 characters long" in err
    assert f"{source}:6: record 2503.90005: comment is 5,001 characters long" in err
    assert f"{source}:7: record 2503.90006: 51 categories (at most 50)" in err
    store = Store(Settings.from_environment().database_url)
    assert store.count_papers() == 2
    assert store.get_paper("2503.90001") is None
    kept = store.get_paper("2503.90007")
    assert kept is not None and len(kept.authors) == 5_000


@pytest.fixture
def oai_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Replay]]:
    records = [dict(record) for record in OAI_RECORDS[:3]]
    records[1]["title"] = "T" * 1_000_000
    records[2]["authors"] = [f"Author {n}" for n in range(20_000)]
    replay = Replay(records=records, page_size=10)
    with serve_replay(replay) as base:
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", f"{base}/oai")
        monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", "")
        monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
        yield f"{base}/oai", replay


def test_an_arxiv_sync_rejects_oversized_records_by_name(oai_url: tuple[str, Replay]) -> None:
    result = CliRunner().invoke(main, ["sync", "arxiv", "--from", "2026-07-01", "--no-index"])
    assert result.exit_code == 0, result.output
    assert "arxiv: added 1, updated 0, unchanged 0, rejected 2" in result.stdout
    first, second = OAI_RECORDS[1]["id"], OAI_RECORDS[2]["id"]
    assert f":2: record {first}: title is 1,000,000 characters long (at most 1,000)" in (
        result.stderr
    )
    assert f":3: record {second}: 20,000 authors (at most 5,000)" in result.stderr
    store = Store(Settings.from_environment().database_url)
    assert store.count_papers() == 1
    assert store.get_paper(first) is None
