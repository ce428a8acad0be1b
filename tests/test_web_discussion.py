"""Discussion over real HTTP against a running server, on SQLite and PostgreSQL: the
comment API (token and session + CSRF), the forms on the paper page, escaping, counts
on cards and in the daily-papers API, and the paper's comment feed."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ElementTree

import httpx

from paperfeed.accounts import create_api_token
from paperfeed.discussion import COMMENT_RATE_LIMIT
from paperfeed.store.accounts import insert_user
from paperfeed.store.comments import paper_comments
from running_site import LATEST_DAY, Site, csrf_of

TOP_PAPER = "2608.19880"  # EnvHarness: the source reported 1 comment
SOURCE_COMMENTS = 1
DUBLIN_CORE = "{http://purl.org/dc/elements/1.1/}"


def _token(site: Site, name: str) -> str:
    user = insert_user(site.store, f"{name}@example.org", name, "not-a-real-hash")
    return create_api_token(site.store, user)


def _api(site: Site, token: str) -> httpx.Client:
    return site.client(headers={"Authorization": f"Bearer {token}"})


def _stored_texts(site: Site) -> list[str]:
    paper = site.store.get_paper(TOP_PAPER)
    assert paper is not None
    return [comment.text for comment in paper_comments(site.store, paper.key)]


def _sign_up(client: httpx.Client, email: str, name: str) -> None:
    form = client.get("/signup").text
    response = client.post(
        "/signup",
        data={
            "email": email,
            "name": name,
            "password": "correct horse",
            "csrf_token": csrf_of(form),
        },
    )
    assert response.status_code == 303, response.text


def test_comment_reply_edit_delete_by_api(site: Site) -> None:
    ada, bob = _token(site, "ada"), _token(site, "bob")
    url = f"/api/papers/{TOP_PAPER}/comments"
    with _api(site, ada) as api:
        thread = api.post(url, json={"text": "Is the code out?"})
        assert thread.status_code == 201, thread.text
        first = thread.json()
        later = api.post(url, json={"text": "Second thread"}).json()
    with _api(site, bob) as api:
        reply = api.post(url, json={"text": "Yes: https://github.com/x/y", "parent": first["id"]})
        assert reply.status_code == 201
        not_yours = api.patch(f"/api/comments/{first['id']}", json={"text": "mine now"})
        not_yours_delete = api.delete(f"/api/comments/{first['id']}")
    assert first["paper"] == TOP_PAPER and first["author"] == "ada" and first["parent"] is None
    assert reply.json()["parent"] == first["id"]
    assert not_yours.status_code == 403 and "another user" in not_yours.json()["detail"]
    assert not_yours_delete.status_code == 403
    with site.client() as anonymous:
        listing = anonymous.get(url).json()
        daily = anonymous.get("/api/daily_papers", params={"date": LATEST_DAY}).json()
        paper = anonymous.get(f"/api/papers/{TOP_PAPER}").json()
    assert paper["numComments"] == SOURCE_COMMENTS + 3  # what HfApi.paper_info reads
    assert listing["paper"] == TOP_PAPER
    assert [t["id"] for t in listing["threads"]] == [later["id"], first["id"]]  # newest first
    assert [r["text"] for r in listing["threads"][1]["replies"]] == ["Yes: https://github.com/x/y"]
    assert listing["numComments"] == SOURCE_COMMENTS + 3
    entry = next(e for e in daily if e["paper"]["id"] == TOP_PAPER)
    assert entry["numComments"] == SOURCE_COMMENTS + 3  # the source's plus ours

    with _api(site, ada) as api:
        patched = api.patch(f"/api/comments/{first['id']}", json={"text": "Is the code out yet?"})
        put = api.put(f"/api/comments/{later['id']}", json={"text": "Edited by PUT"})
        deleted = api.delete(f"/api/comments/{later['id']}")
        deleted_again = api.delete(f"/api/comments/{later['id']}")
        after = api.get(url).json()
    assert patched.status_code == 200 and patched.json()["edited_at"] is not None
    assert patched.json()["text"] == "Is the code out yet?"
    assert put.json()["text"] == "Edited by PUT"
    assert deleted.json() == {"id": later["id"], "paper": TOP_PAPER, "deleted": True}
    assert deleted_again.status_code == 404
    assert [t["id"] for t in after["threads"]] == [first["id"]]
    assert after["numComments"] == SOURCE_COMMENTS + 2


def test_bad_comments_get_a_clear_4xx_and_nothing_is_stored(site: Site) -> None:
    ada = _token(site, "ada")
    url = f"/api/papers/{TOP_PAPER}/comments"
    with site.client() as anonymous:
        unsigned = anonymous.post(url, json={"text": "hello"})
        bad_token = anonymous.post(
            url, json={"text": "hello"}, headers={"Authorization": "Bearer x"}
        )
    assert unsigned.status_code == 401 and bad_token.status_code == 401
    with _api(site, ada) as api:
        huge = api.post(url, json={"text": "x" * 1_000_000})
        empty = api.post(url, json={"text": "   "})
        not_text = api.post(url, json={"text": {"html": "<b>"}})
        missing = api.post(url, json={})
        unknown_paper = api.post("/api/papers/2609.99999/comments", json={"text": "hi"})
        not_an_id = api.post("/api/papers/nonsense/comments", json={"text": "hi"})
        no_parent = api.post(url, json={"text": "hi", "parent": 999999})
        bad_parent = api.post(url, json={"text": "hi", "parent": "first"})
        not_json = api.post(url, content=b"text=hi", headers={"content-type": "text/plain"})
        edit_unknown = api.patch("/api/comments/999999", json={"text": "x"})
    # 413 if a body-size limit in front of the app answers first
    assert huge.status_code in (400, 413) and huge.json()["detail"]
    if huge.status_code == 400:
        assert "1,000,000 characters" in huge.json()["detail"]
    for response in (empty, not_text, missing, bad_parent, not_json):
        assert response.status_code == 400, response.text
        assert response.json()["detail"]
    # a path naming no paper is not found, like /api/papers/nonsense itself
    assert not_an_id.status_code == 404 and "nonsense" in not_an_id.json()["detail"]
    assert unknown_paper.status_code == 404 and "2609.99999" in unknown_paper.json()["detail"]
    assert no_parent.status_code == 404 and edit_unknown.status_code == 404
    assert _stored_texts(site) == []


def test_rate_limit_answers_429_with_retry_after(site: Site) -> None:
    ada = _token(site, "ada")
    limit, _ = COMMENT_RATE_LIMIT
    url = f"/api/papers/{TOP_PAPER}/comments"
    with _api(site, ada) as api:
        statuses = [api.post(url, json={"text": f"n{n}"}).status_code for n in range(limit)]
        over = api.post(url, json={"text": "one too many"})
    assert statuses == [201] * limit
    assert over.status_code == 429 and int(over.headers["retry-after"]) > 0
    assert len(_stored_texts(site)) == limit


def test_session_needs_csrf_and_forms_work(site: Site) -> None:
    url = f"/api/papers/{TOP_PAPER}/comments"
    with site.client() as browser:
        _sign_up(browser, "ada@example.org", "Ada")
        page = browser.get(f"/papers/{TOP_PAPER}").text
        csrf = csrf_of(page)
        forged = browser.post(url, json={"text": "forged"})
        by_script = browser.post(url, json={"text": "by script"}, headers={"X-CSRF-Token": csrf})
        assert by_script.status_code == 201
        form_forged = browser.post(f"/papers/{TOP_PAPER}/comments", data={"text": "no token"})
        posted = browser.post(
            f"/papers/{TOP_PAPER}/comments", data={"text": "From the form", "csrf_token": csrf}
        )
        comment_id = int(posted.headers["location"].rpartition("#comment-")[2])
        replied = browser.post(
            f"/papers/{TOP_PAPER}/comments",
            data={"text": "A reply", "parent": str(comment_id), "csrf_token": csrf},
        )
        edited = browser.post(
            f"/comments/{comment_id}/edit",
            data={"text": "From the form, edited", "csrf_token": csrf},
        )
        page = browser.get(f"/papers/{TOP_PAPER}").text
        account = browser.get("/account").text
    assert forged.status_code == 403 and form_forged.status_code == 403
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/papers/{TOP_PAPER}#comment-{comment_id}"
    assert replied.status_code == 303 and edited.status_code == 303
    assert f'id="comment-{comment_id}"' in page and "From the form, edited" in page
    assert "(edited)" in page and 'class="comment reply' in page
    assert page.index("From the form, edited") < page.index("A reply")
    assert f'/papers/{TOP_PAPER}#comment-{comment_id}"' in account  # the profile lists it
    assert sorted(_stored_texts(site)) == ["A reply", "From the form, edited", "by script"]


def test_a_refused_comment_or_reply_comes_back_in_its_form(site: Site) -> None:
    """Over the rate limit (or with a character no comment may hold) a comment answered a
    bare error page: the text the reader wrote was gone. The paper's page comes back with
    the error over the form the text was written in, and the text in it."""
    limit, _ = COMMENT_RATE_LIMIT
    with site.client() as browser:
        _sign_up(browser, "ada@example.org", "Ada")
        page = browser.get(f"/papers/{TOP_PAPER}").text
        csrf = csrf_of(page)
        form = f"/papers/{TOP_PAPER}/comments"
        first = browser.post(form, data={"text": "First", "csrf_token": csrf})
        thread = int(first.headers["location"].rpartition("#comment-")[2])
        bell = browser.post(form, data={"text": "Ring \x07 twice & <b>", "csrf_token": csrf})
        reply = {"text": "Which \x07 one?", "parent": str(thread), "csrf_token": csrf}
        bad_reply = browser.post(form, data=reply)
        for n in range(limit - 1):
            assert browser.post(form, data={"text": f"n{n}", "csrf_token": csrf}).is_redirect
        long_text = "A careful review, paragraph after paragraph."
        limited = browser.post(form, data={"text": long_text, "csrf_token": csrf})
    assert bell.status_code == 400 and "control character" in bell.text
    assert 'aria-label="Your comment">Ring \x07 twice &amp; &lt;b&gt;</textarea>' in bell.text
    assert '<p class="error" role="alert" tabindex="-1" autofocus>comment contains' in bell.text
    assert bad_reply.status_code == 400
    assert 'aria-label="Your reply">Which \x07 one?</textarea>' in bad_reply.text
    assert '<details class="reply-box" open>' in bad_reply.text
    assert 'aria-label="Your comment"></textarea>' in bad_reply.text  # the new-comment box
    assert limited.status_code == 429 and "too many" in limited.text
    assert f'aria-label="Your comment">{long_text}</textarea>' in limited.text
    assert long_text not in _stored_texts(site)


def test_a_comment_as_long_as_allowed_is_taken_in_any_script(site: Site) -> None:
    """A comment may be 10,000 characters: in Chinese a browser's form sends 9 bytes a
    character and ASCII-escaped JSON 12 for an emoji, so the 64 KiB body limit of other
    requests answered 413 to 7,300 characters of Chinese."""
    chinese = "研究" * 4_500  # 9,000 characters, 81 KB as a form
    emoji = "😀" * 10_000  # 120 KB as JSON escaped to ASCII (Python's json default)
    with site.client() as browser:
        _sign_up(browser, "ada@example.org", "Ada")
        csrf = csrf_of(browser.get(f"/papers/{TOP_PAPER}").text)
        posted = browser.post(
            f"/papers/{TOP_PAPER}/comments", data={"text": chinese, "csrf_token": csrf}
        )
        comment_id = int(posted.headers["location"].rpartition("#comment-")[2])
        edited = browser.post(
            f"/comments/{comment_id}/edit", data={"text": chinese + "。", "csrf_token": csrf}
        )
    with _api(site, _token(site, "bob")) as api:
        url = f"/api/papers/{TOP_PAPER}/comments"
        headers = {"content-type": "application/json"}
        by_api = api.post(url, content=json.dumps({"text": emoji}), headers=headers)
        too_long = api.post(url, content=json.dumps({"text": emoji + "!"}), headers=headers)
        huge = api.post(url, content=json.dumps({"text": "x" * 1_000_000}), headers=headers)
    assert posted.status_code == 303 and edited.status_code == 303, edited.text[:200]
    assert by_api.status_code == 201, by_api.text[:200]
    assert too_long.status_code == 400 and "10,001 characters" in too_long.json()["detail"]
    assert huge.status_code == 413
    assert sorted(_stored_texts(site), key=len) == [chinese + "。", emoji]


def test_comments_are_escaped_and_links_are_http_only(site: Site) -> None:
    ada = _token(site, "ada")
    hostile = (
        '<script>alert(1)</script> <img src=x onerror="alert(2)"> '
        "javascript:alert(3) see https://example.org/a?b=1&c=2. and\nnext line"
    )
    with _api(site, ada) as api:
        assert (
            api.post(f"/api/papers/{TOP_PAPER}/comments", json={"text": hostile}).status_code == 201
        )
    with site.client() as anonymous:
        page = anonymous.get(f"/papers/{TOP_PAPER}").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">' in page
    assert 'href="javascript' not in page
    text = re.search(r'<div class="comment-text">(.*?)</div>', page, re.S)
    assert text is not None and html.unescape(re.sub(r"<[^>]+>", "", text.group(1))) == hostile


def _card(page: str, arxiv_id: str) -> str:
    card = page[page.index(f'data-id="{arxiv_id}"') :]
    return card[: card.index("</article>")]


def test_every_page_counts_the_comments_of_the_papers_it_shows(site: Site) -> None:
    with site.client() as anonymous:
        before = anonymous.get(f"/papers/{TOP_PAPER}").text
    similar = re.findall(r'<article class="card" data-id="([^"]+)"', before)
    assert similar, "the paper page shows similar papers"
    neighbour = similar[0]
    ada, bob = _token(site, "ada"), _token(site, "bob")
    for token, arxiv_id in ((ada, TOP_PAPER), (bob, TOP_PAPER), (ada, neighbour)):
        with _api(site, token) as api:
            response = api.post(f"/api/papers/{arxiv_id}/comments", json={"text": "Noted."})
            assert response.status_code == 201, response.text
    paper = site.store.get_paper(neighbour)
    assert paper is not None
    neighbour_total = (paper.num_comments or 0) + 1
    with site.client() as anonymous:
        page = anonymous.get(f"/papers/{TOP_PAPER}").text
        search = anonymous.get("/search", params={"q": f"{TOP_PAPER} {neighbour}"}).text
        trending = anonymous.get("/trending").text
    assert f"· {SOURCE_COMMENTS + 2} comments</span>" in page  # the discussion's heading
    expected = f"{neighbour_total} comment{'' if neighbour_total == 1 else 's'}</a>"
    assert expected in _card(page, neighbour)
    assert f"{SOURCE_COMMENTS + 2} comments</a>" in _card(search, TOP_PAPER)
    assert expected in _card(search, neighbour)
    assert f"{SOURCE_COMMENTS + 2} comments</a>" in _card(trending, TOP_PAPER)


def test_cards_count_our_comments_and_the_feed_lists_them(site: Site) -> None:
    ada = _token(site, "ada")
    with _api(site, ada) as api:
        for text in ("First <b>take</b>", "Second take"):
            api.post(f"/api/papers/{TOP_PAPER}/comments", json={"text": text})
    with site.client() as anonymous:
        daily = anonymous.get("/", params={"date": LATEST_DAY}).text
        feed = anonymous.get(f"/rss/papers/{TOP_PAPER}")
        unknown_feed = anonymous.get("/rss/papers/2609.99999")
    card = daily[daily.index(f'data-id="{TOP_PAPER}"') :]
    card = card[: card.index("</article>")]
    assert f"{SOURCE_COMMENTS + 2} comments" in card
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/rss+xml")
    channel = ElementTree.fromstring(feed.content).find("channel")
    assert channel is not None
    items = channel.findall("item")
    # a description is HTML to a reader: the comment's text is escaped in it, shown as written
    descriptions = [item.findtext("description") for item in items]
    assert descriptions == ["Second take", "First &lt;b&gt;take&lt;/b&gt;"]
    assert [item.findtext(f"{DUBLIN_CORE}creator") for item in items] == ["ada", "ada"]
    base = site.settings.base_url
    assert all(
        (item.findtext("link") or "").startswith(f"{base}/papers/{TOP_PAPER}#comment-")
        for item in items
    )
    assert unknown_feed.status_code == 404
