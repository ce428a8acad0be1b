"""Harvest bioRxiv and medRxiv through their details API, a page of 100 at a time.

The window (posting dates) starts at the last day the store has for the server (the
first run: the last ``FIRST_RUN_DAYS`` days) and runs to today, or is given by
``--from`` and ``--until``. Each page is stored together with the cursor of the next
one in one transaction (``store_preprint_page``), so a killed harvest resumes at the
page it was on and re-running a finished window changes nothing. A new version of a
paper updates it; a ``published`` DOI is kept. A page that cannot be read (a 5xx after
every retry, malformed JSON) stops the server's harvest with a message naming the URL;
its records are not written and the next sync starts at that page again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from paperfeed.config import Settings
from paperfeed.ingest import IngestError
from paperfeed.ingest.biorxiv_api import SERVERS, details_url, parse_details_page
from paperfeed.ingest.fetching import PoliteClient
from paperfeed.ingest.preprint_categories import check_preprint_categories, normalize_category
from paperfeed.store import Store
from paperfeed.store.syncing import finish_harvest, harvest_state, store_preprint_page
from paperfeed.sync.arxiv import fetch_policy
from paperfeed.sync.reports import (
    SourceReport,
    SyncError,
    check_window,
    describe_failure,
    first_run_start,
    parse_day,
    prefixed,
    today_utc,
)


def harvest_preprints(
    store: Store,
    settings: Settings,
    server: str,
    first: str | None = None,
    last: str | None = None,
    today: date | None = None,
    client: PoliteClient | None = None,
    on_page: Callable[[int, int], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SourceReport:
    """Harvest ``server`` (``biorxiv`` or ``medrxiv``) into the store.

    Args:
        first, last: the window (``YYYY-MM-DD``); default: from the last harvested day
            to today.
        today: the current date (default: today in UTC).
        client: the HTTP client (default: one with the settings' policy).
        on_page: called with the page's cursor and its number of records.
        on_progress: told about each page and each wait (a retry, a ``Retry-After``).

    Returns:
        The counts; ``error`` set when a page failed (what was stored stays stored).

    Raises:
        SyncError: a bad date, server or category; nothing was fetched.
    """
    if server not in SERVERS:
        raise SyncError(f"unknown preprint server {server!r} (expected biorxiv or medrxiv)")
    today = today or today_utc()
    first_day = parse_day("--from", first, today)
    last_day = parse_day("--until", last, today)
    check_window(first_day, last_day)
    try:
        check_preprint_categories(settings.biorxiv_categories, "PAPERFEED_BIORXIV_CATEGORIES")
    except ValueError as error:
        raise SyncError(str(error)) from None
    if not settings.biorxiv_api_url:
        raise SyncError(f"the {server} sync is off: PAPERFEED_BIORXIV_API_URL is empty")
    client = client or PoliteClient(
        fetch_policy(settings), on_wait=prefixed(on_progress, f"{server}: waiting: ")
    )
    report = SourceReport(server)
    started = time.monotonic()
    state = harvest_state(store, server)
    cursor = 0
    if first_day is None and state is not None and state.resumption_token:
        # a harvest was cut short: carry on from the page it was on
        window_from, window_until = state.window_from or "", state.window_until or ""
        cursor = int(state.resumption_token)
    else:
        if first_day is not None:
            window_from = first_day.isoformat()
        elif state is not None and state.last_datestamp:
            # the last day again: the service adds to a day while it lasts
            window_from = state.last_datestamp
        else:
            window_from = first_run_start(today).isoformat()
        window_until = (last_day or today).isoformat()
        if (
            state is not None
            and state.resumption_token
            and (state.window_from, state.window_until) == (window_from, window_until)
        ):
            cursor = int(state.resumption_token)
    report.window = f"{window_from}..{window_until}"
    followed = {normalize_category(name) for name in settings.biorxiv_categories}
    try:
        while True:
            url = details_url(settings.biorxiv_api_url, server, window_from, window_until, cursor)
            body, _content_type = client.get(url, accept="application/json")
            page = parse_details_page(body, url, server)
            papers = page.papers
            if followed:
                kept = [paper for paper in papers if followed.intersection(paper.categories or ())]
                report.skipped += len(papers) - len(kept)
                papers = kept
            next_cursor = page.next_cursor
            report.counts.add(
                store_preprint_page(store, server, papers, (window_from, window_until), next_cursor)
            )
            report.rejections.extend(page.rejections)
            records = len(page.papers) + len(page.rejections)
            if on_page is not None:
                on_page(cursor, records)
            if on_progress is not None:
                on_progress(
                    f"{server}: records {cursor + 1}-{cursor + records} of {page.total}"
                    if records
                    else f"{server}: no posts in {window_from}..{window_until}"
                )
            if next_cursor is None:
                break
            cursor = next_cursor
        finish_harvest(store, server, window_until)
    except IngestError as error:
        report.error = describe_failure(error, "PAPERFEED_BIORXIV_API_URL")
    report.requests = client.requests
    report.seconds = time.monotonic() - started
    return report
