"""Cold start over real HTTP: a new user seeds For you from a BibTeX file (matched and
unmatched entries), from "these are my papers" on an author page, or from picks among
diverse recent papers; until then /for-you says which of these to do."""

from __future__ import annotations

import re

from account_helpers import sign_up
from running_site import Site, csrf_of
from test_triage import AGENT_PAPERS

UNMATCHED_ONLY = """@article{notstored,
  title = {Tool-using language model agents in simulated environments},
  abstract = {We study language model agents that act in interactive environments,
    using tools and memory over long horizons, and evaluate them on agent benchmarks.},
  year = {2024}
}
"""


def _bibtex(ids: list[str]) -> str:
    entries = [
        f"@misc{{k{index}, title = {{Paper {index}}}, eprint = {{{arxiv_id}}}, "
        "archivePrefix = {arXiv}}"
        for index, arxiv_id in enumerate(ids)
    ]
    return "\n".join(entries) + "\n" + UNMATCHED_ONLY + "@misc{empty, year = {2020}}\n"


def test_the_empty_for_you_page_says_how_to_start(site: Site) -> None:
    with site.client() as client:
        sign_up(client, "ada@example.org", "correct horse")
        page = client.get("/for-you").text
        start = client.get("/for-you/start").text
    assert 'href="/for-you/start#seed-import"' in page and "These are my papers" in page
    assert 'href="/for-you/start#seed-picks"' in page
    picks = re.findall(r'name="arxiv_id" value="([^"]+)"', start)
    assert len(picks) == 12 and len(set(picks)) == 12


def test_a_bibtex_import_seeds_for_you_with_matched_and_unmatched_entries(site: Site) -> None:
    with site.client() as client:
        sign_up(client, "ada@example.org", "correct horse")
        token = csrf_of(client.get("/for-you").text)
        answer = client.post(
            "/api/for_you/import",
            headers={"X-CSRF-Token": token},
            files={"file": ("library.bib", _bibtex(AGENT_PAPERS[:2]).encode())},
        )
        ranked = client.get("/api/for_you", params={"limit": 30}).json()
        page = client.get("/for-you").text
        bad = client.post(
            "/api/for_you/import",
            headers={"X-CSRF-Token": token},
            files={"file": ("library.bib", b"not a library")},
        )
    report = answer.json()
    assert answer.status_code == 200, report
    assert [item["id"] for item in report["matched"]] == AGENT_PAPERS[:2]
    assert report["embedded"] == ["notstored"]
    assert report["skipped"] == [{"entry": "empty", "reason": "no title to read it by"}]
    assert ranked["method"] == "svm" and ranked["positives"] == 3
    ids = [paper["id"] for paper in ranked["papers"]]
    assert len(ids) == 30 and not set(ids) & set(AGENT_PAPERS[:2])
    reasons = {paper["because"]["reason"] for paper in ranked["papers"]}
    assert reasons <= {"imported"}
    assert "Because you imported" in page
    assert bad.status_code == 400 and "BibTeX" in bad.json()["detail"]


def test_library_entries_alone_start_for_you(site: Site) -> None:
    with site.client() as client:
        sign_up(client, "ada@example.org", "correct horse")
        page = client.get("/for-you/start").text
        response = client.post(
            "/for-you/import",
            data={"csrf_token": csrf_of(page), "format": "bibtex"},
            files={"file": ("library.bib", UNMATCHED_ONLY.encode())},
        )
        ranked = client.get("/api/for_you", params={"limit": 5}).json()
    assert response.status_code == 200 and 'id="seed-report"' in response.text
    assert ranked["method"] == "centroid" and len(ranked["papers"]) == 5
    because = ranked["papers"][0]["because"]
    assert because["id"] is None and because["title"].startswith("Tool-using language model")


