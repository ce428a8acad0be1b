"""The real ``huggingface_hub`` client against the real server (``HF_ENDPOINT`` pointed
at it): the three paper calls of ``HfApi`` read our answers as the original site's."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from running_site import LATEST_DAY, Site

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
