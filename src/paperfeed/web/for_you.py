""" "For you": the page and ``GET /api/for_you`` over ``search.recommending``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from paperfeed import votes
from paperfeed.search.feeds import total_upvotes
from paperfeed.search.recommending import (
    MIN_POSITIVES_FOR_SVM,
    WINDOW_DAYS,
    recommend,
)
from paperfeed.web.presentation import because_text
from paperfeed.web.security import bearer_user, engine_of, page_user, session_user, store_of
from paperfeed.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["api"])
PAGE_SIZE = 30
HOW_TO = (
    "upvote papers (the ▲ on every card) or save them to a collection; For you then ranks "
    f"the last {WINDOW_DAYS} days of papers by how much they resemble yours"
)


@router.get("/for-you", response_class=HTMLResponse)
def for_you_page(request: Request) -> HTMLResponse:
    """The page in the site's header: a signed-out visitor is sent to sign in, then back."""
    user = page_user(request)
    store = store_of(request)
    result = recommend(engine_of(request), user.id, limit=PAGE_SIZE)
    papers = [item.paper for item in result.items]
    return render(
        request,
        "for_you.html",
        {
            "result": result,
            "how_to": HOW_TO,
            "min_for_svm": MIN_POSITIVES_FOR_SVM,
            "upvotes": total_upvotes(store, papers),
            "voted": votes.voted_ids(store, user, papers),
            "because": [because_text(item) for item in result.items],
        },
        shown=papers,
    )


@api_router.get("/for_you", summary="Recent papers ranked for you (API token or session)")
def for_you_api(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200, description="how many papers")] = 20,
) -> dict[str, Any]:
    """Papers of the last 30 days of the corpus ranked by a linear SVM trained on your
    upvotes and saved papers (with only one, by similarity to it), each with the paper of
    yours it is closest to."""
    user = bearer_user(request) or session_user(request)
    if user is None:
        raise HTTPException(
            401, "sign in or send 'Authorization: Bearer <token>' to get recommendations"
        )
    result = recommend(engine_of(request), user.id, limit=limit)
    upvotes = total_upvotes(store_of(request), [item.paper for item in result.items])
    answer: dict[str, Any] = {
        "method": result.method,
        "positives": result.positives,
        "window": {"first": result.window_first, "last": result.window_last},
        "candidates": result.candidates,
        "notes": list(result.notes),
        "papers": [
            {
                "id": item.paper.arxiv_id,
                "title": item.paper.title,
                "authors": item.paper.authors,
                "organization": item.paper.organization,
                "date": item.paper.date,
                "upvotes": upvotes[item.paper.key],
                "score": round(item.score, 6),
                "keywords": item.paper.shown_keywords,
                "tldr": item.paper.shown_tldr or "",
                "because": {
                    "id": item.because.arxiv_id if item.because else None,
                    "title": item.because_title,
                    "reason": item.reason,
                    "similarity": round(item.similarity, 4),
                },
            }
            for item in result.items
        ],
    }
    if not result.items:
        answer["how_to"] = HOW_TO
    return answer
