"""Collections on the site: the collection page (paged), the save menu's forms, editing,
deleting and importing a file from the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from paperfeed import collections as lists
from paperfeed.accounts import User
from paperfeed.collections import Collection, CollectionError
from paperfeed.collections.importing import (
    IMPORT_FORMATS,
    MAX_IMPORT_BYTES,
    ImportFileError,
    ImportReport,
    import_references,
)
from paperfeed.search.feeds import total_upvotes
from paperfeed.votes import voted_ids
from paperfeed.web.collections import COLLECTION_ERRORS, collection_http_error
from paperfeed.web.row_ids import CollectionId
from paperfeed.web.security import check_csrf, page_user, session_user, store_of
from paperfeed.web.templating import render, safe_next, sign_in_location

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50  # papers per page of a collection, as on the daily lists


def _form_user(request: Request, csrf_token: str) -> User:
    user = session_user(request)
    if user is None:
        back = safe_next(request.headers.get("referer", "").partition(request.url.netloc)[2])
        raise HTTPException(303, "sign in first", headers={"Location": sign_in_location(back)})
    check_csrf(request, csrf_token)
    return user


def _back(request: Request, default: str) -> str:
    return safe_next(request.headers.get("referer", "").partition(request.url.netloc)[2], default)


def _page(
    request: Request,
    collection: Collection,
    report: ImportReport | None = None,
    error: str | None = None,
    status_code: int = 200,
    page: int = 1,
    edit_error: str | None = None,
    edited: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The collection's page; after a refused edit, ``edit_error`` and the form holding
    what was typed (``edited``), open."""
    store = store_of(request)
    user = session_user(request)
    every = lists.papers_shown(store, collection, user)
    # an imported library holds thousands: paged as the daily lists are (2,000 were 7.6 MB)
    pages = max(1, -(-len(every) // PAGE_SIZE))
    if page > pages:
        raise HTTPException(404, f"page {page} is past the last page ({pages}) of this collection")
    papers = every[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    plain = [paper for paper, _ in papers]
    return render(
        request,
        "collection.html",
        {
            "collection": collection,
            "papers": papers,
            "page": page,
            "pages": pages,
            "upvotes": total_upvotes(store, plain),
            "voted": voted_ids(store, user, plain),
            "mine": user is not None and user.id == collection.user_id,
            "report": report,
            "import_error": error,
            "import_formats": IMPORT_FORMATS,
            "edit_error": edit_error,
            "edited": edited
            or {
                "name": collection.name,
                "description": collection.description,
                "is_public": collection.is_public,
            },
        },
        status_code=status_code,
        shown=plain,
    )


@router.get("/collections/{collection_id}", response_class=HTMLResponse)
def collection_page(
    request: Request, collection_id: CollectionId, page: Annotated[int, Query(ge=1)] = 1
) -> HTMLResponse:
    try:
        collection = lists.visible_collection(
            store_of(request), collection_id, session_user(request)
        )
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    return _page(request, collection, page=page)


@router.post("/collections")
def create_form(
    request: Request,
    name: str = Form(""),
    description: str = Form(""),
    is_public: str = Form(""),
    arxiv_id: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    """Create a collection (and save ``arxiv_id`` in it, from a card's save menu)."""
    user = _form_user(request, csrf_token)
    store = store_of(request)
    try:
        collection = lists.create_collection(store, user, name, description, bool(is_public))
        if arxiv_id.strip():
            lists.add_paper(store, user, collection.id, arxiv_id)
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    if arxiv_id.strip():
        return RedirectResponse(_back(request, f"/collections/{collection.id}"), status_code=303)
    return RedirectResponse(f"/collections/{collection.id}", status_code=303)


@router.post("/collections/{collection_id}/papers")
def toggle_form(
    request: Request,
    collection_id: CollectionId,
    arxiv_id: str = Form(""),
    change: str = Form("add"),
    csrf_token: str = Form(""),
) -> Response:
    """The save menu: ``change`` is add or remove. Answers JSON to scripts, redirects forms."""
    user = _form_user(request, csrf_token)
    store = store_of(request)
    if change not in ("add", "remove"):
        raise HTTPException(400, f"change {change!r} is not 'add' or 'remove'")
    try:
        if change == "add":
            lists.add_paper(store, user, collection_id, arxiv_id)
        else:
            lists.remove_paper(store, user, collection_id, arxiv_id)
        paper = lists.stored_paper(store, arxiv_id)
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {"collection": collection_id, "id": paper.arxiv_id, "saved": change == "add"}
        )
    return RedirectResponse(_back(request, f"/collections/{collection_id}"), status_code=303)


@router.post("/collections/{collection_id}/edit")
def edit_form(
    request: Request,
    collection_id: CollectionId,
    name: str = Form(""),
    description: str = Form(""),
    is_public: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    user = _form_user(request, csrf_token)
    store = store_of(request)
    try:
        collection = lists.owned_collection(store, collection_id, user)
        lists.update_collection(store, user, collection_id, name, description, bool(is_public))
    except CollectionError as error:  # a bad name or description: the form again, as typed
        typed = {"name": name, "description": description, "is_public": bool(is_public)}
        return _page(request, collection, None, None, 400, edit_error=str(error), edited=typed)
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


# Deleting asks first, without JavaScript: the collection page links to a page naming
# the collection and its paper count, whose form carries CONFIRM_DELETE. A post without
# it (a form from before this step, a stray script) gets that page and deletes nothing.
CONFIRM_DELETE = "delete"


def _delete_page(request: Request, collection: Collection) -> HTMLResponse:
    context = {"collection": collection, "confirm": CONFIRM_DELETE}
    return render(request, "collection_delete.html", context)


@router.get("/collections/{collection_id}/delete", response_class=HTMLResponse)
def delete_confirmation(request: Request, collection_id: CollectionId) -> HTMLResponse:
    """The "Delete this collection?" page: its name and paper count, Delete and Cancel."""
    user = page_user(request)
    try:
        collection = lists.owned_collection(store_of(request), collection_id, user)
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    return _delete_page(request, collection)


@router.post("/collections/{collection_id}/delete")
def delete_form(
    request: Request,
    collection_id: CollectionId,
    csrf_token: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    user = _form_user(request, csrf_token)
    store = store_of(request)
    try:
        if confirm != CONFIRM_DELETE:
            return _delete_page(request, lists.owned_collection(store, collection_id, user))
        lists.delete_collection(store, user, collection_id)
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    return RedirectResponse("/account#collections", status_code=303)


@router.post("/collections/{collection_id}/import", response_class=HTMLResponse)
async def import_form(
    request: Request,
    collection_id: CollectionId,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form()] = "auto",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = _form_user(request, csrf_token)
    store = store_of(request)
    try:
        collection = lists.owned_collection(store, collection_id, user)
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    content = await file.read(MAX_IMPORT_BYTES + 1)
    try:
        report = await run_in_threadpool(
            import_references, store, user, collection_id, content, format
        )
    except ImportFileError as error:
        return _page(request, collection, error=str(error), status_code=400)
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    return _page(request, lists.owned_collection(store, collection_id, user), report=report)
