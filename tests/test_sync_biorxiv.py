"""Harvesting bioRxiv and medRxiv from a local replay of their details API, as
``paperfeed sync biorxiv`` does: pages, versions, faults, a kill -9, DOI merging."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.models import Paper
from paperfeed.store import Store
from paperfeed.store.syncing import harvest_state
from paperfeed.sync.biorxiv import harvest_preprints
from preprint_replay import PreprintReplay, documented_records, make_record, serve_preprints

FIRST, LAST = "2026-07-01", "2026-07-02"
REVISED = "10.1101/2026.05.14.594321"


def _window_records() -> list[dict[str, Any]]:
    """230 records over two days (3 pages): the 3 documented ones, the first version of
    the revised paper, and 226 invented ones; 229 papers."""
    records = documented_records()
    first_version = dict(records[1])
    first_version.update(
        date=FIRST,
        version="1",
        title="A single-cell atlas of tumour-infiltrating myeloid cells",
        published="NA",
    )
    records.append(first_version)
    records += [make_record(number, FIRST if number % 2 else LAST) for number in range(226)]
    return records


PAPERS = 229


@pytest.fixture
def replay() -> PreprintReplay:
    return PreprintReplay(
        records={
            "biorxiv": _window_records(),
            "medrxiv": [
                make_record(
                    900 + number,
                    FIRST,
                    server="medRxiv",
                    category="Infectious Diseases (except HIV/AIDS)",
                )
                for number in range(5)
            ],
        }
    )


@pytest.fixture
def api_url(replay: PreprintReplay, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve_preprints(replay) as base:
        monkeypatch.setenv("PAPERFEED_BIORXIV_API_URL", base)
        monkeypatch.setenv("PAPERFEED_BIORXIV_SERVERS", "biorxiv")
        monkeypatch.setenv("PAPERFEED_ARXIV_OAI_URL", "")
        monkeypatch.setenv("PAPERFEED_DAILY_PAPERS_URL", "")
        monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_BACKOFF_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "1")
        monkeypatch.setenv("PAPERFEED_SYNC_TIMEOUT_SECONDS", "5")
        yield base


def _sync(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["sync", *arguments])
    return result.exit_code, result.stdout, result.stderr


def _store() -> Store:
    return Store(Settings.from_environment().database_url)


def test_pages_versions_and_published_doi(api_url: str, replay: PreprintReplay) -> None:
    code, out, err = _sync("biorxiv", "--from", FIRST, "--until", LAST, "--no-index")
    assert code == 0, out + err
    assert "biorxiv: added" in out and "rejected 0" in out
    details = [path for path in replay.requests if path.startswith("/details/")]
    assert details == [f"/details/biorxiv/{FIRST}/{LAST}/{cursor}" for cursor in (0, 100, 200)]
    store = _store()
    assert store.count_papers() == PAPERS
    revised = store.get_paper(REVISED)
    assert revised is not None
    assert revised.title.endswith("(revised)")  # version 2 updated the paper
    assert "validation cohort" in revised.abstract
    assert revised.doi == "10.1038/s41586-026-01234-5"  # the published DOI, kept
    assert revised.first_listed == FIRST and revised.updated == LAST
    assert revised.categories == ["biorxiv.cancer-biology"]
    assert revised.authors == ["A. Moreau", "R. P. Silva"]
    assert revised.organization == "Instituto de Medicina Molecular"
    assert revised.sources == ["biorxiv"]
    assert revised.license == "https://creativecommons.org/licenses/by-nc-nd/4.0/"
    # idempotent: the same window again changes nothing, and the older version is
    # never written over the newer one
    code, out, _ = _sync("biorxiv", "--from", FIRST, "--until", LAST, "--no-index")
    assert code == 0 and "biorxiv: added 0, updated 0" in out
    assert store.count_papers() == PAPERS
    again = store.get_paper(REVISED)
    assert again is not None and again.title.endswith("(revised)")


def test_an_older_version_on_a_later_page_still_dates_the_paper(
    api_url: str, replay: PreprintReplay
) -> None:
    replay.newest_first = True  # version 2 (dated LAST) on page 1, version 1 on page 3
    code, out, err = _sync("biorxiv", "--from", FIRST, "--until", LAST)
    assert code == 0, out + err
    revised = _store().get_paper(REVISED)
    assert revised is not None
    # the newer version's text stays; the first version's posting date is the paper's
    assert revised.title.endswith("(revised)") and revised.updated == LAST
    assert revised.published == FIRST and revised.first_listed == FIRST
    result = CliRunner().invoke(
        main, ["search", "tumour-infiltrating myeloid", "--until", FIRST, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert [hit["id"] for hit in json.loads(result.stdout)["hits"]] == [REVISED]
    # the same window again changes nothing
    code, out, _ = _sync("biorxiv", "--from", FIRST, "--until", LAST, "--no-index")
    assert code == 0 and "biorxiv: added 0, updated 0" in out


def test_a_paper_seen_only_as_a_later_version_is_dated_by_its_doi(
    api_url: str, replay: PreprintReplay
) -> None:
    """Its DOI (10.1101/2026.05.14.594321) names the day it was made; the first
    version's own date replaces that guess once the first version is harvested."""
    code, out, err = _sync("biorxiv", "--from", LAST, "--until", LAST, "--no-index")
    assert code == 0, out + err
    store = _store()
    revised = store.get_paper(REVISED)
    assert revised is not None and revised.updated == LAST
    assert revised.published == "2026-05-14" and revised.first_listed is None
    assert revised.date == "2026-05-14"  # what the pages show and the date filters read
    # the earlier window brings version 1: its own date, not the DOI's, is the paper's
    code, out, err = _sync("biorxiv", "--from", FIRST, "--until", FIRST)
    assert code == 0, out + err
    revised = store.get_paper(REVISED)
    assert revised is not None and revised.title.endswith("(revised)")
    assert revised.published == FIRST and revised.first_listed == FIRST
    # a later version never moves a known first date to its DOI's
    code, out, err = _sync("biorxiv", "--from", LAST, "--until", LAST, "--no-index")
    assert code == 0, out + err
    again = store.get_paper(REVISED)
    assert again is not None and again.published == FIRST == again.first_listed


