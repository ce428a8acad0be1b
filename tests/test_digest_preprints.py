"""A digest topic on a bioRxiv subject mails the day's preprint, linked by its DOI."""

from __future__ import annotations

from paperfeed.digest.subscribing import TopicInput, subscribe
from paperfeed.index.builder import update_index
from paperfeed.models import Paper
from paperfeed.store.subscriptions import confirm_subscription
from running_site import Site
from test_digest import Inbox, _html, _send, _text, inbox, mail_settings, mail_site

__all__ = ["inbox", "mail_settings", "mail_site"]  # fixtures, used by name
ODD_DOI = "10.1101/2026.08.20.000(1);x<y"
ODD_LINK = "/papers/10.1101/2026.08.20.000%281%29%3Bx%3Cy"


def test_a_biorxiv_subject_topic_mails_the_preprint_with_an_escaped_link(
    mail_site: Site, inbox: Inbox
) -> None:
    store = mail_site.store
    store.upsert_papers(
        [
            Paper(
                arxiv_id=ODD_DOI,
                title="Hippocampal replay compresses routes <during> sleep",
                abstract="Place cells replay routes during sleep.",
                authors=["Ana Odd"],
                categories=["biorxiv.neuroscience"],
                first_listed="2026-08-21",
                sources=["biorxiv"],
            )
        ]
    )
    update_index(store, mail_site.settings, show_progress=False)
    subscription = subscribe(
        store,
        "lab@example.org",
        "daily",
        "UTC",
        [TopicInput("cat:bioRxiv:neuroscience", 0.0), TopicInput("cat:cs.CL", 0.0)],
    )
    confirm_subscription(store, subscription.id)
    _, delivery = _send(mail_site)
    assert delivery.sent == 1
    message = inbox.to("lab@example.org")[-1]
    text, page = _text(message), _html(message)
    assert "Hippocampal replay compresses routes <during> sleep" in text
    assert f"{mail_site.settings.base_url}{ODD_LINK}" in text
    assert f'href="{mail_site.settings.base_url}{ODD_LINK}"' in page
    assert "&lt;during&gt;" in page and "<during>" not in page
