"""The arXiv listing crawl: JSON Lines of new-submission listings (``shared/data/arxiv``).

One object a line: ``id, title, abstract, authors, categories`` (may be null),
``comment, first_listed, listed_dates`` and, from forks, ``source_repo``. The
listing carries no publication date, so ``published`` stays ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from paperfeed.ingest.records import (
    Record,
    read_arxiv_id,
    read_date,
    read_json_records,
    read_string_list,
    read_text,
    require_text,
)
from paperfeed.models import Paper, Rejection

FORMAT = "arxiv-listing"
SOURCE = "arxiv-listing"


def read_arxiv_listing(path: Path) -> Iterator[Paper | Rejection]:
    """Read one listing file (JSON Lines, plain or gzip).

    Args:
        path: e.g. ``arxiv_2025-03.jsonl.gz``.

    Yields:
        A ``Paper`` per valid line, a ``Rejection`` (1-based line) per invalid one.
    """
    return read_json_records(path, _listing_record_to_paper)


def _listing_record_to_paper(record: Record) -> Paper:
    arxiv_id = read_arxiv_id(record, "id")
    title = read_text(record, "title")
    abstract = read_text(record, "abstract")
    require_text(title, abstract)
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=read_string_list(record, "authors"),
        categories=read_string_list(record, "categories"),
        comment=read_text(record, "comment"),
        first_listed=read_date(record, "first_listed"),
        sources=[SOURCE],
    )
