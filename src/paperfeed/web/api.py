"""The JSON API (documented at /api/docs, schema at /api/openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from paperfeed import accounts
from paperfeed.discussion import comment_totals
from paperfeed.ingest import normalize_arxiv_id
from paperfeed.search import SORTS, SearchError
from paperfeed.search.feeds import FeedError, daily_feed, total_upvotes, trending
from paperfeed.web.pages import engine_of
from paperfeed.web.presentation import daily_papers_entry, hit_json, paper_json, vote_json
from paperfeed.web.security import api_user, bearer_user, session_user, settings_of, store_of

router = APIRouter(prefix="/api", tags=["api"])


def _stored(request: Request, arxiv_id: str) -> Any:
    normalized = normalize_arxiv_id(arxiv_id)
    if normalized is None:
        raise HTTPException(
            400, f"parameter 'id': {arxiv_id!r} is not an arXiv id (expected e.g. 2401.00165)"
        )
    paper = store_of(request).get_paper(normalized)
    if paper is None:
        raise HTTPException(404, f"no paper {normalized} in this collection")
    return paper


@router.get("/daily_papers", summary="The daily list, in the original site's JSON shape")
def daily_papers(
    request: Request,
    date: Annotated[str | None, Query(description="a day, YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(description="an ISO week, YYYY-Www")] = None,
    month: Annotated[str | None, Query(description="a month, YYYY-MM")] = None,
) -> list[dict[str, Any]]:
    """The papers of a day (default: the latest with papers), a week or a month, most
    upvoted first: a list of ``{paper: {...}, title, summary, numComments, ...}``."""
    try:
        feed = daily_feed(store_of(request), date, week, month)
    except FeedError as error:
        raise HTTPException(400, str(error)) from None
    comments = comment_totals(store_of(request), [item.paper for item in feed.items])
    return [
        daily_papers_entry(item.paper, item.upvotes, comments[item.paper.key])
        for item in feed.items
    ]


@router.get("/trending", summary="Papers ordered by time-decayed upvotes")
def trending_papers(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200, description="how many papers")] = 50,
) -> list[dict[str, Any]]:
    half_life = settings_of(request).trending_half_life_hours
    items = trending(store_of(request), half_life, limit=limit)
    comments = comment_totals(store_of(request), [item.paper for item in items])
    return [
        daily_papers_entry(item.paper, item.upvotes, comments[item.paper.key])
        | {"trendingScore": round(item.score, 4)}
        for item in items
    ]


@router.get("/papers/search", summary="Hybrid lexical + semantic search")
def search_papers(
    request: Request,
    q: Annotated[str, Query(description="the query, in the search syntax")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    sort: Annotated[str, Query(description=f"one of {', '.join(SORTS)}")] = "relevance",
    cat: Annotated[list[str] | None, Query(description="category filter, repeatable")] = None,
    since: Annotated[str | None, Query(description="YYYY, YYYY-MM or YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(description="YYYY, YYYY-MM or YYYY-MM-DD")] = None,
) -> dict[str, Any]:
    if sort not in SORTS:
        raise HTTPException(
            400, f"parameter 'sort': unknown sort {sort!r} (expected one of {', '.join(SORTS)})"
        )
    try:
        results = engine_of(request).search(
            q, limit, offset, sort, categories=cat or (), since=since, until=until
        )
    except SearchError as error:
        raise HTTPException(400, str(error)) from None
    upvotes = total_upvotes(store_of(request), [hit.paper for hit in results.hits])
    return {
        "query": results.query,
        "total": results.total,
        "offset": results.offset,
        "notes": results.notes,
        "hits": [hit_json(hit, upvotes[hit.paper.key]) for hit in results.hits],
    }


@router.get("/papers/{id:path}/similar", summary="Papers most like this one")
def similar_papers(
    request: Request, id: str, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[dict[str, Any]]:
    paper = _stored(request, id)
    hits = engine_of(request).similar(paper.arxiv_id, limit)
    upvotes = total_upvotes(store_of(request), [hit.paper for hit in hits])
    return [hit_json(hit, upvotes[hit.paper.key]) for hit in hits]


@router.post("/papers/{id:path}/upvote", summary="Upvote (API token or session + CSRF)")
def upvote(
    request: Request, id: str, user: Annotated[accounts.User, Depends(api_user)]
) -> dict[str, Any]:
    paper = _stored(request, id)
    return vote_json(accounts.upvote(store_of(request), user, paper.arxiv_id))


@router.delete("/papers/{id:path}/upvote", summary="Withdraw an upvote")
def withdraw_upvote(
    request: Request, id: str, user: Annotated[accounts.User, Depends(api_user)]
) -> dict[str, Any]:
    paper = _stored(request, id)
    return vote_json(accounts.withdraw_vote(store_of(request), user, paper.arxiv_id))


@router.get("/papers/{id:path}", summary="One paper")
def get_paper(request: Request, id: str) -> dict[str, Any]:
    paper = _stored(request, id)
    upvotes = total_upvotes(store_of(request), [paper])[paper.key]
    return paper_json(paper, upvotes) | {
        "upvoted": bool(accounts.voted_ids(store_of(request), _optional_user(request), [paper]))
    }


def _optional_user(request: Request) -> accounts.User | None:
    return bearer_user(request) or session_user(request)
