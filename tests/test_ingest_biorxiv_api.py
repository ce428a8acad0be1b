"""Reading the bioRxiv/medRxiv details API, DOIs as paper ids, and the subject spelling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperfeed.ingest import IngestError
from paperfeed.ingest.biorxiv_api import date_in_doi, parse_details_page, split_authors
from paperfeed.ingest.identifiers import normalize_doi, normalize_paper_id, url_id
from paperfeed.ingest.preprint_categories import (
    category_tag,
    check_preprint_categories,
    normalize_category,
)

PAGE = (
    Path(__file__).resolve().parent
    / "fixtures"
    / "biorxiv"
    / "details_2026-07-01_2026-07-02_0.json"
)


def test_the_documented_page_becomes_papers() -> None:
    page = parse_details_page(PAGE.read_bytes(), "u", "biorxiv")
    assert (page.cursor, page.count, page.total, page.next_cursor) == (0, 3, 3, None)
    assert page.rejections == []
    by_id = {paper.arxiv_id: paper for paper in page.papers}
    dopamine = by_id["10.1101/2026.06.28.601234"]
    assert dopamine.authors == ["C. N. Okafor", "E. Lindqvist", "H. Tanaka"]
    assert dopamine.categories == ["biorxiv.neuroscience"]
    assert dopamine.first_listed == dopamine.published == dopamine.updated == "2026-07-01"
    assert dopamine.doi is None and dopamine.sources == ["biorxiv"]
    assert dopamine.comment == "v1; new results"
    revised = by_id["10.1101/2026.05.14.594321"]
    assert revised.first_listed is None and revised.updated == "2026-07-02"
    assert revised.doi == "10.1038/s41586-026-01234-5"
    # the licence codes as links (arXiv's form), "cc_no" as the servers word it
    document = json.loads(PAGE.read_bytes())
    codes = ("cc_by_nc_nd", "cc_no", "CC0")
    for record, code in zip(document["collection"], codes, strict=True):
        record["license"] = code
    licensed = parse_details_page(json.dumps(document).encode(), "u", "biorxiv").papers
    assert sorted(str(paper.license) for paper in licensed) == [
        "All rights reserved. No reuse allowed without permission.",
        "https://creativecommons.org/licenses/by-nc-nd/4.0/",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ]


def test_counts_as_strings_empty_windows_and_bad_records() -> None:
    document = json.loads(PAGE.read_bytes())
    document["messages"][0].update(cursor="100", count=3, total="250")
    document["collection"][1]["doi"] = "not a doi"
    document["collection"][2]["date"] = "02/07/2026"
    page = parse_details_page(json.dumps(document).encode(), "u", "biorxiv")
    assert page.next_cursor == 103 and len(page.papers) == 1
    assert [str(rejection) for rejection in page.rejections] == [
        "u:2: bad DOI 'not a doi' (expected e.g. 10.1101/2024.01.02.123456)",
        "u:3: 10.1101/2026.06.30.602001: bad date '02/07/2026' (expected YYYY-MM-DD)",
    ]
    document["collection"][0]["doi"] = "10.1101/" + "9" * 60
    document["collection"][2]["date"] = "2026-07-02"
    document["collection"][2]["abstract"] = "x" * 20_001
    page = parse_details_page(json.dumps(document).encode(), "u", "biorxiv")
    assert page.papers == [] and [str(rejection) for rejection in page.rejections] == [
        f"u:1: DOI '10.1101/{'9' * 60}' is 68 characters long (at most 64)",
        "u:2: bad DOI 'not a doi' (expected e.g. 10.1101/2024.01.02.123456)",
        "u:3: record 10.1101/2026.06.30.602001: abstract is 20,001 characters long "
        "(at most 20,000)",
    ]
    empty = b'{"messages":[{"status":"no posts found"}],"collection":[]}'
    assert parse_details_page(empty, "u", "medrxiv").empty
    with pytest.raises(IngestError, match=r"^u: not JSON"):
        parse_details_page(b"<html>502</html>", "u", "biorxiv")
    with pytest.raises(IngestError, match="u: messages.total is 'many', not a count"):
        parse_details_page(b'{"messages":[{"status":"ok","total":"many"}]}', "u", "biorxiv")
    with pytest.raises(IngestError, match="status 'error: interval'"):
        parse_details_page(b'{"messages":[{"status":"error: interval"}]}', "u", "biorxiv")


def test_a_dated_doi_names_the_first_version_s_day() -> None:
    assert date_in_doi("10.1101/2024.01.02.123456", "2024-03-01") == "2024-01-02"
    assert date_in_doi("10.1101/123456", "2024-03-01") is None  # before December 2019
    assert date_in_doi("10.1101/2024.02.30.123456", "2024-03-01") is None  # no such day
    assert date_in_doi("10.1101/2024.05.02.123456", "2024-03-01") is None  # after the post
    assert date_in_doi("10.1038/2024.01.02.123456", "2024-03-01") is None  # not a preprint


def test_dois_in_every_form() -> None:
    assert split_authors("Smith, J.; Consortium X; ") == ["J. Smith", "Consortium X"]
    doi = "10.1101/2024.01.02.123456"
    for form in (
        doi,
        doi.upper(),
        f"doi:{doi}",
        f"https://doi.org/{doi}",
        f"https://www.biorxiv.org/content/{doi}v3",
        f"https://www.medrxiv.org/content/{doi}v1.full.pdf",
        f"{doi}v2",
    ):
        assert normalize_paper_id(form) == doi, form
    assert normalize_paper_id("arXiv:2401.00165v2") == "2401.00165"
    assert normalize_doi("10.1000/ABC(1);x<y") == "10.1000/abc(1);x<y"
    assert normalize_doi("10.1000/abcv2") == "10.1000/abcv2"  # only 10.1101 has versions
    assert normalize_paper_id("10.1101/") is None and normalize_paper_id("hello") is None
    assert url_id("10.1000/abc(1);x<y#?") == "10.1000/abc%281%29%3Bx%3Cy%23%3F"
    assert url_id("hep-th/9901001") == "hep-th/9901001"


def test_subject_spelling() -> None:
    assert category_tag("bioRxiv", "Cancer Biology") == "biorxiv.cancer-biology"
    assert category_tag("medRxiv", "Infectious Diseases (except HIV/AIDS)") == (
        "medrxiv.infectious-diseases"
    )
    assert normalize_category("bioRxiv:Animal_Behavior_and_Cognition") == (
        "biorxiv.animal-behavior-and-cognition"
    )
    check_preprint_categories(("biorxiv.neuroscience", "medRxiv:HIV/AIDS"), "S")
    with pytest.raises(ValueError, match="unknown bioRxiv/medRxiv category 'biorxiv.brains' in S"):
        check_preprint_categories(("biorxiv.brains",), "S")
