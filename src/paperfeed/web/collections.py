"""Collections on the site: the collection page, the save menu's forms, the JSON API,
export to reference managers and import from them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from pydantic.config import JsonDict
from starlette.concurrency import run_in_threadpool

from paperfeed import collections as lists
from paperfeed.accounts import RateLimitedError, User, voted_ids
from paperfeed.collections import (
    MAX_DESCRIPTION_CHARACTERS,
    MAX_NAME_CHARACTERS,
    Collection,
    CollectionError,
    CollectionNotFoundError,
    NotYourCollectionError,
    PaperWithdrawnError,
)
from paperfeed.collections.exporting import FORMATS as EXPORT_FORMATS
from paperfeed.collections.exporting import ExportError, collection_json, export_papers
from paperfeed.collections.importing import (
    IMPORT_FORMATS,
    MAX_IMPORT_BYTES,
    ImportFileError,
    ImportReport,
    import_references,
)
from paperfeed.search.feeds import total_upvotes
from paperfeed.web.row_ids import CollectionId
from paperfeed.web.schema_hints import ARXIV_ID_PATTERN
from paperfeed.web.security import (
    api_user,
    bearer_user,
    check_csrf,
    domain_http_error,
    session_user,
    store_of,
)
from paperfeed.web.templating import render, safe_next, sign_in_location

api_router = APIRouter(prefix="/api/collections", tags=["collections"])
router = APIRouter(include_in_schema=False)
_ERRORS = (CollectionError, CollectionNotFoundError, NotYourCollectionError, RateLimitedError)
_SLUG = re.compile(r"[^a-z0-9]+")
PAGE_SIZE = 50  # papers per page of a collection, as on the daily lists


_STATUSES = (
    (NotYourCollectionError, 403),
    (PaperWithdrawnError, 409),
    (CollectionNotFoundError, 404),
)


def _http_error(error: Exception) -> HTTPException:
    return domain_http_error(error, _STATUSES)


def _viewer(request: Request) -> User | None:
    return bearer_user(request) or session_user(request)


def _reader(request: Request) -> User:
    """The caller of a read-only API call about their own things (no CSRF needed)."""
    user = _viewer(request)
    if user is None:
        raise HTTPException(401, "sign in or send 'Authorization: Bearer <token>'")
    return user


def _with_papers(request: Request, collection: Collection) -> dict[str, Any]:
    store = store_of(request)
    papers = lists.papers_shown(store, collection, _viewer(request))
    return collection_json(collection) | {
        "url": f"/collections/{collection.id}",
        "papers": [
            {
                "id": paper.arxiv_id,
                "title": paper.title,
                "authors": paper.authors,
                "added_at": datetime.fromtimestamp(added, UTC).isoformat(timespec="seconds"),
            }
            for paper, added in papers
        ],
    }


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "format": report.format,
        "entries": report.total,
        "added": [{"entry": label, "id": arxiv_id} for label, arxiv_id in report.added],
        "already_there": [{"entry": label, "id": arxiv_id} for label, arxiv_id in report.already],
        "unmatched": [{"entry": label, "reason": reason} for label, reason in report.unmatched],
    }


# The fields are typed Any so that the library's checks (with their messages) decide;
# the schemas tell clients, and schemathesis, what those checks accept. A name needs a
# character Python does not count as a space (\x1c-\x1f and \x85 are, for str.split).
_NAME: JsonDict = {
    "type": "string",
    "pattern": "[^\\s\\x1c-\\x1f\\x85]",
    "maxLength": MAX_NAME_CHARACTERS,
}
_DESCRIPTION: JsonDict = {
    "type": "string",
    "pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$",
    "maxLength": MAX_DESCRIPTION_CHARACTERS,
}
_PUBLIC: JsonDict = {"type": "boolean"}


def _or_null(schema: JsonDict) -> JsonDict:
    return {"anyOf": [schema, {"type": "null"}]}


class CollectionIn(BaseModel):
    name: Any = Field(description="at most 200 characters", json_schema_extra=_NAME)
    description: Any = Field("", json_schema_extra=_DESCRIPTION)
    is_public: Any = Field(
        False, description="anyone may read a public collection", json_schema_extra=_PUBLIC
    )


class CollectionChange(BaseModel):
    """A change of a collection: a field left out or null stays as it is."""

    name: Any = Field(None, json_schema_extra=_or_null(_NAME))
    description: Any = Field(None, json_schema_extra=_or_null(_DESCRIPTION))
    is_public: Any = Field(None, json_schema_extra=_or_null(_PUBLIC))


class PaperIn(BaseModel):
    id: Any = Field(
        description="an arXiv id, e.g. 2401.00165",
        json_schema_extra={"type": "string", "pattern": ARXIV_ID_PATTERN},
    )


# -- JSON API ---------------------------------------------------------------------------


@api_router.get("", summary="My collections")
def my_collections(request: Request) -> list[dict[str, Any]]:
    user = _reader(request)
    return [
        collection_json(c) | {"url": f"/collections/{c.id}"}
        for c in lists.collections_of(store_of(request), user)
    ]


@api_router.post("", status_code=201, summary="Create a collection")
def create(
    request: Request, body: CollectionIn, user: Annotated[User, Depends(api_user)]
) -> dict[str, Any]:
    try:
        collection = lists.create_collection(
            store_of(request), user, body.name, body.description, body.is_public
        )
    except _ERRORS as error:
        raise _http_error(error) from None
    return _with_papers(request, collection)


@api_router.get("/{collection_id}", summary="A collection and its papers")
def get_collection(request: Request, collection_id: CollectionId) -> dict[str, Any]:
    try:
        collection = lists.visible_collection(store_of(request), collection_id, _viewer(request))
    except _ERRORS as error:
        raise _http_error(error) from None
    return _with_papers(request, collection)


@api_router.patch("/{collection_id}", summary="Rename, describe, make public or private")
def change(
    request: Request,
    collection_id: CollectionId,
    body: CollectionChange,
    user: Annotated[User, Depends(api_user)],
) -> dict[str, Any]:
    try:
        collection = lists.update_collection(
            store_of(request), user, collection_id, body.name, body.description, body.is_public
        )
    except _ERRORS as error:
        raise _http_error(error) from None
    return _with_papers(request, collection)


@api_router.delete("/{collection_id}", summary="Delete a collection")
def delete(
    request: Request, collection_id: CollectionId, user: Annotated[User, Depends(api_user)]
) -> dict[str, Any]:
    try:
        lists.delete_collection(store_of(request), user, collection_id)
    except _ERRORS as error:
        raise _http_error(error) from None
    return {"id": collection_id, "deleted": True}


@api_router.post("/{collection_id}/papers", summary="Save a paper in a collection")
def add(
    request: Request,
    collection_id: CollectionId,
    body: PaperIn,
    user: Annotated[User, Depends(api_user)],
) -> dict[str, Any]:
    try:
        added = lists.add_paper(store_of(request), user, collection_id, body.id)
        paper = lists.stored_paper(store_of(request), body.id)
    except _ERRORS as error:
        raise _http_error(error) from None
    return {"collection": collection_id, "id": paper.arxiv_id, "saved": True, "added": added}


@api_router.delete("/{collection_id}/papers/{paper_id:path}", summary="Take a paper out")
def remove(
    request: Request,
    collection_id: CollectionId,
    paper_id: str,
    user: Annotated[User, Depends(api_user)],
) -> dict[str, Any]:
    try:
        removed = lists.remove_paper(store_of(request), user, collection_id, paper_id)
        paper = lists.stored_paper(store_of(request), paper_id)
    except _ERRORS as error:
        raise _http_error(error) from None
    return {"collection": collection_id, "id": paper.arxiv_id, "saved": False, "removed": removed}


def _filename(collection: Collection, extension: str) -> str:
    slug = _SLUG.sub("-", collection.name.lower()).strip("-")[:60] or "collection"
    return f"{slug}-{collection.id}.{extension}"


@api_router.get(
    "/{collection_id}/export",
    summary="Export as BibTeX, RIS, CSV or JSON",
    responses={
        200: {
            "description": "the file, in the format asked for",
            "content": {
                kind.media_type.partition(";")[0]: {"schema": {"type": "string"}}
                for kind in EXPORT_FORMATS.values()
                if kind.name != "json"
            },
        }
    },
)
def export(
    request: Request,
    collection_id: CollectionId,
    format: Annotated[
        str,
        Query(
            description="bibtex, ris, csv or json",
            json_schema_extra={"enum": ["bibtex", "ris", "csv", "json"]},
        ),
    ] = "bibtex",
) -> Response:
    """One entry per paper; BibTeX with arXiv's e-print fields and stable keys."""
    store = store_of(request)
    try:
        viewer = _viewer(request)
        collection = lists.visible_collection(store, collection_id, viewer)
        papers = lists.papers_shown(store, collection, viewer)
        text, chosen = export_papers(collection, papers, format)
    except ExportError as error:
        raise HTTPException(400, f"parameter 'format': {error}") from None
    except _ERRORS as error:
        raise _http_error(error) from None
    disposition = f'attachment; filename="{_filename(collection, chosen.extension)}"'
    return Response(
        text, media_type=chosen.media_type, headers={"Content-Disposition": disposition}
    )


