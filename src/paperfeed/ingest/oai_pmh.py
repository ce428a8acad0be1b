"""OAI-PMH 2.0 ``ListRecords`` pages in arXiv's ``arXiv`` metadata format.

A page is ``<OAI-PMH><responseDate/><request/><ListRecords><record>…</record>…
<resumptionToken/></ListRecords></OAI-PMH>`` (or ``<error code="…">`` instead of
``ListRecords``). Each record has a ``<header>`` (``identifier`` ``oai:arXiv.org:<id>``,
``datestamp``, ``setSpec``; ``status="deleted"`` when the item is gone) and, unless
deleted, ``<metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/">`` with ``id``,
``created`` (v1 submitted), ``updated`` (latest version, absent for v1 only),
``authors/author/{keyname, forenames, suffix}``, ``title``, ``categories``
(space-separated, primary first), ``comments``, ``journal-ref``, ``doi``, ``license``
and ``abstract``. The list is complete when the resumption token is empty or absent.

Spec: http://www.openarchives.org/OAI/2.0/openarchivesprotocol.htm (§3.5 flow
control, §4.5 ListRecords); arXiv: https://info.arxiv.org/help/oa/index.html. Pages are
parsed as a stream (expat via ``XMLPullParser``), each record dropped once read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from paperfeed.calendar_dates import is_calendar_date
from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.identifiers import normalize_arxiv_id
from paperfeed.ingest.records import RecordOverLimit, check_field_caps, quote
from paperfeed.models import Paper, Rejection

SOURCE = "arxiv-oai"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
# A v1 record whose datestamp is this close to its submission is a new listing; a
# later one is a bibliographic update of an older paper, not "new on arXiv".
NEW_LISTING_DAYS = 7
_CHUNK = 1 << 16
_DTD_MARKUP = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_HTML = re.compile(rb"<!doctype html|<html[\s>]", re.IGNORECASE)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class OaiError(IngestError):
    """The repository answered with an OAI-PMH error (other than ``noRecordsMatch``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code = code


@dataclass
class OaiPage:
    """What one ``ListRecords`` response holds."""

    papers: list[Paper] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # arXiv ids of deleted records
    resumption_token: str | None = None  # None: the list is complete
    complete_list_size: int | None = None
    response_date: str | None = None
    latest_datestamp: str | None = None  # the newest record datestamp on the page
    no_records: bool = False  # the repository said noRecordsMatch
    records: int = 0  # records on the page, deleted ones included


def parse_list_records(body: bytes, where: str = "response") -> OaiPage:
    """Parse one ``ListRecords`` page.

    Args:
        body: the response body (UTF-8 XML).
        where: names the page in rejections and errors (its URL).

    Returns:
        The page's papers, rejected records (with their position on the page),
        deleted ids and resumption token; ``noRecordsMatch`` gives an empty page.

    Raises:
        OaiError: the repository answered with an OAI-PMH error.
        IngestError: the body is an HTML page, not well-formed or truncated XML,
            declares a DTD, or is not an OAI-PMH response.
    """
    head = body[:2048]
    if _HTML.search(head) is not None:
        title = _HTML_TITLE.search(body[:8192])
        shown = " ".join(title.group(1).decode("utf-8", "replace").split()) if title else ""
        raise IngestError(
            "got an HTML page instead of OAI-PMH XML" + (f" ({quote(shown)})" if shown else "")
        )
    if _DTD_MARKUP.search(body) is not None:
        # entity declarations are how "billion laughs" and external entities get in
        raise IngestError("the response declares a DOCTYPE or ENTITY, refused")
    if not body.strip():
        raise IngestError("the response is empty")
    page = OaiPage()
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    root_seen = False
    complete = False
    position = 0
    try:
        for start in range(0, len(body), _CHUNK):
            parser.feed(body[start : start + _CHUNK])
            for pair in parser.read_events():
                # "start" and "end" events are (event, element) pairs
                event, item = cast(tuple[str, ET.Element], pair)
                element = item
                if event == "start":
                    if not root_seen:
                        root_seen = True
                        if element.tag != f"{OAI}OAI-PMH":
                            raise IngestError(
                                f"not an OAI-PMH response: root element {element.tag!r}"
                            )
                    continue
                tag = element.tag
                if tag == f"{OAI}record":
                    position += 1
                    _read_record(element, page, where, position)
                    element.clear()
                elif tag == f"{OAI}responseDate":
                    page.response_date = (element.text or "").strip() or None
                elif tag == f"{OAI}resumptionToken":
                    token = (element.text or "").strip()
                    page.resumption_token = token or None
                    size = element.get("completeListSize")
                    page.complete_list_size = int(size) if size and size.isdigit() else None
                elif tag == f"{OAI}error":
                    code = element.get("code") or "unknown"
                    if code == "noRecordsMatch":
                        page.no_records = True
                    else:
                        raise OaiError(code, " ".join((element.text or "").split()) or code)
                elif tag == f"{OAI}OAI-PMH":
                    complete = True
    except ET.ParseError as error:
        raise IngestError(f"not well-formed XML: {error}") from None
    try:
        parser.close()
    except ET.ParseError as error:
        complete = False
        ending = str(error)
    else:
        ending = "no </OAI-PMH>"
    if not complete:
        raise IngestError(
            f"the response is truncated: the XML ends after {len(body)} bytes ({ending})"
        )
    page.records = position
    return page


def _text(parent: ET.Element, tag: str) -> str | None:
    value = parent.findtext(tag)
    return value if value and not value.isspace() else None


def _identifier_to_id(identifier: str | None) -> str | None:
    if not identifier:
        return None
    return normalize_arxiv_id(identifier.strip().rpartition(":")[2])


def _read_record(record: ET.Element, page: OaiPage, where: str, position: int) -> None:
    header = record.find(f"{OAI}header")
    if header is None:
        page.rejections.append(Rejection(where, position, "record without a <header>"))
        return
    datestamp = (header.findtext(f"{OAI}datestamp") or "").strip()[:10] or None
    if datestamp is not None and not is_calendar_date(datestamp):
        page.rejections.append(
            Rejection(where, position, f"bad header datestamp {quote(datestamp)}")
        )
        return
    if datestamp and (page.latest_datestamp is None or datestamp > page.latest_datestamp):
        page.latest_datestamp = datestamp
    identifier = header.findtext(f"{OAI}identifier")
    if header.get("status") == "deleted":
        arxiv_id = _identifier_to_id(identifier)
        if arxiv_id is None:
            page.rejections.append(
                Rejection(where, position, f"deleted record with a bad identifier {identifier!r}")
            )
        else:
            page.deleted.append(arxiv_id)
        return
    metadata = record.find(f"{OAI}metadata/{ARXIV}arXiv")
    if metadata is None:
        page.rejections.append(
            Rejection(
                where,
                position,
                f"record {identifier or '?'} has no <metadata> in the arXiv format",
            )
        )
        return
    try:
        paper = _metadata_to_paper(metadata, datestamp)
    except ValueError as error:
        page.rejections.append(Rejection(where, position, f"record {identifier or '?'}: {error}"))
        return
    try:
        check_field_caps(paper)  # the same caps as every file format
    except RecordOverLimit as error:
        page.rejections.append(Rejection(where, position, str(error)))
        return
    page.papers.append(paper)


def _date(metadata: ET.Element, tag: str) -> str | None:
    value = _text(metadata, f"{ARXIV}{tag}")
    if value is None:
        return None
    value = value.strip()
    if not is_calendar_date(value[:10]):
        raise ValueError(f"<{tag}> must be a date like 2026-08-20, got {quote(value)}")
    return value[:10]


def _metadata_to_paper(metadata: ET.Element, datestamp: str | None) -> Paper:
    raw_id = _text(metadata, f"{ARXIV}id")
    if raw_id is None:
        raise ValueError("missing <id>")
    arxiv_id = normalize_arxiv_id(raw_id)
    if arxiv_id is None:
        raise ValueError(f"bad arXiv id {quote(raw_id)}")
    title = _text(metadata, f"{ARXIV}title")
    abstract = _text(metadata, f"{ARXIV}abstract")
    if title is None and abstract is None:
        raise ValueError("no title and no abstract")
    created = _date(metadata, "created")
    updated = _date(metadata, "updated")
    authors = []
    for author in metadata.iterfind(f"{ARXIV}authors/{ARXIV}author"):
        parts = [
            (author.findtext(f"{ARXIV}{part}") or "").strip()
            for part in ("forenames", "keyname", "suffix")
        ]
        name = " ".join(part for part in parts if part)
        if name:
            authors.append(name)
    categories = (_text(metadata, f"{ARXIV}categories") or "").split()
    first_listed = None
    if updated is None and created is not None and datestamp is not None:
        lag = (date.fromisoformat(datestamp) - date.fromisoformat(created)).days
        if 0 <= lag <= NEW_LISTING_DAYS:
            first_listed = datestamp
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=authors or None,
        categories=categories or None,
        comment=_stripped(metadata, "comments"),
        published=created,
        first_listed=first_listed,
        doi=_stripped(metadata, "doi"),
        journal_ref=_stripped(metadata, "journal-ref"),
        license=_stripped(metadata, "license"),
        updated=updated,
        sources=[SOURCE],
    )


def _stripped(metadata: ET.Element, tag: str) -> str | None:
    value = _text(metadata, f"{ARXIV}{tag}")
    return " ".join(value.split()) if value is not None else None
