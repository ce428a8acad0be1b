"""arXiv's daily listing feed (``https://rss.arxiv.org/rss/<archive>``, RSS 2.0): what
was announced on one day, and how.

Each ``<item>`` is one announced paper: ``<guid>oai:arXiv.org:2404.07221v1</guid>``,
``<link>``, ``<title>``, ``<description>`` (``arXiv:2404.07221v1 Announce Type: new``
then ``Abstract: …``), ``<category>`` per category, ``<dc:creator>`` (the authors, comma
separated), ``<pubDate>`` and ``<arxiv:announce_type>``: ``new`` (a new submission),
``cross`` (a cross-list from another archive), ``replace`` (a new version) or
``replace-cross`` (a new version of a cross-list). The channel's ``<pubDate>`` (RFC 822,
US Eastern) is the announcement day. On days without an announcement (weekends,
holidays) the channel has no items. See https://info.arxiv.org/help/rss.html.

The same listing as Atom (``/atom/<archive>``) is read too: ``<feed>`` with ``<updated>``
(the announcement day), ``<entry>`` with ``<id>oai:arXiv.org:…</id>``, ``<title>``,
``<summary>``, ``<category term=…/>``, ``<author><name>`` and ``<arxiv:announce_type>``.
"""

from __future__ import annotations

import email.utils
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.identifiers import normalize_arxiv_id
from paperfeed.ingest.records import RecordOverLimit, check_field_caps
from paperfeed.models import Paper, Rejection

ARXIV_NS = "http://arxiv.org/schemas/atom"
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
SOURCE = "arxiv-rss"
_ABSTRACT = re.compile(r"^.*?Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.DOTALL)


@dataclass(frozen=True)
class Announcement:
    """One paper in one day's listing."""

    arxiv_id: str
    announce_type: str  # one of ANNOUNCE_TYPES


@dataclass
class Listing:
    """One day's listing of one archive."""

    day: str | None  # None: the feed names no date
    announcements: list[Announcement] = field(default_factory=list)
    papers: list[Paper] = field(default_factory=list)  # what the items say of each paper
    rejections: list[Rejection] = field(default_factory=list)


def listing_url(base: str, archive: str) -> str:
    """The RSS feed of ``archive`` (an OAI-PMH set such as ``physics:hep-th`` reads the
    feed of ``hep-th``)."""
    return f"{base.rstrip('/')}/rss/{archive.rpartition(':')[2]}"


def _day(text: str | None) -> str | None:
    if not text:
        return None
    try:
        # the day in the feed's own time zone (arXiv's, US Eastern): the announcement day
        return email.utils.parsedate_to_datetime(text.strip()).date().isoformat()
    except (TypeError, ValueError):
        pass
    try:
        return datetime.fromisoformat(text.strip()).date().isoformat()  # Atom: RFC 3339
    except ValueError:
        return None


@dataclass(frozen=True)
class _Item:
    """What one RSS item or Atom entry says, before checking."""

    raw_id: str
    kind: str
    title: str
    description: str
    creators: list[str]
    categories: list[str]


def _rss_items(channel: ET.Element) -> list[_Item]:
    return [
        _Item(
            (item.findtext("guid") or item.findtext("link") or "").strip(),
            (item.findtext(f"{{{ARXIV_NS}}}announce_type") or "").strip(),
            item.findtext("title") or "",
            item.findtext("description") or "",
            (item.findtext(f"{{{DC_NS}}}creator") or "").split(","),
            [text for text in (c.text for c in item.findall("category")) if text],
        )
        for item in channel.findall("item")
    ]


def _atom_items(feed: ET.Element) -> list[_Item]:
    found = []
    for entry in feed.findall(f"{{{ATOM_NS}}}entry"):
        creators = entry.findtext(f"{{{DC_NS}}}creator")
        found.append(
            _Item(
                (entry.findtext(f"{{{ATOM_NS}}}id") or "").strip(),
                (entry.findtext(f"{{{ARXIV_NS}}}announce_type") or "").strip(),
                entry.findtext(f"{{{ATOM_NS}}}title") or "",
                entry.findtext(f"{{{ATOM_NS}}}summary") or "",
                creators.split(",")
                if creators
                else [
                    author.findtext(f"{{{ATOM_NS}}}name") or ""
                    for author in entry.findall(f"{{{ATOM_NS}}}author")
                ],
                [c.get("term", "") for c in entry.findall(f"{{{ATOM_NS}}}category")],
            )
        )
    return found


def parse_listing(body: bytes, url: str) -> Listing:
    """Read one feed.

    Raises:
        IngestError: the body is not an RSS document (malformed XML, no channel) or the
            channel's date is unreadable while it has items.
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise IngestError(f"{url}: not XML ({error})") from None
    channel = root.find("channel")
    if root.tag == f"{{{ATOM_NS}}}feed":
        day = _day(root.findtext(f"{{{ATOM_NS}}}updated"))
        items = _atom_items(root)
    elif root.tag == "rss" and channel is not None:
        day = _day(channel.findtext("pubDate")) or _day(channel.findtext("lastBuildDate"))
        items = _rss_items(channel)
    else:
        raise IngestError(f"{url}: not an RSS or Atom feed (root element <{root.tag}>)")
    listing = Listing(day)
    if items and day is None:
        raise IngestError(f"{url}: the feed has no readable date (<pubDate> or <updated>)")
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        raw = item.raw_id
        arxiv_id = normalize_arxiv_id(raw.removeprefix("oai:arXiv.org:"))
        kind = item.kind
        if arxiv_id is None:
            listing.rejections.append(Rejection(url, position, f"bad arXiv id {raw!r}"))
            continue
        if kind not in ANNOUNCE_TYPES:
            listing.rejections.append(
                Rejection(
                    url,
                    position,
                    f"{arxiv_id}: unknown announce type {kind!r} "
                    f"(expected one of {', '.join(ANNOUNCE_TYPES)})",
                )
            )
            continue
        if arxiv_id in seen:
            continue
        seen.add(arxiv_id)
        paper = Paper(
            arxiv_id=arxiv_id,
            title=item.title.strip() or None,
            abstract=_ABSTRACT.sub("", item.description, count=1).strip() or None,
            authors=[name.strip() for name in item.creators if name.strip()] or None,
            categories=[name.strip() for name in item.categories if name.strip()] or None,
            first_listed=day if kind == "new" else None,
            sources=[SOURCE],
        )
        listing.announcements.append(Announcement(arxiv_id, kind))
        try:
            check_field_caps(paper)  # the same caps as every other source
        except RecordOverLimit as error:
            # the announcement stands; the item's text is not stored (OAI-PMH's will be)
            listing.rejections.append(Rejection(url, position, str(error)))
            continue
        listing.papers.append(paper)
    return listing
