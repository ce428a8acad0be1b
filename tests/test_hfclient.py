"""The real ``huggingface_hub`` client against the real server (``HF_ENDPOINT`` pointed
at it): every papers call of ``HfApi`` reads our answers as the original site's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from http_clients import http_get
from hub_site import ingest_recorded_day
from paperfeed.accounts import sign_up
from paperfeed.store.loading import ingest_sources
from paperfeed.votes import submit_paper
from running_site import ARXIV_ONLY_ID, LATEST_DAY, Site

huggingface_hub = pytest.importorskip("huggingface_hub")
pytestmark = pytest.mark.hfclient

TOP_PAPER = "2608.19880"  # EnvHarness, the top paper of the fixture's latest day


def _api(site: Site):  # type: ignore[no-untyped-def]
    return huggingface_hub.HfApi(endpoint=site.url, token=False)


def test_paper_info_reads_one_paper(site: Site) -> None:
    paper = _api(site).paper_info(TOP_PAPER)
    assert paper.id == TOP_PAPER
    assert paper.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert paper.authors is not None and paper.authors[0].name == "Chengsong Huang"
    assert len(paper.authors) == 17 and paper.authors[0].hidden is False
    assert paper.summary and paper.summary.startswith("LLM agents learn")
    assert paper.upvotes == 163
    assert paper.published_at is not None and paper.published_at.year == 2026
    assert paper.submitted_at is not None and paper.submitted_at.date().isoformat() == LATEST_DAY
    assert paper.organization is not None and paper.organization.fullname == "Google"
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError) as missing:
        _api(site).paper_info("2608.00001")
    assert missing.value.response.status_code == 404


def test_list_papers_reads_a_search(site: Site) -> None:
    papers = list(_api(site).list_papers(query="terminal agents", limit=5))
    assert 0 < len(papers) <= 5
    assert papers[0].id == "2608.18580" and papers[0].title and papers[0].title.startswith("FACET")
    for paper in papers:
        assert paper.authors and all(author.name for author in paper.authors)
        assert paper.summary and paper.upvotes is not None and paper.published_at is not None


def test_list_papers_without_a_query_lists_the_newest_papers(site: Site) -> None:
    """``HfApi().list_papers()`` sends no ``q``: every paper, newest first, ``limit`` at a
    time, as its docstring ("List daily papers") promises."""
    papers = list(_api(site).list_papers(limit=30))
    assert len(papers) == 30
    # the date the site shows (the daily list's, else the listing's), as its date sort
    stored = {paper.arxiv_id: paper for batch in site.store.iter_papers() for paper in batch}
    days = [stored[paper.id].date or "" for paper in papers]
    assert days == sorted(days, reverse=True)
    assert days[0] == max(paper.date or "" for paper in stored.values()) == LATEST_DAY
    everything = list(_api(site).list_papers(limit=120))
    assert len(everything) == 120 and [paper.id for paper in everything[:30]] == [
        paper.id for paper in papers
    ]
    searched = list(_api(site).list_papers(query="terminal agents", limit=5))
    assert searched[0].id == "2608.18580"  # a query still ranks by relevance


def test_list_daily_papers_reads_a_day(site: Site) -> None:
    papers = list(_api(site).list_daily_papers(date=LATEST_DAY))
    assert len(papers) == 18 and papers[0].id == TOP_PAPER
    assert all(paper.authors is not None for paper in papers)
    week = list(_api(site).list_daily_papers(week="2026-W34", limit=100))
    rest = list(_api(site).list_daily_papers(week="2026-W34", limit=100, p=1))
    assert len(week) == 100 and len(week + rest) == 23 + 29 + 25 + 14 + 18


def test_hf_endpoint_points_the_default_client_at_the_site(site: Site) -> None:
    """As a user would: ``HF_ENDPOINT`` set, then a plain ``HfApi()`` in a new process."""
    script = (
        "import json; from huggingface_hub import HfApi; api = HfApi(); "
        f"paper = api.paper_info({TOP_PAPER!r}); "
        "found = [p.id for p in api.list_papers(query='terminal agents')]; "
        f"day = [p.id for p in api.list_daily_papers(date={LATEST_DAY!r})]; "
        "print(json.dumps([paper.id, paper.authors[0].name, found[:1], len(day)]))"
    )
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGING"))
    }
    environment |= {
        "HF_ENDPOINT": site.url,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_OFFLINE": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [TOP_PAPER, "Chengsong Huang", ["2608.18580"], 18]


def test_list_daily_papers_takes_every_parameter(site: Site) -> None:
    ingest_recorded_day(site)
    api = _api(site)
    newest = list(api.list_daily_papers())
    assert len(newest) == 50 and newest[0].id == TOP_PAPER  # the client's default limit
    first = list(api.list_daily_papers(date=LATEST_DAY, limit=5))
    second = list(api.list_daily_papers(date=LATEST_DAY, limit=5, p=1))
    whole = [paper.id for paper in api.list_daily_papers(date=LATEST_DAY)]
    assert [paper.id for paper in first + second] == whole[:10]
    assert len(list(api.list_daily_papers(week="2026-W34", limit=7))) == 7
    assert len(list(api.list_daily_papers(month="2026-08", limit=100, p=1))) == 52
    published = list(api.list_daily_papers(date=LATEST_DAY, sort="publishedAt"))
    assert [paper.id for paper in published] == whole
    trending = list(api.list_daily_papers(sort="trending", limit=5))
    assert len(trending) == 5 and trending[0].id == TOP_PAPER
    week_trending = [p.id for p in api.list_daily_papers(week="2026-W34", sort="trending")]
    assert len(week_trending) == 50 and len(set(week_trending)) == 50
    mine = list(api.list_daily_papers(date=LATEST_DAY, submitter="taesiri"))
    assert mine and all(paper.submitted_by is not None for paper in mine)
    assert {paper.submitted_by.fullname for paper in mine if paper.submitted_by} == {"taesiri"}
    top = mine[0]
    assert top.submitted_by is not None and top.submitted_by.avatar_url.startswith("https://")
    assert top.submitted_by.is_pro is True
    assert top.organization is not None and top.organization.name == "google"
    assert top.comments == 1 and top.upvotes == 163


def test_bad_list_daily_papers_parameters_raise_400s_naming_them(site: Site) -> None:
    api = _api(site)
    for parameters, named in [
        ({"limit": 0}, "'0'"),
        ({"limit": 1000}, "'1000'"),
        ({"p": -1}, "'-1'"),
        ({"sort": "stars"}, "'stars'"),
    ]:
        with pytest.raises(huggingface_hub.errors.HfHubHTTPError) as refused:
            list(api.list_daily_papers(**parameters))
        assert refused.value.response.status_code == 400, parameters
        assert named in str(refused.value), str(refused.value)


def test_list_papers_honours_limit_and_refuses_long_queries(site: Site) -> None:
    api = _api(site)
    assert len(list(api.list_papers(query="model", limit=3))) == 3
    assert len(list(api.list_papers(query="model", limit=120))) > 100
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError) as refused:
        list(api.list_papers(query="model", limit=121))
    assert refused.value.response.status_code == 400 and "'121'" in str(refused.value)
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError) as too_long:
        list(api.list_papers(query="a" * 251))
    assert too_long.value.response.status_code == 400 and "'q'" in str(too_long.value)


def test_paper_info_carries_the_submitter_and_organisation_objects(site: Site) -> None:
    ingest_recorded_day(site)
    paper = _api(site).paper_info(TOP_PAPER)
    assert paper.submitted_by is not None
    assert paper.submitted_by.username == "taesiri" and paper.submitted_by.fullname == "taesiri"
    assert paper.submitted_by.avatar_url.startswith("https://cdn-avatars.huggingface.co/")
    assert paper.organization is not None and paper.organization.name == "google"
    assert paper.project_page == "https://envharness.com/" and paper.github_stars == 8


def test_read_paper_answers_markdown_and_404(site: Site) -> None:
    text = _api(site).read_paper(TOP_PAPER)
    assert text.startswith("# EnvHarness: Awakening Static Worlds for Agent Learning\n")
    assert "- **Upvotes:** 163" in text and "https://arxiv.org/abs/2608.19880" in text
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError) as missing:
        _api(site).read_paper("2608.00001")
    assert missing.value.response.status_code == 404
    assert "no paper 2608.00001 in this paperfeed" in str(missing.value)


def test_the_client_shows_the_server_s_message_with_its_own_characters(site: Site) -> None:
    """A header carries ASCII only; the message naming a non-ASCII value reaches the
    client from the body's ``error``, not as question marks."""
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError) as refused:
        list(_api(site).list_papers(query="注意力机制" * 60))
    assert refused.value.response.status_code == 400
    assert "注意力机制" in str(refused.value) and "?????" not in str(refused.value)
    assert str(refused.value).count("parameter 'q'") == 1  # header and body say the same
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError) as missing:
        _api(site).paper_info("2608.00001")
    assert "no paper 2608.00001 in this paperfeed" in str(missing.value)


