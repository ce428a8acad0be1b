"""The JSON API (documented at /api/docs, schema at /api/openapi.json)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from paperfeed import accounts, moderation, votes
from paperfeed.config import secret_key_of
from paperfeed.discussion import comment_totals
from paperfeed.ingest import normalize_paper_id, quoted
from paperfeed.models import SearchResults
from paperfeed.search import SORTS, SearchError
from paperfeed.search.daily_listing import (
    DAILY_SORTS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_PAGE,
    DailyQuery,
)
from paperfeed.search.feeds import FeedError, total_upvotes, trending
from paperfeed.web.hub_answers import (
    LISTING_LIMIT,
    MAX_QUERY,
    SEARCH_LIMIT,
    CursorError,
    SearchRequest,
    daily_entries,
    paper_answer,
    paper_entries,
    papers_page,
    run_search,
)
from paperfeed.web.hub_answers import search_papers as hub_search
from paperfeed.web.presentation import daily_papers_entry, hit_json, vote_json
from paperfeed.web.schema_hints import (
    ARXIV_ID_PATTERN,
    bound_schema,
    category_schema,
    day_schema,
    month_schema,
    week_schema,
)
from paperfeed.web.security import (
    api_user,
    bearer_user,
    engine_of,
    session_user,
    settings_of,
    store_of,
)

# Endpoints at fixed paths, which the app tries first (see ``pages.router``), and those of
# one paper, /api/papers/{id}..., after the routers whose routes they would swallow.
router = APIRouter(prefix="/api", tags=["api"])
paper_router = APIRouter(prefix="/api", tags=["api"])


class ErrorAnswer(BaseModel):
    """Every 4xx answer of the API: what was wrong, naming the parameter and value."""

    detail: str
    error: str = Field(description="the same message, where huggingface_hub reads it")


class JsonAnswer(Response):
    """An answer of plain JSON values (dicts, lists, strings, numbers), written by
    pydantic's encoder as FastAPI would write it, without first checking it against the
    route's declared model: for a list of papers, FastAPI's check and copy cost three
    times the encoding (0.83 against 0.27 ms for a search's 20 entries, ~80 KB). The
    route keeps its ``response_model`` for the schema."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        # NaN and infinities as null, as FastAPI's encoder writes them (JSON has neither)
        return pydantic_core.to_json(content, inf_nan_mode="null")


PAPER_LIST: Any = list[dict[str, Any]]  # what the list routes declare they answer

_ERRORS = {
    400: "a parameter is malformed (the detail names it and the value given)",
    401: "no valid API token or signed-in session",
    403: "a browser session without its CSRF token",
    404: "no such paper in this paperfeed",
    413: "the request body is too large",
    429: "too many attempts; try again later",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route may give, for its OpenAPI ``responses``."""
    return {status: {"model": ErrorAnswer, "description": _ERRORS[status]} for status in statuses}


DAY = Annotated[
    str | None,
    Query(
        description="a day, YYYY-MM-DD (one of date, week, month)", json_schema_extra=day_schema()
    ),
]
WEEK = Annotated[
    str | None,
    Query(
        description="an ISO week, YYYY-Www (one of date, week, month)",
        json_schema_extra=week_schema(),
    ),
]
MONTH = Annotated[
    str | None,
    Query(
        description="a month, YYYY-MM (one of date, week, month)",
        json_schema_extra=month_schema(),
    ),
]
PAPER_ID = Annotated[
    str,
    Path(
        description="an arXiv id, e.g. 2401.00165, arXiv:2401.00165v2 or hep-th/9901001",
        json_schema_extra={"pattern": ARXIV_ID_PATTERN},
    ),
]


def _stored(request: Request, arxiv_id: str) -> Any:
    normalized = normalize_paper_id(arxiv_id)
    if normalized is None:
        # any text is a valid path segment: one that names no paper is "not found"
        raise HTTPException(
            404,
            f"no paper {quoted(arxiv_id)} in this paperfeed (expected an arXiv id "
            "such as 2401.00165)",
        )
    paper = store_of(request).get_paper(normalized)
    if paper is None:
        raise HTTPException(404, f"no paper {normalized} in this paperfeed")
    if moderation.is_hidden(store_of(request), paper):
        viewer = _optional_user(request)
        if viewer is None or not viewer.is_admin:
            raise HTTPException(404, f"paper {normalized} was hidden by a moderator")
    return paper


@router.get(
    "/daily_papers",
    summary="The daily list, in the original site's JSON shape",
    responses=errors(400),
    response_model=PAPER_LIST,
)
def daily_papers(
    request: Request,
    date: DAY = None,
    week: WEEK = None,
    month: MONTH = None,
    submitter: Annotated[
        str | None,
        Query(max_length=200, description="only papers this user (a handle) submitted"),
    ] = None,
    sort: Annotated[
        str,
        Query(
            description="publishedAt (newest lists, most upvoted first) or trending",
            json_schema_extra={"enum": list(DAILY_SORTS)},
        ),
    ] = "publishedAt",
    p: Annotated[int, Query(ge=0, le=MAX_PAGE, description="page, from 0")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="papers per page")] = DEFAULT_LIMIT,
) -> Response:
    """The papers of a day, an ISO week or a month, most upvoted first (without one: the
    newest daily lists, newest first), ``limit`` at a time from page ``p``, as
    ``huggingface_hub``'s ``HfApi.list_daily_papers`` and ``hf papers ls`` ask: a list of
    ``{paper: {...}, title, summary, numComments, submittedBy, ...}``. ``sort=trending``
    orders by time-decayed upvotes."""
    query = DailyQuery(date, week, month, submitter, sort, p, limit)
    half_life = settings_of(request).trending_half_life_hours
    try:
        return JsonAnswer(daily_entries(store_of(request), query, half_life))
    except FeedError as error:
        raise HTTPException(400, str(error)) from None


@router.get(
    "/papers",
    summary="Every paper, newest first, a page at a time (Link: rel=next)",
    responses=errors(400)
    | {
        200: {
            "description": "a page of papers",
            "headers": {
                "Link": {
                    "description": '<URL of the next page>; rel="next" (absent on the last)',
                    "schema": {"type": "string"},
                }
            },
        }
    },
    response_model=PAPER_LIST,
)
def list_all_papers(
    request: Request,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="the cursor of the previous page's next link"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=LISTING_LIMIT, description="papers per page")] = 50,
) -> Response:
    """Every stored paper in the original site's paper shape, most recently added first.
    Pages are linked as on the original site's listings: a ``Link: <...>; rel="next"``
    header (what ``huggingface_hub``'s paginator follows) whose opaque, signed ``cursor``
    holds where the page ended, so papers added meanwhile never shift a page."""
    secret = secret_key_of(settings_of(request))
    try:
        page = papers_page(store_of(request), secret, cursor, limit)
    except CursorError as error:
        raise HTTPException(400, str(error)) from None
    answer = JsonAnswer(page.papers)
    if page.next_cursor is not None:
        following = request.url.include_query_params(cursor=page.next_cursor, limit=limit)
        answer.headers["Link"] = f'<{following}>; rel="next"'
    return answer


@router.get(
    "/trending", summary="Papers ordered by time-decayed upvotes", response_model=PAPER_LIST
)
def trending_papers(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200, description="how many papers")] = 50,
) -> Response:
    half_life = settings_of(request).trending_half_life_hours
    items = trending(store_of(request), half_life, limit=limit)
    comments = comment_totals(store_of(request), [item.paper for item in items])
    return JsonAnswer(
        [
            daily_papers_entry(item.paper, item.upvotes, comments[item.paper.key])
            | {"trendingScore": round(item.score, 4)}
            for item in items
        ]
    )


_SEARCH_PARAMETERS = """
    q: the query, in the search syntax (required).
    limit, offset: paging.
    sort: relevance, date or upvotes.
    cat: category filter, repeatable.
    since, until: date bounds, YYYY, YYYY-MM or YYYY-MM-DD.
"""


def _run_search(
    request: Request,
    q: str,
    limit: int,
    offset: int,
    sort: str,
    cat: list[str] | None,
    since: str | None,
    until: str | None,
    snippets: bool = True,
) -> SearchResults:
    if sort not in SORTS:
        raise HTTPException(
            400,
            f"parameter 'sort': unknown sort {quoted(sort)} (expected one of {', '.join(SORTS)})",
        )
    refuse_empty("q", q)
    refuse_empty_bounds(since, until)
    search = SearchRequest(q, limit, offset, sort, tuple(cat or ()), since, until)
    try:
        return run_search(engine_of(request), search, snippets=snippets)
    except SearchError as error:
        raise HTTPException(400, str(error)) from None


Q = Annotated[
    str,
    Query(
        max_length=MAX_QUERY,
        description="the query, in the search syntax",
        json_schema_extra={"pattern": r"\S"},
    ),
]


def refuse_empty(name: str, value: str) -> None:
    """A required text parameter with nothing in it is a 400 naming it."""
    if not value.strip():
        raise HTTPException(
            400, f"parameter {name!r} is empty: give some words, a phrase, a filter or an id"
        )


def refuse_empty_bounds(since: str | None, until: str | None) -> None:
    """An empty ``since=`` or ``until=`` is a 400 naming it. The search page's form sends
    empty boxes (no filter there); an API or feed caller who sends one meant a value:
    what the OpenAPI document says, a date or nothing."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and not value.strip():
            raise HTTPException(400, f"parameter {name!r} is empty (a date, or leave it out)")


LIMIT = Annotated[int, Query(ge=1, le=100, description="how many hits")]
OFFSET = Annotated[int, Query(ge=0, le=10_000, description="hits to skip")]
SORT = Annotated[
    str, Query(description=f"one of {', '.join(SORTS)}", json_schema_extra={"enum": list(SORTS)})
]
CATEGORIES = Annotated[
    list[str] | None,
    Query(
        description="category filter, repeatable; one value may list several (cs.CL cs.LG)",
        json_schema_extra={"items": category_schema()},
    ),
]
SINCE = Annotated[
    str | None,
    Query(description="YYYY, YYYY-MM or YYYY-MM-DD", json_schema_extra=bound_schema()),
]
UNTIL = Annotated[
    str | None,
    Query(description="YYYY, YYYY-MM or YYYY-MM-DD", json_schema_extra=bound_schema()),
]


def search_filters(
    cat: Sequence[str] | None, since: str | None, until: str | None
) -> dict[str, str]:
    """A search's typed filters as query parameters for a link (the empty ones left out):
    the search page's RSS link and the feed's own links carry them."""
    categories = " ".join(value.strip() for value in cat or () if value.strip())
    found = {"cat": categories, "since": (since or "").strip(), "until": (until or "").strip()}
    return {name: value for name, value in found.items() if value}


@router.get(
    "/papers/search",
    summary="Search, answered in the original site's shape",
    responses=errors(400),
    response_model=PAPER_LIST,
)
def search_papers(
    request: Request,
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY,
            description="the query, in the search syntax (none: every paper, newest first)",
        ),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=SEARCH_LIMIT, description="how many papers")] = 20,
    offset: OFFSET = 0,
    sort: SORT = "relevance",
    cat: CATEGORIES = None,
    since: SINCE = None,
    until: UNTIL = None,
) -> Response:
    """The hybrid search's hits as the original site answers a search: a list of
    ``{paper: {id, authors: [{name}], publishedAt, title, summary, upvotes, ...},
    title, summary, publishedAt, numComments}``, best first (what ``huggingface_hub``'s
    ``HfApi.list_papers`` and ``hf papers search`` read). ``/api/search`` answers the
    same search with notes, totals, snippets and why each paper matched. Without ``q``
    (``HfApi().list_papers()``), every paper under the filters, newest first."""
    store = store_of(request)
    refuse_empty_bounds(since, until)
    search = SearchRequest(q, limit, offset, sort, tuple(cat or ()), since, until)
    try:
        papers = hub_search(engine_of(request), search)
    except SearchError as error:
        raise HTTPException(400, str(error)) from None
    return JsonAnswer(paper_entries(store, papers))


