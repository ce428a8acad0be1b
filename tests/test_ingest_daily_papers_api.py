"""The daily-papers API reader: day files, folders of them, and tar archives."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from paperfeed.ingest import IngestError, read_source
from paperfeed.models import Paper, Rejection

FIXTURES = Path(__file__).parent / "fixtures"
DAY_FILES = FIXTURES / "daily_papers"
MALFORMED = FIXTURES / "daily_papers_malformed"


def _papers(items: list[Paper | Rejection]) -> list[Paper]:
    return [item for item in items if isinstance(item, Paper)]


def _rejections(items: list[Paper | Rejection]) -> list[Rejection]:
    return [item for item in items if isinstance(item, Rejection)]


def _write_archive(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_reads_one_day_file() -> None:
    items = list(read_source(DAY_FILES / "2025-06-02.json"))

    assert _rejections(items) == []
    prorl, alphaone = _papers(items)
    assert prorl.arxiv_id == "2505.24864"
    assert prorl.title == (
        "ProRL: Prolonged Reinforcement Learning Expands Reasoning Boundaries in\n"
        "  Large Language Models"
    )
    assert prorl.abstract is not None
    assert prorl.abstract.startswith("Recent advances in reasoning-centric language models")
    assert prorl.authors is not None and len(prorl.authors) == 8
    assert prorl.authors[:2] == ["Mingjie Liu", "Shizhe Diao"]
    assert prorl.published == "2025-05-30"
    assert prorl.daily_date == "2025-06-02"
    assert prorl.upvotes == 35
    assert prorl.num_comments == 1
    assert prorl.submitted_by == "shizhediao"  # the user handle, as in the flat export
    assert prorl.organization is None
    assert prorl.github_repo is None
    assert prorl.sources == ["daily-papers"]

    assert alphaone.arxiv_id == "2505.24863"
    assert alphaone.github_repo == "https://github.com/ASTRAL-Group/AlphaOne"
    assert alphaone.project_page == "https://alphaone-project.github.io/"
    assert alphaone.github_stars is None


def test_reads_organization_and_stars() -> None:
    (paper,) = _papers(list(read_source(DAY_FILES / "2026-06-04.json")))

    assert paper.arxiv_id == "2606.04036"
    assert paper.organization == "University of California, Los Angeles"  # its fullname
    assert paper.submitted_by == "Lewis-Lau"
    assert paper.github_stars == 0
    assert paper.upvotes == 13
    assert paper.num_comments == 2
    assert paper.published == "2026-06-02"


def test_reads_the_older_entry_shape_without_submitter() -> None:
    (paper,) = _papers(list(read_source(DAY_FILES / "2024-05-27.json")))

    assert paper.arxiv_id == "2405.15682"
    assert paper.title == "The Road Less Scheduled"
    assert paper.submitted_by is None
    assert paper.daily_date == "2024-05-27"
    assert paper.num_comments == 3


def test_reads_a_folder_of_day_files_in_date_order() -> None:
    papers = _papers(list(read_source(DAY_FILES)))

    assert [(paper.daily_date, paper.arxiv_id) for paper in papers] == [
        ("2024-05-27", "2405.15682"),
        ("2025-06-02", "2505.24864"),
        ("2025-06-02", "2505.24863"),
        ("2026-06-04", "2606.04036"),
    ]


def test_streams_a_tar_archive_and_names_members_in_rejections(tmp_path: Path) -> None:
    archive = tmp_path / "archive.tar.gz"
    members = {
        f"daily_papers/{file.name}": file.read_bytes() for file in sorted(DAY_FILES.iterdir())
    }
    members["daily_papers/2025-06-03.json"] = (MALFORMED / "2025-06-03.json").read_bytes()
    members["daily_papers/._2025-06-02.json"] = b"\x00\x05\x16\x07 macOS metadata"
    members["daily_papers/README.md"] = b"not a day file"
    _write_archive(archive, members)

    items = list(read_source(archive))

    assert len(_papers(items)) == 4 + 2
    assert _rejections(items)[0] == Rejection(
        f"{archive}:daily_papers/2025-06-03.json", 1, "record is not a JSON object, got str"
    )
    assert str(_rejections(items)[1]) == (
        f"{archive}:daily_papers/2025-06-03.json:2: missing field 'paper'"
    )


def test_rejects_malformed_entries_by_position_in_the_day_file() -> None:
    day_file = MALFORMED / "2025-06-03.json"
    items = list(read_source(day_file))

    file = str(day_file)
    assert _rejections(items) == [
        Rejection(file, 1, "record is not a JSON object, got str"),
        Rejection(file, 2, "missing field 'paper'"),
        Rejection(file, 4, "field 'paper.authors' must be a list of author objects, got int"),
        Rejection(file, 5, "no title and no abstract"),
        Rejection(
            file, 6, "field 'paper.upvotes' must be a non-negative whole number, got str 'many'"
        ),
    ]


def test_falls_back_to_entry_fields_and_accepts_numeric_strings() -> None:
    versioned, fallback = _papers(list(read_source(MALFORMED / "2025-06-03.json")))

    assert versioned.arxiv_id == "2505.99999"
    assert fallback.title == "A title only on the entry"
    assert fallback.organization == "A Plain Organisation"
    assert fallback.submitted_by == "Only A Fullname"
    assert fallback.num_comments == 4
    assert fallback.daily_date == "2025-06-03"


def test_whole_file_problems_become_one_rejection() -> None:
    assert list(read_source(MALFORMED / "2025-06-04.json")) == [
        Rejection(
            str(MALFORMED / "2025-06-04.json"),
            1,
            "invalid JSON: Unterminated string starting at column 42",
        )
    ]
    assert list(read_source(MALFORMED / "2025-06-05.json")) == [
        Rejection(
            str(MALFORMED / "2025-06-05.json"),
            1,
            "a day file must hold a JSON list of entries, got object",
        )
    ]


def test_daily_date_from_submission_when_the_name_has_none(tmp_path: Path) -> None:
    day_file = tmp_path / "latest.json"
    day_file.write_bytes((DAY_FILES / "2025-06-02.json").read_bytes())

    papers = _papers(list(read_source(day_file, "daily-papers-api")))

    assert [paper.daily_date for paper in papers] == ["2025-06-02", "2025-06-02"]


def test_an_empty_day_file_gives_nothing(tmp_path: Path) -> None:
    day_file = tmp_path / "2025-12-25.json"
    day_file.write_text("[]\n")

    assert list(read_source(day_file)) == []


def test_a_corrupt_archive_raises_naming_it(tmp_path: Path) -> None:
    archive = tmp_path / "archive.tar.gz"
    _write_archive(archive, {"daily_papers/2025-06-02.json": b"[]" * 5000})
    archive.write_bytes(archive.read_bytes()[:-40])

    with pytest.raises(IngestError, match="archive.tar.gz"):
        list(read_source(archive, "daily-papers-api"))


def test_prefers_the_entry_title_which_keeps_arxiv_latex(tmp_path: Path) -> None:
    # Shortened from daily_papers/2024-06-21.json of the real archive (paper 2406.14347).
    entry = {
        "paper": {
            "id": "2406.14347",
            "title": "nabla^2DFT: A Universal Quantum Chemistry Dataset of Drug-Like\n  Molecules",
            "summary": "A dataset.",
            "authors": [],
            "upvotes": 1,
        },
        "title": "$\\nabla^2$DFT: A Universal Quantum Chemistry Dataset of Drug-Like Molecules",
        "numComments": 0,
    }
    day_file = tmp_path / "2024-06-21.json"
    day_file.write_text(json.dumps([entry]), encoding="utf-8")

    (paper,) = read_source(day_file)

    assert isinstance(paper, Paper)
    assert paper.title == (
        "$\\nabla^2$DFT: A Universal Quantum Chemistry Dataset of Drug-Like Molecules"
    )


def test_submitter_and_organisation_objects_are_kept_with_their_stable_keys() -> None:
    papers = [
        item
        for item in read_source(FIXTURES / "daily_papers" / "2026-06-04.json", "daily-papers-api")
        if isinstance(item, Paper)
    ]
    (paper,) = papers
    kinds = {account.kind: account for account in paper.accounts}
    user, organization = kinds["user"], kinds["organization"]
    assert user.name == paper.submitted_by and organization.name == paper.organization
    assert {"_id", "avatarUrl", "fullname", "name", "type"} <= set(user.profile)
    # counts and the reader's own flags change by the hour: not kept as facts
    assert not {"followerCount", "isUserFollowing"} & set(user.profile)
    assert set(organization.profile) <= {"_id", "name", "fullname", "avatar"}
    assert organization.profile["fullname"] == paper.organization
