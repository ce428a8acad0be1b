"""RSS 2.0 feeds of the daily list, trending and any search, for feed readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from paperfeed.models import StoredPaper
from paperfeed.search import SearchError
from paperfeed.search.feeds import FeedError, daily_feed, trending
from paperfeed.web.pages import engine_of
from paperfeed.web.presentation import author_line
from paperfeed.web.security import settings_of, store_of

router = APIRouter(prefix="/rss", tags=["feeds"])
FEED_SIZE = 50


def _moment(day: str | None) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC) if day else datetime.now(UTC)


@dataclass(frozen=True)
class FeedEntry:
    """One ``<item>`` of a feed."""

    title: str
    link: str
    published: datetime
    description: str
    categories: tuple[str, ...] = ()


def render_rss_entries(
    title: str, link: str, self_link: str, description: str, entries: Sequence[FeedEntry]
) -> str:
    """An RSS 2.0 document (with an Atom self link, as feed validators ask)."""
    items = [
        "<item>"
        f"<title>{escape(entry.title)}</title>"
        f"<link>{escape(entry.link)}</link>"
        f'<guid isPermaLink="true">{escape(entry.link)}</guid>'
        f"<pubDate>{format_datetime(entry.published)}</pubDate>"
        f"<description>{escape(entry.description)}</description>"
        + "".join(f"<category>{escape(c)}</category>" for c in entry.categories)
        + "</item>"
        for entry in entries
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(description)}</description>"
        f'<atom:link href="{escape(self_link)}" rel="self" type="application/rss+xml"/>'
        f"<lastBuildDate>{format_datetime(datetime.now(UTC))}</lastBuildDate>"
        + "".join(items)
        + "</channel></rss>"
    )


def render_rss(
    title: str,
    link: str,
    self_link: str,
    description: str,
    papers: Sequence[StoredPaper],
    base: str,
) -> str:
    """An RSS 2.0 document with one item per paper."""
    entries = [
        FeedEntry(
            title=paper.title,
            link=f"{base}/papers/{paper.arxiv_id}",
            published=_moment(paper.date),
            description=(paper.organization or author_line(paper)) + " — " + paper.abstract,
            categories=tuple(paper.categories),
        )
        for paper in papers
    ]
    return render_rss_entries(title, link, self_link, description, entries)


def rss_response(document: str) -> Response:
    return Response(document, media_type="application/rss+xml; charset=utf-8")


@router.get("/daily", summary="The latest daily list (or a given day, week or month)")
def daily_rss(
    request: Request,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
) -> Response:
    try:
        feed = daily_feed(store_of(request), date, week, month)
    except FeedError as error:
        raise HTTPException(400, str(error)) from None
    base = settings_of(request).base_url
    query = str(request.url.query)
    return rss_response(
        render_rss(
            f"Daily papers — {feed.label}",
            f"{base}/" + (f"?{query}" if query else ""),
            f"{base}/rss/daily" + (f"?{query}" if query else ""),
            "The daily list of papers, most upvoted first",
            [item.paper for item in feed.items[:FEED_SIZE]],
            base,
        )
    )


@router.get("/trending", summary="Trending papers")
def trending_rss(request: Request) -> Response:
    base = settings_of(request).base_url
    half_life = settings_of(request).trending_half_life_hours
    items = trending(store_of(request), half_life, limit=FEED_SIZE)
    return rss_response(
        render_rss(
            "Trending papers",
            f"{base}/trending",
            f"{base}/rss/trending",
            f"Papers by upvotes decayed with a {half_life:g}-hour half-life",
            [item.paper for item in items],
            base,
        )
    )


@router.get("/search", summary="A saved search as a feed, newest first")
def search_rss(
    request: Request,
    q: Annotated[str, Query(description="the query, in the search syntax")],
    sort: str = "date",
) -> Response:
    try:
        results = engine_of(request).search(q, limit=FEED_SIZE, sort=sort)
    except SearchError as error:
        raise HTTPException(400, str(error)) from None
    base = settings_of(request).base_url
    parameters = urlencode({"q": q} | ({"sort": sort} if sort != "date" else {}))
    return rss_response(
        render_rss(
            f"Papers matching “{q}”",
            f"{base}/search?{urlencode({'q': q})}",
            f"{base}/rss/search?{parameters}",
            f"Search results for {q}",
            [hit.paper for hit in results.hits],
            base,
        )
    )
