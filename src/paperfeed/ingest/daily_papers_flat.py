"""The flattened daily-papers export (``shared/data/hf_daily_papers/papers.jsonl.gz``).

One object a line: ``id, title, abstract, authors, published_at,
submitted_on_daily_at, daily_date, upvotes, num_comments, github_repo, github_stars,
project_page, organization`` (a display name) ``, submitted_by`` (a user handle).
The bundled quick-start copy adds ``categories`` (arXiv's) and, from the API crawl of the
same days, ``submitted_by_profile`` and ``organization_profile``: the source's own
objects for them (``{_id, avatarUrl, fullname, ...}``), kept as the API reader keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from paperfeed.ingest.daily_papers_api import described_accounts
from paperfeed.ingest.records import (
    Record,
    read_arxiv_id,
    read_count,
    read_date,
    read_json_records,
    read_string_list,
    read_text,
    require_text,
)
from paperfeed.models import Paper, Rejection

FORMAT = "daily-papers-flat"
SOURCE = "daily-papers"


def read_daily_papers_flat(path: Path) -> Iterator[Paper | Rejection]:
    """Read one flattened daily-papers file (JSON Lines, plain or gzip).

    Args:
        path: e.g. ``papers.jsonl.gz``.

    Yields:
        A ``Paper`` per valid line, a ``Rejection`` (1-based line) per invalid one.
    """
    return read_json_records(path, _flat_record_to_paper)


def _flat_record_to_paper(record: Record) -> Paper:
    arxiv_id = read_arxiv_id(record, "id")
    title = read_text(record, "title")
    abstract = read_text(record, "abstract")
    require_text(title, abstract)
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=read_string_list(record, "authors"),
        # not in the crawl itself; the bundled quick-start copy adds arXiv's
        categories=read_string_list(record, "categories"),
        published=read_date(record, "published_at"),
        daily_date=read_date(record, "daily_date") or read_date(record, "submitted_on_daily_at"),
        upvotes=read_count(record, "upvotes"),
        num_comments=read_count(record, "num_comments"),
        organization=read_text(record, "organization"),
        submitted_by=read_text(record, "submitted_by"),
        github_repo=read_text(record, "github_repo"),
        github_stars=read_count(record, "github_stars"),
        project_page=read_text(record, "project_page"),
        sources=[SOURCE],
        accounts=described_accounts(
            (record.get("submitted_by_profile"),), (record.get("organization_profile"),)
        ),
    )
