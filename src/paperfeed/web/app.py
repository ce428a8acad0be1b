"""The app factory: one FastAPI app with the HTML pages, the JSON API and the feeds."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed import __version__
from paperfeed.accounts import SESSION_SECONDS, configure_password_hashing
from paperfeed.config import Settings, secret_key_of
from paperfeed.ingest import quoted
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.web import (
    account_pages,
    admin,
    admin_api,
    api,
    cold_start,
    collection_pages,
    collections,
    discussion,
    feeds,
    for_you,
    operations_endpoints,
    pages,
    paper_markdown,
    people,
    subscriptions,
    sync_pages,
    trends,
    triage,
)
from paperfeed.web.body_limit import BodyLimit
from paperfeed.web.mcp_endpoint import LazyMcpEndpoint
from paperfeed.web.mcp_server import build_mcp_server
from paperfeed.web.methods import HttpMethods
from paperfeed.web.operations_endpoints import install_operations
from paperfeed.web.page_cache import AnonymousPageCache
from paperfeed.web.presentation import error_body, error_header
from paperfeed.web.templating import make_templates, render

log = logging.getLogger("paperfeed.web")
STATIC = Path(__file__).resolve().parent / "static"

# Only our own scripts, styles and images: an injected <script> or inline handler
# does not run even if escaping were ever missed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds the CSP and related headers to every response (plain ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                # a route that set its own policy (the digest preview) keeps it
                headers += [item for item in _SECURITY_HEADERS if item[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/rss/")) or "application/json" in request.headers.get(
        "accept", ""
    )


# An error message names the bad value but is never an echo of a large input.
MAX_DETAIL = 1000


def _describe_validation(error: RequestValidationError) -> str:
    """ "parameter 'limit': ..." for each invalid parameter, naming the value given."""
    parts = []
    for problem in error.errors()[:10]:
        location = [str(part) for part in problem.get("loc", ()) if part not in ("query", "body")]
        name = ".".join(location) or "request"
        given = problem.get("input")
        shown = (
            f" (got {quoted(given) if isinstance(given, str) else quoted(repr(given))})"
            if given is not None and not isinstance(given, dict)
            else ""
        )
        parts.append(f"parameter {quoted(name)}: {problem.get('msg', 'invalid')}{shown}")
    return "; ".join(parts)[:MAX_DETAIL]


def _detail(request: Request, error: StarletteHTTPException) -> str:
    """The error's message; Starlette's bare reason phrase ("Not Found") is replaced by
    one saying what was not found."""
    detail = str(error.detail)
    try:
        phrase = HTTPStatus(error.status_code).phrase
    except ValueError:
        phrase = ""
    if detail == phrase:
        if error.status_code == 404:
            detail = f"there is no page at {quoted(request.url.path)}"
        elif error.status_code == 405:
            detail = f"{request.method} is not allowed on {quoted(request.url.path)}"
    return detail[:MAX_DETAIL]


def _error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """An error as the caller reads it: JSON (with the message in ``X-Error-Message``)
    for the API and feeds, else the error page."""
    if _wants_json(request):
        return JSONResponse(
            error_body(message), status, headers=(headers or {}) | error_header(message)
        )
    response = render(request, "error.html", {"status": status, "message": message}, status)
    response.headers.update(headers or {})
    return response


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    detail = _detail(request, error)
    return _error_response(request, error.status_code, detail, dict(error.headers or {}))


def _names_no_row(error: RequestValidationError) -> bool:
    """Whether every problem is a row id in the path past what any row can have (an
    id of 2^63 names no collection or comment: not found, not a malformed request)."""
    problems = error.errors()
    return bool(problems) and all(
        problem.get("type") == "less_than_equal"
        and len(problem.get("loc", ())) == 2
        and problem["loc"][0] == "path"
        and str(problem["loc"][1]).endswith("_id")
        for problem in problems
    )


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    message = _describe_validation(error)
    status = 400
    if _names_no_row(error):
        status = 404
        message = "; ".join(
            f"no {str(problem['loc'][1]).removesuffix('_id')} {problem.get('input')} "
            f"(ids go up to {problem.get('ctx', {}).get('le', '?')})"
            for problem in error.errors()
        )[:MAX_DETAIL]
    return _error_response(request, status, message)


async def _unencodable_text(request: Request, error: Exception) -> Response:
    """400 for text no UTF-8 can carry (an unpaired surrogate, from JSON's ``"\\ud800"``)
    that reached a write no check of ours stopped: the write failed whole, so nothing
    was stored; the request, not the server, was at fault."""
    assert isinstance(error, UnicodeEncodeError)
    characters = error.object[error.start : error.end] if isinstance(error.object, str) else ""
    if not characters or not all(0xD800 <= ord(each) <= 0xDFFF for each in characters):
        raise error  # not the request's text: a fault of ours, answered 500 and logged
    codes = ", ".join(f"U+{ord(each):04X}" for each in characters)
    message = f"the request holds text that cannot be stored: the unpaired surrogate {codes}"
    return _error_response(request, 400, message)


async def _database_unavailable(request: Request, error: Exception) -> Response:
    """503 with ``Retry-After`` while the database does not answer (PostgreSQL down or
    restarting, SQLite's file locked past its timeout): the service is unavailable for a
    moment, so the answer says so, not "Internal Server Error" and a traceback."""
    assert isinstance(error, OperationalError)
    log.warning("database did not answer %s: %s", request.url.path, str(error.orig or error))
    message = "the database is not answering right now: try again in a moment"
    headers = {"Retry-After": "10", "Cache-Control": "no-store"}
    try:
        return _error_response(request, 503, message, headers)
    except SQLAlchemyError:  # the error page reads who is signed in
        return Response(message, 503, headers=headers, media_type="text/plain")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the site for ``settings`` (default: from the ``PAPERFEED_*`` environment).

    Used as a factory by ``paperfeed serve`` (``uvicorn --factory``), so each worker
    process opens its own store and index.
    """
    settings = settings or Settings.from_environment()
    configure_password_hashing(settings.argon2_parameters)
    store = Store(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.server_threads:
            # the pool that runs the (synchronous) page and API handlers of this worker
            limiter = anyio.to_thread.current_default_thread_limiter()
            limiter.total_tokens = settings.server_threads
        async with mcp.running():  # the MCP server's sessions, once a client calls
            yield
        store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="paperfeed",
        version=__version__,
        description="Daily papers, trending, hybrid search and similar papers.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.store = store
    engine = app.state.engine = SearchEngine(store, settings)
    mcp = LazyMcpEndpoint(lambda: build_mcp_server(settings, store, engine))
    app.state.templates = make_templates()
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(UnicodeEncodeError, _unencodable_text)
    app.add_exception_handler(OperationalError, _database_unavailable)
    # added first, so it runs inside the session middleware and can see who is signed in
    app.add_middleware(AnonymousPageCache, seconds=settings.page_cache_seconds)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key_of(settings),
        session_cookie="paperfeed_session",
        max_age=SESSION_SECONDS,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    # a HEAD is a GET without its body everywhere; too large a body is refused before
    # anything reads it; every answer, even those two, carries the security headers
    app.add_middleware(HttpMethods, routes=app.router.routes)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # FastAPI tries every route of every included router in order, ~2 µs each
    # (bench/route_matching.py), so the pages read most come first: the site's pages, a
    # paper's page, the API and a paper's API answer, then the rest. A route with a path
    # parameter comes after every route whose path it would take: /papers/{id:path} would
    # take /papers/{id}.md, .../comments and .../not-for-me, and /api/papers/{id:arxiv}
    # .../comments, .../not-for-me and /api/papers/search/trend. No other parameter route
    # takes a path of a router placed after it.
    for router in (
        pages.router,
        paper_markdown.router,  # /llms.txt, /papers/{id}.md
        discussion.router,
        triage.router,
        pages.paper_router,  # /papers/{id}
        api.router,
        trends.api_router,
        discussion.api_router,
        triage.api_router,
        api.paper_router,  # /api/papers/{id}
        operations_endpoints.router,  # /healthz, /readyz, /metrics: probed every few seconds
        for_you.api_router,
        for_you.router,
        cold_start.api_router,
        sync_pages.router,
        feeds.router,
        account_pages.api_router,
        account_pages.router,
        subscriptions.api_router,
        subscriptions.router,
    ):
        app.include_router(router)
    app.router.routes.append(mcp.route())  # /mcp: the MCP server over streamable HTTP
    for router in (
        discussion.feed_router,
        cold_start.router,  # /authors/{name}/mine, before people's /authors/{name:path}
        collections.api_router,
        collection_pages.router,
        admin.router,
        admin_api.router,
        admin_api.reports_router,
    ):
        app.include_router(router)
    people.install(app, store)
    install_operations(app)  # every request counted and logged

    @app.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    def api_docs(request: Request) -> HTMLResponse:
        return render(request, "api_docs.html", {"schema": _schema_for_docs(app)})

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _markdown_descriptions(_validation_is_400(default_openapi()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


_REST_LITERAL = re.compile(r"``([^`]+)``")


_SITE_ERRORS = {
    "400": "a parameter is malformed (the detail names it and the value given)",
    "401": "no valid API token or signed-in session",
    "403": "not allowed (someone else's, or a browser session without its CSRF token)",
    "404": "not found",
    "429": "too many attempts; try again later",
}


def _error_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorAnswer"}}},
    }


def _validation_is_400(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents invalid parameters as 422; this site answers them with a 400
    (``_validation_error``), so the document says 400."""
    error = {
        "description": "a parameter is malformed (the detail names it and the value given)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorAnswer"}}},
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault("400", error)
            if not any(code.startswith("4") and code != "400" for code in responses):
                # an operation that declares no errors of its own may give any of the
                # site's: not signed in, not allowed, not found, too many attempts
                for code, description in _SITE_ERRORS.items():
                    responses.setdefault(code, _error_answer(description))
            if "requestBody" in operation:
                responses.setdefault("413", _error_answer("the request body is too large"))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    components.setdefault(
        "ErrorAnswer",
        {
            "title": "ErrorAnswer",
            "type": "object",
            "properties": {
                "detail": {"title": "Detail", "type": "string"},
                "error": {"title": "Error", "type": "string"},
            },
            "required": ["detail", "error"],
        },
    )
    return schema


def _markdown_descriptions(value: Any) -> Any:
    """Docstrings use reST's ``code``; OpenAPI descriptions are CommonMark (`code`)."""
    if isinstance(value, dict):
        return {
            key: _REST_LITERAL.sub(r"`\1`", item)
            if key in ("description", "summary") and isinstance(item, str)
            else _markdown_descriptions(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_markdown_descriptions(item) for item in value]
    return value


def _schema_for_docs(app: FastAPI) -> list[dict[str, Any]]:
    """The OpenAPI operations as rows for the self-hosted docs page (no CDN assets)."""
    rows = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": parameter["name"],
                            "where": parameter["in"],
                            "required": parameter.get("required", False),
                            "description": parameter.get("description", ""),
                        }
                        for parameter in operation.get("parameters", [])
                    ],
                }
            )
    return rows
