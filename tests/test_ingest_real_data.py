"""The readers on the real corpus in ../shared/data (the slower ``realdata`` tier).

Set ``PAPERFEED_SHARED_DATA`` to read the data from elsewhere; tests skip when it is absent.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest

from paperfeed.ingest import detect_format, read_source
from paperfeed.models import Paper, Rejection

pytestmark = pytest.mark.realdata


def _shared_data() -> Path:
    override = os.environ.get("PAPERFEED_SHARED_DATA")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def _require(relative: str) -> Path:
    path = _shared_data() / relative
    if not path.exists():
        pytest.skip(f"real data not found: {path}")
    return path


def _split(items: list[Paper | Rejection]) -> tuple[list[Paper], list[Rejection]]:
    papers = [item for item in items if isinstance(item, Paper)]
    rejections = [item for item in items if isinstance(item, Rejection)]
    return papers, rejections


def test_reads_all_arxiv_listings_quickly_and_cleanly() -> None:
    folder = _require("arxiv")

    started = time.perf_counter()
    papers, rejections = _split(list(read_source(folder)))
    elapsed = time.perf_counter() - started

    assert rejections == []
    assert len(papers) == 84_010
    assert len({paper.arxiv_id for paper in papers}) == 84_010
    assert sum(paper.categories is None for paper in papers) == 4_363
    assert all(paper.first_listed is not None for paper in papers)
    assert elapsed < 60, f"reading {folder} took {elapsed:.1f} s"


def test_one_arxiv_month() -> None:
    month = _require("arxiv/arxiv_2025-03.jsonl.gz")

    assert detect_format(month) == "arxiv-listing"
    papers, rejections = _split(list(read_source(month)))
    assert rejections == []
    assert len(papers) == 2_327


def test_reads_the_daily_papers_archive() -> None:
    archive = _require("hf_daily_papers/daily_papers_api.tar.gz")

    assert detect_format(archive) == "daily-papers-api"
    papers, rejections = _split(list(read_source(archive)))

    assert rejections == []
    assert len(papers) == 9_881
    # Four papers were featured on two days each.
    assert len({paper.arxiv_id for paper in papers}) == 9_877
    assert len({paper.daily_date for paper in papers}) == 580
    assert all(paper.published is not None and paper.upvotes is not None for paper in papers)


def test_reads_the_flat_daily_papers() -> None:
    flat = _require("hf_daily_papers/papers.jsonl.gz")

    assert detect_format(flat) == "daily-papers-flat"
    papers, rejections = _split(list(read_source(flat)))

    assert rejections == []
    assert len(papers) == 9_877


def test_archive_and_flat_export_agree_paper_by_paper() -> None:
    archive = _require("hf_daily_papers/daily_papers_api.tar.gz")
    flat = _require("hf_daily_papers/papers.jsonl.gz")
    from_archive, _ = _split(list(read_source(archive)))
    from_flat = {paper.arxiv_id: paper for paper in _split(list(read_source(flat)))[0]}
    featured = Counter(paper.arxiv_id for paper in from_archive)

    for paper in from_archive:
        if featured[paper.arxiv_id] > 1:
            continue  # the export kept one of the two days
        assert paper == from_flat[paper.arxiv_id]
