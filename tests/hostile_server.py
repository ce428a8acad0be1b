"""A misbehaving OAI-PMH / daily-papers server on loopback, for the sync's defences.

Each ``mode`` is one way a real server (broken, overloaded or hostile) has been seen to
behave; the answers are otherwise in the real wire formats (``replay_server``):

- ``token-loop``: every ``ListRecords`` page holds the same records and the same token.
- ``empty-pages``: every page is empty but sends a new token, forever.
- ``fresh-tokens``: every page holds the same records and a new token, forever.
- ``drip-body``: a 200 whose body (``Content-Length`` 2,000) comes at one byte a second.
- ``drip-headers``: the status line and headers come at one byte a second.
- ``retry-after``: always ``503`` with ``Retry-After: {retry_after}``.
- ``redirect``: a ``302`` to ``redirect_to`` (another host, or a path on this one).
- ``records``: a normal one-page answer (the target of a same-host redirect).

``/api/daily_papers`` answers ``day_body`` in every mode but the drips, 503 and redirect.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from replay_server import OAI_HEAD, LoopbackServer, record_xml, serve_on_loopback


@dataclass
class Hostile:
    mode: str
    records: list[dict[str, Any]] = field(default_factory=list)
    retry_after: str = "600"
    redirect_to: str = ""
    day_body: bytes = b"[]"
    requests: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _counter: int = 0

    def next_number(self) -> int:
        self._counter += 1
        return self._counter


def oai_page(records: list[dict[str, Any]], token: str | None) -> bytes:
    resumption = f"<resumptionToken>{token}</resumptionToken>" if token else "<resumptionToken/>"
    return (
        OAI_HEAD
        + "<responseDate>2026-07-02T20:00:00Z</responseDate>\n"
        + '<request verb="ListRecords">https://oaipmh.arxiv.org/oai</request>\n'
        + "<ListRecords>\n"
        + "".join(record_xml(record) for record in records)
        + resumption
        + "\n</ListRecords>\n</OAI-PMH>\n"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        hostile = self.server.state
        hostile.requests.append(f"{self.headers.get('Host', '')}{self.path}")
        mode = hostile.mode
        path = urllib.parse.urlsplit(self.path).path
        if mode == "drip-headers":
            self._drip(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\nhello"
            )
            return
        if mode == "drip-body":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2000")
            self.end_headers()
            self._drip(b"[" + b" " * 1998 + b"]")
            return
        if mode == "retry-after":
            self._send(503, b"busy", "text/plain", (("Retry-After", hostile.retry_after),))
            return
        if mode == "redirect" and path != "/elsewhere/oai":
            self._send(302, b"", "text/plain", (("Location", hostile.redirect_to),))
            return
        if path.endswith("/api/daily_papers"):
            self._send(200, hostile.day_body, "application/json")
            return
        number = hostile.next_number()
        token = {
            "token-loop": "loop-0",
            "empty-pages": f"empty-{number}",
            "fresh-tokens": f"fresh-{number}",
        }.get(mode)
        records = [] if mode == "empty-pages" else hostile.records
        self._send(200, oai_page(records, token), "text/xml; charset=utf-8")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, data: bytes) -> None:
        self.close_connection = True
        for position in range(len(data)):
            if self.server.state.stop.is_set():
                return
            try:
                self.wfile.write(data[position : position + 1])
                self.wfile.flush()
            except OSError:
                return  # the client gave up: what we want
            time.sleep(1.0)


@contextmanager
def serve_hostile(hostile: Hostile) -> Iterator[str]:
    """Serve ``hostile`` on a free loopback port; yields ``http://127.0.0.1:PORT``."""
    with serve_on_loopback(_Handler, hostile, hostile.stop.set) as base:
        yield base
