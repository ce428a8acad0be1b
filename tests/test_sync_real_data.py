"""A real cs.* weekday (1,329 listings of the shared crawl) harvested through the replay."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from paperfeed.config import Settings
from paperfeed.ingest.oai_pmh import parse_list_records
from paperfeed.store import Store
from paperfeed.sync.arxiv import harvest_arxiv
from replay_server import Replay, list_records, load_arxiv_records, serve_replay

pytestmark = pytest.mark.realdata
DAYS = {"2026-06": "2026-06-02", "2026-05": "2026-05-12"}  # as bench/sync.py


@pytest.fixture
def weekday(shared_file: Callable[..., Path]) -> list[dict[str, object]]:
    records = []
    for month, day in DAYS.items():
        records += load_arxiv_records(shared_file("arxiv", f"arxiv_{month}.jsonl.gz"), [day])
    return [dict(record, datestamp="2026-06-02") for record in records]


def test_a_weekday_parses_fast_and_is_stored_exactly_once(
    weekday: list[dict[str, object]], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay = Replay(records=weekday, page_size=1000, response_date="2026-06-02")
    page = list_records(
        replay, {"verb": "ListRecords", "metadataPrefix": "arXiv", "from": "2026-06-02"}
    )[1]
    started = time.perf_counter()
    parsed = parse_list_records(page)
    rate = len(parsed.papers) / (time.perf_counter() - started)
    assert len(parsed.papers) == 1000 and parsed.resumption_token is not None
    assert rate >= 1000, f"{rate:.0f} records/s"  # the floor; expat does far more
    expected = len({record["id"] for record in weekday})
    with serve_replay(replay) as base:
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", f"{base}/oai")
        monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_ARXIV_SETS", "cs stat")  # cross-lists come twice
        current = Settings.from_environment()
        store = Store(current.database_url)
        report = harvest_arxiv(store, current, "2026-06-02")
        again = harvest_arxiv(store, current, "2026-06-02")
    assert report.error is None and again.error is None
    assert report.counts.added == expected == store.count_papers()
    assert again.counts.added == 0 and again.counts.updated == 0
