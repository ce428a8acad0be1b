"""normalize_arxiv_id: every way a person or a source writes an arXiv id."""

from __future__ import annotations

import pytest

from paperfeed.ingest import normalize_arxiv_id


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
        ("0704.0001", "0704.0001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("cond-mat.stat-mech/0102536", "cond-mat.stat-mech/0102536"),
        ("https://arxiv.org/abs/math/0309136v1", "math/0309136"),
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
        "doi:10.48550/arXiv.2401.00165",
    ],
)
def test_normalize_arxiv_id_rejects_anything_else(raw: str) -> None:
    assert normalize_arxiv_id(raw) is None