def test_library_imports_are_rate_limited_and_an_entry_imported_again_is_kept_once(
    site: Site,
) -> None:
    """Each import embeds its unmatched entries and kept them all: 75 uploads stored
    100,000 rows and made For you take seconds. An entry imported again replaces its
    vector, and imports count against the collections' import limit."""
    from sqlalchemy import func, select

    from paperfeed.collections.importing import IMPORT_RATE_LIMIT
    from paperfeed.store import schema

    with site.client() as client:
        sign_up(client, "ada@example.org", "correct horse")
        token = csrf_of(client.get("/for-you").text)
        answers = [
            client.post(
                "/api/for_you/import",
                headers={"X-CSRF-Token": token},
                files={"file": ("library.bib", UNMATCHED_ONLY.encode())},
            )
            for _ in range(IMPORT_RATE_LIMIT[0] + 1)
        ]
    assert [answer.status_code for answer in answers[:-1]] == [200] * IMPORT_RATE_LIMIT[0]
    assert answers[-1].status_code == 429 and "Retry-After" in answers[-1].headers
    with site.store.engine.connect() as connection:
        kept = connection.scalar(select(func.count()).select_from(schema.seed_vectors))
    assert kept == 1


def test_these_are_my_papers_and_picks_seed_for_you(site: Site) -> None:
    with site.client() as client:
        sign_up(client, "ada@example.org", "correct horse")
        author = client.get(f"/api/papers/{AGENT_PAPERS[0]}").json()["authors"][0]["name"]
        profile = client.get(f"/authors/{author}").text
        assert "These are my papers" in profile
        claimed = client.post(f"/authors/{author}/mine", data={"csrf_token": csrf_of(profile)})
        ranked = client.get("/api/for_you", params={"limit": 5}).json()
        missing = client.post("/authors/Nobody%20Here/mine", data={"csrf_token": csrf_of(profile)})
    assert claimed.status_code == 303 and claimed.headers["location"] == "/for-you"
    assert ranked["papers"] and ranked["papers"][0]["because"]["reason"] == "authored"
    assert missing.status_code == 404 and "Nobody Here" in missing.text

    with site.client() as client:
        sign_up(client, "bo@example.org", "correct horse")
        start = client.get("/for-you/start").text
        picks = re.findall(r'name="arxiv_id" value="([^"]+)"', start)[:2]
        response = client.post(
            "/for-you/start", data={"csrf_token": csrf_of(start), "arxiv_id": picks}
        )
        ranked = client.get("/api/for_you", params={"limit": 5}).json()
        token = csrf_of(start)
        wrong = client.post(
            "/api/for_you/picks", json={"ids": ["2608.00000"]}, headers={"X-CSRF-Token": token}
        )
    assert response.status_code == 303
    assert ranked["method"] == "svm" and ranked["positives"] == 2
    assert {paper["because"]["reason"] for paper in ranked["papers"]} == {"picked"}
    assert wrong.status_code == 400 and "2608.00000" in wrong.json()["detail"]


def test_a_library_larger_than_an_ordinary_body_seeds_for_you(site: Site) -> None:
    """Imports take 5 MB on their own routes: the For you import (form and API) was held
    to the 64 KiB of every other request, so a 300 KB Zotero library was a 413."""
    abstract = "We study agents that use tools in long-horizon environments. " * 25
    library = "".join(
        f"@misc{{entry{index}, title = {{Paper {index}}}, eprint = {{{arxiv_id}}}, "
        f"archivePrefix = {{arXiv}}, abstract = {{{abstract}}}}}\n"
        for index, arxiv_id in enumerate(AGENT_PAPERS * (200 // len(AGENT_PAPERS) + 1))
    ).encode()
    assert len(library) > 256 * 1024
    with site.client() as client:
        sign_up(client, "ada@example.org", "correct horse")
        token = csrf_of(client.get("/for-you/start").text)
        by_api = client.post(
            "/api/for_you/import",
            headers={"X-CSRF-Token": token},
            files={"file": ("My Library.bib", library)},
        )
        by_form = client.post(
            "/for-you/import",
            data={"csrf_token": token, "format": "auto"},
            files={"file": ("My Library.bib", library)},
        )
    assert by_api.status_code == 200, by_api.text[:300]
    assert {item["id"] for item in by_api.json()["matched"]} == set(AGENT_PAPERS)
    assert by_form.status_code == 200, by_form.text[:300]
    assert "entries matched papers here" in by_form.text
