""" "For you" over real HTTP, on SQLite and PostgreSQL: sign-in prompt, empty state, the
ranked list with its explanations, and the JSON API with a token or a session."""

from __future__ import annotations

import re
import time

from account_helpers import upvote
from paperfeed.accounts import create_api_token, sign_up
from paperfeed.store.collections import add_papers, insert_collection
from running_site import Site, csrf_of

# Three agent-harness papers of the site corpus (2026-08): the positives.
AGENT_PAPERS = ["2608.19880", "2608.16798", "2608.17597"]


def _sign_up(client, email: str = "ada@example.org") -> None:  # type: ignore[no-untyped-def]
    form = client.get("/signup").text
    response = client.post(
        "/signup",
        data={
            "email": email,
            "name": "Ada",
            "password": "correct horse",
            "csrf_token": csrf_of(form),
        },
    )
    assert response.status_code == 303, response.text


def test_signed_out_visitors_are_sent_to_sign_in_and_back(site: Site) -> None:
    """For you is linked in the header, but a signed-out browser got a 401; now it is
    sent to the sign-in form, which comes back to /for-you. The API keeps its 401."""
    sign_up(site.store, "ada@example.org", "correct horse", "Ada")
    with site.client(follow_redirects=True) as browser:
        page = browser.get("/for-you")
        assert [step.status_code for step in page.history] == [303]
        assert page.status_code == 200 and str(page.url).endswith("/signin?next=/for-you")
        assert "<h1>Sign in</h1>" in page.text
        # what For you is, said to the visitor it was hidden from
        assert "For you ranks the last month's papers" in page.text
        assert "For you ranks" not in browser.get("/signin").text
        [next_field] = re.findall(r'<input type="hidden" name="next" value="([^"]*)">', page.text)
        assert next_field == "/for-you"
        fields = {"email": "ada@example.org", "password": "correct horse", "next": next_field}
        back = browser.post("/signin", data=fields | {"csrf_token": csrf_of(page.text)})
    assert back.status_code == 200 and str(back.url).endswith("/for-you")
    assert "No recommendations yet" in back.text
    with site.client() as client:
        api = client.get("/api/for_you", headers={"Accept": "application/json"})
    assert api.status_code == 401
    assert "sign in or send 'Authorization: Bearer <token>'" in api.json()["detail"]


def test_without_upvotes_the_page_says_how_to_get_recommendations(site: Site) -> None:
    with site.client() as client:
        _sign_up(client)
        page = client.get("/for-you")
        api = client.get("/api/for_you")
    assert page.status_code == 200
    assert "No recommendations yet" in page.text
    assert "upvote papers" in page.text and "save them to a collection" in page.text
    assert "article" not in page.text.split("<main>")[1].split("</main>")[0]
    body = api.json()
    assert api.status_code == 200
    assert body["papers"] == [] and body["method"] == "none"
    assert "upvote papers" in body["how_to"]


def test_upvotes_make_a_ranked_list_explained_by_the_users_papers(site: Site) -> None:
    with site.client() as client:
        _sign_up(client)
        for arxiv_id in AGENT_PAPERS:
            upvote(client, arxiv_id)
        page = client.get("/for-you")
        api = client.get("/api/for_you", params={"limit": 5})
    assert page.status_code == 200
    shown = re.findall(r'<article class="card" data-id="([^"]+)"', page.text)
    assert len(shown) == 30 and not set(shown) & set(AGENT_PAPERS)
    assert page.text.count('<p class="because">Because you upvoted') == 30
    assert "Ranked by a linear SVM" in page.text
    body = api.json()
    assert body["method"] == "svm" and body["positives"] == 3
    assert body["window"] == {"first": "2026-07-23", "last": "2026-08-21"}
    assert len(body["papers"]) == 5
    assert [p["id"] for p in body["papers"]] == shown[:5]
    for paper in body["papers"]:
        assert paper["because"]["id"] in AGENT_PAPERS
        assert paper["because"]["reason"] == "upvoted"
        assert paper["date"] >= "2026-07-23"
        assert set(paper) >= {"id", "title", "authors", "upvotes", "score", "because"}
    scores = [paper["score"] for paper in body["papers"]]
    assert scores == sorted(scores, reverse=True)


def test_the_api_takes_a_bearer_token_and_checks_limit(site: Site) -> None:
    user = sign_up(site.store, "bo@example.org", "correct horse", "Bo")
    token = create_api_token(site.store, user, "script")
    with site.client(headers={"Authorization": f"Bearer {token}"}) as client:
        upvoted = client.post(f"/api/papers/{AGENT_PAPERS[0]}/upvote")
        one = client.get("/api/for_you", params={"limit": 3})
        too_many = client.get("/api/for_you", params={"limit": 1000})
    with site.client(headers={"Authorization": "Bearer wrong"}) as client:
        wrong = client.get("/api/for_you")
    assert upvoted.status_code == 200
    body = one.json()
    assert one.status_code == 200 and body["method"] == "centroid" and len(body["papers"]) == 3
    assert {paper["because"]["id"] for paper in body["papers"]} == {AGENT_PAPERS[0]}
    assert too_many.status_code == 400 and "limit" in too_many.json()["detail"]
    assert wrong.status_code == 401 and "not valid" in wrong.json()["detail"]


def test_saved_papers_are_positives_and_explained_as_saved(site: Site) -> None:
    user = sign_up(site.store, "cy@example.org", "correct horse", "Cy")
    token = create_api_token(site.store, user, "script")
    keys = [site.store.get_paper(arxiv_id).key for arxiv_id in AGENT_PAPERS]  # type: ignore[union-attr]
    collection = insert_collection(site.store, user.id, "harnesses", "", False, time.time())
    add_papers(site.store, collection, keys, time.time())
    with site.client(headers={"Authorization": f"Bearer {token}"}) as client:
        body = client.get("/api/for_you", params={"limit": 4}).json()
    assert body["method"] == "svm" and body["positives"] == 3
    assert {paper["because"]["reason"] for paper in body["papers"]} == {"saved"}
    assert not {paper["id"] for paper in body["papers"]} & set(AGENT_PAPERS)
