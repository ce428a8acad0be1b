"""Dates that name no calendar day (``2026-02-30``, ``2026-13-45``, 31 February) are
rejected by every reader, named by field and value, as ``paperfeed ingest`` and
``paperfeed sync biorxiv`` report them; nothing of such a record is stored."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.store import Store
from preprint_replay import PreprintReplay, make_record, serve_preprints


def _run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def _stored_ids() -> list[str]:
    store = Store(Settings.from_environment().database_url)
    try:
        return sorted(paper.arxiv_id for batch in store.iter_papers() for paper in batch)
    finally:
        store.close()


def _flat(identifier: str, **fields: object) -> str:
    record = {"id": identifier, "title": "Flat", "abstract": "x", "upvotes": 3, **fields}
    return json.dumps(record) + "\n"


def test_flat_export_rejects_each_impossible_date_naming_field_and_value(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(
        _flat("2401.00011", published_at="2026-13-45", daily_date="2026-02-30")
        + _flat("2401.00012", published_at="2026-02-01", daily_date="2026-02-30")
        + _flat("2401.00013", published_at="2026-02-01T10:00:00Z", daily_date="2026-02-28")
    )

    code, out, err = _run("ingest", "--quiet", str(path))

    assert code == 0, out + err
    assert "added 1, updated 0, unchanged 0, rejected 2" in out
    assert "f.jsonl:1: field 'published_at' is not a calendar date, got '2026-13-45'" in err
    assert "f.jsonl:2: field 'daily_date' is not a calendar date, got '2026-02-30'" in err
    assert "Traceback" not in err
    assert _stored_ids() == ["2401.00013"]


def _day_entry(identifier: str) -> dict[str, object]:
    return {
        "paper": {"id": identifier, "title": "On a day", "summary": "x", "upvotes": 2},
        "title": "On a day",
        "numComments": 0,
    }


def test_daily_papers_archive_rejects_the_entries_of_a_day_file_named_after_no_day(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "daily.tar.gz"
    members = {
        "daily_papers/2026-02-28.json": [_day_entry("2401.00021")],
        "daily_papers/2026-02-30.json": [_day_entry("2401.00022"), _day_entry("2401.00023")],
    }
    with tarfile.open(archive, "w:gz") as tar:
        for name, entries in members.items():
            data = json.dumps(entries).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    code, out, err = _run("ingest", "--quiet", str(archive))

    assert code == 0, out + err
    assert "added 1, updated 0, unchanged 0, rejected 2" in out
    for position in (1, 2):
        assert (
            f"daily.tar.gz:daily_papers/2026-02-30.json:{position}: daily date '2026-02-30' "
            "(the day file's name) is not a calendar date"
        ) in err
    assert _stored_ids() == ["2401.00021"]


def test_arxiv_snapshot_rejects_a_first_version_created_on_31_february(tmp_path: Path) -> None:
    def record(identifier: str, created: str) -> str:
        versions = [{"version": "v1", "created": created}]
        return json.dumps({"id": identifier, "title": "Old", "abstract": "x", "versions": versions})

    path = tmp_path / "snapshot.json"
    path.write_text(
        record("hep-th/0302001", "Mon, 31 Feb 2003 10:00:00 GMT")
        + "\n"
        + record("hep-th/0302002", "Fri, 28 Feb 2003 10:00:00 GMT")
        + "\n"
    )

    code, out, err = _run("ingest", "--quiet", "--format", "arxiv-snapshot", str(path))

    assert code == 0, out + err
    assert "added 1, updated 0, unchanged 0, rejected 1" in out
    assert (
        "snapshot.json:1: field 'versions[].created' is not a calendar date, "
        "got 'Mon, 31 Feb 2003 10:00:00 GMT'"
    ) in err
    assert _stored_ids() == ["hep-th/0302002"]


@pytest.fixture
def preprint_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[PreprintReplay]:
    # 31 June sorts inside the window as text, as a wrong date from the service would
    impossible = {**make_record(1, "2026-06-30"), "date": "2026-06-31"}
    replay = PreprintReplay(records={"biorxiv": [impossible, make_record(2, "2026-06-30")]})
    with serve_preprints(replay) as base:
        monkeypatch.setenv("PAPERFEED_BIORXIV_API_URL", base)
        monkeypatch.setenv("PAPERFEED_BIORXIV_SERVERS", "biorxiv")
        monkeypatch.setenv("PAPERFEED_SYNC_DELAY_SECONDS", "0")
        monkeypatch.setenv("PAPERFEED_SYNC_RETRIES", "1")
        yield replay


def test_biorxiv_sync_rejects_a_record_posted_on_no_day(preprint_api: PreprintReplay) -> None:
    result = CliRunner().invoke(
        main, ["sync", "biorxiv", "--from", "2026-06-01", "--until", "2026-07-02", "--no-index"]
    )

    assert result.exit_code == 0, result.output
    assert "biorxiv: added 1, updated 0, unchanged 0, rejected 1" in result.stdout
    bad = make_record(1, "2026-06-30")["doi"]
    assert f"{bad}: bad date '2026-06-31' (expected YYYY-MM-DD)" in result.output
    assert _stored_ids() == [make_record(2, "2026-06-30")["doi"]]
