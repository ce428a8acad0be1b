"""Seeding For you: ``/for-you/start`` (a library file, or picks from diverse recent
papers), "these are my papers" on an author page, and their JSON equivalents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from paperfeed.accounts import RateLimitedError, check_rate
from paperfeed.collections.importing import (
    IMPORT_FORMATS,
    IMPORT_RATE_LIMIT,
    MAX_IMPORT_BYTES,
    ImportFileError,
)
from paperfeed.index.embedder import EmbedderError
from paperfeed.search.cold_start import (
    MAX_PICKS,
    LibraryReport,
    claim_author_papers,
    diverse_recent,
    pick_papers,
    seed_from_library,
)
from paperfeed.search.feeds import total_upvotes
from paperfeed.store.accounts import User
from paperfeed.web.api import errors
from paperfeed.web.security import (
    api_user,
    check_csrf,
    domain_http_error,
    engine_of,
    session_user,
    store_of,
)
from paperfeed.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["api"])


class Picks(BaseModel):
    """Papers to seed For you with."""

    ids: list[str] = Field(min_length=1, max_length=MAX_PICKS)


def report_json(report: LibraryReport) -> dict[str, Any]:
    return {
        "format": report.format,
        "matched": [{"entry": label, "id": arxiv_id} for label, arxiv_id in report.matched],
        "embedded": report.embedded,
        "skipped": [{"entry": label, "reason": reason} for label, reason in report.skipped],
    }


def _seed(request: Request, user: User, content: bytes, format: str) -> LibraryReport:
    try:
        # each import embeds its unmatched entries: as many imports as a collection takes
        check_rate(store_of(request), f"library:user:{user.id}", *IMPORT_RATE_LIMIT)
    except RateLimitedError as error:
        raise domain_http_error(error, ()) from None
    try:
        return seed_from_library(engine_of(request), user, content, format)
    except (ImportFileError, ValueError) as error:
        raise HTTPException(400, str(error)) from None
    except EmbedderError as error:
        raise HTTPException(503, str(error)) from None


def _signed_in(request: Request, csrf_token: str | None = None) -> User:
    user = session_user(request)
    if user is None:
        raise HTTPException(
            303, "sign in first", headers={"Location": "/signin?next=/for-you/start"}
        )
    if csrf_token is not None:
        check_csrf(request, csrf_token)
    return user


@router.get("/for-you/start", response_class=HTMLResponse)
def start_page(request: Request) -> HTMLResponse:
    """Three ways to seed For you; the picks are diverse papers of the last 30 days."""
    _signed_in(request)
    papers = diverse_recent(engine_of(request))
    return render(
        request,
        "for_you_start.html",
        {
            "picks": papers,
            "upvotes": total_upvotes(store_of(request), papers),
            "formats": IMPORT_FORMATS,
            "report": None,
            "error": None,
        },
    )


@router.post("/for-you/start")
def pick_form(
    request: Request, arxiv_id: Annotated[list[str], Form()], csrf_token: str = Form("")
) -> Response:
    user = _signed_in(request, csrf_token)
    try:
        pick_papers(store_of(request), user, arxiv_id)
    except (LookupError, ValueError) as error:
        raise HTTPException(400, str(error)) from None
    return RedirectResponse("/for-you", status_code=303)


@router.post("/for-you/import", response_class=HTMLResponse)
def import_form(
    request: Request,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form()] = "auto",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    user = _signed_in(request, csrf_token)
    content = file.file.read(MAX_IMPORT_BYTES + 1)
    try:
        report, error = _seed(request, user, content, format), None
    except HTTPException as failure:
        report, error = None, str(failure.detail)
    return render(
        request,
        "for_you_start.html",
        {"picks": [], "upvotes": {}, "formats": IMPORT_FORMATS, "report": report, "error": error},
        status_code=400 if error else 200,
    )


@router.post("/authors/{name:path}/mine")
def claim_form(request: Request, name: str, csrf_token: str = Form("")) -> Response:
    """ "These are my papers" on an author page."""
    user = _signed_in(request, csrf_token)
    try:
        claim_author_papers(store_of(request), user, name)
    except LookupError as error:
        raise HTTPException(404, str(error)) from None
    return RedirectResponse("/for-you", status_code=303)


@api_router.post(
    "/for_you/import",
    summary="Seed For you from a BibTeX or RIS file (multipart 'file')",
    responses=errors(400, 401, 403),
)
def import_api(
    request: Request,
    user: Annotated[User, Depends(api_user)],
    file: Annotated[UploadFile, File()],
    format: str = "auto",
) -> dict[str, Any]:
    """Entries matched to stored papers become positives; the others are embedded from
    their title and abstract and kept as positive vectors."""
    return report_json(_seed(request, user, file.file.read(MAX_IMPORT_BYTES + 1), format))


@api_router.post(
    "/for_you/picks", summary="Seed For you with papers you pick", responses=errors(400, 401, 403)
)
def picks_api(
    request: Request, picks: Picks, user: Annotated[User, Depends(api_user)]
) -> dict[str, Any]:
    try:
        added = pick_papers(store_of(request), user, picks.ids)
    except (LookupError, ValueError) as error:
        raise HTTPException(400, str(error)) from None
    return {"added": added}


@api_router.get("/for_you/start", summary="Diverse recent papers to pick from")
def start_api(request: Request) -> dict[str, Any]:
    papers = diverse_recent(engine_of(request))
    return {"papers": [{"id": p.arxiv_id, "title": p.title, "date": p.date} for p in papers]}