async def _uploaded(request: Request) -> bytes:
    """The file of an import: a multipart ``file`` field, or the whole body."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if isinstance(upload, str):
            return upload.encode()
        if upload is None:
            raise HTTPException(400, "the form has no 'file' field")
        return await upload.read(MAX_IMPORT_BYTES + 1)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks.append(chunk)
        if size > MAX_IMPORT_BYTES:
            break  # the check that refuses it sees one byte too many, not the whole body
    return b"".join(chunks)[: MAX_IMPORT_BYTES + 1]


@api_router.post("/{collection_id}/import", summary="Import a BibTeX or RIS file")
async def import_file(
    request: Request,
    collection_id: CollectionId,
    format: Annotated[str, Query(description="auto, bibtex or ris")] = "auto",
) -> JSONResponse:
    """The body is the file (or a multipart ``file`` field). Entries are matched by
    arXiv id, DOI, then title; unmatched ones are listed back."""
    user = api_user(request)
    content = await _uploaded(request)
    try:
        # parsing a 5 MB file takes seconds: off the event loop, which serves every request
        report = await run_in_threadpool(
            import_references, store_of(request), user, collection_id, content, format
        )
    except ImportFileError as error:
        raise HTTPException(400, str(error)) from None
    except _ERRORS as error:
        raise _http_error(error) from None
    return JSONResponse(_report_json(report))


# -- pages and forms --------------------------------------------------------------------


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
    except _ERRORS as error:
        raise _http_error(error) from None
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
    except _ERRORS as error:
        raise _http_error(error) from None
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
    except _ERRORS as error:
        raise _http_error(error) from None
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
    except _ERRORS as error:
        raise _http_error(error) from None
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@router.post("/collections/{collection_id}/delete")
def delete_form(
    request: Request, collection_id: CollectionId, csrf_token: str = Form("")
) -> Response:
    user = _form_user(request, csrf_token)
    try:
        lists.delete_collection(store_of(request), user, collection_id)
    except _ERRORS as error:
        raise _http_error(error) from None
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
    except _ERRORS as error:
        raise _http_error(error) from None
    content = await file.read(MAX_IMPORT_BYTES + 1)
    try:
        report = await run_in_threadpool(
            import_references, store, user, collection_id, content, format
        )
    except ImportFileError as error:
        return _page(request, collection, error=str(error), status_code=400)
    except _ERRORS as error:
        raise _http_error(error) from None
    return _page(request, lists.owned_collection(store, collection_id, user), report=report)
