"""One paper's metadata from the arXiv API (``export.arxiv.org/api/query``, an Atom 1.0 feed).

Each ``<entry>`` holds ``id`` (the abstract page URL with a version,
``http://arxiv.org/abs/2401.00165v2``), ``published`` (when v1 was submitted), ``title``,
``summary`` (the abstract), ``author/name``, ``arxiv:comment``, ``arxiv:journal_ref``,
``arxiv:doi``, ``arxiv:primary_category`` and ``category`` elements. Text is kept as the
API writes it, line-wrapping included: the store cleans it. A malformed id comes back as
an entry whose id is ``http://arxiv.org/api/errors#…`` and whose summary says what is
wrong; an unknown id as an empty feed, or (in older answers) an entry with no ``<id>``.
See https://info.arxiv.org/help/api/user-manual.html
"""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from paperfeed.calendar_dates import is_calendar_date
from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.identifiers import normalize_arxiv_id
from paperfeed.ingest.records import quote
from paperfeed.ingest.request_deadline import Deadline, RedirectRefused, open_with_deadline
from paperfeed.models import Paper

SOURCE = "arxiv-api"
USER_AGENT = "paperfeed"

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
# Entity declarations are how "billion laughs" and external-entity attacks get in;
# the arXiv API never sends a DTD, so a document that has one is refused unread.
_DTD_MARKUP = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DATE_PREFIX = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ERROR_ID = re.compile(r"https?://(?:export\.)?arxiv\.org/api/errors")
_LARGEST_RESPONSE = 10 * 1024 * 1024  # one entry is a few kB


def parse_arxiv_atom(document: bytes) -> list[Paper]:
    """Turn an arXiv API response into one ``Paper`` per ``<entry>``.

    Args:
        document: the response body, UTF-8 Atom XML.

    Returns:
        The papers in feed order; an empty list for a feed with no entry. Entries
        without an ``<id>`` (the API's answer for an unknown id) are left out.

    Raises:
        IngestError: the document is not UTF-8 or not well-formed XML, declares a
            DTD or entities, is not an Atom feed, is the API's error entry, or has an
            entry with a bad id or date.
    """
    try:
        text = document.decode("utf-8")
    except UnicodeDecodeError as error:
        raise IngestError(
            f"arXiv API response is not UTF-8: invalid byte at offset {error.start}"
        ) from None
    if "\x00" in text:
        # No XML document holds a NUL, but UTF-16 without a byte order mark is mostly
        # NULs and would slip a DOCTYPE past the check below.
        raise IngestError("arXiv API response is not UTF-8 XML: it holds NUL bytes")
    if _DTD_MARKUP.search(text) is not None:
        raise IngestError(
            "arXiv API response declares a DOCTYPE or ENTITY, refused (entity expansion risk)"
        )
    try:
        # The override makes expat ignore a declared encoding (ISO-8859-1, UTF-7, …), so
        # the text checked above is the text parsed.
        root = ET.fromstring(document, parser=ET.XMLParser(encoding="utf-8"))
    except ET.ParseError as error:
        raise IngestError(f"arXiv API response is not well-formed XML: {error}") from None
    if root.tag != f"{_ATOM}feed":
        raise IngestError(f"arXiv API response is not an Atom feed: root element {root.tag!r}")
    papers = []
    for entry in root.iter(f"{_ATOM}entry"):
        paper = _entry_to_paper(entry)
        if paper is not None:
            papers.append(paper)
    return papers


def fetch_arxiv_paper(arxiv_id: str, api_url: str, timeout: float = 10.0) -> Paper | None:
    """Ask the arXiv API for one paper.

    Args:
        arxiv_id: the id in any form ``normalize_arxiv_id`` accepts, e.g. ``"2401.00165v2"``.
        api_url: the query endpoint, e.g. ``"http://export.arxiv.org/api/query"``.
        timeout: seconds the whole request may take (connecting, headers and body).

    Returns:
        The paper, or ``None`` when arXiv has no paper with that id.

    Raises:
        IngestError: the id is not an arXiv id, the request fails (network error,
            timeout, HTTP error status), or the response cannot be read.
    """
    identifier = normalize_arxiv_id(arxiv_id)
    if identifier is None:
        raise IngestError(f"bad arXiv id {quote(arxiv_id)}")
    separator = "&" if "?" in api_url else "?"
    url = f"{api_url}{separator}id_list={urllib.parse.quote(identifier, safe='/')}&max_results=1"
    document = _download(url, timeout)
    try:
        papers = parse_arxiv_atom(document)
    except IngestError as error:
        raise IngestError(f"{url}: {error}") from None
    if not papers:
        return None
    paper = papers[0]
    if paper.arxiv_id != identifier:
        raise IngestError(f"{url}: asked for {identifier}, the API answered {paper.arxiv_id}")
    return paper


