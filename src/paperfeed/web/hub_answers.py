"""Answers in the original site's JSON shape, shared by the API routes and the MCP
server: the daily papers, a search, one paper, and every paper a page at a time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from paperfeed.discussion import comment_totals
from paperfeed.ingest import quoted
from paperfeed.models import SearchResults, StoredPaper
from paperfeed.search import SORTS, SearchEngine, SearchError, parse_query
from paperfeed.search.daily_listing import DailyQuery, daily_papers
from paperfeed.search.feeds import FeedItem, total_upvotes
from paperfeed.store import Store
from paperfeed.store.paper_pages import papers_before_key
from paperfeed.store.source_accounts import local_submitters, users_and_organizations
from paperfeed.web.presentation import Accounts, daily_papers_entry, paper_entry, paper_json

SEARCH_LIMIT = 120  # the most /api/papers/search answers at once, as on the original site
MAX_QUERY = 250  # the longest query it accepts
LISTING_LIMIT = 100


class CursorError(ValueError):
    """A ``cursor`` this site did not give (tampered with, truncated or from another site)."""


def accounts_for(store: Store, papers: Sequence[StoredPaper]) -> Accounts:
    """What is known of these papers' submitters and organisations: the source's
    descriptions, and for a paper a user of this site submitted, that user's display
    name (their ``fullname`` here; the site keeps no avatars)."""
    users, organizations = users_and_organizations(
        store, [p.submitted_by or "" for p in papers], [p.organization or "" for p in papers]
    )
    local = local_submitters(store, [paper.key for paper in papers])
    for paper in papers:
        name = local.get(paper.key)
        if name is not None and name == paper.submitted_by:
            users[name] = {"name": name, "user": name, "fullname": name, "type": "user"}
    return Accounts(users=users, organizations=organizations)


def feed_entries(store: Store, items: Sequence[FeedItem]) -> list[dict[str, Any]]:
    """Feed items as ``/api/daily_papers`` entries."""
    papers = [item.paper for item in items]
    comments = comment_totals(store, papers)
    accounts = accounts_for(store, papers)
    return [
        daily_papers_entry(item.paper, item.upvotes, comments[item.paper.key], accounts)
        for item in items
    ]


def daily_entries(store: Store, query: DailyQuery, half_life_hours: float) -> list[dict[str, Any]]:
    """``GET /api/daily_papers``: one page, in the original's shape.

    Raises:
        FeedError: a parameter is malformed (the message names it and its value).
    """
    return feed_entries(store, daily_papers(store, query, half_life_hours))


def paper_entries(store: Store, papers: Sequence[StoredPaper]) -> list[dict[str, Any]]:
    """Papers as ``/api/papers/search`` entries (the daily-papers entry shape)."""
    upvotes = total_upvotes(store, papers)
    comments = comment_totals(store, papers)
    accounts = accounts_for(store, papers)
    return [
        daily_papers_entry(paper, upvotes[paper.key], comments[paper.key], accounts)
        for paper in papers
    ]


@dataclass(frozen=True)
class SearchRequest:
    """A search as the API and the MCP tools take it; ``text`` in the search syntax."""

    text: str
    limit: int = 20
    offset: int = 0
    sort: str = "relevance"
    categories: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None


def run_search(
    engine: SearchEngine, request: SearchRequest, snippets: bool = True, browse: bool = False
) -> SearchResults:
    """Run a search: the text parsed once, the typed filters merged into it, checked.
    ``browse``: an empty text lists every paper under the filters, newest first.

    Raises:
        SearchError: a malformed query, filter or sort, or too long a query (the
            message names the parameter and its value).
    """
    if request.sort not in SORTS:
        raise SearchError(
            f"parameter 'sort': unknown sort {quoted(request.sort)} "
            f"(expected one of {', '.join(SORTS)})"
        )
    if len(request.text) > MAX_QUERY:
        raise SearchError(
            f"parameter 'q': the query is {len(request.text)} characters long (at most {MAX_QUERY})"
        )
    query = parse_query(request.text).with_filters(request.categories, request.since, request.until)
    return engine.search(
        query, request.limit, request.offset, request.sort, snippets=snippets, browse=browse
    )


def search_papers(engine: SearchEngine, request: SearchRequest) -> list[StoredPaper]:
    """The papers a search finds, best first; none when nothing matches closely (the
    explained ``/api/search`` says why). Without a query (``HfApi.list_papers()``),
    every paper under the filters, newest first.

    Raises:
        SearchError: as ``run_search``.
    """
    # the original shape carries no snippet: none is made
    results = run_search(engine, request, snippets=False, browse=True)
    return [hit.paper for hit in results.hits] if results.close_match else []


def paper_answer(store: Store, paper: StoredPaper) -> dict[str, Any]:
    """``GET /api/papers/{id}`` (without the caller's own ``upvoted``)."""
    upvotes = total_upvotes(store, [paper])[paper.key]
    comments = comment_totals(store, [paper])[paper.key]
    return paper_json(paper, upvotes, comments, accounts_for(store, [paper]))


# -- every paper, a page at a time ------------------------------------------------------


def _signature(secret: str, key: int) -> str:
    digest = hmac.new(secret.encode(), f"papers-after:{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")


def make_cursor(secret: str, key: int) -> str:
    """An opaque cursor for "the papers after the one with store key ``key``", signed
    so that a client cannot make one up (or walk the keys by editing it)."""
    return f"{key:x}.{_signature(secret, key)}"


def read_cursor(secret: str, cursor: str) -> int:
    """The store key a cursor of ours holds.

    Raises:
        CursorError: naming the cursor, when this site did not make it.
    """
    text, _, signature = cursor.partition(".")
    try:
        key = int(text, 16) if text.isalnum() else -1
    except ValueError:
        key = -1
    if key < 0 or not hmac.compare_digest(signature, _signature(secret, key)):
        raise CursorError(
            f"parameter 'cursor': {quoted(cursor[:100])} is not a cursor this site gave "
            '(use the rel="next" link of the previous page as it is)'
        )
    return key


@dataclass(frozen=True)
class PapersPage:
    papers: list[dict[str, Any]]
    next_cursor: str | None  # None on the last page


def papers_page(store: Store, secret: str, cursor: str | None, limit: int) -> PapersPage:
    """``GET /api/papers``: every stored paper, newest first, ``limit`` at a time.

    Raises:
        CursorError: ``cursor`` was not made by ``make_cursor`` with this secret.
    """
    before = read_cursor(secret, cursor) if cursor else None
    found = papers_before_key(store, before, limit + 1)
    page = found[:limit]
    upvotes = total_upvotes(store, page)
    comments = comment_totals(store, page)
    accounts = accounts_for(store, page)
    entries = [
        paper_entry(paper, upvotes[paper.key], accounts) | {"numComments": comments[paper.key]}
        for paper in page
    ]
    more = len(found) > limit
    return PapersPage(entries, make_cursor(secret, page[-1].key) if more and page else None)
