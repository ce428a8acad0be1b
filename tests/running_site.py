"""A running paperfeed site for the web tests: real corpus slice, real server, real HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.store import Store
from paperfeed.store.loading import ingest_sources
from paperfeed.web import create_app
from paperfeed.web.serving import UVICORN_OPTIONS

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LATEST_DAY = "2026-08-21"
XSS_ID = "2608.99999"
XSS_TITLE = "<script>alert(1)</script> Attention Is Not Escaped"
ARXIV_ONLY_ID = "2503.11677"  # from cli_arxiv_sample.jsonl: stored, on no daily list


@dataclass
class Site:
    """A server on a free loopback port and the store behind it."""

    url: str
    settings: Settings
    store: Store

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **options)  # type: ignore[arg-type]


def load_site_corpus(settings: Settings, folder: Path) -> Store:
    """Ingest the fixture papers plus the hostile title, and index them."""
    hostile = {
        "id": XSS_ID,
        "title": XSS_TITLE,
        "abstract": 'An abstract with <b>markup</b> & "quotes" <img src=x onerror=alert(2)>.',
        "authors": ["Mallory <Evil>", "Eve"],
        "daily_date": LATEST_DAY,
        "upvotes": 1,
    }
    extra = folder / "hostile.jsonl"
    extra.write_text(json.dumps(hostile) + "\n")
    store = Store(settings.database_url)
    ingest_sources(store, [FIXTURES / "site_daily_papers.jsonl", extra], "daily-papers-flat")
    ingest_sources(store, [FIXTURES / "cli_arxiv_sample.jsonl"], "arxiv-listing")
    update_index(store, settings, show_progress=False)
    return store


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Run ``create_app(settings)`` under uvicorn in a thread; yields its base URL."""
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        **UVICORN_OPTIONS,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def csrf_of(html: str) -> str:
    """The CSRF token of a page's first form."""
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def free_port() -> int:
    """A TCP port nothing on loopback listens on right now (for a server a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
