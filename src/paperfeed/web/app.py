"""The app factory: one FastAPI app with the HTML pages, the JSON API and the feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed import __version__
from paperfeed.config import Settings, secret_key_of
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.web import (
    api,
    collections,
    discussion,
    feeds,
    for_you,
    pages,
    people,
    subscriptions,
    sync_pages,
    trends,
)
from paperfeed.web.page_cache import AnonymousPageCache
from paperfeed.web.templating import make_templates, render

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


def _describe_validation(error: RequestValidationError) -> str:
    """ "parameter 'limit': ..." for each invalid parameter, naming the value given."""
    parts = []
    for problem in error.errors():
        location = [str(part) for part in problem.get("loc", ()) if part not in ("query", "body")]
        name = ".".join(location) or "request"
        given = problem.get("input")
        shown = f" (got {given!r})" if given is not None and not isinstance(given, dict) else ""
        parts.append(f"parameter {name!r}: {problem.get('msg', 'invalid')}{shown}")
    return "; ".join(parts)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    headers = dict(error.headers or {})
    if _wants_json(request):
        return JSONResponse({"detail": error.detail}, error.status_code, headers=headers)
    response = render(
        request,
        "error.html",
        {"status": error.status_code, "message": error.detail},
        status_code=error.status_code,
    )
    response.headers.update(headers)
    return response


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    message = _describe_validation(error)
    if _wants_json(request):
        return JSONResponse({"detail": message}, 400)
    return render(request, "error.html", {"status": 400, "message": message}, status_code=400)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the site for ``settings`` (default: from the ``PAPERFEED_*`` environment).

    Used as a factory by ``paperfeed serve`` (``uvicorn --factory``), so each worker
    process opens its own store and index.
    """
    settings = settings or Settings.from_environment()
    store = Store(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
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
    app.state.engine = SearchEngine(store, settings)
    app.state.templates = make_templates()
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # added first, so it runs inside the session middleware and can see who is signed in
    app.add_middleware(AnonymousPageCache, seconds=settings.page_cache_seconds)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key_of(settings),
        session_cookie="paperfeed_session",
        max_age=30 * 24 * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # before api and pages: their /papers/{id:path} routes would swallow .../comments
    app.include_router(discussion.api_router)
    app.include_router(discussion.router)
    app.include_router(discussion.feed_router)
    app.include_router(collections.api_router)
    app.include_router(collections.router)
    # before api.router, whose /api/papers/{id:path} would take /api/papers/search/trend
    app.include_router(trends.api_router)
    app.include_router(for_you.api_router)
    app.include_router(api.router)
    app.include_router(subscriptions.api_router)
    app.include_router(subscriptions.router)
    app.include_router(feeds.router)
    app.include_router(sync_pages.router)
    app.include_router(for_you.router)
    people.install(app, store)
    app.include_router(pages.router)

    @app.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    def api_docs(request: Request) -> HTMLResponse:
        return render(request, "api_docs.html", {"schema": _schema_for_docs(app)})

    return app


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
