"""Every link on the site leads somewhere: a crawl over real HTTP, as a visitor and as an
admin, from the pages people start on, following each link and asset the pages name, and
reading what each answers. A form's address is opened too: it may refuse a GET with a 405
that names POST, never with a 404 or an error."""

from __future__ import annotations

import html
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from account_helpers import sign_in
from paperfeed import administration
from paperfeed.administration import Actor
from running_site import Site

STARTS = ("/", "/search?q=agents", "/trending", "/papers/2608.19880")
PAGES = 400  # addresses read per crawl: every kind of page, a few of each
REDIRECTS = {301, 302, 303, 307, 308}
# What a GET must not follow: it would end the crawl's session.
LEAVES = ("/signout", "/logout")
LINK = re.compile(r"""\b(href|src|action)\s*=\s*["']([^"']*)["']""")


def _crawl(client: httpx.Client) -> tuple[dict[str, int], list[str]]:
    """Each address read with its status, and each failure named with the page linking it."""
    origin = urlsplit(str(client.base_url)).netloc
    found_on: dict[str, str] = {start: "(start)" for start in STARTS}
    form_addresses: set[str] = set()
    queue = deque(STARTS)
    answered: dict[str, int] = {}
    failures = []
    while queue and len(answered) < PAGES:
        address = queue.popleft()
        if address in answered:
            continue
        answer = client.get(address)
        answered[address] = answer.status_code
        refused_as_a_form = (
            address in form_addresses
            and answer.status_code == 405
            and "POST" in answer.headers["allow"]
        )
        if refused_as_a_form:
            continue  # a form's address: GET may be refused, if it names the method to use
        if answer.status_code >= 400 or "Traceback" in answer.text:
            failures.append(
                f"{address} answered {answer.status_code}, linked from {found_on[address]}"
            )
            continue
        if answer.status_code in REDIRECTS:
            links = [("href", answer.headers["location"])]
        elif answer.headers.get("content-type", "").startswith("text/html"):
            links = [(kind, html.unescape(link)) for kind, link in LINK.findall(answer.text)]
        else:
            continue
        for kind, link in links:
            parts = urlsplit(urljoin(f"{client.base_url}{address}", link))
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.scheme not in ("http", "https") or parts.netloc != origin or not parts.path:
                continue  # arXiv, DOIs, mail: not this site's to answer
            if target.startswith(LEAVES) or target in found_on:
                continue
            if kind == "action":
                form_addresses.add(target)
            found_on[target] = address
            queue.append(target)
    return answered, failures


def _kinds(answered: dict[str, int]) -> set[str]:
    """The first part of each address read: which kinds of page the crawl reached."""
    return {address.split("?")[0].split("/")[1] for address in answered}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_link_a_visitor_or_an_admin_can_follow_answers(site: Site) -> None:
    administration.create_user(
        site.store, Actor(None, "test"), "root@example.org", "correct horse", "Root", admin=True
    )
    with site.client() as visitor:
        seen_by_visitor, visitor_failures = _crawl(visitor)
    with site.client() as admin:
        signed_in = sign_in(admin, "root@example.org", "correct horse")
        assert signed_in.status_code == 303, signed_in.text
        seen_by_admin, admin_failures = _crawl(admin)
        still_signed_in = admin.get("/account").status_code
    assert visitor_failures == [] and admin_failures == []
    assert still_signed_in == 200  # the crawl followed no link that signs out
    # the crawls reached the site's kinds of page, not only the front page's links
    assert {"", "papers", "search", "trending", "static"} <= _kinds(seen_by_visitor)
    assert {"account", "admin"} <= _kinds(seen_by_admin)
    assert len(seen_by_visitor) >= 100 and len(seen_by_admin) >= 100
