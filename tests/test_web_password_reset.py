"""Password reset by mail over real HTTP and a real SMTP server (issue 18 item 3)."""

from __future__ import annotations

import time
from dataclasses import replace

import httpx
from sqlalchemy import update

from account_helpers import (
    Inbox,
    header_of,
    make_token,
    reset_path,
    sign_in,
    sign_up,
    smtp_server,
)
from http_clients import http_client
from paperfeed import administration
from paperfeed.administration import Actor
from paperfeed.store import schema
from running_site import Site, csrf_of, serve

OLD, NEW = "correct horse battery", "a brand new passphrase"


def _ask(client: httpx.Client, email: str) -> httpx.Response:
    form = client.get("/forgot-password").text
    return client.post("/forgot-password", data={"email": email, "csrf_token": csrf_of(form)})


def _set(client: httpx.Client, path: str, password: str) -> httpx.Response:
    form = client.get(path)
    assert form.status_code == 200, form.text
    token = path.split("token=", 1)[1]
    return client.post(
        "/reset-password",
        data={"token": token, "new": password, "csrf_token": csrf_of(form.text)},
    )


def test_a_forgotten_password_is_reset_by_mail(site: Site) -> None:
    inbox = Inbox(delay=3.0)  # a slow mail server: the answer must not wait for it
    with smtp_server(inbox) as port:
        mailing = replace(site.settings, smtp_host="127.0.0.1", smtp_port=port)
        with serve(mailing) as url:
            with http_client(base_url=url) as owner, http_client(base_url=url) as laptop:
                sign_up(owner, "ada@example.org", OLD)
                token = make_token(owner)
                assert sign_in(laptop, "ada@example.org", OLD).status_code == 303
            with http_client(base_url=url) as visitor:
                assert 'href="/forgot-password">Forgot password?' in visitor.get("/signin").text
                known = _ask(visitor, "Ada@Example.org.")  # another spelling of the address
                # the answer came before the mail server had taken the mail (it holds each
                # one 3 s): the look-up and the mail run after the answer, so it does not
                # wait for the mail server. An order, not a duration: only a test process
                # stalled for 3 s between the answer and this line could miss it.
                assert inbox.messages == []
                unknown = _ask(visitor, "nobody@example.org")
                # the same answer
                assert known.status_code == unknown.status_code == 200
                assert known.text.replace("Ada@Example.org.", "X") == unknown.text.replace(
                    "nobody@example.org", "X"
                )
                inbox.wait_for(1)
                time.sleep(2)  # nothing else arrives: the unknown address got no mail
                assert len(inbox.messages) == 1
                recipients, raw = inbox.messages[0]
                assert recipients == ["ada@example.org"]
                assert header_of(raw, "Subject") == "Reset your paperfeed password"
                path = reset_path(raw)

                # too short a password keeps the link usable
                short = _set(visitor, path, "short")
                assert short.status_code == 400 and "at least 8" in short.text
                done = _set(visitor, path, NEW)
                assert done.status_code == 200 and "Password changed" in done.text

                # the link is dead: reused, it says so
                again = visitor.get(path)
                assert again.status_code == 400 and "used already" in again.text
                reused = visitor.post(
                    "/reset-password",
                    data={
                        "token": path.split("token=", 1)[1],
                        "new": "yet another passphrase",
                        "csrf_token": csrf_of(visitor.get("/forgot-password").text),
                    },
                )
                assert reused.status_code == 400 and "used already" in reused.text

            # every old session and API token ended; only the new password signs in
            with http_client(base_url=url) as anyone:
                assert laptop.cookies  # (the laptop's cookie, kept from before)
                stale = http_client(base_url=url, cookies=dict(laptop.cookies))
                assert stale.get("/account", follow_redirects=False).status_code == 303
                stale.close()
                bearer = {"Authorization": f"Bearer {token}"}
                assert anyone.get("/api/account/export", headers=bearer).status_code == 401
                assert sign_in(anyone, "ada@example.org", OLD).status_code == 401
                assert sign_in(anyone, "ada@example.org", NEW).status_code == 303
                assert anyone.get("/account").status_code == 200


