"""The "New on arXiv" feed (``/new``) and the sync status (``/status``, the status line)."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from paperfeed import accounts
from paperfeed.search.feeds import FeedError, new_on_arxiv
from paperfeed.search.query import SearchError, category_names
from paperfeed.store import Store
from paperfeed.store.syncing import SourceStatus, recent_runs, sync_overview
from paperfeed.web.security import session_user, settings_of, store_of
from paperfeed.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


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
        "failing": [(entry.source, entry.last.detail or "no reason recorded") for entry in failing],
        "added": added,
        "sources": [entry.source for entry in sources],
    }


@router.get("/new", response_class=HTMLResponse)
def new_page(
    request: Request,
    date: Annotated[str | None, Query(description="a day, YYYY-MM-DD")] = None,
    cat: Annotated[list[str] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    store = store_of(request)
    try:
        # the search's category rule: "cs LG" is refused here too, naming the value
        categories = category_names(cat or [])
        feed = new_on_arxiv(store, date, categories, settings_of(request).arxiv_categories)
    except (FeedError, SearchError) as error:
        raise HTTPException(400, str(error)) from None
    shown = feed.items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]

    def new_url(day: str | None, page_number: int = 1) -> str:
        """The link to another day or page of the feed, keeping the category filter."""
        parameters: dict[str, object] = {"date": day}
        if categories:
            parameters["cat"] = " ".join(categories)
        if page_number > 1:
            parameters["page"] = page_number
        return "/new?" + urlencode(parameters)

    voted = accounts.voted_ids(store, session_user(request), [item.paper for item in shown])
    return render(
        request,
        "new.html",
        {
            "feed": feed,
            "shown": shown,
            "voted": voted,
            "page": page,
            "pages": max(1, -(-len(feed.items) // PAGE_SIZE)),
            "first_number": (page - 1) * PAGE_SIZE + 1,
            "sync": status_line(store),
            "new_url": new_url,
        },
    )


def _row(entry: SourceStatus) -> dict[str, Any]:
    return {
        "source": entry.source,
        "status": entry.last.status,
        "when": ago(entry.last.started_at),
        "detail": entry.last.detail or "",
        "last_ok": ago(entry.last_ok.started_at) if entry.last_ok else None,
    }


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request) -> HTMLResponse:
    store = store_of(request)
    settings = settings_of(request)
    runs = [
        {
            "source": run.source,
            "status": run.status,
            "when": ago(run.started_at),
            "seconds": run.seconds,
            "detail": run.detail or "",
        }
        for run in recent_runs(store, 30)
    ]
    return render(
        request,
        "status.html",
        {
            "sources": [_row(entry) for entry in sync_overview(store)],
            "runs": runs,
            "interval": settings.sync_interval_minutes,
            "papers": store.count_papers(),
        },
    )
