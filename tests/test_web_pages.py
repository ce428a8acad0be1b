"""The HTML pages over real HTTP against a running server, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from http_clients import http_client
from paperfeed.cli import main
from paperfeed.config import Settings
from running_site import ARXIV_ONLY_ID, XSS_ID, XSS_TITLE, Site, csrf_of, serve


def _titles(html: str) -> list[str]:
    return re.findall(
        r'<h3 class="title">(?:<span class="rank">\d+</span>)?<a href="/papers/([^"]+)"', html
    )


def _sign_up(client, email: str = "ada@example.org", password: str = "correct horse") -> None:  # type: ignore[no-untyped-def]
    form = client.get("/signup").text
    response = client.post(
        "/signup",
        data={"email": email, "name": "Ada", "password": password, "csrf_token": csrf_of(form)},
    )
    assert response.status_code == 303, response.text


def test_daily_page_shows_the_latest_day_most_upvoted_first(site: Site) -> None:
    with site.client() as client:
        page = client.get("/")
        earlier = client.get("/", params={"date": "2026-08-19"}).text
    assert page.status_code == 200
    ids = _titles(page.text)
    assert len(ids) == 18  # 17 real papers of 2026-08-21 plus the hostile one
    assert ids[0] == "2608.19880"  # EnvHarness, 163 upvotes, the day's top paper
    assert "Aug 21, 2026" in page.text
    assert 'href="/?date=2026-08-20"' in page.text
    assert 'href="/?date=2026-08-22"' not in page.text  # no later list: "next" is disabled
    assert 'href="/?date=2026-08-18"' in earlier and 'href="/?date=2026-08-20"' in earlier
    assert "17 authors" in page.text and "Google" in page.text  # author count, organisation


def test_weekend_says_so_and_links_the_nearest_days(site: Site) -> None:
    with site.client() as client:
        page = client.get("/", params={"date": "2026-08-16"})
    assert page.status_code == 200
    assert "No papers on Aug 16, 2026" in page.text
    assert 'href="/?date=2026-08-14"' in page.text and 'href="/?date=2026-08-17"' in page.text
    assert _titles(page.text) == []


def test_week_and_month_views(site: Site) -> None:
    """A week (109 papers) and a month (152) are paged 50 at a time, most upvoted first,
    like the search: the month used to be one page of every card (331, 890 KB, on the
    quick-start corpus)."""
    with site.client() as client:
        week = client.get("/", params={"week": "2026-W34"})  # Mon 08-17 .. Sun 08-23
        month = client.get("/", params={"month": "2026-08"})
        week_pages = [client.get("/", params={"week": "2026-W34", "page": n}).text for n in (2, 3)]
        month_pages = [
            client.get("/", params={"month": "2026-08", "page": n}).text for n in (2, 3, 4)
        ]
        past = client.get("/", params={"month": "2026-08", "page": 5})
        api = [
            entry
            for number in (0, 1)  # the API pages too: 100 at most a page
            for entry in client.get(
                "/api/daily_papers", params={"month": "2026-08", "limit": 100, "p": number}
            ).json()
        ]
    assert len(_titles(week.text)) == 50 and "Page 1 of 3" in week.text
    assert 'rel="next" href="/?week=2026-W34&amp;page=2"' in week.text
    week_ids = _titles(week.text) + [i for page in week_pages for i in _titles(page)]
    assert len(week_ids) == len(set(week_ids)) == 23 + 29 + 25 + 14 + 18
    assert 'rel="prev" href="/?week=2026-W34&amp;page=2"' in week_pages[1]
    assert 'rel="next"' not in week_pages[1].split('class="pager"')[1]
    assert "Week 2026-W34" in week.text and 'href="/?week=2026-W33"' in week.text
    month_ids = _titles(month.text) + [i for page in month_pages for i in _titles(page)]
    assert month_ids == [entry["paper"]["id"] for entry in api]  # most upvoted first
    assert len(month_ids) == 152 and len(_titles(month.text)) == 50
    assert "152 papers" in month.text  # the whole month's count, on every page
    assert past.status_code == 404 and "page 5 is past the last page (4)" in past.text
    assert 'href="/?month=2026-07"' in month.text
    assert 'href="/?month=2026-09"' not in month.text  # nothing later: "next" disabled


def test_bad_period_is_a_400_page_naming_the_value(site: Site) -> None:
    with site.client() as client:
        page = client.get("/", params={"date": "2026-13-45"})
        week = client.get("/", params={"week": "2026-34"})
    assert page.status_code == 400 and "2026-13-45" in page.text and "<html" in page.text
    assert week.status_code == 400 and "2026-34" in week.text
    assert "Traceback" not in page.text


def test_hostile_title_is_escaped_and_csp_is_sent(site: Site) -> None:
    with site.client() as client:
        daily = client.get("/")
        paper = client.get(f"/papers/{XSS_ID}")
        search = client.get("/search", params={"q": "attention escaped"})
    for response in (daily, paper, search):
        assert "<script>alert(1)" not in response.text
        assert "<img src=x" not in response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in paper.text
    assert "Mallory &lt;Evil&gt;" in paper.text
    assert XSS_TITLE not in paper.text


def test_search_page_ranks_marks_and_explains(site: Site) -> None:
    with site.client() as client:
        page = client.get("/search", params={"q": "terminal agents"})
    assert page.status_code == 200
    ids = _titles(page.text)
    assert ids and ids[0] == "2608.18580"  # FACET: terminal task synthesis
    assert "<mark>" in page.text and "Why:" in page.text
    assert "follow as RSS" in page.text


def test_search_paging_sorting_and_filters(site: Site) -> None:
    with site.client() as client:
        first = client.get("/search", params={"q": "model", "sort": "date"})
        second = client.get("/search", params={"q": "model", "sort": "date", "page": 2})
        since = client.get("/search", params={"q": "model", "since": "2026-08-21"})
        bad = client.get("/search", params={"q": "model", "sort": "stars"})
    assert len(_titles(first.text)) == 20 and "Page 1 of" in first.text
    last = int(first.text.split("Page 1 of ", 1)[1].split("<", 1)[0])
    with site.client() as client:
        at_the_end = client.get("/search", params={"q": "model", "page": last})
        past = client.get("/search", params={"q": "model", "page": last + 1})
    assert at_the_end.status_code == 200 and _titles(at_the_end.text)
    # was a 200 "Page N+1 of N" without a result
    assert past.status_code == 404
    assert f"page {last + 1} is past the last page ({last}) of this search" in past.text
    assert not set(_titles(first.text)) & set(_titles(second.text))
    assert all("Aug 21, 2026" in card for card in since.text.split('<article class="card"')[1:])
    assert bad.status_code == 400 and "stars" in bad.text


def test_arxiv_id_or_url_goes_to_the_paper(site: Site) -> None:
    with site.client() as client:
        by_id = client.get("/search", params={"q": "2608.19880"})
        by_url = client.get("/search", params={"q": "https://arxiv.org/abs/2608.19880v2"})
    assert by_id.status_code == 303 and by_id.headers["location"] == "/papers/2608.19880"
    assert by_url.headers["location"] == "/papers/2608.19880"
    # the original site's paper page, and arXiv URLs with a query or a fragment
    for pasted in (
        "https://huggingface.co/papers/2608.19880",
        "https://huggingface.co/papers/2608.19880#community",
        "https://arxiv.org/abs/2608.19880?context=cs",
        "https://arxiv.org/pdf/2608.19880v1#page=2",
    ):
        with site.client() as client:
            answer = client.get("/search", params={"q": pasted})
        assert answer.status_code == 303, pasted
        assert answer.headers["location"] == "/papers/2608.19880"


def test_search_help_without_a_query(site: Site) -> None:
    with site.client() as client:
        page = client.get("/search")
    assert "Search syntax" in page.text and "cat:cs.LG" in page.text


def test_paper_page(site: Site) -> None:
    with site.client() as client:
        page = client.get("/papers/2608.19880")
        versioned = client.get("/papers/2608.19880v1")
    assert page.status_code == 200
    assert "EnvHarness: Awakening Static Worlds for Agent Learning" in page.text
    assert "Chengsong Huang" in page.text
    assert 'href="https://arxiv.org/abs/2608.19880"' in page.text
    assert 'href="https://arxiv.org/pdf/2608.19880"' in page.text
    assert "@misc{huang2026envharness," in page.text and "eprint = {2608.19880}" in page.text
    assert "Similar papers" in page.text and len(_titles(page.text)) == 8
    assert "2608.19880" not in _titles(page.text)  # never similar to itself
    assert versioned.status_code == 301 and versioned.headers["location"] == "/papers/2608.19880"


def test_unknown_paper_is_a_404_page(site: Site) -> None:
    with site.client() as client:
        missing = client.get("/papers/2608.00001")
        garbage = client.get("/papers/not-an-id")
        api = client.get("/api/papers/2608.00001")
    assert missing.status_code == 404 and "no paper 2608.00001" in missing.text
    assert "<html" in missing.text and "Traceback" not in missing.text
    assert garbage.status_code == 404 and "not-an-id" in garbage.text
    assert (
        api.status_code == 404 and api.json()["detail"] == "no paper 2608.00001 in this paperfeed"
    )


def test_a_papers_form_addresses_opened_as_pages_lead_to_the_paper(site: Site) -> None:
    """The upvote, comment and not-for-me forms post to /papers/<id>/<action>; that address
    opened as a page (bookmarked, typed) leads to the paper, not to a 404 saying that
    "<id>/upvote" is not an arXiv id. Ids with slashes still reach their own page."""
    with site.client() as client:
        gets = {
            action: client.get(f"/papers/2608.19880/{action}")
            for action in ("upvote", "comments", "not-for-me")
        }
        head = client.head("/papers/2608.19880/upvote")
        versioned = client.get("/papers/2608.19880v2/upvote")
        followed = client.get("/papers/2608.19880/comments", follow_redirects=True)
        old_style = client.get("/papers/hep-th/9901001")  # not in the store: its own 404
        not_an_id = client.get("/papers/not-an-id/upvote")
        posted = client.post("/papers/2608.19880/upvote", data={"next": "/search"})
        refused = client.put("/search")
    assert {
        action: (answer.status_code, answer.headers["location"]) for action, answer in gets.items()
    } == {
        "upvote": (303, "/papers/2608.19880"),
        "comments": (303, "/papers/2608.19880#discussion"),
        "not-for-me": (303, "/papers/2608.19880"),
    }
    assert (head.status_code, head.headers["location"]) == (303, "/papers/2608.19880")
    assert versioned.headers["location"] == "/papers/2608.19880"
    assert followed.status_code == 200 and 'id="discussion"' in followed.text
    assert old_style.status_code == 404 and "no paper hep-th/9901001" in old_style.text
    assert not_an_id.status_code == 404 and "not-an-id/upvote" in not_an_id.text
    assert posted.status_code == 303 and posted.headers["location"].startswith("/signin")
    assert refused.status_code == 405 and "<h1>Method not allowed</h1>" in refused.text


def test_sign_up_vote_withdraw_and_sign_out(site: Site) -> None:
    with site.client() as client:
        _sign_up(client)
        page = client.get("/papers/2608.19880")
        assert "Sign out" in page.text and "163" in page.text
        token = csrf_of(page.text)
        voted = client.post(
            "/papers/2608.19880/upvote",
            data={"csrf_token": token},
            headers={"Referer": f"{site.url}/papers/2608.19880"},
        )
        assert voted.status_code == 303 and voted.headers["location"] == "/papers/2608.19880"
        again = client.get("/papers/2608.19880").text
        assert 'class="upvote voted"' in again and '<span class="count">164</span>' in again
        withdrawn = client.post(
            "/papers/2608.19880/upvote",
            data={"csrf_token": token},
            headers={"Accept": "application/json"},
        )
        assert withdrawn.json() == {"id": "2608.19880", "upvoted": False, "upvotes": 163}
        client.post("/signout", data={"csrf_token": token})
        assert "Sign in" in client.get("/").text


def test_state_changes_need_the_csrf_token(site: Site) -> None:
    with site.client() as client:
        _sign_up(client)
        forged = client.post("/papers/2608.19880/upvote", data={"csrf_token": "guess"})
        assert forged.status_code == 403 and "CSRF" in forged.text
        assert '<span class="count">163</span>' in client.get("/papers/2608.19880").text
    with site.client() as stranger:
        assert stranger.post("/signout").status_code == 403


def test_voting_needs_a_session(site: Site) -> None:
    with site.client() as client:
        token = csrf_of(client.get("/").text)
        form = client.post("/papers/2608.19880/upvote", data={"csrf_token": token})
        script = client.post(
            "/papers/2608.19880/upvote",
            data={"csrf_token": token},
            headers={"Accept": "application/json"},
        )
    assert form.status_code == 303 and form.headers["location"].startswith("/signin")
    assert script.status_code == 401


def test_sign_in_errors_and_rate_limit(site: Site) -> None:
    with site.client() as client:
        _sign_up(client, "bob@example.org", "secret password")
        client.cookies.clear()
        token = csrf_of(client.get("/signin").text)
        wrong = client.post(
            "/signin", data={"email": "bob@example.org", "password": "nope", "csrf_token": token}
        )
        assert wrong.status_code == 401 and "wrong email or password" in wrong.text
        right = client.post(
            "/signin",
            data={
                "email": "BOB@example.org ",
                "password": "secret password",
                "next": "//evil.example/",
                "csrf_token": token,
            },
        )
        assert right.status_code == 303 and right.headers["location"] == "/"
        token = csrf_of(client.get("/signin").text)
        statuses = [
            client.post(
                "/signin",
                data={"email": "bob@example.org", "password": "x", "csrf_token": token},
            ).status_code
            for _ in range(10)
        ]
    assert statuses[-1] == 429 and 401 in statuses


def test_sign_up_rejects_bad_input(site: Site) -> None:
    with site.client() as client:
        token = csrf_of(client.get("/signup").text)
        bad_email = client.post(
            "/signup",
            data={"email": "not-an-email", "password": "long enough", "csrf_token": token},
        )
        short = client.post(
            "/signup", data={"email": "c@example.org", "password": "short", "csrf_token": token}
        )
        _sign_up(client, "dup@example.org")
        client.cookies.clear()
        token = csrf_of(client.get("/signup").text)
        duplicate = client.post(
            "/signup",
            data={"email": "dup@example.org", "password": "long enough", "csrf_token": token},
        )
    assert bad_email.status_code == 400 and "not-an-email" in bad_email.text
    assert short.status_code == 400 and "at least 8" in short.text
    assert duplicate.status_code == 400 and "exists already" in duplicate.text


def test_submit_puts_a_stored_paper_on_todays_list(site: Site) -> None:
    with site.client() as client:
        assert client.get("/submit").headers["location"].startswith("/signin")
        _sign_up(client)
        token = csrf_of(client.get("/submit").text)
        done = client.post(
            "/submit", data={"arxiv_id": f"arXiv:{ARXIV_ONLY_ID}v1", "csrf_token": token}
        )
        assert done.status_code == 303 and done.headers["location"] == f"/papers/{ARXIV_ONLY_ID}"
        today = client.get("/").text  # the latest day with papers is now today
        twice = client.post("/submit", data={"arxiv_id": ARXIV_ONLY_ID, "csrf_token": token})
        unknown = client.post("/submit", data={"arxiv_id": "2608.00002", "csrf_token": token})
        garbage = client.post("/submit", data={"arxiv_id": "hello", "csrf_token": token})
        # a stored paper on an earlier list goes on today's list too
        moved = client.post("/submit", data={"arxiv_id": XSS_ID, "csrf_token": token})
        today_after = client.get("/").text
    assert _titles(today) == [ARXIV_ONLY_ID]
    assert moved.status_code == 303 and set(_titles(today_after)) == {ARXIV_ONLY_ID, XSS_ID}
    assert twice.status_code == 400 and "already on the daily list" in twice.text
    assert "Errno" not in unknown.text
    assert unknown.status_code == 400 and "2608.00002" in unknown.text
    assert (
        garbage.status_code == 400
        and "hello" in garbage.text
        and "is not an arXiv id" in garbage.text
    )


def test_api_tokens_on_the_account_page(site: Site) -> None:
    with site.client() as client:
        _sign_up(client)
        page = client.get("/account")
        created = client.post(
            "/account/tokens", data={"label": "laptop", "csrf_token": csrf_of(page.text)}
        )
        token = re.search(r'<code id="new-token">(pf_[^<]+)</code>', created.text)
        assert token and "laptop" in created.text
    with site.client(headers={"Authorization": f"Bearer {token.group(1)}"}) as api:
        voted = api.post("/api/papers/2608.19880/upvote")
    assert voted.status_code == 200 and voted.json()["upvotes"] == 164


def test_the_plain_upvote_form_returns_to_its_page(site: Site) -> None:
    with site.client() as client:
        _sign_up(client)
        page = client.get("/search", params={"q": "agents"}).text
        form = page[page.index('<form class="vote"') :].split("</form>", 1)[0]
        fields = dict(re.findall(r'name="(csrf_token|next)" value="([^"]*)"', form))
        assert fields["next"] == "/search?q=agents"
        voted = client.post("/papers/2608.19880/upvote", data=fields)
        from_referer = client.post(
            "/papers/2608.19880/upvote",
            data={"csrf_token": fields["csrf_token"]},
            headers={"Referer": f"{site.url}/trending"},
        )
    assert voted.status_code == 303 and voted.headers["location"] == "/search?q=agents"
    assert from_referer.headers["location"] == "/trending"


def test_head_pages_and_a_plain_404(site: Site) -> None:
    with site.client() as client:
        heads = [client.head(path) for path in ("/", "/search?q=agents", "/papers/2608.19880")]
        missing = client.get("/no/such/page")
        api_missing = client.get("/api/papers/0")
    assert [head.status_code for head in heads] == [200, 200, 200]
    assert all(head.content == b"" for head in heads)
    assert missing.status_code == 404 and missing.text.count("Not found") == 1
    assert "Not Found" not in missing.text and "/no/such/page" in missing.text
    assert api_missing.status_code == 404 and "'/api/papers/0'" in api_missing.json()["detail"]


def test_a_paper_known_by_id_and_abstract_alone_has_a_heading_and_a_link(
    settings: Settings, tmp_path: Path
) -> None:
    # an (arxiv_id, abstract) dataset gives no title: its card's link and its page's
    # heading were empty (nothing to click, a page titled " · paperfeed")
    dataset = tmp_path / "abstracts.csv"
    dataset.write_text(
        "arxiv_id,abstract\nhep-th/9901001,Bosonic strings on an orbifold with flux.\n"
    )
    assert CliRunner().invoke(main, ["ingest", "--quiet", str(dataset)]).exit_code == 0
    assert CliRunner().invoke(main, ["index", "--quiet", "--no-embed"]).exit_code == 0
    with serve(settings) as base, http_client(base_url=base) as client:
        found = client.get("/search", params={"q": "orbifold strings"}).text
        page = client.get("/papers/hep-th/9901001").text
    assert '<a href="/papers/hep-th/9901001">arXiv:hep-th/9901001</a>' in found
    assert "<h1>arXiv:hep-th/9901001</h1>" in page
    assert "<title>arXiv:hep-th/9901001 · paperfeed</title>" in page


def test_an_untitled_paper_is_named_by_its_id_in_markdown_feeds_and_the_account(
    settings: Settings, tmp_path: Path
) -> None:
    # the page said arXiv:ID, but its Markdown began "# " and its discussion feed was
    # "Discussion of “”", each comment "Ada commented on “”", the account page "on ·"
    dataset = tmp_path / "abstracts.csv"
    dataset.write_text(
        "arxiv_id,abstract\nhep-th/9901001,Bosonic strings on an orbifold with flux.\n"
    )
    assert CliRunner().invoke(main, ["ingest", "--quiet", str(dataset)]).exit_code == 0
    assert CliRunner().invoke(main, ["index", "--quiet", "--no-embed"]).exit_code == 0
    with serve(settings) as base, http_client(base_url=base) as client:
        form = client.get("/signup").text
        signed_up = client.post(
            "/signup",
            data={
                "email": "ada@example.org",
                "name": "Ada",
                "password": "correct horse",
                "csrf_token": csrf_of(form),
            },
        )
        assert signed_up.status_code == 303, signed_up.text
        paper = client.get("/papers/hep-th/9901001").text
        commented = client.post(
            "/papers/hep-th/9901001/comments",
            data={"text": "Which orbifold?", "csrf_token": csrf_of(paper)},
        )
        assert commented.status_code == 303, commented.text
        markdown = client.get("/papers/hep-th/9901001.md").text
        feed = client.get("/rss/papers/hep-th/9901001").text
        account = client.get("/account").text
    assert markdown.startswith("# arXiv:hep-th/9901001\n")
    assert "<title>Discussion of “arXiv:hep-th/9901001”</title>" in feed
    assert "<title>Ada commented on “arXiv:hep-th/9901001”</title>" in feed
    assert "· on arXiv:hep-th/9901001 ·" in account


def test_sign_in_from_the_sign_up_page_leads_where_sign_up_would(site: Site) -> None:
    """The header's "Sign in" on /signup?next=/search?q=agent went back to /signup after
    signing in: a "Create an account" form shown to a signed-in reader."""
    with site.client() as client:
        signup = client.get("/signup", params={"next": "/search?q=agent"}).text
        forgot = client.get("/forgot-password").text
        search = client.get("/search", params={"q": "agent"}).text
    header = r'<a href="(/signin\?[^"]*)" class="button small">Sign in</a>'
    links = [re.search(header, page) for page in (signup, forgot, search)]
    assert all(links), "no Sign in link in the header"
    hrefs = [link.group(1) for link in links if link]
    assert hrefs == [
        "/signin?next=%2Fsearch%3Fq%3Dagent",
        "/signin?next=%2Faccount",  # where the forgotten-password page leads
        "/signin?next=%2Fsearch%3Fq%3Dagent",
    ]
