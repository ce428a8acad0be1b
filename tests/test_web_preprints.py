"""bioRxiv/medRxiv papers (identified by DOI) on a running site: every URL the site
makes for a DOI with odd characters, search by DOI and category, votes, comments,
collections exported to BibTeX and RIS and read back, import by DOI, one paper for
the same work on two servers."""

from __future__ import annotations

import html.parser
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bibtexparser
import httpx
import pytest
import rispy

from paperfeed.accounts import create_api_token
from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.models import Paper
from paperfeed.store import Store
from paperfeed.store.accounts import insert_user
from running_site import LATEST_DAY, Site, csrf_of, serve

ODD_DOI = "10.1101/2026.08.20.000(1);x<y"  # Crossref allows these characters in a suffix
ODD_PATH = "/papers/10.1101/2026.08.20.000%281%29%3Bx%3Cy"
PLAIN_DOI = "10.1101/2026.08.19.612345"
MERGED_DOI = "10.1101/2026.08.18.611111"
ARXIV_PAPER = "2608.19880"


@pytest.fixture
def site(
    database_url: str,
    paperfeed_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    site_corpus: Callable[[Settings, Path], Store],
) -> Iterator[Site]:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
    settings = Settings.from_environment()
    folder = paperfeed_home.parent / "site"
    folder.mkdir()
    store = site_corpus(settings, folder)
    store.upsert_papers(
        [
            Paper(
                arxiv_id=ODD_DOI,
                title="Hippocampal replay sequences compress odd-character routes",
                abstract="Place cells replay routes during sleep; replay compresses time.",
                authors=["Ana Odd", "Bo Char"],
                categories=["biorxiv.neuroscience"],
                first_listed=LATEST_DAY,
                published=LATEST_DAY,
                doi="10.1016/j.neuron.2026.01.001",
                sources=["biorxiv"],
            ),
            Paper(
                arxiv_id=PLAIN_DOI,
                title="Tumour organoids reveal clonal drug tolerance",
                abstract="Organoids from twelve patients show clonal tolerance to cisplatin.",
                authors=["Cy Plain"],
                categories=["medrxiv.oncology"],
                first_listed=LATEST_DAY,
                sources=["medrxiv"],
            ),
            # the same work on arXiv, carrying the bioRxiv DOI ...
            Paper(
                arxiv_id="2608.77777",
                title="Grid cells in bats on arXiv",
                abstract="Grid cells tile three-dimensional space in flying bats.",
                authors=["Di Merged"],
                categories=["q-bio.NC"],
                doi=MERGED_DOI,
                sources=["arxiv-oai"],
            ),
        ]
    )
    # ... and then on bioRxiv: merged into the arXiv paper
    store.upsert_papers(
        [Paper(arxiv_id=MERGED_DOI, title="Grid cells in bats", sources=["biorxiv"])]
    )
    update_index(store, settings, show_progress=False)
    with serve(settings) as url:
        yield Site(url, settings, store)
    store.close()


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "action", "src") and value:
                self.links.append(value)


