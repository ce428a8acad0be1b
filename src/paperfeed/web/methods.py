"""HTTP methods every resource answers: HEAD like GET without the body, OPTIONS with the
complete ``Allow`` list, and a 405 whose ``Allow`` names every method of the path
(RFC 9110 sections 9.3.2, 9.3.7 and 15.5.6).

FastAPI routes declare only the methods they were written for, and Starlette's 405 names
the methods of the first route whose path matched, not of all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route answers for the scope's path (with HEAD and OPTIONS).

    Each method is tried against the routes as the router would (a route, a mount, or
    an included router): one that matches fully with that method is answered.
    """
    methods = set()
    for route in routes:
        if isinstance(route, Mount):  # the static files: GET (and HEAD) only
            if route.matches(dict(scope, method="GET"))[0] == Match.FULL:
                methods.add("GET")
            continue
        methods |= {
            method
            for method in _METHODS
            if route.matches(dict(scope, method=method))[0] == Match.FULL
        }
    if "GET" in methods:
        methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return methods


def _allow_header(methods: set[str]) -> bytes:
    return ", ".join(sorted(methods)).encode()


class HttpMethods:
    """Plain ASGI middleware around the app (so it sees the final response)."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            allowed = allowed_methods(self.routes, scope)
            status = 204 if allowed else 404
            headers = [(b"allow", _allow_header(allowed))] if allowed else []
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        head = method == "HEAD"
        inner = dict(scope, method="GET") if head else scope

        async def send_fixed(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                headers.append((b"allow", _allow_header(allowed_methods(self.routes, scope))))
                message = dict(message, headers=headers)
            if head and message["type"] == "http.response.body":
                message = dict(message, body=b"")
            await send(message)

        await self.app(inner, receive, send_fixed)
