"""The public arXiv metadata snapshot (Kaggle ``arxiv-metadata-oai-snapshot.json``).

JSON Lines, one object per paper: ``id, submitter, authors`` (one string),
``authors_parsed`` (``[[last, first, suffix], …]``), ``title, comments, journal-ref,
doi, report-no, categories`` (space-separated), ``license, abstract, versions``
(``[{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}, …]``) and
``update_date``. ``published`` is the day version 1 was submitted. Text fields,
author names included, keep the snapshot's LaTeX (``Bal\\'azs``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from paperfeed.calendar_dates import is_calendar_date
from paperfeed.ingest.records import (
    Record,
    RecordError,
    describe_type,
    quote,
    read_arxiv_id,
    read_json_records,
    read_string_list,
    read_text,
    require_text,
)
from paperfeed.models import Paper, Rejection

FORMAT = "arxiv-snapshot"
SOURCE = "arxiv-snapshot"

# RFC 2822 dates as the snapshot writes them: "Mon, 2 Apr 2007 19:18:42 GMT".
_CREATED_DATE = re.compile(r"([0-9]{1,2})\s+([A-Za-z]{3})[a-z]*\s+([0-9]{4})")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# "A. One, B. Two and C. Three" -> three names; also ", and" before the last one.
_AUTHOR_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")


def read_arxiv_snapshot(path: Path) -> Iterator[Paper | Rejection]:
    """Read the snapshot file (JSON Lines, plain or gzip).

    Args:
        path: e.g. ``arxiv-metadata-oai-snapshot.json``.

    Yields:
        A ``Paper`` per valid line, a ``Rejection`` (1-based line) per invalid one.
    """
    return read_json_records(path, _snapshot_record_to_paper)


def _snapshot_record_to_paper(record: Record) -> Paper:
    arxiv_id = read_arxiv_id(record, "id")
    title = read_text(record, "title")
    abstract = read_text(record, "abstract")
    require_text(title, abstract)
    authors = _read_parsed_authors(record.get("authors_parsed"))
    if authors is None:
        authors = _split_authors(read_text(record, "authors"))
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=authors,
        categories=_read_categories(record),
        comment=read_text(record, "comments"),
        published=_read_first_version_date(record.get("versions")),
        doi=read_text(record, "doi"),
        journal_ref=read_text(record, "journal-ref"),
        sources=[SOURCE],
    )


def _read_parsed_authors(value: object) -> list[str] | None:
    """["Bal\\'azs", "C.", ""] -> "C. Bal\\'azs": first name, last name, suffix."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise RecordError(
            f"field 'authors_parsed' must be a list of [last, first, suffix] lists, "
            f"got {describe_type(value)}"
        )
    names = []
    for parts in value:
        if not isinstance(parts, list) or not all(isinstance(part, str) for part in parts):
            raise RecordError(
                "field 'authors_parsed' must be a list of [last, first, suffix] lists of "
                f"strings, got a list holding {describe_type(parts)}"
            )
        last = parts[0] if parts else ""
        first = parts[1] if len(parts) > 1 else ""
        name = " ".join(part.strip() for part in (first, last, *parts[2:]) if part.strip())
        if name:
            names.append(name)
    return names


def _split_authors(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = (" ".join(name.split()) for name in _AUTHOR_SEPARATOR.split(text))
    return [name for name in names if name]


def _read_categories(record: Record) -> list[str] | None:
    value = record.get("categories")
    if isinstance(value, str):
        return value.split() or None
    return read_string_list(record, "categories")


def _read_first_version_date(value: object) -> str | None:
    """The ``YYYY-MM-DD`` of version v1's ``created`` stamp (else of the first version)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(version, dict) for version in value):
        raise RecordError(
            "field 'versions' must be a list of {version, created} objects, "
            f"got {describe_type(value)}"
        )
    if not value:
        return None
    first = next((version for version in value if version.get("version") == "v1"), value[0])
    created = first.get("created")
    if created is None:
        return None
    if not isinstance(created, str):
        raise RecordError(
            f"field 'versions[].created' must be a string, got {describe_type(created)}"
        )
    match = _CREATED_DATE.search(created)
    month = _MONTHS.get(match.group(2).lower()) if match is not None else None
    if match is None or month is None:
        raise RecordError(
            f"field 'versions[].created' must be a date like 'Mon, 2 Apr 2007 19:18:42 GMT', "
            f"got {quote(created)}"
        )
    day = f"{match.group(3)}-{month:02d}-{int(match.group(1)):02d}"
    if not is_calendar_date(day):  # "31 Feb 2003": the record is rejected, as for any bad field
        raise RecordError(
            f"field 'versions[].created' is not a calendar date, got {quote(created)}"
        )
    return day
