"""The security findings of the audit, each reproduced over real HTTP and now refused."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import httpx

from http_clients import http_client
from paperfeed.digest.rendering import link
from paperfeed.digest.subscribing import subscribe
from paperfeed.models import Paper
from paperfeed.store.subscriptions import (
    delete_subscription,
    find_subscription,
    get_subscription,
)
from running_site import LATEST_DAY, Site, csrf_of, serve

HOSTILE_LINKS = "2608.99997"


def _sign_up(client: httpx.Client, email: str, password: str = "correct horse") -> None:
    form = client.get("/signup").text
    response = client.post(
        "/signup",
        data={"email": email, "name": "Ada", "password": password, "csrf_token": csrf_of(form)},
    )
    assert response.status_code == 303, response.text


def test_only_http_links_from_data_are_stored_or_shown(site: Site, tmp_path: Path) -> None:
    """A ``javascript:`` or ``data:`` URL in a record never becomes an href."""
    record = {
        "id": HOSTILE_LINKS,
        "title": "A paper whose links are scripts",
        "abstract": "Nothing to see.",
        "authors": ["Mallory"],
        "daily_date": LATEST_DAY,
        "upvotes": 1,
        "github_repo": "javascript:alert(document.cookie)",
        "project_page": " data:text/html,<script>alert(1)</script>",
    }
    source = tmp_path / "links.jsonl"
    source.write_text(json.dumps(record) + "\n")
    from paperfeed.store.loading import ingest_sources

    ingest_sources(site.store, [source], "daily-papers-flat")
    stored = site.store.get_paper(HOSTILE_LINKS)
    assert stored is not None and stored.github_repo is None and stored.project_page is None
    # a row written before this check existed (or by another tool) is not shown either
    with site.store.engine.begin() as connection:
        from sqlalchemy import text

        connection.execute(
            text(
                "UPDATE papers SET github_repo = 'JavaScript:alert(1)', "
                "project_page = 'data:text/html,x', "
                "license = 'javascript:alert(document.domain)//' WHERE arxiv_id = :id"
            ),
            {"id": HOSTILE_LINKS},
        )
    site.store.upsert_papers(
        [
            Paper(
                "2608.99996",
                title="Fine links",
                abstract="ok",
                github_repo="https://github.com/a/b",
                daily_date=LATEST_DAY,
                sources=["test"],
            )
        ]
    )
    with site.client() as client:
        pages = [client.get("/").text, client.get(f"/papers/{HOSTILE_LINKS}").text]
        api = client.get(f"/api/papers/{HOSTILE_LINKS}").json()
        fine = client.get("/papers/2608.99996").text
    for page in pages:
        assert 'href="javascript:' not in page.lower() and "data:text" not in page
    # a licence that is no web link is shown as text, never as a link (a bioRxiv licence
    # code the reader does not know is passed through as the source gave it)
    assert "<dd>javascript:alert(document.domain)//</dd>" in pages[1]
    assert "githubRepo" not in api and "projectPage" not in api
    assert 'href="https://github.com/a/b"' in fine


def test_sign_out_and_password_change_end_sessions(site: Site) -> None:
    with site.client() as browser, site.client() as laptop:
        _sign_up(browser, "ada@example.org")
        copied = dict(browser.cookies)  # the cookie as a thief would copy it
        thief = http_client(base_url=site.url, cookies=copied)
        assert thief.get("/account").status_code == 200
        page = browser.get("/account").text
        assert browser.post("/signout", data={"csrf_token": csrf_of(page)}).status_code == 303
        assert thief.get("/account", follow_redirects=False).status_code == 303  # signed out

        # two sessions; changing the password from one ends the other
        for client in (browser, laptop):
            form = client.get("/signin").text
            signed = client.post(
                "/signin",
                data={
                    "email": "ada@example.org",
                    "password": "correct horse",
                    "csrf_token": csrf_of(form),
                },
            )
            assert signed.status_code == 303
        page = browser.get("/account").text
        wrong = browser.post(
            "/account/password",
            data={"current": "nope", "new": "a new password", "csrf_token": csrf_of(page)},
        )
        assert wrong.status_code == 400 and "current password is wrong" in wrong.text
        changed = browser.post(
            "/account/password",
            data={"current": "correct horse", "new": "a new password", "csrf_token": csrf_of(page)},
        )
        assert changed.status_code == 200 and "Password changed" in changed.text
        assert browser.get("/account").status_code == 200  # this browser stays signed in
        assert laptop.get("/account", follow_redirects=False).status_code == 303
        thief.close()


def test_large_bodies_are_refused_at_once_and_never_echoed(site: Site) -> None:
    huge = json.dumps({"email": "a" * 6_400_000 + "@example.org"})
    with site.client() as client:
        started = time.monotonic()
        refused = client.post(
            "/api/subscriptions", content=huge, headers={"Content-Type": "application/json"}
        )
        seconds = time.monotonic() - started

        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(100):
                yield b"x" * 10_000

        chunked = client.post(
            "/api/subscriptions", content=chunks(), headers={"Content-Type": "application/json"}
        )
        long_email = client.post("/api/subscriptions", json={"email": "b" * 60_000 + "@x.org"})
        # any method may send chunks: a DELETE's (or a GET's) body is capped too, before
        # a route reads it (a 1 GB DELETE /api/account with no sign-in was read whole)
        deleted = client.request(
            "DELETE", "/api/account", content=chunks(), headers={"Content-Type": "application/json"}
        )
        got = client.request("GET", "/api/papers/search?q=x", content=chunks())
    assert deleted.status_code == 413 and got.status_code == 413
    assert refused.status_code == 413 and "larger than" in refused.json()["detail"]
    assert len(refused.content) < 500 and seconds < 5
    assert chunked.status_code == 413
    assert long_email.status_code == 400 and len(long_email.content) < 1100
    assert "60006 characters" in long_email.json()["detail"]


def test_failed_sign_ins_slow_the_guesser_not_the_owner(site: Site) -> None:
    """Per (address, client): a guesser behind a trusted proxy is held off while the
    owner, from another client, signs in; a success never counts."""
    proxied = replace(site.settings, trusted_proxies=("127.0.0.1/32",))
    with serve(proxied) as url:
        with http_client(base_url=site.url) as owner:
            _sign_up(owner, "owner@example.org")
        guesser = http_client(base_url=url, headers={"X-Forwarded-For": "198.51.100.7"})
        owner = http_client(base_url=url, headers={"X-Forwarded-For": "192.0.2.10"})
        token = csrf_of(guesser.get("/signin").text)
        guesses = [
            guesser.post(
                "/signin",
                data={"email": "owner@example.org", "password": f"guess {n}", "csrf_token": token},
            )
            for n in range(7)
        ]
        assert [answer.status_code for answer in guesses] == [401] * 5 + [429, 429]
        assert int(guesses[-1].headers["Retry-After"]) > 0
        # even the right password waits, from the guessing client
        held = guesser.post(
            "/signin",
            data={"email": "owner@example.org", "password": "correct horse", "csrf_token": token},
        )
        assert held.status_code == 429
        owner_token = csrf_of(owner.get("/signin").text)
        for _ in range(3):  # the owner signs in again and again: successes never count
            answer = owner.post(
                "/signin",
                data={
                    "email": "owner@example.org",
                    "password": "correct horse",
                    "csrf_token": owner_token,
                },
            )
            assert answer.status_code == 303, answer.text
            owner_token = csrf_of(owner.get("/signin").text)
        guesser.close()
        owner.close()


def test_forwarded_for_counts_only_from_a_trusted_proxy(site: Site) -> None:
    proxied = replace(site.settings, trusted_proxies=("127.0.0.1",))
    with serve(proxied) as url, http_client(base_url=url) as client:
        # behind the proxy, each inbox and client has its own count: five a client
        statuses = [
            client.post(
                "/api/subscriptions",
                json={"email": f"reader{n}@example.org"},
                headers={"X-Forwarded-For": f"203.0.113.9, {'10.0.0.' + str(n)}"},
            ).status_code
            for n in range(6)
        ]
    assert statuses == [202] * 6  # six clients (the right-most untrusted entry), six inboxes
    with site.client() as direct:  # no trusted proxies: the header is ignored
        rotated = [
            direct.post(
                "/api/subscriptions",
                json={"email": f"other{n}@example.org"},
                headers={"X-Forwarded-For": f"10.1.1.{n}"},
            ).status_code
            for n in range(6)
        ]
    assert rotated == [202] * 5 + [429]


def test_confirmation_mails_are_capped_per_inbox(site: Site) -> None:
    proxied = replace(site.settings, trusted_proxies=("127.0.0.1",))
    with serve(proxied) as url, http_client(base_url=url) as client:
        statuses = [
            client.post(
                "/api/subscriptions",
                json={"email": address},
                headers={"X-Forwarded-For": f"10.2.0.{n}"},  # a new client each time
            ).status_code
            for n, address in enumerate(
                [f"victim+{n}@example.org" for n in range(4)]
                + ["VICTIM@Example.org", "victim+last@example.org"]
            )
        ]
    assert statuses == [202] * 5 + [429]


def test_non_ascii_addresses_are_refused_and_nothing_is_written(site: Site) -> None:
    with site.client() as client:
        refused = client.post("/api/subscriptions", json={"email": "üser@example.org"})
        idn = client.post("/api/subscriptions", json={"email": "reader@bücher.example"})
    assert refused.status_code == 400 and "üser@example.org" in refused.json()["detail"]
    assert find_subscription(site.store, "üser@example.org") is None
    assert idn.status_code == 202
    assert find_subscription(site.store, "reader@xn--bcher-kva.example") is not None


def test_old_links_never_act_on_a_new_subscription(site: Site) -> None:
    first = subscribe(site.store, "again@example.org")
    manage = link(site.settings, "/subscribe/manage", "manage", first)
    path = manage.removeprefix(site.settings.base_url)
    with site.client() as client:
        assert client.get(path).status_code == 200
        delete_subscription(site.store, first.id)
        second = subscribe(site.store, "again@example.org")
        assert second.id != first.id and get_subscription(site.store, first.id) is None
        assert client.get(path).status_code == 404
        fresh = link(site.settings, "/subscribe/manage", "manage", second)
        assert client.get(fresh.removeprefix(site.settings.base_url)).status_code == 200
