"""Collections over real HTTP against a running server, on SQLite and PostgreSQL: the
API, export files read back by bibtexparser and rispy, import of a Zotero export,
visibility, escaping, the save menu on cards and the profile on /account."""

from __future__ import annotations

import re
from pathlib import Path

import bibtexparser
import httpx
import rispy

from paperfeed.accounts import create_api_token
from paperfeed.store.accounts import find_user_by_email, insert_user
from paperfeed.votes import upvote
from running_site import ARXIV_ONLY_ID, LATEST_DAY, Site, csrf_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOP_PAPER = "2608.19880"
HOSTILE_NAME = '<img src=x onerror="alert(1)"> & <script>alert(2)</script>'


def _token(site: Site, name: str) -> str:
    user = insert_user(site.store, f"{name}@example.org", name, "not-a-real-hash")
    return create_api_token(site.store, user)


def _api(site: Site, token: str) -> httpx.Client:
    return site.client(headers={"Authorization": f"Bearer {token}"})


def _sign_up(client: httpx.Client, email: str = "ada@example.org") -> str:
    form = client.get("/signup").text
    response = client.post(
        "/signup",
        data={
            "email": email,
            "name": "Ada",
            "password": "correct horse",
            "csrf_token": csrf_of(form),
        },
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/account").text)


def test_collection_api_export_and_import(site: Site) -> None:
    ada = _token(site, "ada")
    with _api(site, ada) as api:
        created = api.post("/api/collections", json={"name": "Agents", "description": "weekly"})
        assert created.status_code == 201, created.text
        collection = created.json()
        cid = collection["id"]
        saved = [
            api.post(f"/api/collections/{cid}/papers", json={"id": i})
            for i in ("2608.19880", "arXiv:2608.10615v2")
        ]
        again = api.post(f"/api/collections/{cid}/papers", json={"id": TOP_PAPER})
        mine = api.get("/api/collections").json()
        bib = api.get(f"/api/collections/{cid}/export", params={"format": "bibtex"})
        ris = api.get(f"/api/collections/{cid}/export", params={"format": "ris"})
        as_csv = api.get(f"/api/collections/{cid}/export", params={"format": "csv"})
        as_json = api.get(f"/api/collections/{cid}/export", params={"format": "json"})
        bad_format = api.get(f"/api/collections/{cid}/export", params={"format": "docx"})
    assert collection["is_public"] is False and collection["papers"] == []
    assert [r.json()["added"] for r in saved] == [True, True] and again.json()["added"] is False
    assert [c["id"] for c in mine] == [cid] and mine[0]["paper_count"] == 2

    assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
    assert bib.headers["content-disposition"] == f'attachment; filename="agents-{cid}.bib"'
    library = bibtexparser.parse_string(bib.text)
    entries = {entry["eprint"]: entry for entry in library.entries}
    assert set(entries) == {"2608.19880", "2608.10615"} and library.failed_blocks == []
    assert entries[TOP_PAPER].key == "huang2026envharness"
    assert entries[TOP_PAPER]["title"] == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert entries[TOP_PAPER]["archivePrefix"] == "arXiv"
    assert entries[TOP_PAPER]["url"] == f"https://arxiv.org/abs/{TOP_PAPER}"
    assert ris.headers["content-type"].startswith("application/x-research-info-systems")
    assert {r["urls"][0] for r in rispy.loads(ris.text)} == {
        "https://arxiv.org/abs/2608.19880",
        "https://arxiv.org/abs/2608.10615",
    }
    assert as_csv.text.startswith("arxiv_id,title,authors") and as_csv.text.count("\r\n") == 3
    assert {p["id"] for p in as_json.json()["papers"]} == {"2608.19880", "2608.10615"}
    assert bad_format.status_code == 400 and "'docx'" in bad_format.json()["detail"]

    with _api(site, ada) as api:
        raw = api.post(
            f"/api/collections/{cid}/import", content=(FIXTURES / "zotero_export.bib").read_bytes()
        )
        multipart = api.post(
            f"/api/collections/{cid}/import",
            files={"file": ("My Library.ris", (FIXTURES / "zotero_export.ris").read_bytes())},
        )
        not_bibtex = api.post(
            f"/api/collections/{cid}/import", content=b"just a letter, no entries"
        )
        after = api.get(f"/api/collections/{cid}").json()
        removed = api.delete(f"/api/collections/{cid}/papers/{TOP_PAPER}")
        renamed = api.patch(f"/api/collections/{cid}", json={"name": "Agents 2", "is_public": True})
        bad_patch = api.patch(f"/api/collections/{cid}", json={"name": ""})
    report = raw.json()
    assert raw.status_code == 200 and report["format"] == "bibtex" and report["entries"] == 7
    # EnvHarness and Simplex were saved already; Proskurina (by title) and Full-bandwidth
    # (journal = arXiv:...) are new; the DOI-only journal paper is not stored on this site
    assert {a["id"] for a in report["added"]} == {"2608.13430", "2608.08888"}
    assert {a["id"] for a in report["already_there"]} == {"2608.19880", "2608.10615"}
    assert {u["entry"] for u in report["unmatched"]} == {
        "lovelace_journal_2026",
        "vaswani_attention_2023",
        "hastie_elements_2009",
    }
    assert all(u["reason"] for u in report["unmatched"])
    assert multipart.status_code == 200 and multipart.json()["format"] == "ris"
    assert not_bibtex.status_code == 400 and "no BibTeX entries" in not_bibtex.json()["detail"]
    assert after["paper_count"] == 4
    assert removed.json()["removed"] is True
    assert renamed.json()["name"] == "Agents 2" and renamed.json()["is_public"] is True
    assert bad_patch.status_code == 400 and "name is empty" in bad_patch.json()["detail"]


def test_other_users_collections(site: Site) -> None:
    ada, bob = _token(site, "ada"), _token(site, "bob")
    with _api(site, ada) as api:
        private = api.post("/api/collections", json={"name": "Secret"}).json()["id"]
        public = api.post("/api/collections", json={"name": "Open", "is_public": True}).json()["id"]
        api.post(f"/api/collections/{private}/papers", json={"id": TOP_PAPER})
    with _api(site, bob) as api, site.client() as anonymous:
        for client in (api, anonymous):
            assert client.get(f"/api/collections/{private}").status_code == 404
            assert client.get(f"/api/collections/{private}/export").status_code == 404
            assert client.get(f"/collections/{private}").status_code == 404
            assert client.get(f"/api/collections/{public}").status_code == 200
            assert client.get(f"/collections/{public}").status_code == 200
        writes = [
            api.post(f"/api/collections/{public}/papers", json={"id": TOP_PAPER}),
            api.delete(f"/api/collections/{public}"),
            api.patch(f"/api/collections/{public}", json={"name": "Mine"}),
            api.post(f"/api/collections/{public}/import", content=b"@misc{a, eprint={2608.19880}}"),
        ]
        hidden = api.post(f"/api/collections/{private}/papers", json={"id": TOP_PAPER})
        anonymous_write = anonymous.post("/api/collections", json={"name": "x"})
    assert [r.status_code for r in writes] == [403] * 4
    assert "belongs to another user" in writes[0].json()["detail"]
    assert hidden.status_code == 404 and anonymous_write.status_code == 401
    with _api(site, ada) as api:
        assert api.get(f"/api/collections/{public}").json()["name"] == "Open"
        assert api.get(f"/api/collections/{private}").json()["paper_count"] == 1
        gone = api.post(f"/api/collections/{private}/papers", json={"id": "2609.99999"})
    assert gone.status_code == 404 and "2609.99999" in gone.json()["detail"]


def test_pages_escape_names_and_cards_have_a_save_menu(site: Site) -> None:
    with site.client() as browser:
        csrf = _sign_up(browser)
        created = browser.post(
            "/collections",
            data={"name": HOSTILE_NAME, "is_public": "1", "csrf_token": csrf, "arxiv_id": ""},
        )
        assert created.status_code == 303
        path = created.headers["location"]
        cid = int(path.rpartition("/")[2])
        daily = browser.get("/", params={"date": LATEST_DAY}).text
        toggled = browser.post(
            f"/collections/{cid}/papers",
            data={"arxiv_id": TOP_PAPER, "change": "add", "csrf_token": csrf},
            headers={"Accept": "application/json"},
        )
        by_form = browser.post(
            f"/collections/{cid}/papers",
            data={"arxiv_id": "2608.10615", "change": "add", "csrf_token": csrf},
            headers={"Referer": f"{site.url}/?date={LATEST_DAY}"},
        )
        forged = browser.post(
            f"/collections/{cid}/papers", data={"arxiv_id": "2608.08888", "change": "add"}
        )
        page = browser.get(path).text
        paper_page = browser.get(f"/papers/{TOP_PAPER}").text
        bad_import = browser.post(
            f"/collections/{cid}/import",
            data={"csrf_token": csrf, "format": "auto"},
            files={"file": ("notes.bib", b"Not a bibliography at all.")},
        )
        good_import = browser.post(
            f"/collections/{cid}/import",
            data={"csrf_token": csrf, "format": "auto"},
            files={"file": ("zotero.bib", (FIXTURES / "zotero_export.bib").read_bytes())},
        )
    for text in (daily, page):
        assert "<img src=x" not in text and "<script>alert(2)" not in text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert f'action="/collections/{cid}/papers"' in daily  # a save option on every card
    assert daily.count('class="save"') >= 18
    assert toggled.json() == {"collection": cid, "id": TOP_PAPER, "saved": True}
    assert by_form.status_code == 303 and by_form.headers["location"] == f"/?date={LATEST_DAY}"
    assert forged.status_code == 403
    assert page.count('class="card"') == 2 and 'data-id="2608.08888"' not in page
    assert "★ Saved" in paper_page
    assert bad_import.status_code == 400 and "no BibTeX entries" in bad_import.text
    assert good_import.status_code == 200 and "lovelace_journal_2026" in good_import.text
    assert "not matched" in good_import.text


def test_sign_in_to_save_comes_back_to_the_same_search(site: Site) -> None:
    """Signed out, "☆ Save" on a search result led to sign-in and then back to /search
    with the query gone; it now comes back to the results the reader was saving from."""
    with site.client() as browser:
        _sign_up(browser, "reader@example.org")
        browser.post("/signout", data={"csrf_token": csrf_of(browser.get("/").text)})
        results = browser.get("/search", params={"q": "agent & tools", "sort": "date"}).text
        save = re.search(r'<a class="save-link" href="([^"]+)"', results)
        assert save, "no sign-in-to-save link on a signed-out search"
        signin = browser.get(save.group(1).replace("&amp;", "&"))
        back = re.search(r'name="next" value="([^"]+)"', signin.text)
        assert back and back.group(1).replace("&amp;", "&") == "/search?q=agent+%26+tools&sort=date"
        signed_in = browser.post(
            "/signin",
            data={
                "email": "reader@example.org",
                "password": "correct horse",
                "next": back.group(1).replace("&amp;", "&"),
                "csrf_token": csrf_of(signin.text),
            },
        )
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/search?q=agent+%26+tools&sort=date"


def test_a_refused_collection_edit_keeps_what_was_typed(site: Site) -> None:
    """A name of spaces (past the browser's "required") answered a bare error page and
    the new description typed with it was gone; the collection's page comes back with
    the edit form open, the error above it and the form as typed."""
    with site.client() as browser:
        csrf = _sign_up(browser)
        created = browser.post(
            "/collections", data={"name": "Reading", "is_public": "1", "csrf_token": csrf}
        )
        path = created.headers["location"]
        typed = {"name": "   ", "description": "Papers for Thursday's group", "csrf_token": csrf}
        refused = browser.post(f"{path}/edit", data=typed)
        page = browser.get(path).text
    assert refused.status_code == 400 and "name is empty" in refused.text
    assert '<details class="collection-edit" open>' in refused.text
    assert "Papers for Thursday&#39;s group</textarea>" in refused.text
    assert 'name="is_public" value="1" checked' not in refused.text  # unticked, as sent
    assert '<h1 class="collection-name">Reading</h1>' in page  # nothing was changed
    assert "Thursday" not in page


def test_deleting_a_collection_asks_first_without_javascript(site: Site) -> None:
    """The collection page's Delete button deleted at once; now it leads to a page naming
    the collection and its paper count, with Cancel and a Delete that does it. A post
    without that page's confirmation (an old page's form) deletes nothing."""
    with site.client() as browser:
        csrf = _sign_up(browser)
        created = browser.post("/collections", data={"name": HOSTILE_NAME, "csrf_token": csrf})
        path = created.headers["location"]
        for arxiv_id in (TOP_PAPER, "2608.10615"):
            browser.post(f"{path}/papers", data={"arxiv_id": arxiv_id, "csrf_token": csrf})
        page = browser.get(path).text
        [link] = re.findall(r'<a class="link danger" href="([^"]+)">Delete this collection', page)
        assert f'action="{path}/delete"' not in page  # no one-click form left
        asked = browser.get(link)
        assert asked.status_code == 200
        assert "Delete “&lt;img src=x" in asked.text and "<img src=x" not in asked.text
        assert "<strong>2 papers</strong>" in asked.text
        assert f'<a class="button" href="{path}">Cancel</a>' in asked.text
        assert browser.get(path).status_code == 200  # asking deleted nothing

        old_form = browser.post(f"{path}/delete", data={"csrf_token": csrf})
        assert old_form.status_code == 200 and "<strong>2 papers</strong>" in old_form.text
        assert browser.get(path).status_code == 200
        forged = browser.post(f"{path}/delete", data={"confirm": "delete", "csrf_token": "x"})
        assert forged.status_code == 403 and browser.get(path).status_code == 200

        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', asked.text))
        assert fields["confirm"] == "delete"
        deleted = browser.post(f"{path}/delete", data=fields)
        assert deleted.status_code == 303 and deleted.headers["location"] == "/account#collections"
        assert browser.get(path).status_code == 404
        assert browser.get(link).status_code == 404
    with site.client() as stranger:  # signed out: the question is asked after signing in
        signed_out = stranger.get(link)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == f"/signin?next={link}"


def test_account_shows_upvotes_submissions_comments_collections(site: Site) -> None:
    with site.client() as browser:
        csrf = _sign_up(browser)
        user = find_user_by_email(site.store, "ada@example.org")
        assert user is not None
        upvote(site.store, user, "2608.10615")
        submitted = browser.post("/submit", data={"arxiv_id": ARXIV_ONLY_ID, "csrf_token": csrf})
        assert submitted.status_code == 303
        browser.post(
            f"/papers/{TOP_PAPER}/comments", data={"text": "Nice <b>work</b>", "csrf_token": csrf}
        )
        browser.post("/collections", data={"name": "Reading group", "csrf_token": csrf})
        account = browser.get("/account").text
    sections = {
        name: account[account.index(f'id="{name}"') :]
        for name in ("collections", "upvotes", "submissions", "comments")
    }
    assert "Reading group" in sections["collections"].split("<h2")[0]
    assert "/papers/2608.10615" in sections["upvotes"].split("<h2")[0]
    assert f"/papers/{ARXIV_ONLY_ID}" in sections["submissions"].split("<h2")[0]
    comments = sections["comments"].split("<h2")[0]
    assert (
        "Nice &lt;b&gt;work&lt;/b&gt;" in comments and f"/papers/{TOP_PAPER}#comment-" in comments
    )


def test_a_withdrawn_paper_gets_409_and_nothing_is_lost(site: Site) -> None:
    from paperfeed.store import schema

    ada = _token(site, "ada")
    with _api(site, ada) as api:
        cid = api.post("/api/collections", json={"name": "Kept"}).json()["id"]
        api.post(f"/api/collections/{cid}/papers", json={"id": TOP_PAPER})
        comment = api.post(f"/api/papers/{TOP_PAPER}/comments", json={"text": "Before"}).json()
        with site.store.engine.begin() as connection:
            connection.execute(
                schema.papers.update()
                .where(schema.papers.c.arxiv_id.in_([TOP_PAPER, "2608.10615"]))
                .values(withdrawn_on="2026-09-01")
            )
        refused_save = api.post(f"/api/collections/{cid}/papers", json={"id": "2608.10615"})
        refused_comment = api.post(f"/api/papers/{TOP_PAPER}/comments", json={"text": "After"})
        kept = api.get(f"/api/collections/{cid}").json()
        thread = api.get(f"/api/papers/{TOP_PAPER}/comments").json()
    with site.client() as anonymous:
        page = anonymous.get(f"/papers/{TOP_PAPER}").text
    assert refused_save.status_code == 409 and "withdrawn" in refused_save.json()["detail"]
    assert refused_comment.status_code == 409 and "withdrawn" in refused_comment.json()["detail"]
    assert [paper["id"] for paper in kept["papers"]] == [TOP_PAPER]
    assert [t["id"] for t in thread["threads"]] == [comment["id"]]
    assert "closed to new comments" in page and "Before" in page


def test_a_large_collection_is_paged_like_the_daily_lists(site: Site) -> None:
    """An imported library of thousands was one page of every card (2,000 papers: 7.6 MB)."""
    ids = [paper.arxiv_id for batch in site.store.iter_papers() for paper in batch][:60]
    with _api(site, _token(site, "ada")) as api:
        cid = api.post("/api/collections", json={"name": "Library", "is_public": True}).json()
        cid = cid["id"]
        for arxiv_id in ids:
            assert api.post(f"/api/collections/{cid}/papers", json={"id": arxiv_id}).is_success
    with site.client() as reader:
        first = reader.get(f"/collections/{cid}")
        second = reader.get(f"/collections/{cid}", params={"page": 2})
        past = reader.get(f"/collections/{cid}", params={"page": 3})
        zero = reader.get(f"/collections/{cid}", params={"page": 0})
    shown = [
        re.findall(r'<article class="card" data-id="([^"]+)"', page.text)
        for page in (first, second)
    ]
    assert [len(cards) for cards in shown] == [50, 10]
    assert sorted(shown[0] + shown[1]) == sorted(ids)
    assert "60 papers" in first.text and "Page 1 of 2" in first.text
    assert f'rel="next" href="/collections/{cid}?page=2"' in first.text
    assert (
        f'rel="prev" href="/collections/{cid}"' in second.text and 'rel="next"' not in second.text
    )
    assert past.status_code == 404 and "page 3 is past the last page (2)" in past.text
    assert zero.status_code == 400
