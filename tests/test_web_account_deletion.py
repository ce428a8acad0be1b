"""Deleting one's account and downloading one's data, over real HTTP (issue 18 item 3)."""

from __future__ import annotations

import html

import httpx
from click.testing import CliRunner
from sqlalchemy import select

from account_helpers import make_token, sign_in, sign_up
from http_clients import http_client
from paperfeed.cli import main
from paperfeed.store import schema
from running_site import Site, csrf_of

PAPER = "2608.19880"
OTHER = "2608.20335"
PASSWORD = "correct horse battery"


def _upvotes(client: httpx.Client, arxiv_id: str) -> int:
    return int(client.get(f"/api/papers/{arxiv_id}").json()["upvotes"])


def _fill_account(site: Site, browser: httpx.Client, email: str) -> tuple[str, int]:
    """Sign up and leave traces everywhere; returns the API token and a thread's id."""
    sign_up(browser, email, PASSWORD)
    token = make_token(browser)
    api = http_client(base_url=site.url, headers={"Authorization": f"Bearer {token}"})
    assert api.post(f"/api/papers/{PAPER}/upvote").json()["upvoted"] is True
    thread = api.post(f"/api/papers/{PAPER}/comments", json={"text": "A thread of mine"})
    assert thread.status_code == 201
    alone = api.post(f"/api/papers/{OTHER}/comments", json={"text": "A lone remark"})
    assert alone.status_code == 201
    collection = api.post("/api/collections", json={"name": "Reading group"}).json()["id"]
    assert api.post(f"/api/collections/{collection}/papers", json={"id": OTHER}).status_code == 200
    subscribed = api.post(
        "/api/subscriptions", json={"email": email, "topics": [{"query": "agents"}]}
    )
    assert subscribed.status_code == 202, subscribed.text
    api.close()
    return token, int(thread.json()["id"])