def test_empty_window_and_incremental_default(api_url: str, replay: PreprintReplay) -> None:
    code, out, _ = _sync("biorxiv", "--from", "2026-06-01", "--until", "2026-06-02", "--no-index")
    assert code == 0
    assert "biorxiv: added 0, updated 0, unchanged 0, rejected 0" in out
    state = harvest_state(_store(), "biorxiv")
    assert state is not None and state.last_datestamp == "2026-06-02"
    assert state.resumption_token is None


def test_a_5xx_fails_naming_the_url_and_the_next_run_resumes_at_that_page(
    api_url: str, replay: PreprintReplay
) -> None:
    replay.faults[("biorxiv", 100)] = ["500", "500"]  # the first try and its one retry
    code, out, err = _sync("biorxiv", "--from", FIRST, "--until", LAST, "--no-index")
    assert code == 1
    url = f"{api_url}/details/biorxiv/{FIRST}/{LAST}/100"
    assert f"cannot fetch {url}: HTTP 500" in out + err
    store = _store()
    assert store.count_papers() == 100
    state = harvest_state(store, "biorxiv")
    assert state is not None and state.resumption_token == "100"
    replay.requests.clear()
    code, out, _ = _sync("biorxiv", "--no-index")  # no window: carries on where it stopped
    assert code == 0, out
    assert replay.requests[0] == f"/details/biorxiv/{FIRST}/{LAST}/100"
    assert store.count_papers() == PAPERS


def test_malformed_json_writes_nothing_of_that_page(api_url: str, replay: PreprintReplay) -> None:
    replay.faults[("biorxiv", 0)] = ["malformed"]  # not retried: the next sync tries again
    code, out, err = _sync("biorxiv", "--from", FIRST, "--until", LAST, "--no-index")
    assert code == 1
    assert f"{api_url}/details/biorxiv/{FIRST}/{LAST}/0: not JSON" in out + err
    assert _store().count_papers() == 0
    code, out, _ = _sync("biorxiv", "--from", FIRST, "--until", LAST, "--no-index")
    assert code == 0 and _store().count_papers() == PAPERS


