"""A running paperfeed site for the web tests: real corpus slice, real server, real HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.engine import make_url

from http_clients import http_client
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
        return http_client(base_url=self.url, timeout=30, **options)


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


# One loaded corpus per test process and per kind of settings, which each site test copies:
# loading took ~0.6 s a test (keywords and summaries for 182 papers), ~400 site tests.
_loaded_corpora: dict[tuple[object, ...], tuple[Path, str]] = {}


# Settings that loading and indexing never read: mail, serving and sign-up (the mail
# tests' SMTP port differs test by test).
_NOT_READ_BY_LOADING = frozenset(
    {
        "smtp_host",
        "smtp_port",
        "smtp_security",
        "smtp_user",
        "smtp_password",
        "smtp_ca_file",
        "mail_from",
        "digest_hour",
        "page_cache_seconds",
        "server_threads",
        "server_loop",
        "server_http",
        "secret_key",
        "secure_cookies",
        "base_url",
        "base_url_configured",
        "trusted_proxies",
        "signup",
        "invite_days",
        "log_format",
    }
)


def _corpus_key(settings: Settings) -> tuple[object, ...]:
    """What the loaded corpus depends on: every setting loading may read, but not where
    it lives (the home, the index folder and the database, of which only the kind
    matters)."""
    home = str(settings.home)
    values = []
    for field in dataclasses.fields(settings):
        if field.name in _NOT_READ_BY_LOADING:
            continue
        value = getattr(settings, field.name)
        if field.name == "database_url":
            value = str(value).split(":", 1)[0]
        elif field.name in ("home", "index_dir"):
            value = str(value).replace(home, "<home>")
        values.append((field.name, value))
    return tuple(values)


def remove_loaded_corpora() -> None:
    """Remove the folders of the corpora loaded in this test process (conftest calls it
    at the session's end: an xdist worker leaves without running ``atexit``)."""
    for template_home, _ in _loaded_corpora.values():
        shutil.rmtree(template_home, ignore_errors=True)
    _loaded_corpora.clear()


def copy_of_site_corpus(settings: Settings, folder: Path, postgres_server: Any = None) -> Store:
    """The store of ``load_site_corpus(settings, folder)``, made by copying one loaded earlier
    in this test process with the same settings: the SQLite file (by SQLite's backup) or the
    PostgreSQL database (``CREATE DATABASE ... TEMPLATE``, in place of the empty one
    ``settings.database_url`` names), and the index folder."""
    key = _corpus_key(settings)
    if key not in _loaded_corpora:
        template_home = Path(tempfile.mkdtemp(prefix="paperfeed-site-corpus-"))
        template_url = f"sqlite:///{template_home / 'paperfeed.db'}"
        if postgres_server is not None:
            name = f"paperfeed_site_corpus_{os.getpid()}_{len(_loaded_corpora)}"
            template_url = postgres_server.create_database(name)
        template_settings = dataclasses.replace(
            settings,
            home=template_home,
            index_dir=template_home / "index",
            database_url=template_url,
        )
        load_site_corpus(template_settings, folder).close()
        _loaded_corpora[key] = (template_home, template_url)
    template_home, template_url = _loaded_corpora[key]
    shutil.copytree(template_home / "index", settings.index_dir, dirs_exist_ok=True)
    if postgres_server is None:
        target = settings.database_url.removeprefix("sqlite:///")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(template_url.removeprefix("sqlite:///"))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            source.close()
            copy.close()
    else:
        name = make_url(settings.database_url).database
        template = make_url(template_url).database
        postgres_server.replace_with_copy(name, template)
    return Store(settings.database_url)


class _TestServer(uvicorn.Server):
    """uvicorn's server, seeing ``should_exit`` within 10 ms rather than its 100: each of
    ~430 site tests waited ~50 ms on average for that tick on the way out."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            await asyncio.sleep(0.01)


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
    server = _TestServer(config)
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