def test_expired_forged_and_superseded_links_are_refused(site: Site) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        mailing = replace(site.settings, smtp_host="127.0.0.1", smtp_port=port)
        with serve(mailing) as url, http_client(base_url=url) as client:
            sign_up(client, "bob@example.org", OLD)
            assert _ask(client, "bob@example.org").status_code == 200
            inbox.wait_for(1)
            first = reset_path(inbox.messages[0][1])
            # an hour passes: the stored expiry is what the server goes by
            with site.store.engine.begin() as connection:
                connection.execute(
                    update(schema.password_resets).values(expires_at=time.time() - 1)
                )
            expired = client.get(first)
            assert expired.status_code == 400 and "has expired" in expired.text
            forged = client.get(first[:-6] + "AAAAAA")
            assert forged.status_code == 400 and "not valid" in forged.text
            assert client.get("/reset-password").status_code == 400
            # a password change ends every link mailed before it
            assert _ask(client, "bob@example.org").status_code == 200
            inbox.wait_for(2)
            second = reset_path(inbox.messages[1][1])
            assert client.get(second).status_code == 200
            page = client.get("/account").text
            changed = client.post(
                "/account/password",
                data={"current": OLD, "new": NEW, "csrf_token": csrf_of(page)},
            )
            assert changed.status_code == 200
            ended = client.get(second)
            assert ended.status_code == 400 and "no longer valid" in ended.text
        assert sign_in(http_client(base_url=site.url), "bob@example.org", NEW).status_code == 303


def test_a_disabled_account_gets_no_reset_link_and_loses_the_ones_it_had(site: Site) -> None:
    """A reset would not let a disabled account sign in: disabling ends its links, and a
    request for a new one is answered as for an unknown address, with no mail."""
    inbox = Inbox()
    with smtp_server(inbox) as port:
        mailing = replace(site.settings, smtp_host="127.0.0.1", smtp_port=port)
        with serve(mailing) as url, http_client(base_url=url) as client:
            sign_up(client, "carol@example.org", OLD)
            assert _ask(client, "carol@example.org").status_code == 200
            inbox.wait_for(1)
            mailed = reset_path(inbox.messages[0][1])
            carol = administration.find_user(site.store, "carol@example.org")
            administration.disable(site.store, Actor.command_line(), carol)
            ended = client.get(mailed)
            assert ended.status_code == 400 and "no longer valid" in ended.text
            asked = _ask(client, "carol@example.org")
            unknown = _ask(client, "nobody@example.org")
            assert asked.status_code == unknown.status_code == 200
            assert asked.text.replace("carol@", "X@") == unknown.text.replace("nobody@", "X@")
            time.sleep(1.5)  # nothing arrives
            assert len(inbox.messages) == 1
            disabled = administration.find_user(site.store, "carol@example.org")
            administration.enable(site.store, Actor.command_line(), disabled)
            assert _ask(client, "carol@example.org").status_code == 200
            inbox.wait_for(2)
            assert _set(client, reset_path(inbox.messages[1][1]), NEW).status_code == 200
        assert sign_in(http_client(base_url=site.url), "carol@example.org", NEW).status_code == 303


def test_reset_requests_are_limited_per_inbox_and_per_client(site: Site) -> None:
    proxied = replace(site.settings, trusted_proxies=("127.0.0.1",))
    with serve(proxied) as url, http_client(base_url=url) as client:
        form = csrf_of(client.get("/forgot-password").text)
        per_inbox = [
            client.post(
                "/forgot-password",
                data={"email": spelling, "csrf_token": form},
                headers={"X-Forwarded-For": f"10.3.0.{n}"},  # a new client each time
            ).status_code
            for n, spelling in enumerate(
                ["eve@example.org", "EVE@example.org.", '"eve"@example.org', "eve+x@example.org"]
            )
        ]
        assert per_inbox == [200, 200, 200, 429]
        per_client = [
            client.post(
                "/forgot-password",
                data={"email": f"user{n}@example.org", "csrf_token": form},
                headers={"X-Forwarded-For": "10.4.0.1"},
            )
            for n in range(11)
        ]
        assert [a.status_code for a in per_client] == [200] * 10 + [429]
        assert int(per_client[-1].headers["Retry-After"]) > 0
        assert "too many password-reset requests" in per_client[-1].text


def test_a_password_change_revokes_api_tokens(site: Site) -> None:
    with site.client() as browser, site.client() as script:
        sign_up(browser, "tok@example.org", OLD)
        token = make_token(browser)
        bearer = {"Authorization": f"Bearer {token}"}
        assert script.post("/api/papers/2608.19880/upvote", headers=bearer).status_code == 200
        page = browser.get("/account").text
        changed = browser.post(
            "/account/password", data={"current": OLD, "new": NEW, "csrf_token": csrf_of(page)}
        )
        assert changed.status_code == 200 and "API tokens have ended" in changed.text
        refused = script.delete("/api/papers/2608.19880/upvote", headers=bearer)
        assert refused.status_code == 401
        assert browser.get("/account").status_code == 200  # this browser stays signed in
