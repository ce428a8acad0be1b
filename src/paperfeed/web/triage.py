""" "Not for me" over HTML forms and the JSON API (``/api/papers/{id}/not-for-me``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from paperfeed.calendar_dates import iso_moment
from paperfeed.feedback import MarkResult, marked_papers, set_not_for_me
from paperfeed.search.feeds import FeedError, daily_feed
from paperfeed.search.topics import day_topics
from paperfeed.store.accounts import User
from paperfeed.web.api import DAY, PAPER_ID, errors
from paperfeed.web.presentation import triage_fields
from paperfeed.web.security import (
    api_user,
    bearer_user,
    check_csrf,
    engine_of,
    session_user,
    store_of,
)
from paperfeed.web.templating import page_posted_from, sign_in_location

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["api"])
CHANGES = ("add", "remove")


def mark_json(result: MarkResult) -> dict[str, Any]:
    return {"id": result.arxiv_id, "not_for_me": result.not_for_me, "changed": result.changed}


def _mark(request: Request, user: User, arxiv_id: str, marked: bool) -> MarkResult:
    try:
        return set_not_for_me(store_of(request), user, arxiv_id, marked)
    except LookupError as error:
        raise HTTPException(404, str(error)) from None


@router.post("/papers/{arxiv_id:path}/not-for-me")
def not_for_me_form(
    request: Request,
    arxiv_id: str,
    change: str = Form("add"),
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    """The "Not for me" button (``change=add``) and its undo (``change=remove``); JSON to
    scripts, else back to the page it was on."""
    user = session_user(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    back = page_posted_from(request, next)
    if user is None:
        if wants_json:
            raise HTTPException(401, "sign in to mark papers not for you")
        return RedirectResponse(sign_in_location(back), status_code=303)
    check_csrf(request, csrf_token)
    if change not in CHANGES:
        raise HTTPException(400, f"change {change!r} is not one of {', '.join(CHANGES)}")
    result = _mark(request, user, arxiv_id, change == "add")
    if wants_json:
        return JSONResponse(mark_json(result))
    return RedirectResponse(back, status_code=303)


@api_router.post(
    "/papers/{id:arxiv}/not-for-me",
    summary='Mark a paper "not for me" (For you hides it and learns from it)',
    responses=errors(401, 403, 404),
)
def mark_api(
    request: Request, id: PAPER_ID, user: Annotated[User, Depends(api_user)]
) -> dict[str, Any]:
    return mark_json(_mark(request, user, id, True))


@api_router.delete(
    "/papers/{id:arxiv}/not-for-me",
    summary='Take back "not for me"',
    responses=errors(401, 403, 404),
)
def unmark_api(
    request: Request, id: PAPER_ID, user: Annotated[User, Depends(api_user)]
) -> dict[str, Any]:
    return mark_json(_mark(request, user, id, False))


@api_router.get("/not-for-me", summary='Your "not for me" papers', responses=errors(401))
def list_api(request: Request) -> dict[str, Any]:
    user = bearer_user(request) or session_user(request)
    if user is None:
        raise HTTPException(401, "sign in or send 'Authorization: Bearer <token>'")
    return {
        "papers": [
            {
                "id": paper.arxiv_id,
                "title": paper.title,
                "marked_at": iso_moment(at),
                **triage_fields(paper),
            }
            for paper, at in marked_papers(store_of(request), user)
        ]
    }


@api_router.get("/topics", summary="The day's topics of the daily list", responses=errors(400))
def topics_api(request: Request, date: DAY = None) -> dict[str, Any]:
    """The daily list of ``date`` (default: the latest) grouped by meaning, each topic
    labelled by its distinctive keywords and searchable by ``query``."""
    try:
        feed = daily_feed(store_of(request), date)
    except FeedError as error:
        raise HTTPException(400, str(error)) from None
    papers = [item.paper for item in feed.items]
    by_key = {paper.key: paper for paper in papers}
    return {
        "date": feed.label,
        "topics": [
            {
                "label": topic.label,
                "query": topic.query,
                "ids": [by_key[key].arxiv_id for key in topic.keys],
            }
            for topic in day_topics(engine_of(request).dense, papers)
        ],
    }
