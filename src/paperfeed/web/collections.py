"""Collections in the JSON API: reading and changing them, export to reference managers
and import from them (the pages and forms are in ``collection_pages``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from pydantic.config import JsonDict
from starlette.concurrency import run_in_threadpool

from paperfeed import collections as lists
from paperfeed.accounts import RateLimitedError, User
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
    MAX_IMPORT_BYTES,
    ImportFileError,
    ImportReport,
    import_references,
)
from paperfeed.web.row_ids import CollectionId
from paperfeed.web.schema_hints import ARXIV_ID_PATTERN
from paperfeed.web.security import (
    api_user,
    bearer_user,
    domain_http_error,
    session_user,
    store_of,
)

api_router = APIRouter(prefix="/api/collections", tags=["collections"])
COLLECTION_ERRORS = (
    CollectionError,
    CollectionNotFoundError,
    NotYourCollectionError,
    RateLimitedError,
)
_SLUG = re.compile(r"[^a-z0-9]+")


_STATUSES = (
    (NotYourCollectionError, 403),
    (PaperWithdrawnError, 409),
    (CollectionNotFoundError, 404),
)


def collection_http_error(error: Exception) -> HTTPException:
    """The HTTP answer to a collection's error (404, 403, 409, 429 or 400)."""
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
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    return _with_papers(request, collection)


@api_router.get("/{collection_id}", summary="A collection and its papers")
def get_collection(request: Request, collection_id: CollectionId) -> dict[str, Any]:
    try:
        collection = lists.visible_collection(store_of(request), collection_id, _viewer(request))
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
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
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    return _with_papers(request, collection)


@api_router.delete("/{collection_id}", summary="Delete a collection")
def delete(
    request: Request, collection_id: CollectionId, user: Annotated[User, Depends(api_user)]
) -> dict[str, Any]:
    try:
        lists.delete_collection(store_of(request), user, collection_id)
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
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
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
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
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
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
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
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
    except COLLECTION_ERRORS as error:
        raise collection_http_error(error) from None
    return JSONResponse(_report_json(report))
