"""The arXiv metadata snapshot reader (Kaggle ``arxiv-metadata-oai-snapshot.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperfeed.ingest import read_source
from paperfeed.models import Paper, Rejection

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "arxiv_snapshot_sample.json"


def _papers() -> dict[str, Paper]:
    items = list(read_source(SAMPLE))
    assert all(isinstance(item, Paper) for item in items)
    return {item.arxiv_id: item for item in items if isinstance(item, Paper)}


def test_reads_every_sample_record() -> None:
    assert list(_papers()) == [
        "0704.0001",
        "hep-th/9901001",
        "math/0309136",
        "1501.00001",
        "2401.00165",
    ]


def test_maps_snapshot_fields() -> None:
    paper = _papers()["0704.0001"]

    assert paper.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies"
    )
    assert paper.abstract is not None
    assert paper.abstract.startswith("  A fully differential calculation")
    assert paper.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert paper.categories == ["hep-ph"]
    assert paper.comment == "37 pages, 15 figures; published version"
    assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert paper.doi == "10.1103/PhysRevD.76.013009"
    assert paper.published == "2007-04-02"  # v1, not v2 of 24 Jul 2007
    assert paper.first_listed is None
    assert paper.sources == ["arxiv-snapshot"]


def test_old_style_ids_suffixes_and_several_categories() -> None:
    papers = _papers()

    assert papers["hep-th/9901001"].published == "1999-01-01"
    assert papers["math/0309136"].authors == ["C. Sample Jr.", "D. Placeholder"]
    assert papers["math/0309136"].categories == ["math.GT", "math.AG"]
    assert papers["math/0309136"].published == "2003-09-09"


def test_splits_the_author_string_without_authors_parsed() -> None:
    paper = _papers()["1501.00001"]

    assert paper.authors == ["Ana P\\'erez", "Jean-Luc Dupont", "Li Wei"]
    assert paper.published == "2014-12-31"


def _read_one(tmp_path: Path, **fields: object) -> Paper | Rejection:
    record = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0]) | fields
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (item,) = read_source(path, "arxiv-snapshot")
    return item


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"versions": "v1"},
            "field 'versions' must be a list of {version, created} objects, got str",
        ),
        (
            {"versions": [{"version": "v1", "created": "yesterday"}]},
            "field 'versions[].created' must be a date like 'Mon, 2 Apr 2007 19:18:42 GMT', "
            "got 'yesterday'",
        ),
        (
            {"authors_parsed": [["Balázs", "C.", 1]]},
            "field 'authors_parsed' must be a list of [last, first, suffix] lists of strings, "
            "got a list holding list",
        ),
        ({"id": "0704.0001v9x"}, "bad arXiv id '0704.0001v9x'"),
        ({"comments": 37}, "field 'comments' must be a string, got int"),
    ],
)
def test_rejects_wrongly_typed_fields(
    tmp_path: Path, fields: dict[str, object], reason: str
) -> None:
    rejection = _read_one(tmp_path, **fields)

    assert rejection == Rejection(str(tmp_path / "snapshot.json"), 1, reason)


def test_missing_versions_leave_published_unknown(tmp_path: Path) -> None:
    paper = _read_one(tmp_path, versions=[])

    assert isinstance(paper, Paper)
    assert paper.published is None
