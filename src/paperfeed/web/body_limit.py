"""A cap on request bodies: nothing the site accepts (a form, a subscription, a vote)
comes near it, and a larger body is refused with 413 before any of it is parsed.

The import routes take a file (``MAX_IMPORT_BYTES``, 5 MB, as the README says): theirs
is that plus the small limit again, room for a multipart envelope and its form fields,
so the route itself can answer a file over 5 MB with a message naming its size."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.collections.importing import MAX_IMPORT_BYTES
from paperfeed.discussion import MAX_COMMENT_CHARACTERS
from paperfeed.web.presentation import error_body

MAX_BODY_BYTES = 64 * 1024
# a comment as long as a comment may be, in a form or in JSON escaped to ASCII: up to 12
# bytes a character ("%F0%9F%98%80", "\\ud83d\\ude00"), where 64 KiB held 7,000 in Chinese
_COMMENT_BYTES = MAX_COMMENT_CHARACTERS * 12 + MAX_BODY_BYTES
# (path pattern, limit) for the routes that take more than MAX_BODY_BYTES
ROUTE_LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^(?:/api)?/collections/[^/]+/import/?$"), MAX_IMPORT_BYTES + MAX_BODY_BYTES),
    # For you seeded from a library: the same files (the form and the API)
    (re.compile(r"^(?:/for-you|/api/for_you)/import/?$"), MAX_IMPORT_BYTES + MAX_BODY_BYTES),
    # posting and editing comments (a paper id may be a DOI, with slashes)
    (re.compile(r"^(?:/api)?/papers/.+/comments/?$"), _COMMENT_BYTES),
    (re.compile(r"^(?:/comments/\d+/edit|/api/comments/\d+)/?$"), _COMMENT_BYTES),
)


def _message(limit: int) -> str:
    return f"the request body is larger than {limit} bytes, the most this site accepts"


class BodyLimit:
    """Plain ASGI middleware: a declared ``Content-Length`` over the limit is refused at
    once; a chunked body is read up to the limit and refused as soon as it passes it."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_BODY_BYTES,
        route_limits: tuple[tuple[re.Pattern[str], int], ...] = ROUTE_LIMITS,
    ) -> None:
        self.app = app
        self.limit = limit
        self.route_limits = route_limits

    def limit_for(self, path: str) -> int:
        """The most bytes a request to ``path`` may send."""
        for pattern, limit in self.route_limits:
            if pattern.match(path):
                return limit
        return self.limit

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        if scope["path"].startswith("/api/"):
            body = json.dumps(error_body(_message(limit))).encode()
            media_type = b"application/json"
        else:
            body = (_message(limit) + "\n").encode()
            media_type = b"text/plain; charset=utf-8"
        headers = [
            (b"content-type", media_type),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = False  # the server itself refuses a malformed length
            if too_large:
                await self._refuse(scope, send, limit)
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            # no length and no chunks: no body. Any method may send chunks, a DELETE or a
            # GET too, and a route reads them (a DELETE's JSON body, 1 GB with no
            # sign-in, was read whole and parsed before the route asked who sent it)
            await self.app(scope, receive, send)
            return
        # no declared length (chunked): read it here, up to the limit, then replay it
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
