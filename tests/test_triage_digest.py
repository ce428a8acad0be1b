"""The digest's For you is the same model as /for-you: a library-seeded reader gets it,
and a paper marked "not for me" never comes back by mail (real SMTP)."""

from __future__ import annotations

import re

import numpy as np

from paperfeed.accounts import sign_up
from paperfeed.digest.subscribing import subscribe
from paperfeed.search import SearchEngine
from paperfeed.search.recommending import recommend
from paperfeed.store.feedback import add_seed_vectors, mark_not_for_me
from paperfeed.store.subscriptions import confirm_subscription
from running_site import Site
from test_digest import Inbox, _send, _text, inbox, mail_settings, mail_site

__all__ = ["inbox", "mail_settings", "mail_site"]  # fixtures, used by name
HARNESS_PAPERS = ["2608.16798", "2608.17597", "2608.15008"]


def test_a_seeded_reader_gets_for_you_by_mail_without_their_not_for_me_papers(
    mail_site: Site, inbox: Inbox
) -> None:
    store = mail_site.store
    engine = SearchEngine(store, mail_site.settings)
    assert engine.vectors is not None
    user = sign_up(store, "reader@example.org", "correct horse", "Reader")
    keys = [store.get_paper(arxiv_id).key for arxiv_id in HARNESS_PAPERS]  # type: ignore[union-attr]
    rows = np.flatnonzero(np.isin(engine.vectors.keys, keys))
    add_seed_vectors(
        store,
        user.id,
        engine.vectors.model,
        [f"library entry {index}" for index in range(len(rows))],
        np.asarray(engine.vectors.vectors[rows], np.float32),
    )
    first = recommend(engine, user.id, limit=5, between=("2026-08-21", "2026-08-21"))
    dropped = first.items[0].paper
    mark_not_for_me(store, user.id, dropped.key)
    confirm_subscription(store, subscribe(store, "reader@example.org", "daily", "UTC").id)
    _send(mail_site)
    mail = _text(inbox.to("reader@example.org")[-1])
    section = mail.split("FOR YOU", 1)[1].split("\n--", 1)[0]
    picked = re.findall(r"/papers/(\d{4}\.\d{5})", section)
    assert len(picked) == 5 and dropped.arxiv_id not in picked
    assert section.count('because you imported "library entry') == 5
