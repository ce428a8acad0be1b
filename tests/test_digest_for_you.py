"""A subscriber who has an account gets a "For you" section in their digest (real SMTP)."""

from __future__ import annotations

import re

from paperfeed.accounts import sign_up
from paperfeed.digest.subscribing import subscribe
from paperfeed.store.accounts import insert_vote
from paperfeed.store.subscriptions import confirm_subscription
from running_site import Site
from test_digest import Inbox, _html, _send, _text, inbox, mail_settings, mail_site

__all__ = ["inbox", "mail_settings", "mail_site"]  # fixtures, used by name
HARNESS_PAPERS = ["2608.16798", "2608.17597", "2608.15008"]  # of 2026-08-18 and -19


def test_a_subscriber_with_an_account_gets_papers_picked_for_them(
    mail_site: Site, inbox: Inbox
) -> None:
    store = mail_site.store
    user = sign_up(store, "reader@example.org", "correct horse", "Reader")
    for arxiv_id in HARNESS_PAPERS:
        paper = store.get_paper(arxiv_id)
        assert paper is not None
        insert_vote(store, user.id, paper.key)
    for address in ("reader@example.org", "stranger@example.org"):
        confirm_subscription(store, subscribe(store, address, "daily", "UTC").id)
    _, delivery = _send(mail_site)
    assert delivery.sent == 2
    mine, theirs = (
        _text(inbox.to("reader@example.org")[-1]),
        _text(inbox.to("stranger@example.org")[-1]),
    )
    assert "FOR YOU" in mine and "FOR YOU" not in theirs
    section = mine.split("FOR YOU", 1)[1].split("\n--", 1)[0]
    picked = re.findall(r"/papers/(\d{4}\.\d{5})", section)
    assert len(picked) == 5
    trending_part = mine.split("FOR YOU", 1)[0]
    assert not set(picked) & set(re.findall(r"/papers/(\d{4}\.\d{5})", trending_part))
    for arxiv_id in picked:
        paper = store.get_paper(arxiv_id)
        assert paper is not None and paper.daily_date == "2026-08-21"  # the period's papers
    assert section.count("because you upvoted") == 5
    assert inbox.to("reader@example.org")[-1]["Subject"] == "Daily papers 2026-08-21: 10 papers"
    assert "For you" in _html(inbox.to("reader@example.org")[-1])
