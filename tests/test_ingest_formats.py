"""detect_format and read_source: which reader a path gets, and the errors a caller sees."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from paperfeed.ingest import FORMATS, IngestError, detect_format, read_source

FIXTURES = Path(__file__).parent / "fixtures"


def test_formats_lists_every_reader() -> None:
    assert FORMATS == (
        "arxiv-listing",
        "daily-papers-api",
        "daily-papers-flat",
        "abstract-dataset",
        "arxiv-snapshot",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("arxiv_listing_sample.jsonl", "arxiv-listing"),
        ("arxiv_listing_malformed.jsonl", "arxiv-listing"),  # a bad first line is skipped
        ("daily_papers/2025-06-02.json", "daily-papers-api"),
        ("daily_papers", "daily-papers-api"),
        ("daily_papers_malformed/2025-06-05.json", "daily-papers-api"),  # by its name
        ("daily_papers_flat_sample.jsonl", "daily-papers-flat"),
        ("abstract_dataset_sample.csv", "abstract-dataset"),
        ("abstract_dataset_sample.jsonl", "abstract-dataset"),
        ("arxiv_snapshot_sample.json", "arxiv-snapshot"),
    ],
)
def test_detects_fixture_formats_by_content(name: str, expected: str) -> None:
    assert detect_format(FIXTURES / name) == expected


def test_detects_by_content_not_by_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "abstracts.csv.gz"  # really a gzip snapshot
    misnamed.write_bytes(gzip.compress((FIXTURES / "arxiv_snapshot_sample.json").read_bytes()))
    csv_without_suffix = tmp_path / "abstracts.txt"
    csv_without_suffix.write_text("id,title,abstract\n2401.00165,T,A\n", encoding="utf-8")

    assert detect_format(misnamed) == "arxiv-snapshot"
    assert detect_format(csv_without_suffix) == "abstract-dataset"


def test_detects_a_tar_archive_of_day_files(tmp_path: Path) -> None:
    archive = tmp_path / "daily_papers_api.tar.gz"
    data = (FIXTURES / "daily_papers" / "2025-06-02.json").read_bytes()
    with tarfile.open(archive, "w:gz") as tar:
        empty = tarfile.TarInfo("daily_papers/2025-06-01.json")
        empty.size = 2
        tar.addfile(empty, io.BytesIO(b"[]"))
        info = tarfile.TarInfo("daily_papers/2025-06-02.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    assert detect_format(archive) == "daily-papers-api"


def test_detects_parquet(tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "data.bin"
    parquet.write_table(pyarrow.table({"arxiv_id": ["2401.00165"], "abstract": ["A"]}), path)

    assert detect_format(path) == "abstract-dataset"


def test_unknown_keys_raise_naming_file_and_keys(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text(json.dumps({"_id": "1", "text": "BEIR style"}) + "\n", encoding="utf-8")

    with pytest.raises(IngestError) as raised:
        detect_format(path)

    assert str(raised.value) == (
        f"cannot tell the format of '{path}' from its first record's keys (_id, text); "
        "pass one of: arxiv-listing, daily-papers-api, daily-papers-flat, abstract-dataset, "
        "arxiv-snapshot"
    )


def test_an_empty_file_cannot_be_detected(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")

    with pytest.raises(IngestError, match="is empty"):
        detect_format(path)
    assert list(read_source(path, "arxiv-listing")) == []


def test_a_missing_path_raises_at_the_call(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jsonl"

    with pytest.raises(IngestError, match=f"no such file or directory: '{missing}'"):
        read_source(missing)
    with pytest.raises(IngestError, match="no such file or directory"):
        detect_format(missing)


def test_an_unknown_format_raises_at_the_call() -> None:
    with pytest.raises(IngestError) as raised:
        read_source(FIXTURES / "arxiv_listing_sample.jsonl", "arxiv")

    assert str(raised.value) == (
        "unknown format 'arxiv' (expected one of: arxiv-listing, daily-papers-api, "
        "daily-papers-flat, abstract-dataset, arxiv-snapshot)"
    )


def test_a_folder_without_sources_raises(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing here", encoding="utf-8")
    (tmp_path / ".hidden.jsonl").write_text("{}", encoding="utf-8")

    with pytest.raises(IngestError, match=f"folder '{tmp_path}' holds no source files"):
        read_source(tmp_path)


def test_a_folder_may_mix_formats(tmp_path: Path) -> None:
    for name in ("arxiv_listing_sample.jsonl", "daily_papers_flat_sample.jsonl"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())

    sources = [item.sources for item in read_source(tmp_path) if not hasattr(item, "reason")]

    assert sources == [["arxiv-listing"]] * 3 + [["daily-papers"]] * 3