def _links(page: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    return parser.links


def _sign_up(client: httpx.Client) -> str:
    form = client.get("/signup").text
    response = client.post(
        "/signup",
        data={
            "email": "lab@example.org",
            "name": "Lab",
            "password": "correct horse",
            "csrf_token": csrf_of(form),
        },
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/account").text)


def test_every_url_for_an_odd_doi_is_escaped_and_works(site: Site) -> None:
    with site.client() as client:
        page = client.get(ODD_PATH)
        assert page.status_code == 200, page.text
        assert "Hippocampal replay sequences" in page.text
        assert "<code>10.1101/2026.08.20.000(1);x&lt;y</code>" in page.text
        assert "10.1101/2026.08.20.000(1);x<y" not in page.text  # never unescaped
        odd_links = [link for link in _links(page.text) if "2026.08.20.000" in link]
        assert odd_links, page.text
        for link in odd_links:
            assert "(" not in link and "<" not in link and ";" not in link, link
        assert f"https://www.biorxiv.org/content{ODD_PATH[7:]}" in odd_links
        assert f"https://doi.org{ODD_PATH[7:]}" in odd_links
        assert "https://doi.org/10.1016/j.neuron.2026.01.001" in _links(page.text)  # published
        assert "bioRxiv page" in page.text
        for link in odd_links:
            if link.startswith("/") and "#" not in link:
                if link.endswith(("/upvote", "/comments")):
                    continue  # forms, posted below
                assert client.get(link).status_code == 200, link
        # an unencoded, a versioned and a prefixed form all lead to the one page
        for form in (
            "/papers/doi:10.1101/2026.08.20.000(1);x%3Cy",
            "/papers/"
            + urllib.parse.quote(f"https://www.biorxiv.org/content/{ODD_DOI}", safe="/:"),
        ):
            moved = client.get(form, follow_redirects=False)
            assert moved.status_code == 301 and moved.headers["location"] == ODD_PATH, form
        missing = client.get("/papers/10.1101/2026.01.01.999999")
        assert missing.status_code == 404 and "no paper 10.1101/2026.01.01.999999" in missing.text
        # a feed carrying the paper links it encoded
        rss = client.get("/rss/search", params={"q": "cat:biorxiv.neuroscience"})
        assert rss.status_code == 200
        assert f"<link>{site.settings.base_url}{ODD_PATH}</link>" in rss.text
        # the same work on two servers is one paper, at its arXiv id
        merged = client.get(f"/papers/{MERGED_DOI}", follow_redirects=False)
        assert merged.status_code == 301 and merged.headers["location"] == "/papers/2608.77777"


def test_search_recognises_a_doi_in_every_form_and_filters_by_subject(site: Site) -> None:
    with site.client() as client:
        for query in (
            PLAIN_DOI,
            f"doi:{PLAIN_DOI}",
            f"https://www.medrxiv.org/content/{PLAIN_DOI}v2",
            f"https://doi.org/{PLAIN_DOI.upper()}",
        ):
            found = client.get("/search", params={"q": query}, follow_redirects=False)
            assert found.status_code == 303, query
            assert found.headers["location"] == f"/papers/{PLAIN_DOI}", query
        api = client.get(f"/api/papers/{PLAIN_DOI}v1")  # the JSON API takes a bioRxiv DOI
        assert api.status_code == 200, api.text
        assert api.json()["id"] == PLAIN_DOI
        assert api.json()["title"] == "Tumour organoids reveal clonal drug tolerance"
        both = client.get("/search", params={"q": f"doi:{PLAIN_DOI} id:{ARXIV_PAPER}"})
        assert "Tumour organoids" in both.text and both.status_code == 200
        by_subject = client.get("/search", params={"q": "cat:bioRxiv:neuroscience replay"})
        assert "Hippocampal replay sequences" in by_subject.text
        assert "Tumour organoids" not in by_subject.text
        spaced = client.get("/search", params={"q": "organoids", "cat": "medRxiv.Oncology"})
        assert "Tumour organoids" in spaced.text
        unknown = client.get("/search", params={"q": "organoids", "cat": "biorxiv.oncologyy"})
        assert unknown.status_code == 400
        assert "unknown bioRxiv/medRxiv category 'biorxiv.oncologyy'" in html.unescape(unknown.text)
        noted = client.get("/search", params={"q": "cat:biorxiv.neuro replay"})
        assert "ignored category 'biorxiv.neuro'" in html.unescape(noted.text)


def test_votes_comments_and_a_mixed_collection_exported_and_imported(site: Site) -> None:
    with site.client() as client:
        csrf = _sign_up(client)
        vote = client.post(
            f"{ODD_PATH}/upvote",
            data={"csrf_token": csrf},
            headers={"Accept": "application/json"},
        )
        assert vote.status_code == 200, vote.text
        assert vote.json() == {"id": ODD_DOI, "upvoted": True, "upvotes": 1}
        posted = client.post(
            f"{ODD_PATH}/comments",
            data={"csrf_token": csrf, "text": "Does replay compress <all> routes?"},
            follow_redirects=False,
        )
        assert posted.status_code == 303
        assert posted.headers["location"].startswith(f"{ODD_PATH}#comment-")
        page = client.get(ODD_PATH).text
        assert "Does replay compress &lt;all&gt; routes?" in page
        feed = client.get(f"/rss{ODD_PATH}")
        assert feed.status_code == 200 and "Does replay compress" in feed.text
        assert f"{site.settings.base_url}{ODD_PATH}#comment-" in feed.text

    user = insert_user(site.store, "api@example.org", "Api", "not-a-real-hash")
    token = create_api_token(site.store, user)
    with site.client(headers={"Authorization": f"Bearer {token}"}) as api:
        cid = api.post("/api/collections", json={"name": "Mixed"}).json()["id"]
        for paper_id in (
            ARXIV_PAPER,
            f"doi:{ODD_DOI}",
            f"https://www.medrxiv.org/content/{PLAIN_DOI}v1",
        ):
            added = api.post(f"/api/collections/{cid}/papers", json={"id": paper_id})
            assert added.status_code in (200, 201) and added.json()["added"] is True, added.text
        bib = api.get(f"/api/collections/{cid}/export", params={"format": "bibtex"}).text
        ris = api.get(f"/api/collections/{cid}/export", params={"format": "ris"}).text
        removed = api.delete(
            f"/api/collections/{cid}/papers/{urllib.parse.quote(ODD_DOI, safe='/')}"
        )
        assert removed.status_code == 200 and removed.json()["removed"] is True

        library = bibtexparser.parse_string(bib)
        assert library.failed_blocks == []
        entries: dict[str, Any] = {
            (entry.fields_dict.get("eprint") or entry.fields_dict["doi"]).value: entry
            for entry in library.entries
        }
        assert set(entries) == {ARXIV_PAPER, ODD_DOI, PLAIN_DOI}
        arxiv_entry, odd, plain = entries[ARXIV_PAPER], entries[ODD_DOI], entries[PLAIN_DOI]
        assert arxiv_entry["archivePrefix"] == "arXiv"
        assert odd.entry_type == "misc" and odd["howpublished"] == "bioRxiv"
        assert odd["url"] == f"https://www.biorxiv.org/content{ODD_PATH[7:]}"
        assert odd["note"] == "Published as doi:10.1016/j.neuron.2026.01.001"
        assert plain["howpublished"] == "medRxiv" and "eprint" not in plain.fields_dict
        records = {record.get("doi") or record["notes"][0]: record for record in rispy.loads(ris)}
        assert set(records) == {f"arXiv:{ARXIV_PAPER}", ODD_DOI, PLAIN_DOI}
        assert records[ODD_DOI]["type_of_reference"] == "UNPB"
        assert records[ODD_DOI]["publisher"] == "bioRxiv"
        assert records[PLAIN_DOI]["urls"] == [f"https://www.medrxiv.org/content/{PLAIN_DOI}"]

        # import by DOI alone into a new collection: both preprints are found
        other = api.post("/api/collections", json={"name": "Imported"}).json()["id"]
        bibtex_in = (
            "@misc{a, title={Something else entirely}, doi={10.1101/2026.08.20.000(1);x<y}}\n"
            "@misc{b, title={Also unrelated}, doi={https://doi.org/10.1101/2026.08.19.612345}}\n"
        )
        report = api.post(f"/api/collections/{other}/import", content=bibtex_in.encode()).json()
        assert {entry["id"] for entry in report["added"]} == {ODD_DOI, PLAIN_DOI}, report


def test_an_admin_hides_a_preprint_by_its_doi(site: Site) -> None:
    """Hiding took arXiv ids only: a bioRxiv or medRxiv paper could not be hidden."""
    from paperfeed import administration
    from paperfeed.administration import Actor

    administration.create_user(
        site.store, Actor(None, "test"), "root@example.org", "correct horse battery", admin=True
    )
    root = create_api_token(site.store, administration.find_user(site.store, "root@example.org"))
    with site.client(headers={"Authorization": f"Bearer {root}"}) as admin:
        hidden = admin.post(f"/api/admin/papers/{PLAIN_DOI}/hide", json={"reason": "spam"})
    assert hidden.status_code == 200, hidden.text
    assert hidden.json() == {"paper": PLAIN_DOI, "hidden": True}
    with site.client() as anonymous:
        assert anonymous.get(f"/papers/{PLAIN_DOI}").status_code == 404
        assert PLAIN_DOI not in anonymous.get("/api/papers/search", params={"q": PLAIN_DOI}).text
