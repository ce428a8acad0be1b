"""Author and organisation pages over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from paperfeed.models import Paper
from running_site import XSS_ID, Site

AUTHOR = "Jiaming Liu"  # 4 papers in the site corpus
GOOGLE_PAPER = "2608.19880"  # EnvHarness, from Google


def _ids(html: str) -> list[str]:
    return re.findall(r'<article class="card" data-id="([^"]+)"', html)


def test_every_author_and_organisation_on_a_card_links_to_its_page(site: Site) -> None:
    with site.client() as client:
        daily = client.get("/").text
        paper = client.get(f"/papers/{GOOGLE_PAPER}").text
    assert 'href="/organizations/Google"' in daily
    assert re.search(r'<a href="/authors/[^"]+">[^<]+</a>', daily)
    assert 'href="/organizations/Google">Google</a>' in paper
    # every author of the paper page is a link
    authors = re.search(r'<p class="authors-full">(.*?)</p>', paper, re.S)
    assert authors is not None
    assert authors.group(1).count('<a href="/authors/') == len(
        re.findall(r"</a>", authors.group(1))
    )


def test_author_page_lists_papers_newest_first_with_coauthors_and_search(site: Site) -> None:
    with site.client() as client:
        page = client.get(f"/authors/{quote(AUTHOR)}")
        folded = client.get("/authors/" + quote("jiaming   LIU"))
    assert page.status_code == 200
    assert f"<h1>{AUTHOR}</h1>" in page.text
    ids = _ids(page.text)
    assert len(ids) == 4
    papers = [site.store.get_paper(arxiv_id) for arxiv_id in ids]
    dates = [paper.date for paper in papers if paper is not None]
    assert dates == sorted(dates, reverse=True)
    assert all(paper is not None and AUTHOR in paper.authors for paper in papers)
    assert "Co-authors" in page.text
    assert 'href="/search?q=au%3A%22Jiaming+Liu%22&amp;sort=date"' in page.text
    assert folded.status_code == 200 and _ids(folded.text) == ids  # case and spaces ignored
    assert '<figure class="chart" id="activity">' in page.text and "<svg" in page.text


def test_author_page_holds_papers_stored_since_the_index_was_built(site: Site) -> None:
    """The page finds an author's indexed papers by the index's author postings, and the
    papers stored since the last `paperfeed index` by reading them; a name with the same
    words in another order is someone else."""
    with site.client() as client:
        before = _ids(client.get(f"/authors/{quote(AUTHOR)}").text)
    site.store.upsert_papers(
        [
            Paper(
                arxiv_id=arxiv_id,
                title=f"A paper stored after indexing {arxiv_id}",
                abstract="Abstract.",
                authors=authors,
                daily_date="2026-09-01",
                sources=["daily-papers-flat"],
            )
            for arxiv_id, authors in (
                ("2609.00009", ["Ada Lovelace", "jiaming  liu"]),
                ("2609.00008", ["Liu Jiaming"]),
            )
        ]
    )
    with site.client() as client:
        after = _ids(client.get(f"/authors/{quote(AUTHOR)}").text)
    assert len(before) == 4
    assert after == ["2609.00009", *before]


def test_an_author_page_ignores_the_case_of_letters_beyond_ascii(site: Site) -> None:
    """ "JAKUB PIOTR CŁAPA" and "jakub piotr cłapa" are the indexed "Jakub Piotr Cłapa",
    and a paper stored since the index was built is found in another casing too (the
    JSON holds "Ł" as an escape that a case-insensitive LIKE does not fold)."""
    with site.client() as client:
        exact = _ids(client.get("/authors/" + quote("Jakub Piotr Cłapa")).text)
        assert exact
        for spelling in ("JAKUB PIOTR CŁAPA", "jakub piotr cłapa"):
            assert _ids(client.get("/authors/" + quote(spelling)).text) == exact, spelling
    site.store.upsert_papers(
        [
            Paper(
                arxiv_id="2609.00007",
                title="Stored after indexing",
                abstract="Abstract.",
                authors=["Thaddäus Wiedemer", "Ada Lovelace"],
                daily_date="2026-09-02",
                sources=["daily-papers-flat"],
            )
        ]
    )
    with site.client() as client:
        upper = _ids(client.get("/authors/" + quote("THADDÄUS WIEDEMER")).text)
        lower = _ids(client.get("/authors/" + quote("thaddäus wiedemer")).text)
    assert upper[:1] == ["2609.00007"] and lower == upper and len(upper) >= 2


def test_organisation_page_merges_spellings_and_shows_upvotes_per_month(site: Site) -> None:
    # The site corpus has 2608.18580 (54 upvotes, 2026-08-21) from "university of science
    # and technology  of china", as the source spells it; add papers under both spellings
    # the daily-papers data has for it.
    site.store.upsert_papers(
        [
            Paper(
                arxiv_id=f"2607.0000{number}",
                title=f"A paper from USTC {number}",
                abstract="Abstract.",
                authors=["Zhang Wei"],
                daily_date=day,
                upvotes=upvotes,
                organization=spelling,
                sources=["daily-papers-flat"],
            )
            for number, (spelling, day, upvotes) in enumerate(
                [
                    ("university of science and technology  of china", "2026-07-02", 7),
                    ("University of Science and Technology of China", "2026-08-03", 5),
                    ("university of science and technology  of china", "2026-08-04", 1),
                ]
            )
        ]
    )
    with site.client() as client:
        page = client.get("/organizations/university of science and technology of china")
        paper = client.get("/papers/2607.00000").text
        daily = client.get("/").text
    assert page.status_code == 200
    assert "<h1>University of Science and Technology of China</h1>" in page.text
    assert _ids(page.text) == ["2608.18580", "2607.00002", "2607.00001", "2607.00000"]
    assert "4 papers · 67 upvotes" in page.text
    assert "2026-07: 1 paper, 7 upvotes" in page.text
    assert "2026-08: 3 papers, 60 upvotes" in page.text
    # cards show the display name, not the lower-case spelling
    assert "University of Science and Technology of China</a>" in paper
    assert "university of science and technology" not in paper
    assert "university of science and technology" not in daily


def test_unknown_names_are_404_pages_and_hostile_names_are_escaped(site: Site) -> None:
    hostile = "<script>alert(3)</script>"
    with site.client() as client:
        unknown = client.get("/authors/Nobody At All")
        unknown_org = client.get("/organizations/No Such Lab")
        script = client.get("/authors/" + quote(hostile, safe=""))
        mallory = client.get("/authors/" + quote("Mallory <Evil>", safe=""))
        too_long = client.get("/authors/" + "x" * 400)
    assert unknown.status_code == 404
    assert "no author named 'Nobody At All'" in html.unescape(unknown.text)
    assert unknown_org.status_code == 404 and "No Such Lab" in unknown_org.text
    assert script.status_code == 404
    assert "<script>alert(3)" not in script.text and "&lt;script&gt;alert(3)" in script.text
    # the hostile fixture paper's author: a page, its name escaped everywhere
    assert mallory.status_code == 200
    assert "<h1>Mallory &lt;Evil&gt;</h1>" in mallory.text and "<Evil>" not in mallory.text
    assert _ids(mallory.text) == [XSS_ID]
    assert "<script>alert(1)" not in mallory.text
    assert too_long.status_code == 404 and "Traceback" not in too_long.text
