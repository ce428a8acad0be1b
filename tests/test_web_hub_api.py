"""The daily-papers API as the original site answers it, over real HTTP on SQLite and
PostgreSQL: paging, sorting, submitters, every paper by cursor, the submitter and
organisation objects compared with the original's recorded answer, and bad input."""

from __future__ import annotations

import re
from typing import Any

import httpx

from http_clients import http_client
from hub_site import TOP_PAPER, ingest_recorded_day
from paperfeed.accounts import create_api_token, sign_up
from running_site import LATEST_DAY, XSS_ID, Site, csrf_of


def _day(site: Site, **params: Any) -> list[dict[str, Any]]:
    with site.client() as client:
        response = client.get("/api/daily_papers", params={"date": LATEST_DAY, **params})
    assert response.status_code == 200, response.text
    answer: list[dict[str, Any]] = response.json()
    return answer


def test_submitter_and_organisation_objects_carry_the_originals_keys(site: Site) -> None:
    recorded = ingest_recorded_day(site)
    ours = {entry["paper"]["id"]: entry for entry in _day(site) if entry["paper"]["id"] != XSS_ID}
    assert len(ours) == len(recorded) == 17
    for original in recorded:
        entry = ours[original["paper"]["id"]]
        submitter, original_submitter = entry["submittedBy"], original["submittedBy"]
        # every key the original sends, with its value, except the two that change by the
        # hour or by who is looking (followerCount, isUserFollowing): not stored
        assert set(original_submitter) - set(submitter) <= {"followerCount", "isUserFollowing"}
        assert {key: original_submitter[key] for key in submitter} == submitter
        daily_by = entry["paper"]["submittedOnDailyBy"]
        original_daily_by = original["paper"]["submittedOnDailyBy"]
        assert set(original_daily_by) == set(daily_by)  # "name" too, as the original since 2026-03
        assert {key: original_daily_by[key] for key in daily_by} == daily_by
        if "organization" in original:
            assert entry["organization"] == original["organization"]
            assert entry["paper"]["organization"] == original["paper"]["organization"]


def test_submitters_without_a_stored_profile_get_only_what_is_known(site: Site) -> None:
    # the fixture corpus is the flattened export: a handle, no profile
    entry = next(e for e in _day(site) if e["paper"]["id"] == TOP_PAPER)
    assert entry["submittedBy"] == {"name": "taesiri", "type": "user"}
    assert entry["paper"]["submittedOnDailyBy"] == {
        "user": "taesiri",
        "type": "user",
        "name": "taesiri",
    }
    assert entry["organization"] == {"fullname": "Google"}


def test_pages_sorts_and_submitters(site: Site) -> None:
    whole = [entry["paper"]["id"] for entry in _day(site)]
    assert len(whole) == 18
    pages = [[e["paper"]["id"] for e in _day(site, limit=4, p=page)] for page in range(5)]
    assert sum(pages, []) == whole and pages[4] == whole[16:] and _day(site, limit=4, p=9) == []
    trending = [entry["paper"]["id"] for entry in _day(site, sort="trending")]
    assert sorted(trending) == sorted(whole) and trending[0] == TOP_PAPER
    mine = _day(site, submitter="TAESIRI")  # handles are case-insensitive
    assert mine and {entry["submittedBy"]["name"] for entry in mine} == {"taesiri"}


def test_every_paper_by_cursor(site: Site) -> None:
    total = site.store.count_papers()
    seen: list[str] = []
    url: str | None = f"{site.url}/api/papers?limit=50"
    with http_client(timeout=30) as client:
        while url is not None:
            response = client.get(url)
            assert response.status_code == 200
            seen += [paper["id"] for paper in response.json()]
            url = response.links.get("next", {}).get("url")
        first = client.get(f"{site.url}/api/papers", params={"limit": 2})
    assert len(seen) == len(set(seen)) == total
    paper = first.json()[0]
    assert {"id", "title", "summary", "authors", "publishedAt", "upvotes"} <= set(paper)
    assert paper["numComments"] >= 0
    link = first.headers["link"]
    assert link.startswith(f"<{site.url}/api/papers?") and link.endswith('>; rel="next"')


def test_bad_parameters_are_400s_naming_the_value(site: Site) -> None:
    with site.client() as client:
        good = client.get("/api/papers", params={"limit": 1}).links["next"]["url"]
        cursor = httpx.URL(good).params["cursor"]
        tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
        forged = "1" + cursor  # another key with the old signature
        cases = [
            ("/api/daily_papers", {"limit": "0"}, ["'limit'", "'0'"]),
            ("/api/daily_papers", {"limit": "1000"}, ["'limit'", "'1000'"]),
            ("/api/daily_papers", {"p": "-1"}, ["'p'", "'-1'"]),
            ("/api/daily_papers", {"sort": "stars"}, ["'sort'", "'stars'"]),
            ("/api/papers", {"cursor": tampered}, ["'cursor'", tampered]),
            ("/api/papers", {"cursor": forged}, ["'cursor'", forged]),
            ("/api/papers", {"cursor": "not-a-cursor"}, ["'cursor'", "not-a-cursor"]),
            ("/api/papers", {"limit": "101"}, ["'limit'", "'101'"]),
            ("/api/papers/search", {"q": "model", "limit": "121"}, ["'limit'", "'121'"]),
            ("/api/papers/search", {"q": "m" * 251}, ["'q'"]),
        ]
        for path, params, named in cases:
            response = client.get(path, params=params)
            assert response.status_code == 400, (path, params)
            detail = response.json()["detail"]
            assert all(word in detail for word in named), detail
            assert response.headers["x-error-message"].startswith("parameter ")
        assert len(client.get("/api/papers/search", params={"q": "model", "limit": 120}).json())
        assert client.get("/api/papers/search", params={"q": "m" * 250}).status_code == 200


def test_a_read_token_reads_but_does_not_write(site: Site) -> None:
    user = sign_up(site.store, "reader@example.org", "a long enough password", "reader")
    read = {"Authorization": f"Bearer {create_api_token(site.store, user, 'r', 'read')}"}
    write = {"Authorization": f"Bearer {create_api_token(site.store, user, 'w')}"}
    with site.client() as client:
        assert client.get("/api/collections", headers=read).status_code == 200
        refused = client.post(f"/api/papers/{TOP_PAPER}/upvote", headers=read)
        assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
        done = client.post(f"/api/papers/{TOP_PAPER}/upvote", headers=write)
        assert done.status_code == 200 and done.json()["upvoted"] is True


def test_the_account_page_makes_read_only_tokens(site: Site) -> None:
    with site.client() as client:
        client.post(
            "/signup",
            data={
                "email": "form@example.org",
                "password": "a long enough password",
                "name": "form user",
                "csrf_token": csrf_of(client.get("/signup").text),
            },
        )
        page = client.get("/account")
        assert '<select name="scope"' in page.text
        created = client.post(
            "/account/tokens",
            data={"label": "agent", "scope": "read", "csrf_token": csrf_of(page.text)},
        )
        bogus = client.post(
            "/account/tokens",
            data={"label": "x", "scope": "admin", "csrf_token": csrf_of(page.text)},
        )
    token = re.search(r'<code id="new-token">(pf_[^<]+)</code>', created.text)
    assert token is not None
    assert (
        bogus.status_code == 400 and "unknown token scope" in bogus.text and "admin" in bogus.text
    )
    with site.client(headers={"Authorization": f"Bearer {token.group(1)}"}) as api:
        assert api.get("/api/collections").status_code == 200
        assert api.post(f"/api/papers/{TOP_PAPER}/upvote").status_code == 403
