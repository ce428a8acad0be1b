"""The operations endpoints (``/healthz``, ``/readyz``, ``/metrics``) and the middleware
that counts, times and logs every request; the logic lives in ``paperfeed.operations``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.operations.health import check_readiness
from paperfeed.operations.logs import configure_logging, log_request
from paperfeed.operations.metrics import CONTENT_TYPE, exposition, make_registry, observe_request
from paperfeed.search import SearchEngine
from paperfeed.web.security import is_trusted_proxy, settings_of

router = APIRouter(include_in_schema=False)
UNMATCHED = "unmatched"  # every path no route takes: one label, so junk paths cost nothing
# any other token a client sends as a method is counted as "other" (bounded labels)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@router.get("/healthz")
def healthz() -> JSONResponse:
    """Liveness: the process answers. Touches neither the database nor the index."""
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


def _reload(engine: SearchEngine) -> None:
    """Take an index built since the last request (and the hidden papers) into account;
    a database that does not answer is for the checks to report, not a 500."""
    with contextlib.suppress(SQLAlchemyError):
        engine.reload_if_changed()


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when every check passes, else 503 naming what is not ready."""
    engine = request.app.state.engine
    _reload(engine)
    readiness = check_readiness(engine, settings_of(request))
    return JSONResponse(
        readiness.to_json(),
        status_code=200 if readiness.ready else 503,
        headers={"cache-control": "no-store"},
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """The Prometheus text exposition format."""
    _reload(request.app.state.engine)  # index sizes as the files are now
    return Response(
        exposition(request.app.state.metrics_registry),
        media_type=CONTENT_TYPE,
        headers={"cache-control": "no-store"},
    )


class RequestObserver:
    """Counts, times and logs each request by its route template (plain ASGI)."""

    def __init__(self, app: ASGIApp, routes_of: FastAPI) -> None:
        self.app = app
        self.routes_of = routes_of

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            # answered before routing (a refused body, a HEAD from the page cache): match
            # it here
            route = _first_match(self.routes_of.router.routes, scope)
        return str(getattr(route, "path", None) or UNMATCHED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            seconds = time.perf_counter() - started
            route = self._route(scope)
            method = scope["method"] if scope["method"] in METHODS else "other"
            observe_request(method, route, status, seconds)
            log_request(method, route, status, seconds)


def _first_match(routes: Sequence[BaseRoute], scope: Scope) -> BaseRoute | None:
    """The route that takes ``scope``'s path, looking inside included routers (FastAPI
    0.165 keeps each whole, as one route without a path of its own)."""
    for candidate in routes:
        match, _child = candidate.matches(scope)
        if match != Match.NONE:
            inner = getattr(candidate, "original_router", None)
            if inner is not None:
                return _first_match(inner.routes, scope) or candidate
            return candidate
    return None


class ForwardedScheme:
    """Behind a trusted proxy (``PAPERFEED_TRUSTED_PROXIES``), the request's scheme is the
    one the proxy's ``X-Forwarded-Proto`` names, so URLs built from the request say https;
    from any other peer the header is ignored. A request that arrived over HTTPS (so
    forwarded, or direct) gets its cookies marked ``Secure`` even without
    ``PAPERFEED_SECURE_COOKIES``: a browser then never sends them over plain HTTP."""

    def __init__(self, app: ASGIApp, trusted: tuple[str, ...]) -> None:
        self.app = app
        self.trusted = trusted

    def _scheme(self, scope: Scope) -> str:
        scheme = str(scope.get("scheme", "http"))
        client = scope.get("client")
        if not self.trusted or not is_trusted_proxy(client[0] if client else "", self.trusted):
            return scheme
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-proto":
                # the proxy nearest to us appends last
                proto = value.decode("latin-1").split(",")[-1].strip().lower()
                return proto if proto in ("http", "https") else scheme
        return scheme

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scheme = self._scheme(scope)
        if scheme != scope.get("scheme"):
            scope = dict(scope, scheme=scheme)
        if scheme != "https":
            await self.app(scope, receive, send)
            return

        async def send_secure_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, value + b"; secure")
                    if name.lower() == b"set-cookie" and not _is_secure(value)
                    else (name, value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_secure_cookies)


def _is_secure(cookie: bytes) -> bool:
    """Whether a Set-Cookie value carries the ``Secure`` attribute (not merely the word)."""
    return any(part.strip().lower() == b"secure" for part in cookie.split(b";")[1:])


def install_operations(app: FastAPI) -> None:
    """Add the metrics registry and the middleware that counts, times and logs requests
    to ``app`` (call after the other middleware, so the timing covers all of it). The
    app includes ``router``, the operations routes, with its other fixed paths."""
    settings = app.state.settings
    configure_logging(settings)
    app.state.metrics_registry = make_registry(app.state.engine)
    app.add_middleware(RequestObserver, routes_of=app)
    app.add_middleware(ForwardedScheme, trusted=settings.trusted_proxies)
