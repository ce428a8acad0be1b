"""Administration and moderation over real HTTP against a running server, on SQLite and
PostgreSQL: a report, the admin's removal and disabling (the user's cookie and token stop
working at once), hiding a paper from search and the lists, invite-only and closed
sign-up, and every admin route refused to a non-admin with nothing changed."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select, update

from paperfeed import accounts, administration
from paperfeed.administration import Actor
from paperfeed.store import schema
from paperfeed.store.accounts import User
from paperfeed.web import admin, admin_api
from running_site import LATEST_DAY, Site, csrf_of

PASSWORD = "correct horse battery"
TOP_PAPER = "2608.19880"  # EnvHarness, on the latest daily list
OTHER_PAPER = "2608.00677"  # OpenART
CLI = Actor(None, "command line (test)")


def _user(site: Site, email: str, admin: bool = False) -> User:
    name = email.split("@")[0].title()
    return administration.create_user(site.store, CLI, email, PASSWORD, name, admin=admin)


def _signed_in(site: Site, email: str) -> httpx.Client:
    """A browser-like client (cookies) signed in through the sign-in form."""
    client = site.client()
    form = client.get("/signin").text
    answer = client.post(
        "/signin", data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form)}
    )
    assert answer.status_code == 303, answer.text
    return client


def _csrf(client: httpx.Client) -> str:
    return csrf_of(client.get("/account").text)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- a report, a removal, a disabled user ------------------------------------------------------


def test_report_removal_and_disabling_over_http(site: Site) -> None:
    _user(site, "root@example.org", admin=True)
    eve, _ = _user(site, "eve@example.org"), _user(site, "ada@example.org")
    eve_token = accounts.create_api_token(site.store, eve, "laptop")
    comments = f"/api/papers/{TOP_PAPER}/comments"
    with site.client(headers={"Authorization": f"Bearer {eve_token}"}) as eve_api:
        spam = eve_api.post(comments, json={"text": "Buy cheap watches at spam.example"}).json()
        eve_api.post(f"/api/papers/{OTHER_PAPER}/comments", json={"text": "Nice ablations."})
    eve_browser = _signed_in(site, "eve@example.org")
    ada = _signed_in(site, "ada@example.org")
    page = ada.get(f"/papers/{TOP_PAPER}").text
    reply = ada.post(
        f"/papers/{TOP_PAPER}/comments",
        data={
            "text": "Reported, this is spam.",
            "parent": str(spam["id"]),
            "csrf_token": csrf_of(page),
        },
    )
    assert reply.status_code == 303

    # Ada reports it from the form under the comment, once.
    page = ada.get(f"/papers/{TOP_PAPER}").text
    assert f'action="/comments/{spam["id"]}/report"' in page
    reported = ada.post(
        f"/comments/{spam['id']}/report",
        data={"reason": "advertising", "csrf_token": csrf_of(page)},
    )
    assert reported.status_code == 200 and "was reported to the admins" in reported.text
    again = ada.post(
        f"/api/comments/{spam['id']}/report",
        json={"reason": "still advertising"},
        headers={"X-CSRF-Token": _csrf(ada)},
    )
    assert again.status_code == 409 and "already" in again.json()["detail"]

    # The admin sees the open report, on the page and in the API.
    root = _signed_in(site, "root@example.org")
    overview = root.get("/admin")
    assert overview.status_code == 200
    assert "advertising" in overview.text and "Buy cheap watches" in overview.text
    [report] = root.get("/api/admin/reports").json()["reports"]
    assert (report["comment"], report["reporter"], report["reason"]) == (
        spam["id"],
        "ada@example.org",
        "advertising",
    )

    # ... deletes the comment: the thread says so, the reply stays.
    removed = root.post(
        f"/admin/comments/{spam['id']}/delete", data={"csrf_token": csrf_of(overview.text)}
    )
    assert removed.status_code == 303
    with site.client() as anonymous:
        thread = anonymous.get(f"/papers/{TOP_PAPER}").text
        listing = anonymous.get(comments).json()
    assert "removed by a moderator" in thread and "cheap watches" not in thread
    assert "Reported, this is spam." in thread
    [shown] = listing["threads"]
    assert shown["removedByModerator"] and shown["text"] == "" and shown["author"] is None
    assert [r["text"] for r in shown["replies"]] == ["Reported, this is spam."]
    assert root.get("/api/admin/reports").json()["reports"] == []

    # ... and disables Eve: her cookie and her token stop working on the next request.
    assert eve_browser.get("/account").status_code == 200
    users = root.get("/admin/users").text
    disabled = root.post(f"/admin/users/{eve.id}/disable", data={"csrf_token": csrf_of(users)})
    assert disabled.status_code == 303
    after = eve_browser.get("/account")
    assert after.status_code == 303 and after.headers["location"].startswith("/signin")
    with site.client(headers={"Authorization": f"Bearer {eve_token}"}) as eve_api:
        refused = eve_api.post(comments, json={"text": "I am back"})
    assert refused.status_code == 401
    form = eve_browser.get("/signin").text
    signin = eve_browser.post(
        "/signin",
        data={"email": "eve@example.org", "password": PASSWORD, "csrf_token": csrf_of(form)},
    )
    assert signin.status_code == 403 and "disabled" in signin.text
    assert "Buy cheap" not in root.get(comments).text
    [eve_row] = [u for u in root.get("/api/admin/users").json()["users"] if u["id"] == eve.id]
    assert eve_row["disabled"] and eve_row["comments"] == 1  # the one not removed
    with site.client() as anonymous:  # disabling hid nothing she wrote
        assert "Nice ablations." in anonymous.get(f"/papers/{OTHER_PAPER}").text

    # Every step is in the audit log, with who did it.
    audit = _text(root.get("/admin/audit").text)
    assert "root@example.org comment.delete comment" in audit
    assert "root@example.org user.disable eve@example.org" in audit
    assert "root@example.org user.disable eve@example.org" in _text(root.get("/admin").text)
    entries = root.get("/api/admin/audit").json()["entries"]
    assert [e["action"] for e in entries[:2]] == ["user.disable", "comment.delete"]


def test_a_disabled_user_signing_in_is_told_the_account_is_disabled(site: Site) -> None:
    """With the right password a disabled user was told "wrong email or password" and
    kept retyping it; now the sign-in form says the account is disabled and to ask the
    site's admin. A wrong password still gets the answer an unknown address gets, so a
    guesser learns nothing about which addresses have accounts."""
    root = _user(site, "root@example.org", admin=True)
    eve = _user(site, "eve@example.org")
    administration.disable(site.store, Actor.of(root), eve)

    def sign_in(email: str, password: str) -> httpx.Response:
        with site.client() as browser:
            form = browser.get("/signin?next=/for-you").text
            fields = {"email": email, "password": password, "next": "/for-you"}
            answer = browser.post("/signin", data=fields | {"csrf_token": csrf_of(form)})
            assert browser.get("/account").status_code == 303  # no session either way
            return answer

    right = sign_in("eve@example.org", PASSWORD)
    assert right.status_code == 403
    [alert] = re.findall(r'<p class="error" role="alert">(.*?)</p>', right.text)
    assert "disabled" in alert and "admin" in html.unescape(alert)
    assert 'value="eve@example.org"' in right.text  # the form again, as typed
    for email, password in [("eve@example.org", "not her password"), ("nobody@x.org", PASSWORD)]:
        wrong = sign_in(email, password)
        assert wrong.status_code == 401 and "wrong email or password" in wrong.text
        assert "disabled" not in wrong.text
    # the right password is no failed guess: retrying is answered the same, never throttled
    assert all(sign_in("eve@example.org", PASSWORD).status_code == 403 for _ in range(6))


# -- hiding a paper ------------------------------------------------------------------------------


def _search_ids(client: httpx.Client, query: str) -> list[str]:
    answer = client.get("/api/search", params={"q": query, "limit": 50})
    assert answer.status_code == 200, answer.text
    return [hit["id"] for hit in answer.json()["hits"]]


def _daily_ids(client: httpx.Client) -> list[str]:
    answer = client.get("/api/daily_papers", params={"date": LATEST_DAY})
    return [entry["paper"]["id"] for entry in answer.json()]


def _trending_ids(client: httpx.Client) -> list[str]:
    return [entry["paper"]["id"] for entry in client.get("/api/trending").json()]


def test_a_big_site_s_users_come_in_pages_and_can_be_found(site: Site) -> None:
    """230 users: /admin/users shows 100 a page with links between pages, a filter by
    address or name (its characters taken literally, not as SQL patterns), and the admin
    API pages and filters the same way."""
    from paperfeed.store.accounts import insert_user

    _user(site, "root@example.org", admin=True)
    for number in range(1, 230):
        insert_user(site.store, f"reader{number:03d}@example.org", f"Reader {number}", "x")
    insert_user(site.store, "under_score@example.org", "100% sure", "x")
    insert_user(site.store, "ada@example.org", "Ada Łovelace", "x")
    root = _signed_in(site, "root@example.org")

    first = root.get("/admin/users")
    assert first.status_code == 200
    text = _text(first.text)
    assert "Users 1–100 of 232, oldest account first." in text
    assert "root@example.org" in text and "reader099@example.org" in text
    assert "reader100@example.org" not in text
    assert 'rel="next" href="/admin/users?q=&amp;page=2"' in first.text
    assert 'rel="prev"' not in first.text

    last = root.get("/admin/users", params={"page": 3})
    text = _text(last.text)
    assert "Users 201–232 of 232" in text and "Page 3 of 3" in text
    assert text.count("@example.org") == 32 and "under_score@example.org" in text
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
    # past the last page: the last page
    assert "Users 201–232 of 232" in _text(root.get("/admin/users?page=9").text)
    refused = root.get("/admin/users?page=0")
    assert refused.status_code == 400 and "page" in refused.text, refused.text

    found = _text(root.get("/admin/users", params={"q": " READER12 "}).text)
    assert "10 users whose address or name holds “READER12”." in found
    assert "reader120@example.org" in found and "reader129@example.org" in found
    assert "reader012@example.org" not in found and "reader013@example.org" not in found
    assert "Reader 7 " in _text(root.get("/admin/users?q=reader+7").text)  # by name too
    # "_" and "%" are the user's characters, not LIKE's wildcards
    assert "1 user whose" in _text(root.get("/admin/users?q=_").text)
    assert "under_score@example.org" in _text(root.get("/admin/users?q=100%25").text)
    assert "No user's address or name holds “nobody”." in _text(
        root.get("/admin/users?q=nobody").text
    )

    # any case of any letter (SQLite's lower() folds ASCII only); a NUL finds nobody
    for spelling in ("łovelace", "ŁOVELACE", "Łovelace"):
        found = root.get("/api/admin/users", params={"q": spelling}).json()
        assert [user["email"] for user in found["users"]] == ["ada@example.org"], spelling
    nul = root.get("/api/admin/users", params={"q": "a\x00"})
    assert nul.status_code == 200 and nul.json() == {"total": 0, "users": []}
    assert root.get("/admin/users", params={"q": "a\x00"}).status_code == 200
    listed = root.get("/api/admin/users", params={"q": "reader", "offset": 10, "limit": 5})
    assert listed.json()["total"] == 229
    assert [user["email"] for user in listed.json()["users"]] == [
        f"reader{number:03d}@example.org" for number in range(11, 16)
    ]
    assert len(root.get("/api/admin/users").json()["users"]) == 232
    assert root.get("/api/admin/users?limit=0").status_code == 400


def test_the_whole_audit_log_comes_in_pages(site: Site) -> None:
    """A year of a lab's moderation is more than 200 actions: the page and the API showed
    the newest 200 and nothing older; both now page back through all of it."""
    _user(site, "root@example.org", admin=True)  # the first entry: user.create
    for number in range(1, 230):
        administration.record(site.store, CLI, "paper.hide", f"paper {number:03d}")
    root = _signed_in(site, "root@example.org")

    first = _text(root.get("/admin/audit").text)
    assert "Page 1 of 2: 230 actions, newest first." in first
    assert "paper 229" in first and "paper 030" in first and "paper 029" not in first
    older = root.get("/admin/audit", params={"page": 2})
    text = _text(older.text)
    assert "paper 029" in text and "paper 001" in text and "root@example.org" in text
    assert 'rel="prev" href="/admin/audit?page=1"' in older.text and 'rel="next"' not in older.text
    assert "Page 2 of 2" in _text(root.get("/admin/audit?page=7").text)  # past the last
    assert root.get("/admin/audit?page=0").status_code == 400

    listed = root.get("/api/admin/audit", params={"offset": 225, "limit": 10}).json()
    assert listed["total"] == 230
    targets = [entry["target"] for entry in listed["entries"]]
    assert targets == ["paper 004", "paper 003", "paper 002", "paper 001", "root@example.org"]
    assert len(root.get("/api/admin/audit").json()["entries"]) == 200
    assert root.get("/api/admin/audit?limit=1001").status_code == 400


def test_an_offset_past_a_database_integer_is_named_not_a_500(site: Site) -> None:
    """``offset=9223372036854775808`` on the users' or the audit log's list answered 500
    (SQLite: "Python int too large to convert", PostgreSQL: "bigint out of range")."""
    root = _user(site, "root@example.org", admin=True)
    token = accounts.create_api_token(site.store, root, "script")
    with site.client(headers={"Authorization": f"Bearer {token}"}) as api:
        for route in ("/api/admin/users", "/api/admin/audit"):
            for offset in (2**63, 10**30):
                refused = api.get(route, params={"offset": offset})
                assert refused.status_code == 400, (route, offset, refused.text)
                error = refused.json()["error"]
                assert "offset" in error and str(offset) in error, error
            far = api.get(route, params={"offset": admin_api.MAX_OFFSET})
            assert far.status_code == 200, far.text
            listed = far.json()
            assert listed["total"] >= 1 and not (listed.get("users") or listed.get("entries"))


def test_papers_hidden_at_one_time_are_listed_in_the_same_order_on_every_database(
    site: Site,
) -> None:
    """Migration 17 hides every paper no page can name at one time: the hidden list,
    ordered by that time alone, came in the store's order (SQLite's row order; on
    PostgreSQL whatever the sort left), so the two databases listed them differently."""
    root = _user(site, "root@example.org", admin=True)
    with site.store.engine.connect() as connection:
        stored = connection.execute(
            select(schema.papers.c.key, schema.papers.c.arxiv_id).order_by(schema.papers.c.key)
        ).all()
    # stored (and hidden) in the opposite order of their ids
    picked: list[tuple[int, str]] = []
    for key, arxiv_id in stored:
        if not picked or arxiv_id < picked[-1][1]:
            picked.append((int(key), arxiv_id))
    assert len(picked) >= 3, stored[:10]
    at = time.time()
    with site.store.engine.begin() as connection:
        for key, _ in picked:
            connection.execute(
                schema.hidden_papers.insert().values(
                    paper_key=key, hidden_by=None, hidden_at=at, reason="no page can name it"
                )
            )
    token = accounts.create_api_token(site.store, root, "script")
    with site.client(headers={"Authorization": f"Bearer {token}"}) as api:
        listed = [entry["paper"] for entry in api.get("/api/admin/papers/hidden").json()["papers"]]
    assert listed == sorted(arxiv_id for _, arxiv_id in picked)


def test_hiding_a_paper_takes_it_out_of_search_and_the_lists_until_shown_again(
    site: Site,
) -> None:
    _user(site, "root@example.org", admin=True)
    root = _signed_in(site, "root@example.org")
    assert TOP_PAPER in _search_ids(root, "EnvHarness")[:1]
    assert TOP_PAPER in _daily_ids(root)
    author = "/authors/Chengsong Huang"
    assert f"/papers/{TOP_PAPER}" in root.get(author).text
    assert TOP_PAPER in _trending_ids(root)

    hidden = root.post(
        f"/api/admin/papers/{TOP_PAPER}/hide",
        json={"reason": "duplicate submission"},
        headers={"X-CSRF-Token": _csrf(root)},
    )
    assert hidden.status_code == 200 and hidden.json() == {"paper": TOP_PAPER, "hidden": True}
    assert TOP_PAPER not in _search_ids(root, "EnvHarness")
    assert TOP_PAPER not in _search_ids(root, TOP_PAPER)  # not even by its id
    assert TOP_PAPER not in _daily_ids(root)
    assert f"/papers/{TOP_PAPER}" not in root.get("/", params={"date": LATEST_DAY}).text
    assert f"/papers/{TOP_PAPER}" not in root.get(author).text
    assert TOP_PAPER not in _trending_ids(root)
    with site.client() as anonymous:
        assert TOP_PAPER not in anonymous.get("/rss/daily", params={"date": LATEST_DAY}).text
        assert TOP_PAPER not in _search_ids(anonymous, "EnvHarness agents")
        gone = anonymous.get(f"/papers/{TOP_PAPER}")
    assert gone.status_code == 404 and "hidden by a moderator" in gone.text
    with site.client() as anonymous:
        assert anonymous.get(f"/api/papers/{TOP_PAPER}").status_code == 404
        assert anonymous.get(f"/api/papers/{TOP_PAPER}/similar").status_code == 404
        # nor its discussion, its comment feed, or the listing of every paper
        assert anonymous.get(f"/api/papers/{TOP_PAPER}/comments").status_code == 404
        assert anonymous.get(f"/rss/papers/{TOP_PAPER}").status_code == 404
        every, page = [], anonymous.get("/api/papers", params={"limit": 100})
        while True:
            every += [paper["id"] for paper in page.json()]
            if "next" not in page.links:
                break
            page = anonymous.get(page.links["next"]["url"])
        assert TOP_PAPER not in every and len(every) > 100
        assert anonymous.get(f"/papers/{TOP_PAPER}.md").status_code == 404
    eve = _user(site, "eve@example.org")
    reader = _signed_in(site, eve.email)
    posted = reader.post(
        f"/api/papers/{TOP_PAPER}/comments",
        json={"text": "still here?"},
        headers={"X-CSRF-Token": _csrf(reader)},
    )
    assert posted.status_code == 404 and "hidden by a moderator" in posted.text
    # nor is it saved in a collection, or marked "not for me"
    headers = {"X-CSRF-Token": _csrf(reader)}
    reading = reader.post("/api/collections", json={"name": "Reading"}, headers=headers).json()
    saved = reader.post(
        f"/api/collections/{reading['id']}/papers", json={"id": TOP_PAPER}, headers=headers
    )
    assert saved.status_code == 404 and "hidden by a moderator" in saved.text
    assert reader.get(f"/api/collections/{reading['id']}").json()["papers"] == []
    marked = reader.post(f"/api/papers/{TOP_PAPER}/not-for-me", headers=headers)
    assert marked.status_code == 404 and "hidden by a moderator" in marked.text
    assert root.get(f"/api/papers/{TOP_PAPER}").json()["id"] == TOP_PAPER
    assert root.get(f"/api/papers/{TOP_PAPER}/comments").status_code == 200
    page = root.get(f"/papers/{TOP_PAPER}")  # the admin still sees it, to show it again
    assert page.status_code == 200 and "Hidden by a moderator" in page.text
    listed = root.get("/api/admin/papers/hidden").json()["papers"]
    assert [(p["paper"], p["reason"]) for p in listed] == [(TOP_PAPER, "duplicate submission")]

    shown = root.post(f"/admin/papers/{TOP_PAPER}/unhide", data={"csrf_token": csrf_of(page.text)})
    assert shown.status_code == 303
    assert TOP_PAPER in _search_ids(root, "EnvHarness")[:1]
    assert TOP_PAPER in _daily_ids(root)
    assert f"/papers/{TOP_PAPER}" in root.get(author).text
    actions = [e["action"] for e in root.get("/api/admin/audit").json()["entries"]]
    assert [action for action in actions if action.startswith("paper.")] == [
        "paper.unhide",
        "paper.hide",
    ]


# -- sign-up policies ----------------------------------------------------------------------------


def test_an_action_on_a_found_user_comes_back_to_the_search_at_that_user(site: Site) -> None:
    """Disabling "bob" found by a search of the users came back to the whole list's first
    page: the search gone, the admin hunting for the row again (on a big site, pages away)."""
    _user(site, "root@example.org", admin=True)
    for name in ("alice", "bob", "bobby"):
        _user(site, f"{name}@example.org")
    root = _signed_in(site, "root@example.org")
    found = root.get("/admin/users", params={"q": "bob"}).text
    bob = administration.find_user(site.store, "bob@example.org")
    form = re.search(rf'action="/admin/users/{bob.id}/disable".*?</form>', found, re.S)
    assert form, "no disable form for bob"
    back = re.search(r'name="next" value="([^"]+)"', form.group(0))
    assert back and html.unescape(back.group(1)) == "/admin/users?q=bob"
    fields = {"csrf_token": csrf_of(found), "next": html.unescape(back.group(1))}
    disabled = root.post(f"/admin/users/{bob.id}/disable", data=fields)
    assert disabled.status_code == 303
    assert disabled.headers["location"] == f"/admin/users?q=bob#user-{bob.id}"
    enabled = root.post(f"/admin/users/{bob.id}/enable", data={"csrf_token": fields["csrf_token"]})
    assert enabled.headers["location"] == f"/admin/users#user-{bob.id}"  # no next: the list
    away = root.post(
        f"/admin/users/{bob.id}/promote", data=fields | {"next": "https://evil.example/x"}
    )
    assert away.headers["location"] == f"/admin/users#user-{bob.id}"


def _field(page: str, name: str) -> str:
    found = re.search(rf'<input type="[a-z]+" name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} field holding a value"
    return found.group(1)


def test_a_refused_hide_or_invite_form_keeps_what_the_admin_typed(site: Site) -> None:
    """A mistyped id used to bring the "Hide paper" form back empty, the reason gone."""
    _user(site, "root@example.org", admin=True)
    root = _signed_in(site, "root@example.org")
    csrf = _csrf(root)
    hide = {"arxiv_id": "2608.1988", "reason": "spam, reported twice", "csrf_token": csrf}
    refused = root.post("/admin/papers/hide", data=hide)
    assert refused.status_code in (400, 404) and "2608.1988" in refused.text
    assert _field(refused.text, "arxiv_id") == "2608.1988"
    assert _field(refused.text, "reason") == "spam, reported twice"
    invite = {"email": "guest@example.org", "days": "soon", "csrf_token": csrf}
    refused = root.post("/admin/invites", data=invite)
    assert refused.status_code == 400 and "is not a number of days" in refused.text
    assert _field(refused.text, "email") == "guest@example.org"
    assert _field(refused.text, "days") == "soon"
    fresh = root.get("/admin/papers").text
    assert _field(fresh, "arxiv_id") == "" and _field(fresh, "reason") == ""


@pytest.fixture
def invite_site(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> Site:
    monkeypatch.setenv("PAPERFEED_SIGNUP", "invite")
    found: Site = request.getfixturevalue("site")
    return found


def _sign_up(client: httpx.Client, invite: str, email: str) -> httpx.Response:
    form = client.get("/signin").text
    data = {"email": email, "password": PASSWORD, "invite": invite, "csrf_token": csrf_of(form)}
    return client.post("/signup", data=data)


def _users(site: Site) -> int:
    with site.store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(schema.users)) or 0)


def test_invite_only_sign_up_over_http(invite_site: Site) -> None:
    site = invite_site
    _user(site, "root@example.org", admin=True)
    root = _signed_in(site, "root@example.org")
    made = root.post(
        "/api/admin/invites",
        json={"email": "Bob@Example.org", "days": 2},
        headers={"X-CSRF-Token": _csrf(root)},
    )
    assert made.status_code == 201, made.text
    link = made.json()["link"]
    token = link.partition("invite=")[2]
    assert made.json()["state"] == "open" and made.json()["email"] == "bob@example.org"

    with site.client() as visitor:
        refused = visitor.get("/signup")
        assert refused.status_code == 403 and "needs an invite link" in refused.text
        assert 'action="/signup"' not in refused.text
        count = _users(site)
        no_invite = _sign_up(visitor, "", "mallory@example.org")
        assert no_invite.status_code == 400 and "needs an invite link" in no_invite.text
        invited = visitor.get(link.removeprefix(site.settings.base_url))
        assert invited.status_code == 200 and "You were invited as bob@example.org" in invited.text
        wrong = _sign_up(visitor, token, "mallory@example.org")
        assert wrong.status_code == 400 and "another address" in wrong.text
        assert _users(site) == count  # nothing created
        done = _sign_up(visitor, token, "bob@example.org")
        assert done.status_code == 303
        assert visitor.get("/account").status_code == 200
    assert _users(site) == count + 1
    with site.client() as other:
        reused = other.get(f"/signup?invite={token}")
        assert reused.status_code == 400 and "used already" in reused.text
        again = _sign_up(other, token, "bob2@example.org")
        assert again.status_code == 400 and "used already" in again.text
    assert _users(site) == count + 1
    state = root.get("/api/admin/invites").json()
    assert state["signup"] == "invite" and state["invites"][0]["state"] == "used"

    # an expired link says so, with its date
    expired = root.post("/api/admin/invites", json={}, headers={"X-CSRF-Token": _csrf(root)})
    with site.store.engine.begin() as connection:
        connection.execute(
            update(schema.invites)
            .where(schema.invites.c.id == expired.json()["id"])
            .values(expires_at=time.time() - 60)
        )
    stale = expired.json()["link"].partition("invite=")[2]
    with site.client() as late:
        answer = late.get(f"/signup?invite={stale}")
    assert answer.status_code == 400 and "expired on" in answer.text


@pytest.fixture
def closed_site(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> Site:
    monkeypatch.setenv("PAPERFEED_SIGNUP", "closed")
    found: Site = request.getfixturevalue("site")
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_closed_sign_up_says_so(closed_site: Site) -> None:
    site = closed_site
    with site.client() as visitor:
        page = visitor.get("/signup")
        assert page.status_code == 403 and "sign-up is closed on this site" in page.text
        count = _users(site)
        answer = _sign_up(visitor, "", "eve@example.org")
    assert answer.status_code == 403 and "closed" in answer.text
    assert _users(site) == count


# -- every admin route, as a non-admin and signed out ------------------------------------


def _state(site: Site) -> list[Any]:
    """Everything an admin route could change."""
    tables = (
        schema.users,
        schema.sessions,
        schema.api_tokens,
        schema.invites,
        schema.comment_reports,
        schema.hidden_papers,
        schema.audit_log,
        schema.comments,
    )
    with site.store.engine.connect() as connection:
        return [sorted(tuple(row) for row in connection.execute(select(table))) for table in tables]


def _admin_requests(ids: dict[str, str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every route of the admin page and API modules, with ids that exist and a body an
    admin's request would succeed with."""
    bodies: dict[str, dict[str, Any]] = {
        "/admin/users/{user_id}/password": {"data": {"password": "new password 1"}},
        "/admin/invites": {"data": {"email": "x@example.org", "days": "1"}},
        "/admin/papers/hide": {"data": {"arxiv_id": ids["visible"], "reason": "x"}},
        "/api/admin/users/{user_id}/password": {"json": {"password": "new password 1"}},
        "/api/admin/users/{user_id}/disable": {"json": {"hideComments": True}},
        "/api/admin/invites": {"json": {"email": "x@example.org"}},
        "/api/admin/papers/{id:arxiv}/hide": {"json": {"reason": "x"}},
    }
    actions = {
        "/admin/users/{user_id}/{action}": admin.USER_ACTIONS,
        "/admin/comments/{comment_id}/{action}": ("hide", "delete", "restore"),
    }
    for route in [*admin.router.routes, *admin_api.router.routes]:
        assert isinstance(route, APIRoute)
        if route.path == "/comments/{comment_id}/report":
            continue  # any signed-in user's; tested above
        for method in sorted(route.methods):
            for action in actions.get(route.path, ("",)):
                path = route.path.replace("{action}", action)
                paper = ids["hidden"] if path.endswith("unhide") else ids["visible"]
                for name, value in (
                    ("{user_id}", ids["user"]),
                    ("{invite_id}", ids["invite"]),
                    ("{report_id}", ids["report"]),
                    ("{comment_id}", ids["comment"]),
                    ("{id:arxiv}", paper),
                    ("{arxiv_id:path}", paper),
                ):
                    path = path.replace(name, value)
                yield method, path, bodies.get(route.path, {})


