"""bioRxiv's and medRxiv's public details API: one JSON page of preprints → ``Paper``\\ s.

``GET {base}/details/{server}/{from}/{until}/{cursor}`` answers (https://api.biorxiv.org,
"Content detail" section) with a ``messages`` list holding one object (``status``,
``interval``, ``cursor``, ``count``, ``count_new_papers``, ``total``; ``status`` is
``"ok"``, or ``"no posts found"`` for an empty window) and a ``collection`` of at most
100 records, one per posted *version*: ``doi``, ``title``, ``authors`` (``"Last, F.;
Last, F."``), ``author_corresponding``, ``author_corresponding_institution``, ``date``
(when this version was posted), ``version``, ``type``, ``license``, ``category``,
``jatsxml``, ``abstract``, ``published`` (``"NA"`` or the journal DOI) and ``server``.
The service writes some counts as strings (``"total": "250"``); both are accepted.

A paper is identified by its DOI (lower case, ``10.1101/…``). Its subject category
becomes ``<server>.<category>`` with spaces as hyphens (``biorxiv.cancer-biology``),
the spelling ``cat:`` filters take (``paperfeed.ingest.preprint_categories``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from paperfeed.calendar_dates import is_calendar_date
from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.identifiers import normalize_doi
from paperfeed.ingest.preprint_categories import category_tag
from paperfeed.ingest.records import check_field_caps
from paperfeed.models import Paper, Rejection

SERVERS = ("biorxiv", "medrxiv")
PAGE_SIZE = 100  # records per page, fixed by the service
LONGEST_ID = 64  # the store's id column (papers.arxiv_id, VARCHAR(64))
EMPTY_STATUS = "no posts found"
# the licence codes the service uses, as the URLs arXiv-style metadata carries
_LICENSES = {
    "cc_by": "https://creativecommons.org/licenses/by/4.0/",
    "cc_by_nc": "https://creativecommons.org/licenses/by-nc/4.0/",
    "cc_by_nd": "https://creativecommons.org/licenses/by-nd/4.0/",
    "cc_by_nc_nd": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
    "cc0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "cc0_ng": "https://creativecommons.org/publicdomain/zero/1.0/",
    # the servers' "no reuse" choice, as their pages word it
    "cc_no": "All rights reserved. No reuse allowed without permission.",
}


@dataclass
class DetailsPage:
    """One page of the details API."""

    papers: list[Paper] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    cursor: int = 0
    count: int = 0
    total: int = 0
    empty: bool = False  # "no posts found": nothing in the window

    @property
    def next_cursor(self) -> int | None:
        """The cursor of the next page, or None when this was the last."""
        if self.empty or self.count == 0:
            return None
        following = self.cursor + self.count
        return following if following < self.total else None


def details_url(base: str, server: str, first: str, last: str, cursor: int) -> str:
    """``{base}/details/{server}/{first}/{last}/{cursor}``."""
    return f"{base.rstrip('/')}/details/{server}/{first}/{last}/{cursor}"


def _count(message: dict[str, object], name: str, url: str) -> int:
    value = message.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise IngestError(f"{url}: messages.{name} is {value!r}, not a count")
    try:
        number = int(value)
    except ValueError:
        raise IngestError(f"{url}: messages.{name} is {value!r}, not a count") from None
    if number < 0:
        raise IngestError(f"{url}: messages.{name} is {value!r}, not a count")
    return number


def parse_details_page(body: bytes, url: str, server: str) -> DetailsPage:
    """Read one page.

    Args:
        body: the response body.
        url: where it came from (named in errors and rejections).
        server: ``biorxiv`` or ``medrxiv``; the papers' source name.

    Raises:
        IngestError: the body is not the API's JSON (malformed, no ``messages``).
    """
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IngestError(f"{url}: not JSON ({error})") from None
    messages = document.get("messages") if isinstance(document, dict) else None
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        raise IngestError(f"{url}: no 'messages' block in the answer")
    message = messages[0]
    status = str(message.get("status", ""))
    if status.strip().lower() == EMPTY_STATUS:
        return DetailsPage(empty=True)
    if status != "ok":
        raise IngestError(f"{url}: the service answered status {status!r}")
    page = DetailsPage(
        cursor=_count(message, "cursor", url),
        count=_count(message, "count", url),
        total=_count(message, "total", url),
    )
    collection = document.get("collection")
    if not isinstance(collection, list):
        raise IngestError(f"{url}: 'collection' is not a list")
    for position, record in enumerate(collection, start=1):
        try:
            paper = paper_from_record(record, server)
            check_field_caps(paper)  # the same caps as every other source
            page.papers.append(paper)
        except ValueError as error:
            page.rejections.append(Rejection(url, position, str(error)))
    # a paper's versions in order, so the latest is merged last (a new version updates)
    page.papers.sort(key=lambda paper: (paper.arxiv_id, paper.updated or ""))
    return page


def _text(record: dict[str, object], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, (str, int)):
        raise ValueError(f"field '{name}' must be a string, got {type(value).__name__}")
    text = str(value).strip()
    return text or None


def split_authors(authors: str) -> list[str]:
    """``"Smith, J.; Doe, A. B."`` as ``["J. Smith", "A. B. Doe"]`` (the order shown
    for arXiv's authors)."""
    names = []
    for part in authors.split(";"):
        last, comma, first = part.strip().partition(",")
        name = f"{first.strip()} {last.strip()}" if comma and first.strip() else last.strip()
        if name:
            names.append(name)
    return names


# a DOI issued since December 2019 names its day: 10.1101/2024.01.02.123456
_DATED_DOI = re.compile(r"10\.1101/(\d{4})\.(\d{2})\.(\d{2})\.\d+(?:v\d+)?$")


def date_in_doi(doi: str, posted: str) -> str | None:
    """The day a dated bioRxiv/medRxiv DOI names (the first version's, give or take the
    days before it was posted), or None: an older DOI (``10.1101/123456``), no such day,
    or a day after ``posted`` (this version's date, which the first cannot follow)."""
    match = _DATED_DOI.fullmatch(doi)
    if match is None:
        return None
    day = "-".join(match.groups())
    return day if is_calendar_date(day) and day <= posted else None


def paper_from_record(record: object, server: str) -> Paper:
    """One record of the collection as a ``Paper``.

    Raises:
        ValueError: naming the field at fault (no DOI, a DOI that is not one, no title,
            a malformed date or version).
    """
    if not isinstance(record, dict):
        raise ValueError(f"record is {type(record).__name__}, not an object")
    raw_doi = _text(record, "doi")
    if raw_doi is None:
        raise ValueError("missing field 'doi'")
    doi = normalize_doi(raw_doi)
    if doi is None:
        raise ValueError(f"bad DOI {raw_doi!r} (expected e.g. 10.1101/2024.01.02.123456)")
    if len(doi) > LONGEST_ID:
        raise ValueError(
            f"DOI {raw_doi[:80]!r} is {len(doi)} characters long (at most {LONGEST_ID})"
        )
    title = _text(record, "title")
    if title is None:
        raise ValueError(f"{doi}: missing field 'title'")
    day = _text(record, "date")
    if day is None or not is_calendar_date(day):  # "2026-13-45" too: no such day
        raise ValueError(f"{doi}: bad date {day!r} (expected YYYY-MM-DD)")
    version_text = _text(record, "version") or "1"
    if not version_text.isdigit():
        raise ValueError(f"{doi}: bad version {version_text!r} (expected a number)")
    version = int(version_text)
    published = _text(record, "published")
    published_doi = normalize_doi(published) if published and published != "NA" else None
    category = _text(record, "category")
    license_code = (_text(record, "license") or "").lower()
    institution = _text(record, "author_corresponding_institution")
    return Paper(
        arxiv_id=doi,
        title=title,
        abstract=_text(record, "abstract"),
        authors=split_authors(_text(record, "authors") or ""),
        categories=[category_tag(server, category)] if category else None,
        # the first version's date is when the preprint was first listed
        first_listed=day if version == 1 else None,
        published=day if version == 1 else None,
        published_estimate=None if version == 1 else date_in_doi(doi, day),
        updated=day,
        doi=published_doi,  # as arXiv's ``doi``: the published version's DOI
        organization=institution,
        license=_LICENSES.get(license_code, license_code or None),
        comment=f"v{version}; {_text(record, 'type') or 'preprint'}",
        sources=[server],
    )
