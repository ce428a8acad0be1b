"""The real ``hf papers`` command (huggingface_hub's CLI) against a running site, as a
user of the original site runs it: a new process with ``HF_ENDPOINT`` pointed at us."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hub_site import TOP_PAPER, ingest_recorded_day
from running_site import LATEST_DAY, Site

pytest.importorskip("huggingface_hub")
pytestmark = pytest.mark.hfclient


def _hf_command() -> list[str]:
    beside = Path(sys.executable).with_name("hf")
    found = str(beside) if beside.exists() else shutil.which("hf")
    if found is None:
        pytest.skip("the hf command of huggingface_hub is not installed")
    return [found]


def _hf(site: Site, tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGING"))
    }
    environment |= {
        "HF_ENDPOINT": site.url,
        "HF_HOME": str(tmp_path / "hf-home"),  # no saved token of the machine's user
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        "HF_HUB_OFFLINE": "0",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [*_hf_command(), "papers", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _json(site: Site, tmp_path: Path, *arguments: str) -> Any:
    result = _hf(site, tmp_path, *arguments, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_hf_papers_ls_lists_the_newest_and_each_period(site: Site, tmp_path: Path) -> None:
    ingest_recorded_day(site)
    newest = _json(site, tmp_path, "ls")
    # the client's default limit is 50: the newest lists, newest day first
    assert len(newest) == 50 and newest[0]["id"] == TOP_PAPER
    assert newest[0]["upvotes"] == 163 and newest[0]["comments"] == 1
    # submitted_by_name is the submitter's full name, stored from the recorded payload
    assert newest[0]["submitted_by_name"] == "taesiri"

    day = _json(site, tmp_path, "ls", "--date", LATEST_DAY)
    assert len(day) == 18 and day[0]["id"] == TOP_PAPER
    upvotes = [paper["upvotes"] for paper in day]
    assert upvotes == sorted(upvotes, reverse=True)

    week = _json(site, tmp_path, "ls", "--week", "2026-W34", "--limit", "100")
    assert len(week) == 100
    month = _json(site, tmp_path, "ls", "--month", "2026-08", "--limit", "10")
    assert len(month) == 10 and month[0]["id"] == TOP_PAPER


def test_hf_papers_ls_sorts_by_trending_and_filters_by_submitter(
    site: Site, tmp_path: Path
) -> None:
    ingest_recorded_day(site)
    trending = _json(site, tmp_path, "ls", "--sort", "trending", "--limit", "5")
    assert [paper["id"] for paper in trending][:1] == [TOP_PAPER] and len(trending) == 5
    by_taesiri = _json(site, tmp_path, "ls", "--date", LATEST_DAY, "--submitter", "taesiri")
    assert by_taesiri and {paper["submitted_by_name"] for paper in by_taesiri} == {"taesiri"}
    assert TOP_PAPER in {paper["id"] for paper in by_taesiri}
    assert len(by_taesiri) < 18
    assert _json(site, tmp_path, "ls", "--submitter", "nobody-submits-this") == []


def test_hf_papers_ls_bad_values_are_refused_naming_them(site: Site, tmp_path: Path) -> None:
    for arguments, named in [
        (("--limit", "0"), ["'limit'", "'0'"]),
        (("--limit", "1000"), ["'limit'", "'1000'"]),
        (("--month", "2026-13"), ["month", "'2026-13'"]),
    ]:
        result = _hf(site, tmp_path, "ls", *arguments)
        assert result.returncode != 0, arguments
        # the client shows the server's message (our X-Error-Message header) after its own
        assert "Bad request" in result.stderr, result.stderr
        assert all(word in result.stderr for word in named), result.stderr


def test_hf_papers_search_info_and_read(site: Site, tmp_path: Path) -> None:
    ingest_recorded_day(site)
    found = _json(site, tmp_path, "search", "terminal agents", "--limit", "3")
    assert 0 < len(found) <= 3 and found[0]["id"] == "2608.18580"
    assert all(paper["summary"] and paper["published_at"] for paper in found)

    info = _json(site, tmp_path, "info", TOP_PAPER)
    assert info["id"] == TOP_PAPER and info["title"].startswith("EnvHarness")
    assert info["upvotes"] == 163 and info["github_repo"].endswith("/envharness")
    assert info["submitted_by"]["fullname"] == "taesiri"
    assert info["organization"]["name"] == "google"

    read = _hf(site, tmp_path, "read", TOP_PAPER)
    assert read.returncode == 0, read.stderr
    assert read.stdout.startswith("# EnvHarness: Awakening Static Worlds for Agent Learning")
    assert "## Abstract" in read.stdout and "https://arxiv.org/pdf/2608.19880" in read.stdout

    for command in ("info", "read"):
        missing = _hf(site, tmp_path, command, "2608.00001")
        assert missing.returncode != 0
        assert "Paper '2608.00001' not found" in missing.stderr, missing.stderr
