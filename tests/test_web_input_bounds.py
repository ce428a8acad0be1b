"""Bounds on what a request may carry, over real HTTP: ids past 64 bits on every collection
and comment route (a 4xx, never a 500), and the import routes' 5 MB body limit while
every other route keeps the small one."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from account_helpers import sign_up
from paperfeed.accounts import create_api_token
from paperfeed.collections.importing import MAX_IMPORT_BYTES
from paperfeed.store.accounts import insert_user
from paperfeed.store.database import MAX_ROW_ID
from paperfeed.web.body_limit import MAX_BODY_BYTES
from running_site import Site, csrf_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOP_PAPER = "2608.19880"
SITE_PAPERS = 151  # the papers of site_daily_papers.jsonl, each matched by its arXiv id
HUGE_IDS = [2**31, 2**63, 2**64 + 5, 10**30, -(2**63) - 1]


def _api(site: Site, name: str) -> httpx.Client:
    user = insert_user(site.store, f"{name}@example.org", name, "not-a-real-hash")
    token = create_api_token(site.store, user)
    return site.client(headers={"Authorization": f"Bearer {token}"})


def _sign_up(client: httpx.Client) -> str:
    """Sign Ada up; the CSRF token of her session."""
    sign_up(client, "ada@example.org", "correct horse")
    return csrf_of(client.get("/account").text)


def test_ids_past_64_bits_answer_4xx_on_every_collection_and_comment_route(site: Site) -> None:
    answers: dict[str, int] = {}
    with _api(site, "ada") as api:
        cid = api.post("/api/collections", json={"name": "Mine"}).json()["id"]
        comment = api.post(f"/api/papers/{TOP_PAPER}/comments", json={"text": "first"}).json()
        for huge in [*HUGE_IDS, MAX_ROW_ID, 0]:
            requests = {
                "GET /api/collections/{}": api.get(f"/api/collections/{huge}"),
                "PATCH /api/collections/{}": api.patch(
                    f"/api/collections/{huge}", json={"name": "x"}
                ),
                "DELETE /api/collections/{}": api.delete(f"/api/collections/{huge}"),
                "POST /api/collections/{}/papers": api.post(
                    f"/api/collections/{huge}/papers", json={"id": TOP_PAPER}
                ),
                "DELETE /api/collections/{}/papers/id": api.delete(
                    f"/api/collections/{huge}/papers/{TOP_PAPER}"
                ),
                "GET /api/collections/{}/export": api.get(f"/api/collections/{huge}/export"),
                "POST /api/collections/{}/import": api.post(
                    f"/api/collections/{huge}/import", content=b"@misc{a, eprint={2608.19880}}"
                ),
                "PATCH /api/comments/{}": api.patch(f"/api/comments/{huge}", json={"text": "x"}),
                "PUT /api/comments/{}": api.put(f"/api/comments/{huge}", json={"text": "x"}),
                "DELETE /api/comments/{}": api.delete(f"/api/comments/{huge}"),
                "POST comment with parent {}": api.post(
                    f"/api/papers/{TOP_PAPER}/comments", json={"text": "re", "parent": huge}
                ),
            }
            for route, response in requests.items():
                answers[f"{route.format(huge)}"] = response.status_code
                assert response.status_code in (400, 404), (route, huge, response.text)
                detail = response.json()["detail"]
                assert str(huge) in detail or "not found" in detail or "no " in detail, detail
        still = api.get(f"/api/collections/{cid}").json()
        thread = api.get(f"/api/papers/{TOP_PAPER}/comments").json()
    assert still["name"] == "Mine"
    assert [t["id"] for t in thread["threads"]] == [comment["id"]]  # no reply was stored
    # in range but not there, or past what any row can have: not found, naming the value
    assert answers[f"GET /api/collections/{MAX_ROW_ID}"] == 404
    assert answers[f"GET /api/collections/{2**63}"] == 404
    assert answers[f"GET /api/collections/{2**31}"] == 404
    assert answers["GET /api/collections/0"] == 400  # not an id at all


def test_ids_past_64_bits_answer_4xx_on_every_form(site: Site) -> None:
    with site.client() as browser:
        csrf = _sign_up(browser)
        created = browser.post(
            "/collections", data={"name": "Forms", "csrf_token": csrf, "arxiv_id": ""}
        )
        assert created.status_code == 303
        for huge in HUGE_IDS:
            responses = [
                browser.get(f"/collections/{huge}"),
                browser.post(
                    f"/collections/{huge}/papers",
                    data={"arxiv_id": TOP_PAPER, "change": "add", "csrf_token": csrf},
                ),
                browser.post(f"/collections/{huge}/edit", data={"name": "x", "csrf_token": csrf}),
                browser.post(f"/collections/{huge}/delete", data={"csrf_token": csrf}),
                browser.post(
                    f"/collections/{huge}/import",
                    data={"csrf_token": csrf},
                    files={"file": ("a.bib", b"@misc{a, eprint={2608.19880}}")},
                ),
                browser.post(f"/comments/{huge}/edit", data={"text": "x", "csrf_token": csrf}),
                browser.post(f"/comments/{huge}/delete", data={"csrf_token": csrf}),
                browser.post(
                    f"/papers/{TOP_PAPER}/comments",
                    data={"text": "a reply", "parent": str(huge), "csrf_token": csrf},
                ),
            ]
            for response in responses:
                assert response.status_code in (400, 404), (response.url, response.text[:300])
                assert "Internal Server Error" not in response.text


def test_the_schema_documents_the_id_range(site: Site) -> None:
    with site.client() as client:
        schema = client.get("/api/openapi.json").json()
    checked = 0
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in ("collection_id", "comment_id"):
                    assert parameter["schema"]["maximum"] == MAX_ROW_ID, path
                    assert parameter["schema"]["minimum"] == 1, path
                    checked += 1
    assert checked >= 10


def _zotero_library(site: Site, size: int) -> tuple[bytes, int]:
    """A Zotero-style BibTeX export of the site's papers (each once per round, under its own
    key, as a library with duplicates has them) grown to ``size`` bytes."""
    records = [json.loads(line) for line in (FIXTURES / "site_daily_papers.jsonl").open()]
    entries = []
    total = 0
    round_number = 0
    while total < size:
        round_number += 1
        for record in records:
            authors = " and ".join(
                f"{name.rpartition(' ')[2]}, {name.rpartition(' ')[0]}"
                for name in record["authors"]
            )
            abstract = record["abstract"].replace("{", "(").replace("}", ")")
            title = record["title"].replace("{", "(").replace("}", ")")
            entry = (
                f"@misc{{{record['id'].replace('.', '_')}_{round_number},\n"
                f"\ttitle = {{{title}}},\n"
                f"\turl = {{http://arxiv.org/abs/{record['id']}}},\n"
                f"\tdoi = {{10.48550/arXiv.{record['id']}}},\n"
                f"\tabstract = {{{abstract}}},\n"
                f"\tpublisher = {{arXiv}},\n"
                f"\tauthor = {{{authors}}},\n"
                f"\tyear = {{20{record['id'][:2]}}},\n"
                f"\tnote = {{arXiv:{record['id']} [cs]}},\n"
                "}\n\n"
            )
            entries.append(entry)
            total += len(entry.encode())
            if total >= size:
                break
    return "".join(entries).encode(), len(entries)


@pytest.mark.parametrize("how", ["api-body", "api-multipart", "form"])
def test_a_one_megabyte_bibtex_imports_over_http(site: Site, how: str) -> None:
    library, count = _zotero_library(site, 1_000_000)
    assert MAX_BODY_BYTES < len(library) < MAX_IMPORT_BYTES
    if how == "form":
        with site.client() as browser:
            csrf = _sign_up(browser)
            cid = (
                browser.post(
                    "/collections", data={"name": "Big", "csrf_token": csrf, "arxiv_id": ""}
                )
                .headers["location"]
                .rpartition("/")[2]
            )
            answer = browser.post(
                f"/collections/{cid}/import",
                data={"csrf_token": csrf, "format": "auto"},
                files={"file": ("My Library.bib", library)},
            )
            # every stored paper is in it, 50 cards a page
            pages = -(-SITE_PAPERS // 50)
            cards = [
                browser.get(f"/collections/{cid}", params={"page": n}).text.count('class="card"')
                for n in range(1, pages + 1)
            ]
            past = browser.get(f"/collections/{cid}", params={"page": pages + 1})
        assert answer.status_code == 200, answer.text[:500]
        assert sum(cards) == SITE_PAPERS and max(cards) == 50 and past.status_code == 404
        return
    with _api(site, "ada") as api:
        cid = api.post("/api/collections", json={"name": "Big"}).json()["id"]
        if how == "api-body":
            answer = api.post(f"/api/collections/{cid}/import", content=library)
        else:
            answer = api.post(
                f"/api/collections/{cid}/import", files={"file": ("My Library.bib", library)}
            )
        stored = api.get(f"/api/collections/{cid}").json()
    assert answer.status_code == 200, answer.text[:500]
    report = answer.json()
    assert report["format"] == "bibtex" and report["entries"] == count
    assert len(report["added"]) == SITE_PAPERS and stored["paper_count"] == SITE_PAPERS


def test_only_the_import_routes_take_more_than_the_small_limit(site: Site) -> None:
    with _api(site, "ada") as api:
        cid = api.post("/api/collections", json={"name": "Big"}).json()["id"]
        too_big = api.post(
            f"/api/collections/{cid}/import", content=b"%" * (MAX_IMPORT_BYTES + MAX_BODY_BYTES + 1)
        )
        just_over_five = api.post(
            f"/api/collections/{cid}/import", content=b"%" * (MAX_IMPORT_BYTES + 10)
        )
        other = api.post(
            "/api/collections", json={"name": "x", "description": "d" * (MAX_BODY_BYTES + 1)}
        )
    assert too_big.status_code == 413 and "larger than" in too_big.json()["detail"]
    assert just_over_five.status_code == 400
    assert f"at most {MAX_IMPORT_BYTES:,}" in just_over_five.json()["detail"]
    assert other.status_code == 413
    assert f"larger than {MAX_BODY_BYTES} bytes" in other.json()["detail"]
