"""``paperfeed serve`` as a user runs it: a real process with worker processes."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from http_clients import http_client, http_get
from paperfeed.config import Settings
from paperfeed.digest.subscribing import subscribe
from paperfeed.models import Paper
from paperfeed.store import Store
from paperfeed.store.subscriptions import confirm_subscription
from running_site import csrf_of, free_port, load_site_corpus


def _connections_held_by_children(parent: int, port: int) -> dict[int, int]:
    """Established connections to ``port`` by the worker process holding them (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    held: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != parent:
                continue
            links = [os.readlink(fd) for fd in (stat.parent / "fd").iterdir()]
        except (OSError, ValueError):
            continue
        held[int(stat.parent.name)] = sum(link[8:-1] in inodes for link in links)
    return held


def test_serve_with_two_workers_answers_and_stops_cleanly(
    settings: Settings, paperfeed_home: Path
) -> None:
    folder = paperfeed_home.parent / "corpus"
    folder.mkdir()
    load_site_corpus(settings, folder).close()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "serve", "--port", str(port), "--workers", "2"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = http_get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "the server did not answer in 60 s"
                time.sleep(0.2)
        assert response.status_code == 200 and "EnvHarness" in response.text
        with http_client(base_url=f"http://127.0.0.1:{port}") as client:
            statuses = {client.get("/api/papers/2608.19880").status_code for _ in range(20)}
            # links follow the port it serves on when PAPERFEED_BASE_URL is unset
            feed = client.get("/rss/daily").text
            head = client.head("/")
            # X-Forwarded-For from a loopback peer is not believed (no trusted proxies):
            # rotating it does not make a new client for the sign-in throttle
            token = csrf_of(client.get("/signin").text)
            tries = [
                client.post(
                    "/signin",
                    data={"email": "owner@example.org", "password": "guess", "csrf_token": token},
                    headers={"X-Forwarded-For": f"203.0.113.{number}"},
                ).status_code
                for number in range(7)
            ]
        # eight keep-alive clients at once: the parent hands them out four and four
        clients = [http_client(base_url=f"http://127.0.0.1:{port}") for _ in range(8)]
        try:
            assert {c.get("/api/papers/2608.19880").status_code for c in clients} == {200}
            if sys.platform == "linux":
                held = _connections_held_by_children(server.pid, port)
                assert sorted(held.values()) == [4, 4], held
        finally:
            for open_client in clients:
                open_client.close()
        assert statuses == {200}
        assert f"<link>http://127.0.0.1:{port}/papers/" in feed and ":8000/" not in feed
        assert head.status_code == 200 and head.content == b""
        assert tries[:5] == [401] * 5 and tries[5:] == [429, 429]
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    assert f"paperfeed on http://127.0.0.1:{port}/ with 2 worker(s), {loop} and {parser}" in output


def test_serve_names_a_port_in_use(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "paperfeed.cli", "serve", "--port", str(port)],
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_sends_due_digests_on_its_schedule(
    settings: Settings, paperfeed_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    received: list[bytes] = []

    class Inbox:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
            received.append(envelope.content)
            return "250 OK"

    smtp_port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    store = Store(settings.database_url)
    store.upsert_papers(
        [Paper("2611.00001", "Scheduled papers arrive", "An abstract.", ["A. Author"],
               daily_date=yesterday, upvotes=3, sources=["daily-papers-flat"])]
    )  # fmt: skip
    confirm_subscription(store, subscribe(store, "early@example.org", "daily", "UTC").id)
    store.close()
    monkeypatch.setenv("PAPERFEED_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERFEED_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("PAPERFEED_DIGEST_HOUR", "0")  # every local hour is past midnight
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "serve", "--port", str(port)],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not received and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
        controller.stop()
    assert len(received) == 1, output
    assert f"Subject: Daily papers {yesterday}: 1 paper".encode() in received[0]
    assert "digests go out at 0:00" in output