def test_the_hub_paginator_walks_every_paper_once(site: Site) -> None:
    """``huggingface_hub``'s own paginator (what its listings use) follows our
    ``Link: rel="next"`` headers through ``GET /api/papers``; papers added while it walks
    do not shift its pages."""
    from huggingface_hub.utils import paginate

    pages = paginate(f"{site.url}/api/papers", params={"limit": 40}, headers={})
    seen = [next(pages)["id"] for _ in range(40)]  # the first page
    added = {"id": "2609.00001", "title": "Added While Walking", "abstract": "New.", "upvotes": 1}
    extra = site.settings.home / "added.jsonl"
    extra.write_text(json.dumps(added | {"daily_date": "2026-09-01"}) + "\n")
    ingest_sources(site.store, [extra], "daily-papers-flat", show_progress=False)
    seen += [paper["id"] for paper in pages]
    assert len(seen) == len(set(seen)) == site.store.count_papers() - 1
    assert "2609.00001" not in seen  # newer than the walk's start: on a fresh walk's first page
    fresh = http_get(f"{site.url}/api/papers", params={"limit": 1})
    assert [paper["id"] for paper in fresh.json()] == ["2609.00001"]


def test_a_paper_submitted_here_names_its_submitter(site: Site) -> None:
    user = sign_up(site.store, "ada@example.org", "a long enough password", "Ada Lovelace")
    submit_paper(site.store, user, ARXIV_ONLY_ID, today=date(2026, 8, 22))
    (paper,) = list(_api(site).list_daily_papers(date="2026-08-22"))
    assert paper.id == ARXIV_ONLY_ID and paper.submitted_by is not None
    assert paper.submitted_by.fullname == "Ada Lovelace"
    info = _api(site).paper_info(ARXIV_ONLY_ID)
    assert info.submitted_by is not None and info.submitted_by.username == "Ada Lovelace"


