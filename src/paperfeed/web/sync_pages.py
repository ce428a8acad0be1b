"""The "New on arXiv" feed (``/new``) and the sync status (``/status``, the status line)."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from paperfeed import votes
from paperfeed.ingest.preprint_categories import normalize_category
from paperfeed.search import SearchEngine, SearchError
from paperfeed.search.feeds import FeedError, FeedItem
from paperfeed.search.new_listing import SECTIONS, SOURCES, new_feed
from paperfeed.search.personal import order_for_user
from paperfeed.search.query import category_names
from paperfeed.search.topics import Topic, day_topics
from paperfeed.store import Store
from paperfeed.store.sync_runs import SourceStatus, recent_runs, sync_overview
from paperfeed.web.presentation import because_text
from paperfeed.web.security import engine_of, session_user, settings_of, store_of
from paperfeed.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
ORDERS = ("", "for-you", "upvotes")  # "": for you when signed in, else upvotes


GROUPS = ("", "topics")


def grouped_items(engine: SearchEngine, items: list[FeedItem], group: str) -> list[Topic]:
    """The feed's topics when ``group`` is "topics", else [] (a flat list).

    Raises:
        ValueError: an unknown ``group``.
    """
    if group not in GROUPS:
        raise ValueError(f"group {group!r} is not one of {', '.join(GROUPS[1:])}")
    if not group:
        return []
    return day_topics(engine.dense, [item.paper for item in items])


def _section(announce_type: str) -> str:
    """The section of an arXiv announce type (a replaced cross-list is a replacement)."""
    return "replace" if announce_type == "replace-cross" else announce_type


def ago(moment: float, now: float | None = None) -> str:
    """``3 min ago``, ``5 h ago``, ``2 days ago``."""
    seconds = max(0.0, (now or time.time()) - moment)
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min ago"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def failed_at(moment: float) -> str:
    """``2026-12-06 01:59 UTC``: when a sync failed, as public pages say it."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment))


def status_line(store: Store) -> dict[str, Any] | None:
    """What the small status line under a feed says: the last sync, or its failure."""
    sources = [entry for entry in sync_overview(store) if entry.source != "index"]
    if not sources:
        return None
    newest = max(sources, key=lambda entry: entry.last.started_at)
    failing = [entry for entry in sources if entry.failing]
    added = sum(entry.last.added for entry in sources if entry.last.status == "ok")
    return {
        "when": ago(newest.last.started_at),
        # when, never why: a failure's reason (a host name, a raw error) is for admins, on
        # /status
        "failing": [(entry.source, failed_at(entry.last.started_at)) for entry in failing],
        "added": added,
        "sources": [entry.source for entry in sources],
    }


@router.get("/new", response_class=HTMLResponse)
def new_page(
    request: Request,
    date: Annotated[str | None, Query(description="a day, YYYY-MM-DD")] = None,
    cat: Annotated[list[str] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    source: Annotated[str, Query(description="arxiv, biorxiv or medrxiv")] = "arxiv",
    kind: Annotated[
        str | None, Query(description="an arXiv day's section: new, cross or replace")
    ] = None,
    order: Annotated[str, Query(description="'for-you' (signed in) or 'upvotes'")] = "",
    group: Annotated[str, Query(description="'topics' groups the page by topic")] = "",
) -> HTMLResponse:
    store = store_of(request)
    try:  # one rule for categories: the search's (several per value, each a real name)
        categories = category_names(cat or [])
    except SearchError as error:
        raise HTTPException(400, str(error)) from None
    if order not in ORDERS:
        raise HTTPException(400, f"order {order!r} is not one of {', '.join(ORDERS[1:])}")
    settings = settings_of(request)
    followed = (
        list(settings.arxiv_categories)
        if source == "arxiv"
        else [normalize_category(name) for name in settings.biorxiv_categories]
    )
    try:
        feed = new_feed(store, source, date, categories, kind or None, followed)
    except FeedError as error:
        raise HTTPException(400, str(error)) from None
    pages = max(1, -(-len(feed.items) // PAGE_SIZE))
    if page > pages:  # as the daily lists answer a page past their end
        raise HTTPException(404, f"page {page} is past the last page ({pages}) of this day")
    user = session_user(request)
    # signed in, the day comes in the order of the user's For you model (same as /for-you)
    personal = (
        order_for_user(engine_of(request), user.id, feed.items)
        if user is not None and order != "upvotes" and feed.items
        else None
    )
    ordered = personal.items if personal else feed.items
    if personal and feed.exact:
        # an announced day keeps arXiv's sections (new, cross-lists, replacements), each
        # ranked for the user
        rank = {section: position for position, section in enumerate(SECTIONS)}
        ordered = sorted(
            ordered,
            key=lambda item: rank[_section(feed.announce_types[item.paper.arxiv_id])],
        )
    shown = ordered[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    because = (
        {key: because_text(item) for key, item in personal.because.items()} if personal else {}
    )
    try:
        topics = grouped_items(engine_of(request), shown, group)
    except ValueError as error:
        raise HTTPException(400, str(error)) from None

    def new_url(day: str | None, page_number: int = 1, grouping: str = "") -> str:
        """The link to another day or page of the feed, keeping the category filter (and,
        from a page to the next, ``grouping`` by topic)."""
        parameters: dict[str, object] = {"date": day}
        if source != "arxiv":
            parameters["source"] = source
        if kind:
            parameters["kind"] = kind
        if categories:
            parameters["cat"] = " ".join(categories)
        if order:
            parameters["order"] = order
        if page_number > 1:
            parameters["page"] = page_number
        if grouping:
            parameters["group"] = grouping
        return "/new?" + urlencode(parameters)

    voted = votes.voted_ids(store, session_user(request), [item.paper for item in shown])
    return render(
        request,
        "new.html",
        {
            "feed": feed,
            "shown": shown,
            "voted": voted,
            "page": page,
            "pages": pages,
            "first_number": (page - 1) * PAGE_SIZE + 1,
            "sync": status_line(store),
            "new_url": new_url,
            "sources": SOURCES,
            "sections": SECTIONS,
            "personal": personal,
            "topics": topics,
            "by_key": {item.paper.key: item for item in shown},
            "because": because,
            "order": order,
            "group": group,
        },
        shown=[item.paper for item in shown],
    )


_HIDDEN_REASON = "the reason is shown to admins"


def _row(entry: SourceStatus, admin: bool) -> dict[str, Any]:
    failed = entry.last.status == "failed"
    return {
        "source": entry.source,
        "status": entry.last.status,
        "when": ago(entry.last.started_at),
        "detail": _HIDDEN_REASON if failed and not admin else entry.last.detail or "",
        "last_ok": ago(entry.last_ok.started_at) if entry.last_ok else None,
    }


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request) -> HTMLResponse:
    store = store_of(request)
    settings = settings_of(request)
    user = session_user(request)
    admin = user is not None and user.is_admin
    runs = [
        {
            "source": run.source,
            "status": run.status,
            "when": ago(run.started_at),
            "seconds": run.seconds,
            "detail": _HIDDEN_REASON if run.status == "failed" and not admin else run.detail or "",
        }
        for run in recent_runs(store, 30)
    ]
    return render(
        request,
        "status.html",
        {
            "sources": [_row(entry, admin) for entry in sync_overview(store)],
            "runs": runs,
            "interval": settings.sync_interval_minutes,
            "papers": store.count_papers(),
        },
    )
