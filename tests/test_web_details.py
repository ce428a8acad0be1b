"""Small things a reader sees, over real HTTP (SQLite and PostgreSQL): where a paper's
comments are, the digest's organisation names, BibTeX keys that keep their digits,
author charts whose labels do not overlap, and the status page's numbers."""

from __future__ import annotations

import re

import bibtexparser

from paperfeed.accounts import create_api_token
from paperfeed.models import Paper
from paperfeed.store.accounts import insert_user
from running_site import Site


def test_the_discussion_says_where_the_comments_are(site: Site) -> None:
    with site.client() as client:
        page = client.get("/papers/2608.19880").text  # one comment, on the source site
    section = page[page.index('id="discussion"') :]
    assert "1 comment on the" in section and "daily-papers site</a>: read it there" in section
    assert 'href="https://huggingface.co/papers/2608.19880"' in section
    assert "No comments here yet" in section and "more on the" not in section


def test_the_digest_shows_the_organisation_as_the_site_does(site: Site) -> None:
    # the source spells it "alibaba" on three papers; another spelling names it properly
    site.store.upsert_papers(
        [
            Paper("2608.99001", title="A", abstract="B.", authors=["C"], organization="Alibaba"),
        ]
    )
    with site.client() as client:
        card = client.get("/", params={"date": "2026-08-14"}).text
        preview = client.get("/digest/preview", params={"period": "2026-08-14"}).text
    assert ">Alibaba</a>" in card  # the page's display name
    assert "Alibaba" in preview and "alibaba" not in preview


def test_bibtex_keys_keep_leading_digits(site: Site) -> None:
    user = insert_user(site.store, "ada@example.org", "Ada", "not-a-real-hash")
    token = create_api_token(site.store, user)
    with site.client(headers={"Authorization": f"Bearer {token}"}) as api:
        page = api.get("/papers/2608.20335").text  # "4DAnyone: ..." by Yudong Jin
        cid = api.post("/api/collections", json={"name": "4D"}).json()["id"]
        api.post(f"/api/collections/{cid}/papers", json={"id": "2608.20335"})
        exported = api.get(f"/api/collections/{cid}/export", params={"format": "bibtex"}).text
    assert "@misc{jin20264danyone," in page
    library = bibtexparser.parse_string(exported)
    assert not library.failed_blocks
    assert [entry.key for entry in library.entries] == ["jin20264danyone"]


def test_author_chart_labels_do_not_overlap(site: Site) -> None:
    site.store.upsert_papers(
        [
            Paper(
                f"26{n:02d}.9900{n}",
                title=f"T{n}",
                abstract="A.",
                authors=["Tick Tester"],
                daily_date=day,
                upvotes=3,
            )
            for n, day in enumerate(["2023-12-05", "2024-06-03", "2026-08-03"], start=1)
        ]
    )
    with site.client() as client:
        page = client.get("/authors/Tick Tester")
    assert page.status_code == 200
    ticks = re.findall(r'<text class="x-label" x="([0-9.]+)"[^>]*>([0-9-]+)</text>', page.text)
    positions = [float(x) for x, _ in ticks]
    assert len(ticks) >= 2 and "2024-01" in [label for _, label in ticks]
    # "2025-03" is ~40 units wide at the chart's 10px font: labels need that much room
    assert all(b - a >= 44 for a, b in zip(positions, positions[1:], strict=False)), ticks


def test_status_numbers_have_separators_and_no_empty_table(site: Site) -> None:
    site.store.upsert_papers(
        [Paper(f"2609.{n:05d}", title=f"P{n}", abstract="A.", authors=["X"]) for n in range(900)]
    )
    with site.client() as client:
        page = client.get("/status").text
    count = site.store.count_papers()
    assert count > 1000 and f"{count:,} papers stored" in page
    assert "No sync has run yet" in page and "<th>last success</th>" not in page
