"""The arXiv listing reader: papers from real lines, rejections for malformed ones."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from paperfeed.ingest import IngestError, read_source
from paperfeed.models import Paper, Rejection

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "arxiv_listing_sample.jsonl"
MALFORMED = FIXTURES / "arxiv_listing_malformed.jsonl"


def _papers(items: list[Paper | Rejection]) -> list[Paper]:
    return [item for item in items if isinstance(item, Paper)]


def test_reads_real_listing_records() -> None:
    items = list(read_source(SAMPLE, "arxiv-listing"))

    assert [item.arxiv_id for item in _papers(items)] == ["2503.11685", "2503.21067", "2506.05486"]
    cordic, asksport, benchmark = _papers(items)
    assert cordic.title == "CORDIC Is All You Need"
    assert cordic.abstract is not None
    assert cordic.abstract.startswith("Artificial intelligence necessitates adaptable hardware")
    assert "$tanh$" in cordic.abstract  # raw text: the store cleans it
    assert cordic.authors is not None and len(cordic.authors) == 9
    assert cordic.authors[0] == "Omkar Kokane"
    assert cordic.categories == ["cs.AR", "cs.CV", "eess.IV"]
    assert cordic.comment is None
    assert cordic.first_listed == "2025-03-18"
    assert cordic.published is None
    assert cordic.sources == ["arxiv-listing"]

    assert asksport.comment == (
        "for accessing the application, see\n"
        "  https://huggingface.co/spaces/leomaurodesenv/qasports-website"
    )
    assert asksport.categories == ["cs.AI", "cs.CL", "I.2.1; I.2.7"]
    assert asksport.first_listed == "2025-03-28"

    assert benchmark.categories is None
    assert benchmark.authors is not None and "Bogumił Kamiński" in benchmark.authors
    assert benchmark.first_listed == "2025-06-09"


def test_rejects_malformed_lines_with_file_line_and_reason() -> None:
    items = list(read_source(MALFORMED, "arxiv-listing"))

    file = str(MALFORMED)
    assert [item for item in items if isinstance(item, Rejection)] == [
        Rejection(file, 1, "invalid JSON: Invalid control character at column 60"),
        Rejection(file, 2, "record is not a JSON object, got list"),
        Rejection(file, 3, "missing arXiv id (field 'id')"),
        Rejection(file, 4, "no title and no abstract"),
        Rejection(file, 5, "field 'authors' must be a list of strings, got int"),
        Rejection(file, 9, "bad arXiv id 'not-an-id'"),
        Rejection(file, 10, "field 'categories' must be a list of strings, got a list holding int"),
        Rejection(
            file, 11, "field 'first_listed' must be a date like 2025-03-18, got '18/03/2025'"
        ),
    ]
    assert str(items[0]) == f"{file}:1: invalid JSON: Invalid control character at column 60"


def test_keeps_good_lines_among_malformed_ones() -> None:
    papers = _papers(list(read_source(MALFORMED, "arxiv-listing")))

    versioned, old_style = papers
    assert versioned.arxiv_id == "2503.11685"  # "2503.11685v2" without its version
    assert old_style.arxiv_id == "hep-th/9901001"
    assert old_style.authors == []


def test_reads_gzip_by_magic_bytes_whatever_the_name(tmp_path: Path) -> None:
    compressed = tmp_path / "listing.jsonl"  # gzip content, no .gz suffix
    compressed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    plain_named_gz = tmp_path / "listing.jsonl.gz"  # .gz suffix, plain content
    shutil.copy(SAMPLE, plain_named_gz)

    expected = list(read_source(SAMPLE, "arxiv-listing"))
    assert list(read_source(compressed, "arxiv-listing")) == expected
    assert list(read_source(plain_named_gz, "arxiv-listing")) == expected


def test_reads_a_folder_of_listing_files_in_name_order(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "arxiv_2025-04.jsonl.gz").write_bytes(gzip.compress(lines[2].encode()))
    (tmp_path / "arxiv_2025-03.jsonl.gz").write_bytes(gzip.compress("".join(lines[:2]).encode()))
    (tmp_path / "README.md").write_text("not a source", encoding="utf-8")

    papers = _papers(list(read_source(tmp_path)))

    assert [paper.arxiv_id for paper in papers] == ["2503.11685", "2503.21067", "2506.05486"]


def test_a_truncated_gzip_file_raises_naming_it(tmp_path: Path) -> None:
    truncated = tmp_path / "arxiv_2025-03.jsonl.gz"
    truncated.write_bytes(gzip.compress(SAMPLE.read_bytes() * 50)[:2000])

    with pytest.raises(IngestError, match="arxiv_2025-03.jsonl.gz"):
        list(read_source(truncated, "arxiv-listing"))


def test_reads_a_file_holding_one_json_list(tmp_path: Path) -> None:
    listing = tmp_path / "listing.json"
    listing.write_text("[" + ",".join(SAMPLE.read_text(encoding="utf-8").splitlines()) + "]")

    papers = _papers(list(read_source(listing, "arxiv-listing")))

    assert [paper.arxiv_id for paper in papers] == ["2503.11685", "2503.21067", "2506.05486"]


def test_rejects_invalid_utf8(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b'{"id": "2503.11685", "title": "caf\xe9"}\n')

    assert list(read_source(broken, "arxiv-listing")) == [
        Rejection(str(broken), 1, "invalid UTF-8 at byte 35")
    ]
