"""Triage as a user meets it: keywords and a TL;DR on every paper (CLI --json, the JSON
API, cards and the paper page, search by keyword), the source's own ``ai_summary`` and
``ai_keywords`` kept and passed on, and "not for me" over HTTP and in For you."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from account_helpers import sign_up, upvote
from paperfeed.cli import main
from paperfeed.index.annotations import batch_frequencies, choose_tldr, extract_keywords
from running_site import Site, csrf_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARXIV = FIXTURES / "cli_arxiv_sample.jsonl"  # first 30 records of arxiv_2025-03.jsonl.gz
AGENT_PAPERS = ["2608.19880", "2608.16798", "2608.17597"]


def _run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def _records() -> list[dict[str, object]]:
    return [json.loads(line) for line in ARXIV.read_text().splitlines() if line.strip()]


def test_keywords_are_short_phrases_of_the_paper_and_the_tldr_one_of_its_sentences() -> None:
    records = _records()
    frequency = batch_frequencies(f"{r['title']} {r['abstract']}" for r in records)
    for record in records:
        title, abstract = str(record["title"]), " ".join(str(record["abstract"]).split())
        keywords = extract_keywords(title, abstract, frequency)
        assert 1 <= len(keywords) <= 5, (title, keywords)
        folded = f"{title} {abstract}".lower()
        for keyword in keywords:
            assert 1 <= len(keyword.split()) <= 3, keyword
            assert keyword.lower() in folded, (keyword, title)
        assert len({k.lower() for k in keywords}) == len(keywords)
        tldr = choose_tldr(title, abstract, frequency)
        assert 20 < len(tldr) <= 200, tldr
        assert tldr.rstrip("…").strip() in abstract, (tldr, abstract)


def test_cli_search_json_serves_keywords_and_tldr_and_a_keyword_finds_its_paper() -> None:
    code, out, _ = _run("ingest", "--quiet", str(ARXIV))
    assert code == 0, out
    code, out, _ = _run("index", "--quiet", "--no-embed")
    assert code == 0, out
    code, out, err = _run("search", "--json", "--limit", "50", "learning")
    assert code == 0, err
    hits = json.loads(out)["hits"]
    assert hits and all(isinstance(hit["keywords"], list) and hit["tldr"] for hit in hits)
    # a keyword that is in the abstract only matches like a title word
    hit = next(h for h in hits if any(k.lower() not in h["title"].lower() for k in h["keywords"]))
    keyword = next(k for k in hit["keywords"] if k.lower() not in hit["title"].lower())
    code, out, err = _run("search", "--json", "--limit", "3", f'"{keyword}"')
    assert code == 0, err
    assert hit["id"] in [found["id"] for found in json.loads(out)["hits"]], keyword


def test_the_api_the_card_and_the_paper_page_show_keywords_and_tldr(site: Site) -> None:
    with site.client() as client:
        paper = client.get(f"/api/papers/{AGENT_PAPERS[0]}").json()
        page = client.get(f"/papers/{AGENT_PAPERS[0]}").text
        search = client.get("/api/search", params={"q": "agent"}).json()
        daily = client.get("/").text
    assert isinstance(paper["keywords"], list) and 1 <= len(paper["keywords"]) <= 5
    assert paper["tldr"] and len(paper["tldr"]) <= 200
    assert "ai_summary" not in paper and "ai_keywords" not in paper  # the source gave none
    assert 'class="tldr"' in page and paper["keywords"][0] in page
    assert all("keywords" in hit and "tldr" in hit for hit in search["hits"])
    assert daily.count('<p class="tldr">') >= 10 and 'class="keyword"' in daily


def test_the_sources_ai_summary_and_keywords_are_kept_preferred_and_passed_on(
    site: Site, tmp_path: Path
) -> None:
    day = json.loads((FIXTURES / "daily_papers" / "2025-06-02.json").read_text())
    entry = day[0]
    entry["paper"]["ai_summary"] = "A one-line summary written by the source."
    entry["paper"]["ai_keywords"] = ["source keyword one", "source keyword two"]
    path = tmp_path / "2025-06-02.json"
    path.write_text(json.dumps([entry]))
    from paperfeed.index.builder import update_index
    from paperfeed.store.loading import ingest_sources

    ingest_sources(site.store, [path], "daily-papers-api")
    update_index(site.store, site.settings, show_progress=False)
    arxiv_id = entry["paper"]["id"]
    with site.client() as client:
        paper = client.get(f"/api/papers/{arxiv_id}").json()
        daily = client.get("/api/daily_papers", params={"date": "2025-06-02"}).json()
        found = client.get("/api/search", params={"q": '"source keyword two"'}).json()
    assert paper["ai_summary"] == "A one-line summary written by the source."
    assert paper["ai_keywords"] == ["source keyword one", "source keyword two"]
    assert paper["tldr"] == paper["ai_summary"]
    assert paper["keywords"] == ["source keyword one", "source keyword two"]
    inner = next(item["paper"] for item in daily if item["paper"]["id"] == arxiv_id)
    assert inner["ai_keywords"] == ["source keyword one", "source keyword two"]
    assert arxiv_id in [hit["id"] for hit in found["hits"]]


def test_not_for_me_hides_a_paper_from_for_you_is_listed_and_reversible(site: Site) -> None:
    with site.client() as client:
        sign_up(client, "ada@example.org", "correct horse")
        for arxiv_id in AGENT_PAPERS:
            upvote(client, arxiv_id)
        before = client.get("/api/for_you", params={"limit": 10}).json()["papers"]
        top = before[0]["id"]
        token = csrf_of(client.get("/for-you").text)
        marked = client.post(f"/api/papers/{top}/not-for-me", headers={"X-CSRF-Token": token})
        again = client.post(f"/api/papers/{top}/not-for-me", headers={"X-CSRF-Token": token})
        after = client.get("/api/for_you", params={"limit": 10}).json()["papers"]
        listed = client.get("/api/not-for-me").json()["papers"]
        account = client.get("/account").text
        page = client.get(f"/papers/{top}").text
        undone = client.delete(f"/api/papers/{top}/not-for-me", headers={"X-CSRF-Token": token})
        restored = client.get("/api/for_you", params={"limit": 10}).json()["papers"]
        no_csrf = client.post(f"/api/papers/{top}/not-for-me")
        missing = client.post("/api/papers/2608.00000/not-for-me", headers={"X-CSRF-Token": token})
    assert marked.json() == {"id": top, "not_for_me": True, "changed": True}
    assert again.json()["changed"] is False
    assert top not in [paper["id"] for paper in after]
    assert [paper["id"] for paper in listed] == [top]
    # when, as every other moment in the API: ISO 8601 in UTC, just now
    marked_at = datetime.fromisoformat(listed[0]["marked_at"])
    assert marked_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - marked_at) < timedelta(minutes=5)
    assert (
        'id="not-for-me"' in account
        and f'href="/papers/{top}"' in account.split('id="not-for-me"')[1]
    )
    assert "Undo not for me" in page
    assert undone.json() == {"id": top, "not_for_me": False, "changed": True}
    assert top in [paper["id"] for paper in restored]
    assert no_csrf.status_code == 403
    assert missing.status_code == 404 and "2608.00000" in missing.json()["detail"]


def test_not_for_me_needs_a_user_and_the_form_goes_back(site: Site) -> None:
    with site.client() as client:
        anonymous = client.post("/api/papers/2608.19880/not-for-me")
        card_page = client.get("/").text
        sign_up(client, "ada@example.org", "correct horse")
        page = client.get("/").text
        first = re.findall(r'<article class="card" data-id="([^"]+)"', page)[0]
        response = client.post(
            f"/papers/{first}/not-for-me",
            data={"csrf_token": csrf_of(page), "change": "add", "next": "/"},
        )
        bad = client.post(
            f"/papers/{first}/not-for-me",
            data={"csrf_token": csrf_of(page), "change": "maybe", "next": "/"},
        )
        again = client.get("/").text
    assert anonymous.status_code == 401
    assert "Not for me" not in card_page  # signed out: no button
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert bad.status_code == 400 and "maybe" in bad.text
    card = again.split(f'data-id="{first}"')[1].split("</article>")[0]
    assert "Undo not for me" in card


def test_weighted_negatives_push_their_neighbours_down_and_bad_weights_are_named() -> None:
    import numpy as np
    import pytest

    from paperfeed.search.classifier import train_linear_svm

    generator = np.random.default_rng(3)
    features = generator.normal(size=(300, 8))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    labels = np.zeros(300, np.bool_)
    labels[:10] = True
    marked = 10 + np.argsort(-(features[10:] @ features[:10].mean(axis=0)))[:5]
    weights = np.ones(300)
    weights[marked] = 20.0
    plain = train_linear_svm(features, labels).decision(features[marked])
    weighted = train_linear_svm(features, labels, sample_weights=weights).decision(features[marked])
    assert float(weighted.mean()) < float(plain.mean())
    with pytest.raises(ValueError, match=r"sample weights \(3,\)"):
        train_linear_svm(features, labels, sample_weights=np.ones(3))