def test_every_admin_route_refuses_a_non_admin_and_changes_nothing(site: Site) -> None:
    root = _user(site, "root@example.org", admin=True)
    eve = _user(site, "eve@example.org")
    mallory = _user(site, "mallory@example.org")
    token = accounts.create_api_token(site.store, mallory)
    actor = Actor.of(root)
    invite, _ = administration.create_invite(site.store, actor)
    with site.client(
        headers={"Authorization": f"Bearer {accounts.create_api_token(site.store, eve)}"}
    ) as eve_api:
        comment = eve_api.post(f"/api/papers/{TOP_PAPER}/comments", json={"text": "hm"}).json()
    with site.client(headers={"Authorization": f"Bearer {token}"}) as reporter:
        report = reporter.post(f"/api/comments/{comment['id']}/report", json={"reason": "rude"})
    assert report.status_code == 201
    hidden = "2608.00677"
    from paperfeed import moderation

    moderation.hide_paper(site.store, actor, hidden)
    ids = {
        "user": str(eve.id),
        "invite": str(invite.id),
        "report": str(report.json()["id"]),
        "comment": str(comment["id"]),
        "visible": TOP_PAPER,
        "hidden": hidden,
    }
    requests = list(_admin_requests(ids))
    assert len(requests) >= 30
    browser = _signed_in(site, "mallory@example.org")
    csrf = _csrf(browser)
    before = _state(site)
    with (
        site.client(headers={"Authorization": f"Bearer {token}"}) as bearer,
        site.client() as anonymous,
    ):
        for method, path, body in requests:
            is_api = path.startswith("/api/")
            signed_in = dict(body)
            if is_api:
                answer = browser.request(method, path, headers={"X-CSRF-Token": csrf}, **signed_in)
            else:
                form = dict(signed_in.get("data", {})) | {"csrf_token": csrf}
                answer = browser.request(method, path, data=form if method == "POST" else None)
            assert answer.status_code == 403, (method, path, answer.status_code, answer.text)
            assert "admins only" in answer.text
            if is_api:
                by_token = bearer.request(method, path, **body)
                assert by_token.status_code == 403, (method, path, by_token.text)
            nobody = anonymous.request(method, path, **body)
            if is_api:
                assert nobody.status_code == 401, (method, path, nobody.status_code)
            else:
                assert nobody.status_code == 303, (method, path, nobody.status_code)
                assert nobody.headers["location"].startswith("/signin")
    assert _state(site) == before