def _download(url: str, timeout: float) -> bytes:
    # a total deadline, not one per read: this runs inside a web request (a submission)
    deadline = Deadline(timeout)
    deadline.start()
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with open_with_deadline(request, deadline) as response:
            body: bytes = response.read(_LARGEST_RESPONSE + 1)
    except RedirectRefused as error:
        raise IngestError(f"cannot fetch {url}: {error.reason}") from None
    except urllib.error.HTTPError as error:
        raise IngestError(f"cannot fetch {url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError) or deadline.expired:
            reason = f"timed out after {timeout:g} s"
        raise IngestError(f"cannot fetch {url}: {reason}") from None
    except TimeoutError:
        raise IngestError(f"cannot fetch {url}: timed out after {timeout:g} s") from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        if deadline.expired:
            raise IngestError(f"cannot fetch {url}: timed out after {timeout:g} s") from None
        raise IngestError(f"cannot fetch {url}: {error or type(error).__name__}") from None
    finally:
        deadline.cancel()
    if deadline.expired:
        raise IngestError(f"cannot fetch {url}: timed out after {timeout:g} s")
    if len(body) > _LARGEST_RESPONSE:
        raise IngestError(f"cannot fetch {url}: response larger than {_LARGEST_RESPONSE} bytes")
    return body


def _entry_to_paper(entry: ET.Element) -> Paper | None:
    entry_id = _text(entry, f"{_ATOM}id")
    if entry_id is None:
        return None
    if _ERROR_ID.match(entry_id.strip()) is not None:
        message = _text(entry, f"{_ATOM}summary") or entry_id.strip()
        raise IngestError(f"arXiv API error: {message.strip()}")
    arxiv_id = normalize_arxiv_id(entry_id)
    if arxiv_id is None:
        raise IngestError(f"arXiv API entry has a bad id {quote(entry_id)}")
    authors = [
        name.strip()
        for author in entry.iter(f"{_ATOM}author")
        if (name := author.findtext(f"{_ATOM}name")) is not None and name.strip()
    ]
    return Paper(
        arxiv_id=arxiv_id,
        title=_text(entry, f"{_ATOM}title"),
        abstract=_text(entry, f"{_ATOM}summary"),
        authors=authors,
        categories=_categories(entry),
        comment=_text(entry, f"{_ARXIV}comment"),
        published=_date(entry, f"{_ATOM}published"),
        doi=_text(entry, f"{_ARXIV}doi"),
        journal_ref=_text(entry, f"{_ARXIV}journal_ref"),
        sources=[SOURCE],
    )


def _text(entry: ET.Element, tag: str) -> str | None:
    """The raw text of ``entry``'s child ``tag``, or ``None`` when absent or blank."""
    value = entry.findtext(tag)
    return value if value and not value.isspace() else None


def _categories(entry: ET.Element) -> list[str] | None:
    """The primary category first, then every ``<category term>`` not seen yet."""
    terms = [element.get("term") for element in entry.iter(f"{_ARXIV}primary_category")]
    terms += [element.get("term") for element in entry.iter(f"{_ATOM}category")]
    categories: list[str] = []
    for term in terms:
        if term is not None and term.strip() and term.strip() not in categories:
            categories.append(term.strip())
    return categories or None


def _date(entry: ET.Element, tag: str) -> str | None:
    value = _text(entry, tag)
    if value is None:
        return None
    if _DATE_PREFIX.match(value.strip()) is None or not is_calendar_date(value.strip()[:10]):
        raise IngestError(
            f"arXiv API entry field '{tag.rpartition('}')[2]}' must be a date like "
            f"2025-03-20T06:04:12Z, got {quote(value)}"
        )
    return value.strip()[:10]
