"""The site at the edges of its input: calendar ends, huge bodies, odd methods, odd addresses.

Each case here was an HTTP 500 (or a worse answer) found by an audit of the running site.
"""

from __future__ import annotations

import feedparser
import pytest

from running_site import Site

EDGE_PERIODS = [
    {"date": "0001-01-01"},
    {"date": "9999-12-31"},
    {"week": "0001-W01"},
    {"week": "9999-W52"},
    {"month": "0000-01"},
    {"month": "0001-01"},
    {"month": "9999-12"},
]


@pytest.mark.parametrize("params", EDGE_PERIODS, ids=lambda p: "=".join(*p.items()))
def test_calendar_ends_are_an_empty_period_or_a_400_never_a_500(
    site: Site, params: dict[str, str]
) -> None:
    with site.client() as client:
        page = client.get("/", params=params)
        api = client.get("/api/daily_papers", params=params)
        rss = client.get("/rss/daily", params=params)
    if "0000" in next(iter(params.values())):
        assert page.status_code == api.status_code == rss.status_code == 400
        assert "0000-01" in api.json()["detail"] and "0000-01" in page.text
        return
    assert page.status_code == 200 and "No papers on" in page.text
    assert api.status_code == 200 and api.json() == []
    assert rss.status_code == 200
    feed = feedparser.parse(rss.content)
    assert not feed.bozo and feed.entries == []
    value = next(iter(params.values()))
    if value.startswith("0001"):  # nothing before the first day: "previous" is not a link
        assert 'rel="prev"' not in page.text and 'rel="next"' in page.text
    else:
        assert 'rel="next"' not in page.text and 'rel="prev"' in page.text


@pytest.mark.parametrize("period", ["0001-01-01", "9999-12-31", "0001-W01", "9999-W52"])
def test_digest_preview_at_the_calendar_ends_has_nothing_to_send(site: Site, period: str) -> None:
    with site.client() as client:
        preview = client.get("/digest/preview", params={"period": period, "q": "agents"})
        malformed = client.get("/digest/preview", params={"period": "0000-01"})
    assert preview.status_code == 404 and "nothing would be sent" in preview.text
    assert malformed.status_code == 400 and "0000-01" in malformed.text


def test_a_future_day_says_it_is_still_to_come(site: Site) -> None:
    with site.client() as client:
        future = client.get("/", params={"date": "2999-01-06"}).text
        weekend = client.get("/", params={"date": "2026-08-16"}).text
    assert "still to come" in future and "Weekends and holidays" not in future
    assert "Weekends and holidays" in weekend and "still to come" not in weekend


def test_what_a_user_types_holds_no_unpaired_surrogate_or_control_character(
    site: Site,
) -> None:
    """JSON's "\\ud800" escape decodes to a character UTF-8 cannot encode: every write of
    typed text answered 500. Each is now a 400 naming the field and the character, and
    nothing is stored; a collection's name also refuses control characters, as its
    description already did."""
    from sqlalchemy import func, select

    from paperfeed.accounts import create_api_token
    from paperfeed.store import schema
    from paperfeed.store.accounts import insert_user

    token = create_api_token(site.store, insert_user(site.store, "ada@example.org", "ada", "x"))

    def rows(table: object) -> int:
        with site.store.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(table)) or 0)

    paper = "/api/papers/2608.19880"
    with site.client(
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ) as api:
        reading = api.post("/api/collections", json={"name": "Reading"}).json()
        comment = api.post(f"{paper}/comments", json={"text": "A fair question."}).json()
        collections, comments = rows(schema.collections), rows(schema.comments)
        cases = [
            ("POST", "/api/collections", '{"name": "a\\ud800b"}', "name", "U+D800"),
            ("POST", "/api/collections", '{"name": "\\u0000"}', "name", "U+0000"),
            ("POST", "/api/collections", '{"name": "bell\\u0007"}', "name", "U+0007"),
            (
                "POST",
                "/api/collections",
                '{"name": "ok", "description": "x\\udfff"}',
                "description",
                "U+DFFF",
            ),
            ("PATCH", f"/api/collections/{reading['id']}", '{"name": "\\ud83d"}', "name", "D83D"),
            ("POST", f"{paper}/comments", '{"text": "half an emoji \\ud83d"}', "comment", "D83D"),
            (
                "POST",
                f"/api/comments/{comment['id']}/report",
                '{"reason": "spam \\udc00"}',
                "reason",
                "U+DC00",
            ),
            (
                "POST",
                "/api/subscriptions",
                '{"email": "ada@example.org", "topics": [{"query": "diffusion \\ud800"}]}',
                "topic",
                "U+D800",
            ),
        ]
        for method, path, body, field, named in cases:
            answer = api.request(method, path, content=body.encode())
            assert answer.status_code == 400, (path, body, answer.text)
            assert field in answer.json()["detail"] and named in answer.json()["detail"]
        assert api.get(f"/api/collections/{reading['id']}").json()["name"] == "Reading"
    assert rows(schema.collections) == collections and rows(schema.comments) == comments
    assert rows(schema.comment_reports) == 0 and rows(schema.subscriptions) == 0


def test_the_site_has_an_icon(site: Site) -> None:
    """Every page names its icon; /favicon.ico, where readers and old browsers look,
    leads to it."""
    with site.client(follow_redirects=True) as client:
        page = client.get("/").text
        icon = client.get("/favicon.ico")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert icon.status_code == 200 and icon.url.path == "/static/favicon.svg"
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")


def test_a_nul_in_an_address_is_refused_as_any_bad_address_on_every_database(
    site: Site,
) -> None:
    """The rate limits count by address before it is checked, and PostgreSQL refuses a
    NUL in text: sign-in, a reset link and a subscription answered 500 there."""
    from running_site import csrf_of

    address = "a\x00@example.org"
    with site.client() as client:
        signin = client.post(
            "/signin",
            data={
                "email": address,
                "password": "a long enough password",
                "csrf_token": csrf_of(client.get("/signin").text),
            },
        )
        forgot = client.post(
            "/forgot-password",
            data={"email": address, "csrf_token": csrf_of(client.get("/forgot-password").text)},
        )
        form = client.post(
            "/subscribe",
            data={"email": address, "csrf_token": csrf_of(client.get("/subscribe").text)},
        )
        api = client.post("/api/subscriptions", json={"email": address})
    assert signin.status_code == 401, signin.text
    assert forgot.status_code == 200  # the same answer as for any address
    assert form.status_code == 400 and "U+0000" in form.text
    assert api.status_code == 400 and "U+0000" in api.json()["detail"]