def test_the_admin_api_with_a_token(site: Site) -> None:
    root = _user(site, "root@example.org", admin=True)
    eve = _user(site, "eve@example.org")
    headers = {"Authorization": f"Bearer {accounts.create_api_token(site.store, root)}"}
    eve_token = accounts.create_api_token(site.store, eve)
    with site.client(headers={"Authorization": f"Bearer {eve_token}"}) as eve_api:
        comment = eve_api.post(f"/api/papers/{TOP_PAPER}/comments", json={"text": "rude"}).json()
    with site.client(headers=headers) as api:
        assert api.post(f"/api/admin/users/{eve.id}/promote").json()["role"] == "admin"
        assert api.post(f"/api/admin/users/{eve.id}/demote").json()["role"] == "user"
        assert api.post(f"/api/admin/users/{root.id}/demote").status_code == 400  # last admin
        disabled = api.post(f"/api/admin/users/{eve.id}/disable")
        assert disabled.status_code == 200 and disabled.json()["disabled"]
        assert disabled.json()["commentsHidden"] == 0
        assert api.post(f"/api/admin/users/{eve.id}/enable").json()["disabled"] is False
        short = api.post(f"/api/admin/users/{eve.id}/password", json={"password": "short"})
        assert short.status_code == 400 and "at least 8" in short.json()["detail"]
        reset = api.post(f"/api/admin/users/{eve.id}/password", json={"password": "new secret 1"})
        assert reset.json()["sessionsEnded"] == 0 and reset.json()["tokensEnded"] == 0
        assert api.post("/api/admin/users/999/enable").status_code == 404

        invite = api.post("/api/admin/invites")
        assert invite.status_code == 201 and invite.json()["email"] is None
        revoked = api.post(f"/api/admin/invites/{invite.json()['id']}/revoke")
        assert revoked.json()["state"] == "revoked"
        again = api.post(f"/api/admin/invites/{invite.json()['id']}/revoke")
        assert again.status_code == 400 and "revoked already" in again.json()["detail"]
        unknown = api.post("/api/admin/invites/999/revoke")  # 404, like an unknown comment
        assert unknown.status_code == 404 and unknown.json()["detail"] == "no invite 999"
        never = api.post("/api/admin/invites", json={"days": 0})
        assert never.status_code == 400 and "more than 0 and at most 3650" in never.text
        bad = api.post("/api/admin/invites", json={"email": "not an address"})
        assert bad.status_code == 400 and "'not an address'" in bad.json()["detail"]

        hidden = api.post(f"/api/admin/comments/{comment['id']}/hide")
        assert hidden.json() == {"id": comment["id"], "moderation": "hidden"}
        assert api.post(f"/api/admin/comments/{comment['id']}/restore").json()["moderation"] is None
        gone = api.post(f"/api/admin/comments/{comment['id']}/delete")
        assert gone.json()["moderation"] == "deleted"
        lost = api.post(f"/api/admin/comments/{comment['id']}/restore")
        assert lost.status_code == 400 and "deleted by a moderator" in lost.json()["detail"]
        assert api.post("/api/admin/comments/999/hide").status_code == 404
        assert api.post("/api/admin/papers/2608.99998/hide").status_code == 404
        assert api.post("/api/admin/reports/999/dismiss").status_code == 404
        actions = [entry["action"] for entry in api.get("/api/admin/audit").json()["entries"]]
    assert actions[::-1] == [
        "user.create",
        "user.create",
        "user.promote",
        "user.demote",
        "user.disable",
        "user.enable",
        "user.reset_password",
        "invite.create",
        "invite.revoke",
        "comment.hide",
        "comment.restore",
        "comment.delete",
    ]


def test_one_invite_link_racing_four_sign_ups_makes_one_account(invite_site: Site) -> None:
    site = invite_site
    root = _user(site, "root@example.org", admin=True)
    _, token = administration.create_invite(site.store, Actor.of(root))
    clients = [site.client() for _ in range(4)]
    forms = [csrf_of(client.get(f"/signup?invite={token}").text) for client in clients]

    def sign_up(number: int) -> int:
        data = {
            "email": f"racer{number}@example.org",
            "password": PASSWORD,
            "invite": token,
            "csrf_token": forms[number],
        }
        return clients[number].post("/signup", data=data).status_code

    count = _users(site)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = sorted(pool.map(sign_up, range(4)))
    for client in clients:
        client.close()
    assert answers == [303, 400, 400, 400]
    assert _users(site) == count + 1
