"""Issue 19 item 6: parallel wrong passwords for one address are counted before the hash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from account_helpers import sign_up as sign_up_on_page
from http_clients import http_client, http_get
from paperfeed.accounts import RateLimitedError, sign_in, sign_up
from paperfeed.config import Settings
from paperfeed.store import Store
from running_site import Site, csrf_of, free_port, load_site_corpus

GUESSES = 40


def _guess(site: Site, cookies: dict[str, str], token: str, password: str) -> int:
    with http_client(base_url=site.url, cookies=cookies, timeout=60) as client:
        answer = client.post(
            "/signin",
            data={"email": "target@example.org", "password": password, "csrf_token": token},
        )
        return answer.status_code


def _sign_up_and_guess_in_parallel(site: Site) -> tuple[list[int], dict[str, str], str]:
    """Sign the target up, then send ``GUESSES`` wrong passwords at once from one client:
    the statuses, and that client's cookies and CSRF token."""
    with site.client() as owner:
        sign_up_on_page(owner, "target@example.org", "correct horse battery")
    with site.client() as guesser:
        token = csrf_of(guesser.get("/signin").text)
        cookies = dict(guesser.cookies)
    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        statuses = list(
            pool.map(lambda n: _guess(site, cookies, token, f"guess {n}"), range(GUESSES))
        )
    return statuses, cookies, token


def test_forty_parallel_wrong_passwords_check_at_most_five(site: Site) -> None:
    statuses, cookies, token = _sign_up_and_guess_in_parallel(site)
    checked = statuses.count(401)  # "wrong email or password": the hash was checked
    refused = statuses.count(429)
    print(f"\n{GUESSES} parallel wrong sign-ins: {checked} checked, {refused} refused (429)")
    assert checked + refused == GUESSES, statuses
    assert checked <= 5, statuses
    # the right password from the guessing client waits too, until the window passes
    started = time.monotonic()
    assert _guess(site, cookies, token, "correct horse battery") == 429
    assert time.monotonic() - started < 5  # refused without queueing behind the hashes


def test_two_worker_processes_share_one_count(
    database_url: str, paperfeed_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``paperfeed serve --workers 2``: guesses spread over both processes still get at
    most the five free checks, since the count lives in the database."""
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    settings = Settings.from_environment()
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
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                http_get(url + "/signin", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "the server did not answer in 60 s"
                time.sleep(0.2)
        site = Site(url, settings, Store(database_url))
        statuses, _cookies, _token = _sign_up_and_guess_in_parallel(site)
        site.store.close()
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    print(f"\n2 workers: {statuses.count(401)} checked, {statuses.count(429)} refused (429)")
    assert statuses.count(401) + statuses.count(429) == GUESSES, (statuses, output[-2000:])
    assert statuses.count(401) <= 5, statuses


def test_the_right_password_waits_out_the_window(site: Site) -> None:
    """Library level, with the clock given: after 5 failures even the right password is
    refused for 30 s, then accepted (and a success clears the count)."""
    sign_up(site.store, "patient@example.org", "correct horse battery")
    start = time.time()
    for n in range(5):
        assert (
            sign_in(site.store, "patient@example.org", f"wrong {n}", "198.51.100.1", start) is None
        )
    with pytest.raises(RateLimitedError) as caught:
        sign_in(
            site.store, "patient@example.org", "correct horse battery", "198.51.100.1", start + 29
        )
    assert caught.value.retry_after >= 1
    user = sign_in(
        site.store, "PATIENT@example.org.", "correct horse battery", "198.51.100.1", start + 31
    )
    assert user is not None and user.email == "patient@example.org"
    assert (
        sign_in(site.store, "patient@example.org", "wrong again", "198.51.100.1", start + 32)
        is None
    )