def test_the_quick_start_corpus_names_its_submitters_as_the_original_does(site: Site) -> None:
    """The bundled corpus is the flattened export (a handle per paper); `hf papers ls`
    against a quick-start site showed an empty submitter. The bundle now carries the API
    crawl's own objects for them, so the client reads the full name and the organisation's
    handle the original site sends."""
    import gzip

    from paperfeed.quickstart import BUNDLE

    with gzip.open(BUNDLE / "papers.jsonl.gz", "rt", encoding="utf-8") as bundle:
        lines = [line for line in bundle if f'"daily_date": "{LATEST_DAY}"' in line]
    day = site.settings.home / "bundled-day.jsonl"
    day.write_text("".join(lines), encoding="utf-8")
    ingest_sources(site.store, [day], "daily-papers-flat", show_progress=False)
    papers = {paper.id: paper for paper in _api(site).list_daily_papers(date=LATEST_DAY)}
    facet = papers["2608.18580"].submitted_by
    assert facet is not None and facet.fullname == "Kou Shi"
    assert facet.avatar_url.startswith("https://cdn-avatars.huggingface.co/")
    top = papers[TOP_PAPER]
    assert top.submitted_by is not None and top.submitted_by.fullname == "taesiri"
    assert top.organization is not None and top.organization.name == "google"
    assert top.organization.fullname == "Google"
