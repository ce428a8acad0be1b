"""The (arxiv_id, abstract) dataset reader: CSV, JSON Lines and Parquet."""

from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

import pytest

from paperfeed.ingest import IngestError, read_source
from paperfeed.models import Paper, Rejection

FIXTURES = Path(__file__).parent / "fixtures"
CSV_SAMPLE = FIXTURES / "abstract_dataset_sample.csv"
JSONL_SAMPLE = FIXTURES / "abstract_dataset_sample.jsonl"


def _papers(items: list[Paper | Rejection]) -> list[Paper]:
    return [item for item in items if isinstance(item, Paper)]


def _rejections(items: list[Paper | Rejection]) -> list[Rejection]:
    return [item for item in items if isinstance(item, Rejection)]


def test_reads_csv_with_multiline_abstracts() -> None:
    items = list(read_source(CSV_SAMPLE))

    papers = _papers(items)
    assert [paper.arxiv_id for paper in papers] == [
        "2401.00165",
        "2401.00368",
        "2101.00436",  # "2101.00436v3" without its version
        "2305.17066",
    ]
    assert papers[1].abstract is not None
    assert papers[1].abstract.startswith("In this paper,\nwe introduce a novel and simple method")
    assert papers[0].title is None
    assert papers[0].sources == ["abstract-dataset"]


def test_rejects_csv_rows_by_the_line_they_start_on() -> None:
    file = str(CSV_SAMPLE)

    assert _rejections(list(read_source(CSV_SAMPLE))) == [
        Rejection(file, 30, "missing arXiv id (field 'arxiv_id')"),
        Rejection(file, 31, "bad arXiv id 'not-an-id'"),
        Rejection(file, 32, "no title and no abstract"),
    ]


def test_reads_jsonl_with_id_and_optional_title() -> None:
    items = list(read_source(JSONL_SAMPLE))

    papers = _papers(items)
    assert [paper.arxiv_id for paper in papers] == ["2401.00165", "2101.00436", "2305.17066"]
    assert papers[0].title == "Contrastive confidence regularizer (title added for the test)"
    assert papers[1].title is None
    file = str(JSONL_SAMPLE)
    assert _rejections(items) == [
        Rejection(file, 4, "field 'id' must be a string, got float"),
        Rejection(file, 5, "no title and no abstract"),
    ]


def test_reads_gzip_compressed_csv(tmp_path: Path) -> None:
    compressed = tmp_path / "abstracts.csv.gz"
    compressed.write_bytes(gzip.compress(CSV_SAMPLE.read_bytes()))

    assert len(_papers(list(read_source(compressed)))) == 4


def test_a_csv_without_an_id_column_raises_naming_the_columns(tmp_path: Path) -> None:
    table = tmp_path / "abstracts.csv"
    table.write_text("paper,abstract\n2401.00165,Text\n", encoding="utf-8")

    with pytest.raises(
        IngestError, match=r"has no 'arxiv_id' or 'id' column \(columns: paper, abstract\)"
    ):
        list(read_source(table, "abstract-dataset"))


def test_reads_parquet_in_batches(tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    with CSV_SAMPLE.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    table = pyarrow.table(
        {
            "arxiv_id": [row["arxiv_id"] or None for row in rows],
            "abstract": [row["abstract"] for row in rows],
            "title": ["A title"] + [None] * (len(rows) - 1),
            "extra": list(range(len(rows))),
        }
    )
    path = tmp_path / "abstracts.parquet"
    parquet.write_table(table, path, row_group_size=2)

    items = list(read_source(path))

    papers = _papers(items)
    assert [paper.arxiv_id for paper in papers] == [
        "2401.00165",
        "2401.00368",
        "2101.00436",
        "2305.17066",
    ]
    assert papers[0].title == "A title"
    assert _rejections(items) == [
        Rejection(str(path), 5, "missing arXiv id (field 'arxiv_id')"),
        Rejection(str(path), 6, "bad arXiv id 'not-an-id'"),
        Rejection(str(path), 7, "no title and no abstract"),
    ]


def test_parquet_without_pyarrow_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "abstracts.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 16 + b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)

    with pytest.raises(IngestError, match=r"pip install 'paperfeed\[parquet\]'"):
        list(read_source(path))
