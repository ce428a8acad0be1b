"""A short-lived cache of the pages anonymous visitors see (micro-caching).

The daily list, trending, search pages, search JSON and feeds are the same for every
visitor who is not signed in, so for ``seconds`` after one is rendered the same bytes
are served again without running the search or the templates. Signed-in visitors
(their own votes are marked), API token holders and anything but GET/HEAD always get a
fresh answer; a cached answer never carries a cookie. The price is that an anonymous
visitor may see an upvote count up to ``seconds`` old.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHEABLE_PATHS = (
    "/",
    "/trending",
    "/new",
    "/search",
    "/api/search",
    "/api/papers/search",
    "/api/daily_papers",
)
CACHEABLE_PREFIXES = ("/rss/",)
MAX_ENTRIES = 1024
# ...and at most this many bytes of pages: a month page is ~900 KB, so 1,024 entries
# alone could hold most of a gigabyte
MAX_BYTES = 64 * 1024 * 1024
_Key = tuple[str, str, bytes]  # method, path, query string
_Entry = tuple[float, Message, bytes, object]  # stored at, response start, body, route


class AnonymousPageCache:
    """ASGI middleware; must run inside the session middleware (it reads the session)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._bytes = 0

    def _cacheable(self, scope: Scope) -> bool:
        if self.seconds <= 0 or scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return False
        path: str = scope["path"]
        if path not in CACHEABLE_PATHS and not path.startswith(CACHEABLE_PREFIXES):
            return False
        if any(name == b"authorization" for name, _ in scope["headers"]):
            return False
        session = scope.get("session") or {}
        return "session" not in session  # the signed-in keep their session token there

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        key = (scope["method"], scope["path"], scope["query_string"])
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is not None and now - entry[0] < self.seconds:
            _, start, body, route = entry
            if route is not None:
                # the route that made the page, as routing would have set it: the request
                # is counted and logged under it (operations_endpoints.RequestObserver)
                scope["route"] = route
            tag = _header(start["headers"], b"etag")
            asked = _header(scope["headers"], b"if-none-match")
            if tag is not None and asked is not None and names_tag(asked, tag):
                # the reader has this version (a feed's ETag): no body, as the route says
                start, body = (
                    {**start, "status": 304, "headers": [(b"etag", tag.encode("latin-1"))]},
                    b"",
                )
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        captured: dict[str, Message] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["start"] = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._store(
                        key, captured.get("start"), b"".join(chunks), now, scope.get("route")
                    )
            await send(message)

        await self.app(scope, receive, capture)

    def _store(
        self, key: _Key, start: Message | None, body: bytes, now: float, route: object
    ) -> None:
        if start is None or start["status"] != 200:
            return
        if len(body) > MAX_BYTES // 8:
            return
        headers = [(n, v) for n, v in start.get("headers", []) if n.lower() != b"set-cookie"]
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= _size(previous)
        entry = (now, {**start, "headers": headers}, body, route)
        self._entries[key] = entry
        self._bytes += _size(entry)
        while len(self._entries) > MAX_ENTRIES or self._bytes > MAX_BYTES:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= _size(dropped)


def names_tag(if_none_match: str, tag: str) -> bool:
    """An ``If-None-Match`` value names ``tag``: one of the tags it lists, or ``*``
    (RFC 9110, 13.1.2)."""
    asked = if_none_match.strip()
    return asked == "*" or tag in {value.strip() for value in asked.split(",")}


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of the header ``name`` (lower case) in raw ASGI headers."""
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _size(entry: _Entry) -> int:
    """The body and the headers, plus the entry's own objects (~1 KB)."""
    headers = entry[1].get("headers", [])
    return len(entry[2]) + sum(len(name) + len(value) for name, value in headers) + 1024
