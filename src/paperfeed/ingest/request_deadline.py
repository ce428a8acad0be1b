"""One HTTP GET that ends by a deadline, whatever the server does, and stays on its host.

A socket timeout bounds each read, not the answer: a server that drips a byte a second
keeps every read alive forever. Here a timer shuts the connection's sockets down when
the deadline passes, which ends any blocked ``connect``, header read or body read at
once (``shutdown`` wakes a thread blocked in ``recv`` on Linux and macOS), and the
request fails with "no complete answer within N s".

Redirects are followed only within the host asked (arXiv moves ``http`` to ``https``
and paths around); one to another host is refused, so a compromised or misconfigured
mirror cannot send the harvester to an address nobody configured.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import IO, Any


class RedirectRefused(urllib.error.URLError):
    """A redirect to another host (or from https down to http) was not followed."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(reason)
        self.target = target


class Deadline:
    """Shuts down every socket it tracks once ``seconds`` have passed since ``start``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shut(sock)
            self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # already closed, or detached by the TLS layer (its wrapper is tracked too): fine
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _tracked(base: type[http.client.HTTPConnection], deadline: Deadline) -> Any:
    """``base`` with every socket it opens (the TCP one, then its TLS wrapper) tracked."""

    class Connection(base):  # type: ignore[valid-type,misc]
        def __init__(self, *arguments: Any, **options: Any) -> None:
            super().__init__(*arguments, **options)
            # an instance attribute (socket.create_connection) set by HTTPConnection.__init__
            create: Callable[..., socket.socket] = vars(self)["_create_connection"]

            def create_tracked(*args: Any, **kwargs: Any) -> socket.socket:
                sock = create(*args, **kwargs)
                deadline.track(sock)
                return sock

            self._create_connection = create_tracked

        def connect(self) -> None:
            super().connect()
            if self.sock is not None:
                deadline.track(self.sock)

    return Connection


class _HttpHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_tracked(http.client.HTTPConnection, self._deadline), req)


class _HttpsHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _tracked(http.client.HTTPSConnection, self._deadline),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        old = urllib.parse.urlsplit(req.full_url)
        new = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl))
        if (new.hostname or "").lower() != (old.hostname or "").lower():
            raise RedirectRefused(
                newurl,
                f"HTTP {code} redirects to another host ({new.hostname}: {newurl}), "
                "not followed; set the source's URL to that address if it is right",
            )
        if old.scheme == "https" and new.scheme != "https":
            raise RedirectRefused(newurl, f"HTTP {code} redirects from https to {newurl}, refused")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def open_with_deadline(
    request: urllib.request.Request, deadline: Deadline
) -> http.client.HTTPResponse:
    """Open ``request`` through handlers whose sockets ``deadline`` can shut down.

    The caller starts the deadline before this and cancels it once the body is read.
    Proxies from the environment (``https_proxy`` …) still apply: ``build_opener``
    keeps its default ``ProxyHandler``.
    """
    opener = urllib.request.build_opener(
        _HttpHandler(deadline), _HttpsHandler(deadline), _SameHostRedirects()
    )
    response: http.client.HTTPResponse = opener.open(request, timeout=deadline.seconds)
    return response
