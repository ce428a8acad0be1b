"""normalize_arxiv_id: every way a person or a source writes an arXiv id, and what is
none (a month 13, an unknown archive), as ingest rejects it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.ingest import normalize_arxiv_id
from paperfeed.store import Store


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2401.00165", "2401.00165"),
        ("2401.00165v2", "2401.00165"),
        ("  2401.00165\n", "2401.00165"),
        ("arXiv:2401.00165v12", "2401.00165"),
        ("ARXIV:1501.00001", "1501.00001"),
        ("https://arxiv.org/abs/2401.00165v3", "2401.00165"),
        ("http://arxiv.org/pdf/2401.00165v1.pdf", "2401.00165"),
        ("https://arxiv.org/pdf/2401.00165", "2401.00165"),
        ("https://export.arxiv.org/abs/2401.00165/", "2401.00165"),
        ("arxiv.org/html/2401.00165v1", "2401.00165"),
        ("https://arxiv.org/abs/2401.00165v2?context=cs", "2401.00165"),
        ("https://arxiv.org/pdf/2401.00165#page=3", "2401.00165"),
        ("https://huggingface.co/papers/2401.00165", "2401.00165"),
        ("huggingface.co/papers/2401.00165#community", "2401.00165"),
        ("0704.0001", "0704.0001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("cond-mat.stat-mech/0102536", "cond-mat.stat-mech/0102536"),
        ("https://arxiv.org/abs/math/0309136v1", "math/0309136"),
        ("1412.9999", "1412.9999"),
        ("2609.99999", "2609.99999"),
        ("solv-int/9901001", "solv-int/9901001"),  # an archive since folded into nlin
        ("cs.AI/0101001", "cs.AI/0101001"),
        # the number's length is not held against the month: read as the id it means
        ("2401.0001", "2401.0001"),
    ],
)
def test_normalize_arxiv_id_accepts_decorated_ids(raw: str, expected: str) -> None:
    assert normalize_arxiv_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "not-an-id",
        "2401.165",  # too few digits after the dot
        "2401.001655",  # too many
        "24010.0165",
        "2401.00165v",  # a version needs a number
        "hep-th/990100",  # six digits
        "HEP-TH/9901001",  # archives are lower case
        "https://arxiv.org/abs/",
        "https://example.org/abs/2401.00165",
        "2401.00165?context=cs",  # a query only after a page URL
        "https://huggingface.co/papers/",
        "doi:10.48550/arXiv.2401.00165",
        "2613.00001",  # month 13
        "2600.00001",  # month 00
        "9999.99999",
        "0000.0000",
        "0612.0001",  # new-style ids start in April 2007
        "２４０１.00165",  # full-width digits
        "foo/1234567",  # no such archive
        "hep-th/9913001",  # month 13
        "https://arxiv.org/abs/2613.00001",
    ],
)
def test_normalize_arxiv_id_rejects_anything_else(raw: str) -> None:
    assert normalize_arxiv_id(raw) is None


def test_ingest_rejects_ids_that_are_not_arxiv_ids_naming_each(tmp_path: Path) -> None:
    bad = ["2613.00001", "9999.99999", "0000.0000", "foo/1234567", "hep-th/9913001"]
    good = ["2401.00001", "0704.0001", "hep-th/9901001"]
    dataset = tmp_path / "abstracts.csv"
    rows = [f"{identifier},An abstract of {identifier}." for identifier in bad + good]
    dataset.write_text("arxiv_id,abstract\n" + "\n".join(rows) + "\n")

    result = CliRunner().invoke(main, ["ingest", "--quiet", str(dataset)])

    assert result.exit_code == 0, result.output
    assert "added 3, updated 0, unchanged 0, rejected 5" in result.stdout
    for line, identifier in enumerate(bad, start=2):
        assert f"abstracts.csv:{line}: bad arXiv id '{identifier}'" in result.stderr
    store = Store(Settings.from_environment().database_url)
    assert sorted(paper.arxiv_id for batch in store.iter_papers() for paper in batch) == sorted(
        good
    )
