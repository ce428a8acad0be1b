"""The anonymous-page micro-cache: fast repeats for visitors, never stale for voters."""

from __future__ import annotations

import re

import pytest

from paperfeed.accounts import create_api_token, sign_up
from running_site import Site


def _count(html: str, arxiv_id: str) -> int:
    card = html.split(f'data-paper="{arxiv_id}"', 1)[1]
    match = re.search(r'<span class="count">(\d+)</span>', card)
    assert match
    return int(match.group(1))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_anonymous_pages_are_reused_briefly_and_voters_see_fresh_ones(site: Site) -> None:
    user = sign_up(site.store, "cache@example.org", "long enough")
    token = create_api_token(site.store, user)
    with site.client() as anonymous:
        first = anonymous.get("/")
        with site.client(headers={"Authorization": f"Bearer {token}"}) as api:
            assert api.post("/api/papers/2608.19880/upvote").json()["upvotes"] == 164
        again = anonymous.get("/")
        fresh = anonymous.get("/", params={"date": "2026-08-21"})  # another URL: rendered now
    assert _count(first.text, "2608.19880") == 163
    assert again.text == first.text  # served from the cache, vote not shown yet
    assert "set-cookie" not in again.headers  # a cached page never hands out a session
    assert "default-src 'self'" in again.headers["content-security-policy"]
    assert _count(fresh.text, "2608.19880") == 164
    with site.client() as voter:
        page = voter.get("/signin")
        token_field = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token_field
        voter.post(
            "/signin",
            data={
                "email": "cache@example.org",
                "password": "long enough",
                "csrf_token": token_field.group(1),
            },
        )
        mine = voter.get("/")
    assert _count(mine.text, "2608.19880") == 164 and 'class="upvote voted"' in mine.text