def _run_cli(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "sync", *arguments],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("stall_cursor", [100, 200])
def test_kill_9_mid_harvest_then_rerun_gives_exact_counts(
    api_url: str, replay: PreprintReplay, stall_cursor: int
) -> None:
    """The real CLI is killed while it waits for a page: the pages before it are stored
    with the cursor of that page, and the next run fetches exactly the rest."""
    replay.faults[("biorxiv", stall_cursor)] = ["stall"]
    window = ("--from", FIRST, "--until", LAST, "--no-index", "--quiet")
    process = _run_cli("biorxiv", *window)
    try:
        assert replay.stalled.wait(60), process.communicate(timeout=5)[0]
        time.sleep(0.2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        replay.release()
    assert process.returncode == -signal.SIGKILL
    store = _store()
    before = store.count_papers()
    served = sorted(replay.records["biorxiv"], key=lambda record: (record["date"], record["doi"]))
    assert before == len({record["doi"] for record in served[:stall_cursor]})
    state = harvest_state(store, "biorxiv")
    assert state is not None and state.resumption_token == str(stall_cursor)
    replay.requests.clear()
    again = _run_cli("biorxiv", *window)
    output = again.communicate(timeout=120)[0]
    assert again.returncode == 0, output
    assert replay.requests[0].endswith(f"/{stall_cursor}")
    assert store.count_papers() == PAPERS
    with store.engine.connect() as connection:
        assert connection.scalar(text("SELECT COUNT(DISTINCT arxiv_id) FROM papers")) == PAPERS
    final = _run_cli("biorxiv", *window)
    assert "biorxiv: added 0, updated 0" in final.communicate(timeout=120)[0]


def test_followed_categories_medrxiv_and_the_sources_setting(
    api_url: str, replay: PreprintReplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_BIORXIV_SERVERS", "biorxiv medrxiv")
    monkeypatch.setenv(
        "PAPERFEED_BIORXIV_CATEGORIES", "bioRxiv:neuroscience medrxiv.infectious_diseases"
    )
    code, out, err = _sync("--from", FIRST, "--until", LAST, "--no-index")  # every source
    assert code == 0, out + err
    assert "outside the followed categories skipped" in out
    assert "medrxiv: added 5" in out
    store = _store()
    with store.engine.connect() as connection:
        categories = {row[0] for row in connection.execute(text("SELECT categories FROM papers"))}
    assert categories == {'["biorxiv.neuroscience"]', '["medrxiv.infectious-diseases"]'}
    monkeypatch.setenv("PAPERFEED_BIORXIV_CATEGORIES", "biorxiv.neurosciences")
    code, out, err = _sync("biorxiv", "--no-index")
    assert code == 1
    assert "unknown bioRxiv/medRxiv category 'biorxiv.neurosciences'" in out + err
    monkeypatch.setenv("PAPERFEED_BIORXIV_SERVERS", "arxiv2")
    code, out, err = _sync("biorxiv", "--no-index")
    assert code == 1 and "unknown server 'arxiv2'" in out + err


def test_the_same_work_on_arxiv_and_biorxiv_is_one_paper(
    api_url: str, replay: PreprintReplay, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    settings = Settings.from_environment()
    store = Store(database_url)
    doi = "10.1101/2026.06.28.601234"
    # arXiv first, carrying the bioRxiv DOI: the preprint is merged into it
    store.upsert_papers(
        [
            Paper(
                arxiv_id="2607.00001",
                title="Dopamine ramps encode distance to reward",
                abstract="The arXiv version.",
                categories=["q-bio.NC"],
                doi="10.1101/2026.06.28.601234",
                sources=["arxiv-oai"],
            )
        ]
    )
    report = harvest_preprints(store, settings, "biorxiv", FIRST, LAST)
    assert report.error is None
    assert store.count_papers() == PAPERS  # not one more
    merged = store.get_paper("2607.00001")
    assert merged is not None and merged.sources == ["arxiv-oai", "biorxiv"]
    assert merged.abstract == "The arXiv version."  # arXiv's text wins
    assert merged.doi == doi
    assert store.get_paper(doi) == merged  # the DOI finds the arXiv paper
    # bioRxiv first, then the arXiv record carrying its DOI: the row is taken over
    genomics = "10.1101/2026.06.30.602001"
    key = store.get_paper(genomics)
    assert key is not None
    store.upsert_papers(
        [
            Paper(
                arxiv_id="2607.00002",
                title="Pangenome graphs",
                doi=genomics.upper(),
                sources=["arxiv-oai"],
            )
        ]
    )
    assert store.count_papers() == PAPERS
    taken = store.get_paper("2607.00002")
    assert taken is not None and taken.key == key.key and taken.sources == ["biorxiv", "arxiv-oai"]
    assert store.get_paper(genomics) == taken
    again = harvest_preprints(store, settings, "biorxiv", FIRST, LAST)
    assert again.error is None and again.counts.added == 0
    assert store.count_papers() == PAPERS


def test_requests_are_polite(
    api_url: str, replay: PreprintReplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0.3")
    monkeypatch.setenv("PAPERFEED_BASE_URL", "https://papers.example.org")
    started = time.monotonic()
    code, out, _ = _sync("biorxiv", "--from", FIRST, "--until", LAST, "--no-index")
    elapsed = time.monotonic() - started
    assert code == 0, out
    assert len(replay.requests) == 3 and elapsed >= 0.6  # two pauses between three pages
    assert all(
        agent.startswith("paperfeed/") and agent.endswith("+https://papers.example.org")
        for agent in replay.user_agents
    )


def test_a_sync_says_what_it_fetches_and_why_it_waits(
    api_url: str, replay: PreprintReplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay.faults[("biorxiv", 100)] = ["500"]  # the one retry succeeds
    code, out, err = _sync("biorxiv", "--from", FIRST, "--until", LAST, "--no-index")
    assert code == 0, out + err
    url = f"{api_url}/details/biorxiv/{FIRST}/{LAST}/100"
    assert f"biorxiv: waiting: {url}: HTTP 500 Internal Server Error; retry 1 of 1" in err
    assert "biorxiv: records 1-100 of 230" in err and "biorxiv: records 201-230 of 230" in err
    code, out, err = _sync("medrxiv", "--from", "2026-06-01", "--until", "2026-06-02")
    assert code == 0 and "medrxiv: no posts in 2026-06-01..2026-06-02" in err
    # an address that does not resolve: the setting to change is named
    monkeypatch.setenv("PAPERFEED_BIORXIV_API_URL", "http://no-such-host.invalid")
    code, out, err = _sync("medrxiv", "--no-index")
    assert code == 1
    assert "cannot resolve no-such-host.invalid" in out + err
    assert "set PAPERFEED_BIORXIV_API_URL= to a server this machine can reach" in out + err
