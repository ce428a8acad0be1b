"""RSS 2.0 feeds of the daily list, trending and any search, for feed readers.

The documents are written by feedgen (a maintained feed library) rather than by hand;
text from papers and queries is first stripped of the characters XML 1.0 forbids
(C0 controls other than tab and line breaks, lone surrogates, U+FFFE/U+FFFF), which
would otherwise make the whole feed unreadable for every reader.

An item's ``<description>`` is HTML to every reader (RSS 2.0: "entity-encoded HTML is
allowed"), so a paper's plain text is HTML-escaped before feedgen escapes it for XML: an
abstract's "<EOS> token" is shown as written, not taken for a tag and dropped. Authors
are ``<dc:creator>`` elements: RSS's own ``<author>`` must be an email address.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator

from paperfeed.ingest.identifiers import url_id
from paperfeed.models import StoredPaper
from paperfeed.search import SORTS, SearchError, parse_query
from paperfeed.search.feeds import FeedError, daily_feed, trending
from paperfeed.web.api import (
    CATEGORIES,
    DAY,
    MONTH,
    SINCE,
    UNTIL,
    WEEK,
    Q,
    errors,
    refuse_empty,
    refuse_empty_bounds,
    search_filters,
)
from paperfeed.web.page_cache import names_tag
from paperfeed.web.presentation import author_line
from paperfeed.web.security import engine_of, settings_of, store_of

router = APIRouter(prefix="/rss", tags=["feeds"])
FEED_SIZE = 50
RSS_MEDIA_TYPE = "application/rss+xml"
# XML 1.0 section 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD]
#                               | [#x10000-#x10FFFF]
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# What the OpenAPI document says these routes answer.
_RSS_DOCUMENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An RSS 2.0 document",
        "content": {RSS_MEDIA_TYPE: {"schema": {"type": "string"}}},
    },
    304: {"description": "Not modified: the If-None-Match header names the feed's ETag"},
}
RSS_RESPONSES = _RSS_DOCUMENT | errors(400)


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", value)


def _moment(day: str | None) -> datetime:
    if day:
        try:
            return datetime.combine(datetime.fromisoformat(day).date(), time(), UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


@dataclass(frozen=True)
class FeedEntry:
    """One ``<item>`` of a feed."""

    title: str
    link: str
    published: datetime
    description: str  # plain text
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()


def render_rss_entries(
    title: str, link: str, self_link: str, description: str, entries: Sequence[FeedEntry]
) -> bytes:
    """An RSS 2.0 document (with an Atom self link, as feed validators ask)."""
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.title(xml_text(title) or "paperfeed")
    feed.link(href=xml_text(self_link), rel="self", type=RSS_MEDIA_TYPE)
    feed.link(href=xml_text(link), rel="alternate")
    feed.description(xml_text(description) or "papers")
    feed.lastBuildDate(datetime.now(UTC))
    for item in entries:
        entry = feed.add_entry(order="append")
        entry.title(xml_text(item.title) or item.link)
        entry.link(href=xml_text(item.link))
        entry.guid(xml_text(item.link), permalink=True)
        entry.pubDate(item.published)
        entry.description(html.escape(xml_text(item.description), quote=False))
        for category in item.categories:
            entry.category(term=xml_text(category))
        creators = [xml_text(author).strip() for author in item.authors]
        if any(creators):
            entry.dc.dc_creator([creator for creator in creators if creator])
    document: bytes = feed.rss_str(pretty=False)
    return document


def paper_entries(papers: Sequence[StoredPaper], base: str) -> list[FeedEntry]:
    """One feed item per paper."""
    return [
        FeedEntry(
            title=paper.shown_title,
            link=f"{base}/papers/{url_id(paper.arxiv_id)}",
            published=_moment(paper.date),
            description=(paper.organization or author_line(paper)) + " — " + paper.abstract,
            categories=tuple(paper.categories),
            authors=tuple(paper.authors),
        )
        for paper in papers
    ]


def rss_response(
    request: Request,
    title: str,
    link: str,
    self_link: str,
    description: str,
    entries: Sequence[FeedEntry],
) -> Response:
    """The feed, or 304 Not Modified to a reader that sends the ``ETag`` it has.

    Feed readers poll; with ``If-None-Match`` (RFC 9110, 13.1.2) an unchanged feed costs
    them and us no body. The tag is weak: it names the feed's content, while the
    document's ``lastBuildDate`` says when it was rendered.
    """
    content = repr((title, link, self_link, description, tuple(entries))).encode()
    tag = f'W/"{hashlib.blake2b(content, digest_size=16).hexdigest()}"'
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if names_tag(request.headers.get("if-none-match", ""), tag):
        return Response(status_code=304, headers=headers)
    document = render_rss_entries(title, link, self_link, description, entries)
    return Response(document, media_type=f"{RSS_MEDIA_TYPE}; charset=utf-8", headers=headers)


@router.get(
    "/daily",
    response_class=Response,
    responses=RSS_RESPONSES,
    summary="The latest daily list (or a given day, week or month)",
)
def daily_rss(
    request: Request,
    date: DAY = None,
    week: WEEK = None,
    month: MONTH = None,
) -> Response:
    try:
        feed = daily_feed(store_of(request), date, week, month)
    except FeedError as error:
        raise HTTPException(400, str(error)) from None
    base = settings_of(request).base_url
    query = str(request.url.query)
    return rss_response(
        request,
        f"Daily papers — {feed.label}",
        f"{base}/" + (f"?{query}" if query else ""),
        f"{base}/rss/daily" + (f"?{query}" if query else ""),
        "The daily list of papers, most upvoted first",
        paper_entries([item.paper for item in feed.items[:FEED_SIZE]], base),
    )


@router.get(
    "/trending", response_class=Response, responses=RSS_RESPONSES, summary="Trending papers"
)
def trending_rss(request: Request) -> Response:
    base = settings_of(request).base_url
    half_life = settings_of(request).trending_half_life_hours
    items = trending(store_of(request), half_life, limit=FEED_SIZE)
    return rss_response(
        request,
        "Trending papers",
        f"{base}/trending",
        f"{base}/rss/trending",
        f"Papers by upvotes decayed with a {half_life:g}-hour half-life",
        paper_entries([item.paper for item in items], base),
    )


@router.get(
    "/search",
    response_class=Response,
    responses=RSS_RESPONSES,
    summary="A saved search as a feed, newest first",
)
def search_rss(
    request: Request,
    q: Q,
    sort: Annotated[
        str,
        Query(
            description="date (default), relevance or upvotes",
            json_schema_extra={"enum": list(SORTS)},
        ),
    ] = "date",
    cat: CATEGORIES = None,
    since: SINCE = None,
    until: UNTIL = None,
) -> Response:
    refuse_empty("q", q)
    refuse_empty_bounds(since, until)
    try:
        # the search page's filters, as its "follow as RSS" link passes them on
        parsed = parse_query(q).with_filters(cat or (), since or None, until or None)
        results = engine_of(request).search(parsed, limit=FEED_SIZE, sort=sort)
    except SearchError as error:
        raise HTTPException(400, str(error)) from None
    base = settings_of(request).base_url
    filters = search_filters(cat, since, until)
    parameters = urlencode({"q": q} | filters | ({"sort": sort} if sort != "date" else {}))
    # named with its filters: two feeds of one query, in two categories, are told apart
    described = ", ".join(f"{name} {value}" for name, value in filters.items())
    return rss_response(
        request,
        f"Papers matching “{q}”" + (f" ({described})" if described else ""),
        f"{base}/search?{urlencode({'q': q} | filters)}",
        f"{base}/rss/search?{parameters}",
        f"Search results for {q}",
        # nothing close is not news: an empty feed
        paper_entries([hit.paper for hit in results.hits] if results.close_match else [], base),
    )
