"""Following a daily-papers site: the original's wire format replayed, and another paperfeed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from http_clients import http_client
from paperfeed import accounts, votes
from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.search.feeds import total_upvotes
from paperfeed.store import Store
from paperfeed.store.loading import ingest_sources
from paperfeed.store.syncing import harvest_state
from paperfeed.sync.daily_papers import days_to_fetch, sync_daily_papers
from paperfeed.sync.reports import SyncError
from replay_server import Replay, serve_replay
from running_site import load_site_corpus, serve

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAY = "2025-06-02"  # 2 entries of that day in the shared daily_papers_api.tar.gz
DAY_FILE = (FIXTURES / "daily_papers" / f"{DAY}.json").read_bytes()


@pytest.fixture
def replay() -> Replay:
    return Replay(days={DAY: DAY_FILE})


@pytest.fixture
def base_url(replay: Replay, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve_replay(replay) as base:
        monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", base)
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", "")
        monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_BACKOFF_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_TIMEOUT_SECONDS", "5")
        yield base


def _sync(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["sync", *arguments])
    return result.exit_code, result.stdout, result.stderr


def test_each_day_is_fetched_and_a_refresh_updates_upvotes(base_url: str, replay: Replay) -> None:
    code, out, err = _sync("daily-papers", "--from", "2025-06-01", "--until", "2025-06-03")
    assert code == 0, out + err
    assert "daily-papers: added 2, updated 0, unchanged 0, rejected 0" in out
    assert [request.split("?")[1] for request in replay.requests] == [
        "date=2025-06-01&limit=100",
        "date=2025-06-02&limit=100",
        "date=2025-06-03&limit=100",
    ]
    store = Store(Settings.from_environment().database_url)
    paper = store.get_paper("2505.24864")
    assert paper is not None and paper.daily_date == DAY
    original = paper.upvotes
    entries = json.loads(DAY_FILE)
    entries[0]["paper"]["upvotes"] = (original or 0) + 5
    entries[0]["numComments"] = 9
    replay.days[DAY] = json.dumps(entries).encode()
    code, out, _ = _sync("daily-papers", "--from", DAY, "--until", DAY)
    assert "added 0, updated 1, unchanged 1, rejected 0" in out
    paper = store.get_paper("2505.24864")
    assert paper is not None and paper.upvotes == (original or 0) + 5 and paper.num_comments == 9


def test_until_before_where_the_sync_goes_on_is_refused(base_url: str, replay: Replay) -> None:
    """`--until` alone, before the resume point, printed an empty window, fetched nothing
    and exited 0."""
    assert _sync("daily-papers", "--from", "2025-06-01", "--until", "2025-06-03")[0] == 0
    asked = len(replay.requests)
    code, out, err = _sync("daily-papers", "--until", "2025-05-20")
    assert code != 0 and "Traceback" not in err
    assert "--until 2025-05-20 is before 2025-06-04, where this sync goes on from" in err
    assert "give --from" in err and len(replay.requests) == asked


def test_default_window_is_the_days_since_the_last_run_plus_the_refresh_days() -> None:
    from datetime import date

    today = date(2026, 12, 1)
    assert days_to_fetch(None, today, 3) == (date(2026, 11, 25), today)  # first run: 7 days
    assert days_to_fetch("2026-12-01", today, 3) == (date(2026, 11, 29), today)
    assert days_to_fetch("2026-11-20", today, 3) == (date(2026, 11, 21), today)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html><html><title>Oops</title></html>", "got an HTML page instead"),
        # cut inside a string, where the parser names the string's start, not the end
        (
            DAY_FILE[: len(DAY_FILE) // 2],
            f"not valid JSON: the JSON ends early (truncated after {len(DAY_FILE) // 2} bytes)",
        ),
        (b'{"error": "Invalid date"}', "expected a JSON list of entries, got object: Invalid date"),
    ],
)
def test_a_bad_answer_names_the_url_and_keeps_the_days_before(
    base_url: str, replay: Replay, body: bytes, message: str
) -> None:
    replay.days["2025-06-03"] = body
    code, out, err = _sync("daily-papers", "--from", DAY, "--until", "2025-06-04")
    assert code == 1
    assert "added 2" in out  # 2025-06-02 was stored before 06-03 failed
    assert f"{base_url}/api/daily_papers?date=2025-06-03" in err
    assert message in err and "Traceback" not in err
    assert not any("2025-06-04" in request for request in replay.requests)


def test_a_day_the_site_answers_404_for_is_skipped_and_asked_again(
    base_url: str, replay: Replay
) -> None:
    """A site that answers 404 for a day it has no list of (rather than []) stopped the
    sync at that day: a first run over the last 7 days never reached the day that had
    papers. Every day 404 is still a failure, naming the URL."""
    replay.faults["2025-06-01"] = ["404"]
    replay.faults["2025-06-03"] = ["404"]
    code, out, err = _sync("daily-papers", "--from", "2025-06-01", "--until", "2025-06-03")
    assert code == 0, out + err
    assert "daily-papers: added 2, updated 0, unchanged 0, rejected 0" in out
    assert "daily-papers 2025-06-01: no list (HTTP 404)" in err
    settings = Settings.from_environment()
    state = harvest_state(Store(settings.database_url), "daily-papers")
    assert state is not None and state.last_datestamp == DAY  # 06-03 is asked again
    replay.faults["2025-06-05"] = ["404"]
    replay.faults["2025-06-06"] = ["404"]
    code, out, err = _sync("daily-papers", "--from", "2025-06-05", "--until", "2025-06-06")
    assert code == 1
    assert f"{base_url}/api/daily_papers?date=2025-06-06" in err and "HTTP 404" in err
    assert "a daily-papers site?" in err and "Traceback" not in err


def test_future_dates_are_refused(base_url: str, replay: Replay) -> None:
    settings = Settings.from_environment()
    with pytest.raises(SyncError, match="in the future"):
        sync_daily_papers(Store(settings.database_url), settings, "2999-12-31")
    assert replay.requests == []


def test_one_paperfeed_follows_another(
    settings: Settings, paperfeed_home: Path, base_url: str
) -> None:
    """Site A serves its daily list; site B syncs from A's /api/daily_papers and shows the
    same papers and upvotes; a vote on A reaches B at the next sync, and B's own votes
    are added on top."""
    folder = paperfeed_home.parent / "a"
    folder.mkdir()
    settings_a = Settings.from_environment(
        # no page cache on A: the test reads it again within a second
        {
            "PAPERFEED_HOME": str(folder),
            "PAPERFEED_EMBED_MODEL": "hashing",
            "PAPERFEED_PAGE_CACHE_SECONDS": "0",
        }  # fmt: skip
    )
    store_a = load_site_corpus(settings_a, folder)
    with serve(settings_a) as url_a:
        environment_b = {
            "PAPERFEED_HOME": str(paperfeed_home.parent / "b"),
            "PAPERFEED_EMBED_MODEL": "hashing",
            "PAPERFEED_DAILY_PAPERS_URL": url_a,
            "PAPERFEED_ARXIV_OAI_URL": "",
            "PAPERFEED_SYNC_DELAY_SECONDS": "0",
        }
        settings_b = Settings.from_environment(environment_b)
        store_b = Store(settings_b.database_url)
        report = sync_daily_papers(store_b, settings_b, "2026-08-19", "2026-08-21")
        assert report.error is None and report.counts.added > 0
        with http_client(base_url=url_a) as client:
            from_a = client.get("/api/daily_papers", params={"date": "2026-08-21"}).json()
        with serve(settings_b) as url_b, http_client(base_url=url_b) as client:
            from_b = client.get("/api/daily_papers", params={"date": "2026-08-21"}).json()
        assert [entry["paper"]["id"] for entry in from_b] == [
            entry["paper"]["id"] for entry in from_a
        ]
        assert [entry["paper"]["upvotes"] for entry in from_b] == [
            entry["paper"]["upvotes"] for entry in from_a
        ]
        top = from_a[0]["paper"]["id"]
        voter = accounts.sign_up(store_a, "a@example.org", "a long passphrase", "A")
        votes.toggle_vote(store_a, voter, top)
        report = sync_daily_papers(store_b, settings_b, "2026-08-21", "2026-08-21")
        assert report.counts.updated == 1
        paper_b = store_b.get_paper(top)
        assert paper_b is not None and paper_b.upvotes == from_a[0]["paper"]["upvotes"] + 1
        local = accounts.sign_up(store_b, "b@example.org", "another passphrase", "B")
        votes.toggle_vote(store_b, local, top)
        assert total_upvotes(store_b, [paper_b])[paper_b.key] == paper_b.upvotes + 1
    store_a.close()


def test_a_day_of_more_than_a_page_is_fetched_page_by_page(site: Any, paperfeed_home: Path) -> None:
    """paperfeed answers at most 100 entries at once (as the original): a day of 130
    papers on site A reaches site B whole, in two pages."""
    crowded = paperfeed_home.parent / "crowded.jsonl"
    crowded.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"2609.{number:05d}",
                    "title": f"Paper number {number}",
                    "abstract": "A paper on a crowded day.",
                    "daily_date": "2026-09-01",
                    "upvotes": number,
                }
            )
            + "\n"
            for number in range(1, 131)
        )
    )
    ingest_sources(site.store, [crowded], "daily-papers-flat", show_progress=False)
    settings_b = Settings.from_environment(
        {
            "PAPERFEED_HOME": str(paperfeed_home.parent / "b"),
            "PAPERFEED_DAILY_PAPERS_URL": site.url,
            "PAPERFEED_ARXIV_OAI_URL": "",
            "PAPERFEED_SYNC_DELAY_SECONDS": "0",
        }
    )
    store_b = Store(settings_b.database_url)
    report = sync_daily_papers(store_b, settings_b, "2026-09-01", "2026-09-01")
    assert report.error is None and report.counts.added == 130 and report.requests == 2
    store_b.close()
