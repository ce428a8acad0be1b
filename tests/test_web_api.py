"""The JSON API over real HTTP against a running server, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import json
import tarfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pydantic

from paperfeed.accounts import create_api_token, sign_up
from paperfeed.ingest.text_cleaning import clean_text
from paperfeed.store.accounts import count_votes, insert_user
from paperfeed.store.loading import ingest_sources
from paperfeed.web.api import JsonAnswer
from running_site import LATEST_DAY, XSS_ID, Site, csrf_of

TOP_PAPER = "2608.19880"  # EnvHarness, 163 upvotes, the top of 2026-08-21
TOP_UPVOTES = 163


def _recorded_day(shared_file: Callable[..., Path], folder: Path) -> Path:
    """The original site's own answer for 2026-08-21, extracted from the real archive."""
    archive = shared_file("hf_daily_papers", "daily_papers_api.tar.gz")
    with tarfile.open(archive) as tar:
        member = tar.getmember(f"daily_papers/{LATEST_DAY}.json")
        member.name = f"{LATEST_DAY}.json"
        tar.extract(member, folder, filter="data")
    return folder / f"{LATEST_DAY}.json"


def _words(text: str) -> str:
    return " ".join(text.split())


def _moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _recorded_and_ours(
    site: Site, shared_file: Callable[..., Path], tmp_path: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    path = _recorded_day(shared_file, tmp_path)
    summary = ingest_sources(site.store, [path], "daily-papers-api", show_progress=False)
    assert summary.rejected == 0
    recorded: list[dict[str, Any]] = json.loads(path.read_text())
    with site.client() as client:
        response = client.get("/api/daily_papers", params={"date": LATEST_DAY})
    assert response.status_code == 200
    ours = [entry for entry in response.json() if entry["paper"]["id"] != XSS_ID]
    return recorded, ours


def test_daily_papers_keeps_the_original_sites_json_shape(
    site: Site, shared_file: Callable[..., Path], tmp_path: Path
) -> None:
    recorded, ours = _recorded_and_ours(site, shared_file, tmp_path)
    assert len(recorded) == 17 and len(ours) == 17

    # Most upvoted first, ties the newest published first, then the higher arXiv id: the
    # original's order exactly (2608.20281 before 2608.19891, both at 3 upvotes).
    assert [entry["paper"]["id"] for entry in ours] == [entry["paper"]["id"] for entry in recorded]
    assert ours[0]["paper"]["id"] == recorded[0]["paper"]["id"] == TOP_PAPER

    # Every key we send is one the original sends; we leave out what we do not store.
    # Top level: thumbnail, mediaUrls. In `paper`: discussionId, githubRepoAddedBy,
    # mediaUrls. In authors: _id. In organization: _id, avatar. In submittedBy and
    # submittedOnDailyBy: _id, avatarUrl, isPro, isHf, isHfAdmin, isMod, followerCount,
    # isUserFollowing, fullname, user; in organization also name (the handle).
    def keys(entries: list[dict[str, Any]], *path: str) -> set[str]:
        found: set[str] = set()
        for entry in entries:
            value: Any = entry
            for step in path:
                value = value.get(step) if isinstance(value, dict) else None
            for item in value if isinstance(value, list) else [value]:
                found |= set(item) if isinstance(item, dict) else set()
        return found

    for path in [
        (),
        ("paper",),
        ("paper", "authors"),
        ("organization",),
        ("paper", "organization"),
        ("submittedBy",),
        ("paper", "submittedOnDailyBy"),
    ]:
        assert keys(ours, *path) <= keys(recorded, *path), path
    assert keys(recorded) - keys(ours) == {"thumbnail", "mediaUrls", "isAuthorParticipating"}
    assert keys(recorded, "paper") - keys(ours, "paper") == {
        "discussionId",
        "githubRepoAddedBy",
        "mediaUrls",
    }

    by_id = {entry["paper"]["id"]: entry for entry in recorded}
    for entry in ours:
        original = by_id[entry["paper"]["id"]]
        paper, original_paper = entry["paper"], original["paper"]
        # We serve the store's cleaned text: the original's, with common LaTeX rendered
        # ("below 50\%" becomes "below 50%" in 2608.19799) and whitespace collapsed.
        assert entry["title"] == paper["title"] == clean_text(original["title"])
        assert _words(entry["summary"]) == _words(clean_text(original["summary"]))
        assert _words(paper["summary"]) == _words(clean_text(original_paper["summary"]))
        assert entry["numComments"] == original["numComments"]
        for key in ("upvotes", "githubRepo", "githubStars", "projectPage"):
            assert paper.get(key) == original_paper.get(key), key
        assert paper["authors"] == [
            {"name": clean_text(author["name"]), "hidden": author["hidden"]}
            for author in original_paper["authors"]
        ]
        assert entry["organization"]["fullname"] == original["organization"]["fullname"]
        assert paper["organization"]["fullname"] == original_paper["organization"]["fullname"]
        assert paper["submittedOnDailyAt"] == original_paper["submittedOnDailyAt"]
        # We keep dates, not times: the original's paper.publishedAt is sometimes a
        # moment (2608.14022: 07:13:34), ours is that day at midnight UTC.
        assert paper["publishedAt"] == original_paper["publishedAt"][:10] + "T00:00:00.000Z"
        # The original's entry-level publishedAt is its paper.publishedAt four hours
        # earlier (20:00Z the evening before, or 03:13:34Z for 2608.14022); we send the
        # paper's date there too, so the two are within a day of each other.
        assert entry["publishedAt"] == paper["publishedAt"]
        shift = _moment(entry["publishedAt"]) - _moment(original["publishedAt"])
        assert abs(shift.total_seconds()) < 24 * 3600


def test_daily_papers_submitter_and_organisation_names_mean_what_they_did(
    site: Site, shared_file: Callable[..., Path], tmp_path: Path
) -> None:
    recorded, ours = _recorded_and_ours(site, shared_file, tmp_path)
    by_id = {entry["paper"]["id"]: entry for entry in recorded}
    for entry in ours:
        original = by_id[entry["paper"]["id"]]
        # not stored, so not sent (rather than a made-up false)
        assert "isAuthorParticipating" not in entry
        for ours_field, original_field in [
            (entry["submittedBy"], original["submittedBy"]),
            (entry["paper"]["submittedOnDailyBy"], original["paper"]["submittedOnDailyBy"]),
            (entry["organization"], original["organization"]),
        ]:
            for key, value in ours_field.items():
                assert value == original_field[key], (entry["paper"]["id"], key, value)


def test_daily_papers_by_day_week_and_month(site: Site) -> None:
    with site.client() as client:
        latest = client.get("/api/daily_papers").json()
        day = client.get("/api/daily_papers", params={"date": LATEST_DAY}).json()
        weekend = client.get("/api/daily_papers", params={"date": "2026-08-16"})
        week = [
            entry
            for page in (0, 1)
            for entry in client.get(
                "/api/daily_papers", params={"week": "2026-W34", "limit": 100, "p": page}
            ).json()
        ]
        month = [
            entry
            for page in (0, 1, 2, 3)
            for entry in client.get(
                "/api/daily_papers", params={"month": "2026-08", "p": page}
            ).json()
        ]
    # without a period: the newest lists, 50 at a time (the original's default limit)
    assert len(latest) == 50 and latest[:18] == day and len(day) == 18  # 17 + the hostile one
    days = [entry["paper"]["submittedOnDailyAt"][:10] for entry in latest]
    assert days == [LATEST_DAY] * 18 + ["2026-08-20"] * 14 + ["2026-08-19"] * 18
    assert day[0]["paper"]["id"] == TOP_PAPER and day[0]["paper"]["upvotes"] == TOP_UPVOTES
    assert weekend.status_code == 200 and weekend.json() == []
    assert len(week) == 23 + 29 + 25 + 14 + 18  # Mon 08-17 .. Fri 08-21, in pages of 100
    assert len(month) == 152  # pages of 50: 50 + 50 + 50 + 2
    for papers in (week, month):
        upvotes = [entry["paper"]["upvotes"] for entry in papers]
        assert upvotes == sorted(upvotes, reverse=True)


def test_bad_daily_papers_parameters_are_400s_naming_them(site: Site) -> None:
    cases = [
        ({"date": "2026-13-45"}, ["date", "2026-13-45"]),
        ({"week": "2026-34"}, ["week", "2026-34"]),
        ({"week": "2026-W54"}, ["week", "2026-W54"]),
        ({"month": "2026-13"}, ["month", "2026-13"]),
        ({"date": LATEST_DAY, "week": "2026-W34"}, ["date", "week"]),
    ]
    with site.client() as client:
        for params, named in cases:
            response = client.get("/api/daily_papers", params=params)
            assert response.status_code == 400, params
            assert response.headers["content-type"] == "application/json"
            detail = response.json()["detail"]
            assert all(word in detail for word in named), detail


def test_a_date_week_or_month_must_be_exactly_its_ascii_shape(site: Site) -> None:
    """Python 3.11's date.fromisoformat reads 2026-W34-5 and 20260821, and ``\\d`` with
    ``$`` takes full-width digits and a trailing newline: each is a 400 naming it."""
    cases = [
        ("date", "2026-W34-5"),
        ("date", "20260821"),
        ("date", "2026-08-21\n"),
        ("date", "２０26-08-21"),
        ("month", "２０26-08"),
        ("month", "2026-08\n"),
        ("week", "2026-W34\n"),
        ("week", "２０２６-W34"),
    ]
    with site.client() as client:
        for name, value in cases:
            for path in ("/api/daily_papers", "/rss/daily", "/"):
                response = client.get(path, params={name: value})
                assert response.status_code == 400, (path, name, value)
                shown = (
                    html.unescape(response.text)
                    if response.headers["content-type"].startswith("text/html")
                    else response.json()["detail"]
                )
                assert f"{name} {value!r}" in shown, (path, shown)
        new = client.get("/new", params={"date": "20260821"})
        assert new.status_code == 400 and "date '20260821'" in html.unescape(new.text)
        # the exact shapes still answer
        for name, value in (("date", LATEST_DAY), ("week", "2026-W34"), ("month", "2026-08")):
            assert client.get("/api/daily_papers", params={name: value}).status_code == 200


def test_explained_search_api_explains_hits_and_pages(site: Site) -> None:
    with site.client() as client:
        found = client.get("/api/search", params={"q": "terminal agents"}).json()
        first = client.get("/api/search", params={"q": "model", "limit": 5}).json()
        second = client.get("/api/search", params={"q": "model", "limit": 5, "offset": 5}).json()
        both = client.get("/api/search", params={"q": "model", "limit": 10}).json()
    assert found["query"] == "terminal agents" and found["total"] >= len(found["hits"]) > 0
    top = found["hits"][0]
    assert top["id"] == "2608.18580" and top["title"].startswith("FACET")
    assert top["snippet"] and top["matched_terms"]
    assert top["found_by"] in {"lexical", "semantic", "both"}
    assert all(hit["found_by"] in {"lexical", "semantic", "both"} for hit in found["hits"])
    assert len(first["hits"]) == len(second["hits"]) == 5
    assert first["offset"] == 0 and second["offset"] == 5
    assert [hit["id"] for hit in first["hits"] + second["hits"]] == [
        hit["id"] for hit in both["hits"]
    ]


def test_search_in_the_original_shape_lists_the_same_hits(site: Site) -> None:
    with site.client() as client:
        original = client.get("/api/papers/search", params={"q": "terminal agents"})
        explained = client.get("/api/search", params={"q": "terminal agents"}).json()
    assert original.status_code == 200
    entries = original.json()
    assert [entry["paper"]["id"] for entry in entries] == [hit["id"] for hit in explained["hits"]]
    first = entries[0]
    assert set(first) >= {"paper", "title", "summary", "publishedAt", "numComments"}
    assert first["paper"]["authors"][0] == {
        "name": first["paper"]["authors"][0]["name"],
        "hidden": False,
    }
    assert first["paper"]["title"] == first["title"] and first["paper"]["summary"]
    assert isinstance(first["paper"]["upvotes"], int)


def test_bad_search_parameters_are_400s_naming_them(site: Site) -> None:
    cases = [
        ({"q": "model", "limit": "abc"}, ["limit", "abc"]),
        ({"q": "model", "limit": "0"}, ["limit", "0"]),
        ({"q": "model", "offset": "-1"}, ["offset", "-1"]),
        ({"q": "model", "sort": "stars"}, ["sort", "stars"]),
    ]
    with site.client() as client:
        # /api/papers/search without q lists every paper (HfApi().list_papers())
        assert client.get("/api/search").status_code == 400
        assert "'q'" in client.get("/api/search").json()["detail"]
        for path in ("/api/papers/search", "/api/search"):
            for params, named in cases:
                response = client.get(path, params=params)
                assert response.status_code == 400, params
                detail = response.json()["detail"]
                assert all(word in detail for word in named), detail


def test_paper_by_id_with_version_or_prefix_and_its_similar_papers(site: Site) -> None:
    with site.client() as client:
        paper = client.get(f"/api/papers/{TOP_PAPER}")
        versioned = client.get(f"/api/papers/{TOP_PAPER}v2").json()
        prefixed = client.get(f"/api/papers/arXiv:{TOP_PAPER}").json()
        unknown = client.get("/api/papers/2608.00001")
        garbage = client.get("/api/papers/not-an-id")
        similar = client.get(f"/api/papers/{TOP_PAPER}/similar", params={"limit": 5})
        unknown_similar = client.get("/api/papers/2608.00001/similar")
    assert paper.status_code == 200
    body = paper.json()
    assert body["id"] == TOP_PAPER and body["upvotes"] == TOP_UPVOTES
    assert body["title"] == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert body["authors"][0] == {"name": "Chengsong Huang", "hidden": False}
    assert body["organization"] == {"fullname": "Google"}
    assert body["summary"] == body["abstract"] and body["publishedAt"].endswith("Z")
    assert body["links"]["abstract"] == f"https://arxiv.org/abs/{TOP_PAPER}"
    assert body["upvoted"] is False
    assert versioned == prefixed == body
    assert unknown.status_code == 404
    message = "no paper 2608.00001 in this paperfeed"
    assert unknown.json() == {"detail": message, "error": message}
    assert garbage.status_code == 404 and "not-an-id" in garbage.json()["detail"]
    assert similar.status_code == 200
    ids = [hit["id"] for hit in similar.json()]
    assert len(ids) == 5 and TOP_PAPER not in ids and len(set(ids)) == 5
    assert unknown_similar.status_code == 404


def test_upvoting_with_a_personal_api_token(site: Site) -> None:
    user = sign_up(site.store, "ada@example.org", "correct horse", "Ada")
    token = create_api_token(site.store, user, "laptop")
    url = f"/api/papers/{TOP_PAPER}/upvote"
    with site.client() as anonymous:
        refused = [
            anonymous.post(url),
            anonymous.post(url, headers={"Authorization": token}),
            anonymous.post(url, headers={"Authorization": f"Basic {token}"}),
            anonymous.post(url, headers={"Authorization": "Bearer"}),
            anonymous.post(url, headers={"Authorization": "Bearer pf_not-a-real-token"}),
            anonymous.post(url, headers={"Authorization": f"Bearer {token}x"}),
        ]
    for response in refused:
        assert response.status_code == 401, response.text
        assert response.json()["detail"]
    with site.client(headers={"Authorization": f"Bearer {token}"}) as api:
        voted = api.post(url)
        again = api.post(url)
        seen = api.get(f"/api/papers/{TOP_PAPER}").json()
        withdrawn = api.delete(url)
        withdrawn_again = api.delete(url)
        after = api.get(f"/api/papers/{TOP_PAPER}").json()
        unknown = api.post("/api/papers/2608.00001/upvote")
    assert voted.status_code == 200
    assert voted.json() == {"id": TOP_PAPER, "upvoted": True, "upvotes": TOP_UPVOTES + 1}
    assert again.json() == voted.json()
    assert seen["upvotes"] == TOP_UPVOTES + 1 and seen["upvoted"] is True
    assert withdrawn.json() == {"id": TOP_PAPER, "upvoted": False, "upvotes": TOP_UPVOTES}
    assert withdrawn_again.json() == withdrawn.json()
    assert after["upvotes"] == TOP_UPVOTES and after["upvoted"] is False
    assert unknown.status_code == 404


def test_a_browser_session_needs_the_csrf_header_to_upvote_by_api(site: Site) -> None:
    url = f"/api/papers/{TOP_PAPER}/upvote"
    with site.client() as browser:
        form = browser.get("/signup").text
        signed_up = browser.post(
            "/signup",
            data={
                "email": "ada@example.org",
                "name": "Ada",
                "password": "correct horse",
                "csrf_token": csrf_of(form),
            },
        )
        assert signed_up.status_code == 303
        csrf = csrf_of(browser.get(f"/papers/{TOP_PAPER}").text)
        forged = browser.post(url)
        wrong = browser.post(url, headers={"X-CSRF-Token": "guess"})
        unchanged = browser.get(f"/api/papers/{TOP_PAPER}").json()
        allowed = browser.post(url, headers={"X-CSRF-Token": csrf})
    assert forged.status_code == 403 and "CSRF" in forged.json()["detail"]
    assert wrong.status_code == 403
    assert unchanged["upvotes"] == TOP_UPVOTES and unchanged["upvoted"] is False
    assert allowed.status_code == 200 and allowed.json()["upvotes"] == TOP_UPVOTES + 1


def test_concurrent_upvotes_count_once_per_user(site: Site) -> None:
    tokens = []
    for number in range(100):
        # A placeholder password hash: these users only ever authenticate by token.
        user = insert_user(site.store, f"voter{number}@example.org", f"Voter {number}", "x")
        tokens.append(create_api_token(site.store, user))
    paper = site.store.get_paper(TOP_PAPER)
    assert paper is not None
    paper_key = paper.key
    url = f"/api/papers/{TOP_PAPER}/upvote"

    def all_at_once(method: str, senders: list[str]) -> list[httpx.Response]:
        """Each token's request from its own thread and client, released together."""
        start = threading.Barrier(len(senders), timeout=30)

        def send(token: str) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"}
            with site.client(headers=headers) as client:
                start.wait()
                return client.request(method, url)

        with ThreadPoolExecutor(max_workers=len(senders)) as pool:
            return list(pool.map(send, senders))

    votes = all_at_once("POST", tokens * 2)  # every user votes twice, 200 in flight
    assert [response.status_code for response in votes] == [200] * 200
    assert all(response.json()["upvoted"] for response in votes)
    assert count_votes(site.store, [paper_key]) == {paper_key: 100}
    with site.client() as client:
        assert client.get(f"/api/papers/{TOP_PAPER}").json()["upvotes"] == TOP_UPVOTES + 100

    withdrawals = all_at_once("DELETE", tokens)
    assert [response.status_code for response in withdrawals] == [200] * 100
    assert not any(response.json()["upvoted"] for response in withdrawals)
    assert count_votes(site.store, [paper_key]) == {}
    with site.client() as client:
        assert client.get(f"/api/papers/{TOP_PAPER}").json()["upvotes"] == TOP_UPVOTES


def test_openapi_schema_and_self_hosted_docs_page(site: Site) -> None:
    endpoints = [
        "/api/daily_papers",
        "/api/papers/search",
        "/api/search",
        "/api/papers/{id}",
        "/api/papers/{id}/similar",
        "/api/papers/{id}/upvote",
    ]
    with site.client() as client:
        schema = client.get("/api/openapi.json")
        docs = client.get("/api/docs")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert set(endpoints) <= set(paths)
    assert set(paths["/api/papers/{id}/upvote"]) == {"post", "delete"}
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in docs.headers["content-security-policy"]
    for endpoint in endpoints:
        assert f"<code>{endpoint}</code>" in docs.text, endpoint
    # docstrings' reST literals are shown as code, not as backticks
    assert "``" not in docs.text and "`" not in docs.text.split("<main", 1)[-1]
    assert "``" not in schema.text
    # the schema says what the server answers
    assert set(paths["/api/papers/{id}"]["get"]["responses"]) >= {"200", "404"}
    assert set(paths["/api/papers/search"]["get"]["responses"]) >= {"200", "400"}
    assert set(paths["/api/papers/{id}/upvote"]["post"]["responses"]) >= {"401", "404"}
    rss = paths["/rss/daily"]["get"]["responses"]["200"]["content"]
    assert list(rss) == ["application/rss+xml"]
    for tag in ("<script", "<link"):
        for element in docs.text.split(tag)[1:]:
            element = element.split(">", 1)[0]
            assert "http:" not in element and "https:" not in element and "//" not in element


def test_list_answers_are_written_as_fastapis_encoder_writes_them() -> None:
    """The search, daily, trending and similar routes answer their own JSON: the bytes
    FastAPI's checked encoding wrote, NaN and infinities as null (not JSON's invalid
    ``NaN``), text as UTF-8, dates as ISO strings."""
    value = [
        {
            "score": float("nan"),
            "upvotes": float("inf"),
            "title": "Kullback–Leibler, é",
            "date": datetime(2024, 1, 2).date(),
            "authors": ("A", "B"),
            "nested": {"keywords": ["x"], "tldr": None},
        }
    ]
    body = JsonAnswer(value).body
    assert body == pydantic.TypeAdapter(list[dict[str, Any]]).dump_json(value)
    assert json.loads(body)[0]["score"] is None
    assert JsonAnswer(value).headers["content-type"] == "application/json"
