"""Issue 19 item 6: parallel wrong passwords for one address are counted before the hash."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from running_site import Site, csrf_of

GUESSES = 40


def _sign_up(client: httpx.Client, email: str, password: str) -> None:
    form = client.get("/signup").text
    response = client.post(
        "/signup",
        data={"email": email, "name": "Ada", "password": password, "csrf_token": csrf_of(form)},
    )
    assert response.status_code == 303, response.text


def _guess(site: Site, cookies: dict[str, str], token: str, password: str) -> int:
    with httpx.Client(base_url=site.url, cookies=cookies, timeout=60) as client:
        answer = client.post(
            "/signin",
            data={"email": "target@example.org", "password": password, "csrf_token": token},
        )
        return answer.status_code


def test_forty_parallel_wrong_passwords_check_at_most_five(site: Site) -> None:
    with site.client() as owner:
        _sign_up(owner, "target@example.org", "correct horse battery")
    with site.client() as guesser:
        token = csrf_of(guesser.get("/signin").text)
        cookies = dict(guesser.cookies)
    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        statuses = list(
            pool.map(lambda n: _guess(site, cookies, token, f"guess {n}"), range(GUESSES))
        )
    checked = statuses.count(401)  # "wrong email or password": the hash was checked
    refused = statuses.count(429)
    print(f"\n{GUESSES} parallel wrong sign-ins: {checked} checked, {refused} refused (429)")
    assert checked + refused == GUESSES, statuses
    assert checked <= 5, statuses
    # the right password from the guessing client waits too, until the window passes
    started = time.monotonic()
    assert _guess(site, cookies, token, "correct horse battery") == 429
    assert time.monotonic() - started < 5  # refused without queueing behind the hashes
