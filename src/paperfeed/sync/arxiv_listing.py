"""Read arXiv's daily listing feed for each followed set: the day's announcements.

arXiv announces at 20:00 US Eastern, Sunday to Thursday; the feed then holds that
announcement until the next one (on Saturday and Sunday, and on holidays, it is empty).
Each run records the current listing of each set (``record_listing``): re-running it
changes nothing. OAI-PMH stays the source of metadata; a listed paper not yet harvested
is stored from the listing's item until OAI-PMH's record arrives. The feed always
shows the latest announcement only, so ``--from``/``--until`` (given to every source by
``paperfeed sync``) do not apply to it: the report says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from paperfeed.config import Settings
from paperfeed.ingest import IngestError
from paperfeed.ingest.arxiv_rss import listing_url, parse_listing
from paperfeed.ingest.fetching import PoliteClient
from paperfeed.store import Store
from paperfeed.store.announcements import record_listing
from paperfeed.sync.arxiv import fetch_policy
from paperfeed.sync.reports import SourceReport, SyncError, describe_failure, prefixed

SOURCE = "arxiv-listing"


def sync_arxiv_listing(
    store: Store,
    settings: Settings,
    first: str | None = None,
    last: str | None = None,
    today: date | None = None,
    client: PoliteClient | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SourceReport:
    """Record the current listing of every set in ``settings.arxiv_sets``.

    Args:
        on_progress: told about each listing read and each wait (a retry, a
            ``Retry-After``).

    Raises:
        SyncError: the listing is off.
    """
    if not settings.arxiv_rss_url:
        raise SyncError("the arXiv listing is off: PAPERFEED_ARXIV_RSS_URL is empty")
    client = client or PoliteClient(
        fetch_policy(settings), on_wait=prefixed(on_progress, f"{SOURCE}: waiting: ")
    )
    report = SourceReport(SOURCE)
    started = time.monotonic()
    followed = set(settings.arxiv_categories)
    days: list[str] = []
    try:
        for set_spec in settings.arxiv_sets:
            url = listing_url(settings.arxiv_rss_url, set_spec)
            body, _content_type = client.get(url, accept="application/rss+xml")
            listing = parse_listing(body, url)
            if on_progress is not None:
                on_progress(f"{SOURCE} {set_spec}: {len(listing.announcements)} announced")
            if followed:
                wanted = {
                    paper.arxiv_id
                    for paper in listing.papers
                    if followed.intersection(paper.categories or ())
                }
                report.skipped += len(listing.announcements) - len(wanted)
                listing.announcements = [
                    item for item in listing.announcements if item.arxiv_id in wanted
                ]
                listing.papers = [paper for paper in listing.papers if paper.arxiv_id in wanted]
            _announced, counts = record_listing(store, set_spec, listing)
            report.counts.add(counts)
            report.rejections.extend(listing.rejections)
            days.append(
                f"{set_spec} {listing.day} ({len(listing.announcements)} announced)"
                if listing.announcements
                else f"{set_spec}: no announcement"
            )
    except IngestError as error:
        report.error = describe_failure(error, "PAPERFEED_ARXIV_RSS_URL")
    ignored = "the listing holds the latest announcement only: --from/--until ignored"
    report.window = ", ".join(days)
    if first is not None or last is not None:
        report.window = f"{report.window} ({ignored})" if report.window else ignored
    report.requests = client.requests
    report.seconds = time.monotonic() - started
    return report