def test_the_owner_downloads_then_deletes_the_account(site: Site) -> None:
    with site.client() as browser, site.client() as friend, site.client() as anonymous:
        before = _upvotes(anonymous, PAPER)
        token, thread_id = _fill_account(site, browser, "leaving@example.org")
        assert _upvotes(anonymous, PAPER) == before + 1
        sign_up(friend, "friend@example.org", PASSWORD)
        reply = friend.post(
            f"/api/papers/{PAPER}/comments",
            json={"text": "A reply that stays", "parent": thread_id},
            headers={"X-CSRF-Token": csrf_of(friend.get("/account").text)},
        )
        assert reply.status_code == 201, reply.text

        # the download: everything of the account, never the password hash
        account_page = browser.get("/account").text
        assert 'href="/account/export"' in account_page and "Delete my account" in account_page
        download = browser.get("/account/export")
        assert download.status_code == 200
        assert "attachment" in download.headers["content-disposition"]
        data = download.json()
        assert data["account"]["email"] == "leaving@example.org"
        assert "password" not in download.text and "argon2" not in download.text
        assert [vote["paper"] for vote in data["votes"]] == [PAPER]
        assert sorted(c["text"] for c in data["comments"]) == ["A lone remark", "A thread of mine"]
        assert [c["name"] for c in data["collections"]] == ["Reading group"]
        assert [p["paper"] for p in data["collections"][0]["papers"]] == [OTHER]
        # the digest subscription it made, signed in with its own address, is its own
        assert [
            (sub["email"], sub["frequency"], [topic["query"] for topic in sub["topics"]])
            for sub in data["subscriptions"]
        ] == [("leaving@example.org", "daily", ["agents"])]
        assert data["account"]["api_tokens"][0]["label"] == "script"
        by_token = anonymous.get(
            "/api/account/export", headers={"Authorization": f"Bearer {token}"}
        )
        assert by_token.json()["votes"] == data["votes"]
        assert anonymous.get("/api/account/export").status_code == 401

        # a wrong password deletes nothing
        page = browser.get("/account").text
        wrong = browser.post(
            "/account/delete", data={"password": "not it at all", "csrf_token": csrf_of(page)}
        )
        assert wrong.status_code == 403 and "nothing was deleted" in wrong.text
        assert _upvotes(anonymous, PAPER) == before + 1
        gone = browser.post(
            "/account/delete", data={"password": PASSWORD, "csrf_token": csrf_of(page)}
        )
        assert gone.status_code == 200 and "Account deleted" in gone.text
        from paperfeed.store.subscriptions import find_subscription

        assert find_subscription(site.store, "leaving@example.org") is None

        # the vote is taken back; the thread keeps its reply under "[deleted]"
        assert _upvotes(anonymous, PAPER) == before
        threads = anonymous.get(f"/api/papers/{PAPER}/comments").json()["threads"]
        mine = next(t for t in threads if t["id"] == thread_id)
        assert mine["deleted"] and mine["author"] is None and mine["text"] == ""
        assert [r["text"] for r in mine["replies"]] == ["A reply that stays"]
        assert "[deleted]" in anonymous.get(f"/papers/{PAPER}").text
        others = anonymous.get(f"/api/papers/{OTHER}/comments").json()["threads"]
        assert all(t["text"] != "A lone remark" for t in others)
        # no session, no token, no sign-in; the address is free again
        assert browser.get("/account", follow_redirects=False).status_code == 303
        assert (
            anonymous.post(
                f"/api/papers/{OTHER}/upvote", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 401
        )
        assert sign_in(anonymous, "leaving@example.org", PASSWORD).status_code == 401
        with site.client() as newcomer:
            sign_up(newcomer, "leaving@example.org", "a fresh passphrase")
            fresh = newcomer.get("/account/export").json()
            assert fresh["votes"] == fresh["comments"] == fresh["collections"] == []
            assert fresh["subscriptions"] == []


def test_the_api_deletes_an_account_with_its_token_and_password(site: Site) -> None:
    with site.client() as browser, site.client() as anonymous:
        before = _upvotes(anonymous, PAPER)
        token, _ = _fill_account(site, browser, "script@example.org")
        bearer = {"Authorization": f"Bearer {token}"}
        wrong = anonymous.request(
            "DELETE", "/api/account", json={"password": "wrong guess"}, headers=bearer
        )
        assert wrong.status_code == 403 and "nothing was deleted" in wrong.json()["detail"]
        empty = anonymous.request("DELETE", "/api/account", json={}, headers=bearer)
        assert empty.status_code == 400 and "password" in empty.json()["detail"]
        assert (
            anonymous.request("DELETE", "/api/account", json={"password": PASSWORD}).status_code
            == 401
        )
        deleted = anonymous.request(
            "DELETE", "/api/account", json={"password": PASSWORD}, headers=bearer
        )
        assert deleted.status_code == 200 and deleted.json() == {"deleted": True}
        assert _upvotes(anonymous, PAPER) == before
        assert anonymous.get("/api/account/export", headers=bearer).status_code == 401
        assert browser.get("/account", follow_redirects=False).status_code == 303
        # /api/docs told script writers the download leaves the subscriptions out; since
        # migration 18 it holds the account's own
        paths = anonymous.get("/api/openapi.json").json()["paths"]
        described = " ".join(paths["/api/account/export"]["get"]["description"].split())
        assert "own digest subscriptions" in described, described
        assert "not the digest subscription" not in described


def test_signing_up_with_someone_s_address_reaches_nothing_of_their_subscription(
    site: Site,
) -> None:
    """Sign-up does not prove an address: whoever signed up with a subscriber's address
    saw their topics in the export and ended their subscription by deleting the account."""
    from paperfeed.digest.subscribing import TopicInput, subscribe
    from paperfeed.store.subscriptions import confirm_subscription, get_subscription

    victim = subscribe(site.store, "victim@example.org", "daily", "UTC", [TopicInput("secret")])
    confirm_subscription(site.store, victim.id)
    with site.client() as impostor:
        sign_up(impostor, "victim@example.org", PASSWORD)
        # subscribing again, signed in, leaves the subscription as it is and no one's
        again = impostor.post(
            "/api/subscriptions",
            json={"email": "victim@example.org", "topics": ["mine now"]},
            headers={"X-CSRF-Token": csrf_of(impostor.get("/account").text)},
        )
        assert again.status_code == 202, again.text
        exported = impostor.get("/account/export")
        assert exported.json()["subscriptions"] == [] and "secret" not in exported.text
        page = impostor.get("/account").text
        gone = impostor.post(
            "/account/delete", data={"password": PASSWORD, "csrf_token": csrf_of(page)}
        )
        assert gone.status_code == 200
    kept = get_subscription(site.store, victim.id)
    assert kept is not None and kept.confirmed and kept.topics[0].query == "secret"


def test_a_subscription_confirmed_while_signed_in_to_its_address_is_the_account_s(
    site: Site,
) -> None:
    """A reader who subscribed before signing up makes the subscription their own by
    following its confirmation link (it came to their mailbox) while signed in; then
    it is in their download, and deleting the account ends it."""
    from paperfeed.digest.rendering import link
    from paperfeed.store.subscriptions import find_subscription

    with site.client() as anonymous, site.client() as reader:
        made = anonymous.post(
            "/api/subscriptions",
            json={"email": "reader@example.org", "frequency": "weekly", "topics": ["RLHF"]},
        )
        assert made.status_code == 202, made.text
        subscription = find_subscription(site.store, "reader@example.org")
        assert subscription is not None and subscription.owner is None
        confirm = link(site.settings, "/subscribe/confirm", "confirm", subscription)
        sign_up(reader, "reader@example.org", PASSWORD)
        assert reader.get("/account/export").json()["subscriptions"] == []
        assert reader.get(confirm.removeprefix(site.settings.base_url)).status_code == 200
        owned = reader.get("/account/export").json()["subscriptions"]
        assert [(sub["frequency"], sub["topics"][0]["query"]) for sub in owned] == [
            ("weekly", "RLHF")
        ]
        assert owned[0]["confirmed_at"] is not None
        page = reader.get("/account").text
        gone = reader.post(
            "/account/delete", data={"password": PASSWORD, "csrf_token": csrf_of(page)}
        )
        assert gone.status_code == 200
    assert find_subscription(site.store, "reader@example.org") is None


def test_the_last_admin_cannot_delete_the_account_and_a_deleted_admin_is_none(
    site: Site,
) -> None:
    """An admin who deleted their account still counted as an admin, so the other one
    could then demote themself and leave the site with none; and the last admin could
    delete their own account."""
    with site.client() as first, site.client() as second:
        sign_up(first, "root@example.org", PASSWORD)
        sign_up(second, "deputy@example.org", PASSWORD)
        for email in ("root@example.org", "deputy@example.org"):
            promote = CliRunner().invoke(main, ["users", "promote", email])
            assert promote.exit_code == 0, promote.output
        deputy = {"Authorization": f"Bearer {make_token(second)}"}
        root = {"Authorization": f"Bearer {make_token(first)}"}
        listed = first.get("/api/admin/users", headers=root).json()["users"]
        ids = {user["email"]: user["id"] for user in listed}
        root_id, deputy_id = ids["root@example.org"], ids["deputy@example.org"]
        gone = second.request("DELETE", "/api/account", json={"password": PASSWORD}, headers=deputy)
        assert gone.status_code == 200, gone.text
        for command in ("promote", "enable", "disable"):  # no account is left to act on
            acted = CliRunner().invoke(main, ["users", command, str(deputy_id)])
            assert acted.exit_code == 1 and f"no user '{deputy_id}'" in acted.output
        promoted = first.post(f"/api/admin/users/{deputy_id}/promote", headers=root)
        assert promoted.status_code == 404, promoted.text
        demoted = first.post(f"/api/admin/users/{root_id}/demote", headers=root)
        assert demoted.status_code == 400 and "is the last admin" in demoted.json()["detail"]
        kept = first.request("DELETE", "/api/account", json={"password": PASSWORD}, headers=root)
        assert kept.status_code == 403, kept.text
        assert "root@example.org is the last admin of this site" in kept.json()["detail"]
        assert first.get("/admin").status_code == 200  # still signed in, still an admin
        page = first.get("/account/delete").text
        refused = first.post(
            "/account/delete", data={"password": PASSWORD, "csrf_token": csrf_of(page)}
        )
        assert refused.status_code == 403 and "last admin of this site" in refused.text


def test_the_download_lists_votes_cast_at_one_time_in_the_same_order_everywhere(
    site: Site,
) -> None:
    """Votes (and tokens) of one moment were listed by time alone: in the store's row
    order on SQLite and in whatever order PostgreSQL's sort left them."""
    with site.client() as browser:
        sign_up(browser, "ties@example.org", PASSWORD)
        token = make_token(browser)
    with site.store.engine.connect() as connection:
        user_id = connection.scalar(
            select(schema.users.c.id).where(schema.users.c.email == "ties@example.org")
        )
        stored = connection.execute(
            select(schema.papers.c.key, schema.papers.c.arxiv_id).order_by(schema.papers.c.key)
        ).all()
    picked: list[tuple[int, str]] = []  # stored in the opposite order of their ids
    for key, arxiv_id in stored:
        if not picked or arxiv_id < picked[-1][1]:
            picked.append((int(key), arxiv_id))
    assert len(picked) >= 3, stored[:10]
    with site.store.engine.begin() as connection:
        for key, _ in picked:
            connection.execute(
                schema.votes.insert().values(user_id=user_id, paper_key=key, created_at=1.0e9)
            )
    with site.client(headers={"Authorization": f"Bearer {token}"}) as api:
        votes = api.get("/api/account/export").json()["votes"]
    assert [vote["paper"] for vote in votes] == sorted(arxiv_id for _, arxiv_id in picked)


def test_signed_in_the_subscribe_form_holds_the_account_s_address_and_makes_it_theirs(
    site: Site,
) -> None:
    """Signed in, /subscribe offered an empty address box: a reader who typed another
    spelling of the address (or another address) made a subscription no account owns,
    missing from the account's download and left behind by its deletion."""
    with site.client() as reader, site.client() as stranger:
        sign_up(reader, "Reader@Example.org", PASSWORD)
        form = reader.get("/subscribe").text
        assert 'name="email" value="reader@example.org"' in form.lower()
        email = form[form.index('name="email" value="') :].split('"')[3]
        answer = reader.post(
            "/subscribe",
            data={
                "email": email,
                "frequency": "weekly",
                "time_zone": "UTC",
                "topic": ["diffusion"],
                "relevance": ["0.3"],
                "csrf_token": csrf_of(form),
            },
        )
        assert answer.status_code == 200, answer.text
        owned = reader.get("/account/export").json()["subscriptions"]
        assert [sub["frequency"] for sub in owned] == ["weekly"]
        assert 'name="email" value=""' in stranger.get("/subscribe").text  # signed out
        # /account lists it (it was in the download only) with the link to change it
        account = reader.get("/account").text
        listed = account[account.index('<ul class="profile-list digests">') :]
        listed = listed[: listed.index("</ul>")]
        assert "Weekly to reader@example.org" in listed and "topics: diffusion" in listed
        assert "waiting for the confirmation link" in listed
        manage = html.unescape(listed.split('href="')[1].split('"')[0])
        assert manage.startswith("/subscribe/manage?token=")
        page = reader.get(manage)
        assert page.status_code == 200 and 'value="diffusion"' in page.text
        assert "profile-list digests" not in _another_account(site)


def _another_account(site: Site) -> str:
    with site.client() as other:
        sign_up(other, "other@example.org", PASSWORD)
        return other.get("/account").text
