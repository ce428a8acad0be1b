"""The flattened daily-papers reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperfeed.ingest import read_source
from paperfeed.models import Paper, Rejection

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "daily_papers_flat_sample.jsonl"


def test_reads_real_flat_records() -> None:
    items = list(read_source(SAMPLE, "daily-papers-flat"))

    assert all(isinstance(item, Paper) for item in items)
    schedule, alphaone, distilled = [item for item in items if isinstance(item, Paper)]
    assert schedule.arxiv_id == "2405.15682"
    assert schedule.title == "The Road Less Scheduled"
    assert schedule.published == "2024-05-24"
    assert schedule.daily_date == "2024-05-27"
    assert schedule.upvotes == 10
    assert schedule.num_comments == 3
    assert schedule.submitted_by is None
    assert schedule.sources == ["daily-papers"]

    assert alphaone.submitted_by == "RunpeiDong"
    assert alphaone.github_repo == "https://github.com/ASTRAL-Group/AlphaOne"
    assert alphaone.project_page == "https://alphaone-project.github.io/"

    assert distilled.organization == "University of California, Los Angeles"
    assert distilled.github_stars == 0
    assert distilled.authors == ["Yifeng Liu", "Shiyuan Zhang", "Yifan Zhang", "Quanquan Gu"]


def test_agrees_with_the_api_reader_on_the_same_papers() -> None:
    flat = {
        item.arxiv_id: item
        for item in read_source(SAMPLE, "daily-papers-flat")
        if isinstance(item, Paper)
    }
    api = [
        item
        for item in read_source(FIXTURES / "daily_papers", "daily-papers-api")
        if isinstance(item, Paper) and item.arxiv_id in flat
    ]

    assert len(api) == 3
    for paper in api:
        assert paper == flat[paper.arxiv_id]


def _read_one(tmp_path: Path, **fields: object) -> Paper | Rejection:
    record = {"id": "2405.15682", "title": "The Road Less Scheduled", **fields}
    path = tmp_path / "papers.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (item,) = read_source(path, "daily-papers-flat")
    return item


@pytest.mark.parametrize(("raw", "count"), [(12, 12), ("12", 12), (12.0, 12), (0, 0), (None, None)])
def test_accepts_whole_numbers_as_counts(tmp_path: Path, raw: object, count: int | None) -> None:
    paper = _read_one(tmp_path, upvotes=raw)

    assert isinstance(paper, Paper)
    assert paper.upvotes == count


@pytest.mark.parametrize(
    ("raw", "shown"),
    [(True, "bool True"), (-3, "int -3"), (1.5, "float 1.5"), ("12a", "str '12a'")],
)
def test_rejects_other_counts(tmp_path: Path, raw: object, shown: str) -> None:
    rejection = _read_one(tmp_path, upvotes=raw)

    assert isinstance(rejection, Rejection)
    assert rejection.reason == f"field 'upvotes' must be a non-negative whole number, got {shown}"


def test_rejects_an_organization_that_is_not_a_string(tmp_path: Path) -> None:
    rejection = _read_one(tmp_path, organization={"name": "x"})

    assert isinstance(rejection, Rejection)
    assert rejection.reason == "field 'organization' must be a string, got object"


def test_reads_the_bundled_profiles_of_submitter_and_organisation(tmp_path: Path) -> None:
    """The quick-start copy carries the API crawl's objects for the submitter and the
    organisation; they are kept as the API reader keeps them, and anything that is not
    such an object is passed over, not a rejection."""
    line = {
        "id": "2608.18580",
        "title": "FACET",
        "abstract": "An abstract.",
        "submitted_by": "KouShi",
        "submitted_by_profile": {
            "_id": "64a",
            "avatarUrl": "https://cdn-avatars.huggingface.co/a.png",
            "fullname": "Kou Shi",
            "name": "KouShi",
            "followerCount": 12,
            "isPro": False,
        },
        "organization": "Google",
        "organization_profile": {"_id": "5e6", "name": "google", "fullname": "Google"},
    }
    odd = {"id": "2608.18581", "title": "Odd", "abstract": "An abstract.", "submitted_by": "x"}
    odd |= {"submitted_by_profile": "x", "organization_profile": ["Google"]}
    path = tmp_path / "flat.jsonl"
    path.write_text(json.dumps(line) + "\n" + json.dumps(odd) + "\n")

    paper, other = list(read_source(path, "daily-papers-flat"))
    assert isinstance(paper, Paper) and isinstance(other, Paper)
    user, organization = paper.accounts
    assert (user.kind, user.name) == ("user", "KouShi")
    assert user.profile == {
        "_id": "64a",
        "avatarUrl": "https://cdn-avatars.huggingface.co/a.png",
        "fullname": "Kou Shi",
        "name": "KouShi",
        "isPro": False,
    }
    assert (organization.kind, organization.name) == ("organization", "Google")
    assert organization.profile == {"_id": "5e6", "name": "google", "fullname": "Google"}
    assert other.accounts == []