@router.get(
    "/search",
    summary="Hybrid lexical + semantic search, explained",
    responses=errors(400),
    response_model=dict[str, Any],
)
def search_explained(
    request: Request,
    q: Q,
    limit: LIMIT = 20,
    offset: OFFSET = 0,
    sort: SORT = "relevance",
    cat: CATEGORIES = None,
    since: SINCE = None,
    until: UNTIL = None,
) -> Response:
    """``{query, total, total_exact, ranked, offset, notes, hits: [{id, title, authors,
    score, snippet, matched_terms, found_by, lexical_rank, semantic_rank, ...}]}``.

    ``total`` counts every matching paper (``total_exact`` false: at least that many);
    ``ranked`` is how many of them paging reaches (the ranked candidates)."""
    results = _run_search(request, q, limit, offset, sort, cat, since, until)
    upvotes = total_upvotes(store_of(request), [hit.paper for hit in results.hits])
    return JsonAnswer(
        {
            "query": results.query,
            "total": results.total,
            "total_exact": results.total_exact,
            "ranked": results.pageable,
            "offset": results.offset,
            "notes": list(results.notes),
            "close_match": results.close_match,
            "hits": [hit_json(hit, upvotes[hit.paper.key]) for hit in results.hits],
        }
    )


@paper_router.get(
    "/papers/{id:arxiv}/similar",
    summary="Papers most like this one",
    responses=errors(400, 404),
    response_model=PAPER_LIST,
)
def similar_papers(
    request: Request, id: PAPER_ID, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> Response:
    paper = _stored(request, id)
    hits = engine_of(request).similar(paper.arxiv_id, limit)
    upvotes = total_upvotes(store_of(request), [hit.paper for hit in hits])
    return JsonAnswer([hit_json(hit, upvotes[hit.paper.key]) for hit in hits])


@paper_router.post(
    "/papers/{id:arxiv}/upvote",
    summary="Upvote (API token or session + CSRF)",
    responses=errors(401, 403, 404),
)
def upvote(
    request: Request, id: PAPER_ID, user: Annotated[accounts.User, Depends(api_user)]
) -> dict[str, Any]:
    paper = _stored(request, id)
    return vote_json(votes.upvote(store_of(request), user, paper.arxiv_id))


@paper_router.delete(
    "/papers/{id:arxiv}/upvote", summary="Withdraw an upvote", responses=errors(401, 403, 404)
)
def withdraw_upvote(
    request: Request, id: PAPER_ID, user: Annotated[accounts.User, Depends(api_user)]
) -> dict[str, Any]:
    paper = _stored(request, id)
    return vote_json(votes.withdraw_vote(store_of(request), user, paper.arxiv_id))


@paper_router.get("/papers/{id:arxiv}", summary="One paper", responses=errors(401, 404))
def get_paper(request: Request, id: PAPER_ID) -> dict[str, Any]:
    """The original site's paper object (``id``, ``authors: [{name}]``, ``publishedAt``,
    ``title``, ``summary``, ``upvotes``, ...: what ``huggingface_hub``'s
    ``HfApi.paper_info`` reads) plus what else is stored: ``abstract``, ``categories``,
    ``date``, ``links``, ``upvoted`` (by the caller), ..."""
    paper = _stored(request, id)
    return paper_answer(store_of(request), paper) | {
        "upvoted": bool(votes.voted_ids(store_of(request), _optional_user(request), [paper]))
    }


def _optional_user(request: Request) -> accounts.User | None:
    return bearer_user(request) or session_user(request)
