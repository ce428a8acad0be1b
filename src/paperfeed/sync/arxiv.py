"""Harvest arXiv over OAI-PMH: ``ListRecords`` in the ``arXiv`` format, set by set.

For each set, the window starts at the last datestamp the store has for it (the first
run: the last ``FIRST_RUN_DAYS`` days) and runs to now, or is given by ``--from`` and
``--until``. Each page is stored with the resumption token of the next one in one
transaction, so a killed harvest resumes at the page it was on; a token the server no
longer knows (``badResumptionToken``, or ``badArgument`` from servers that say so)
restarts the window, which changes nothing already stored. ``noRecordsMatch`` means
nothing new. A page that cannot be read stops the set with a message naming its URL;
its records are not written.

A server that never ends the list stops the set too: a resumption token it sent
before, or ``MAX_EMPTY_PAGES`` pages in a row without a record, end the harvest with a
message naming the token or URL (and the next run starts the window afresh); the
client's budget (``PAPERFEED_SYNC_MAX_REQUESTS``, ``PAPERFEED_SYNC_BUDGET_MINUTES``)
bounds everything else.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from datetime import date

from paperfeed.config import Settings
from paperfeed.ingest import IngestError
from paperfeed.ingest.arxiv_taxonomy import check_categories, check_sets
from paperfeed.ingest.fetching import FetchPolicy, PoliteClient
from paperfeed.ingest.oai_pmh import OaiError, parse_list_records
from paperfeed.ingest.records import quote
from paperfeed.store import Store
from paperfeed.store.syncing import (
    finish_harvest,
    forget_resumption,
    harvest_state,
    store_harvest_page,
)
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

SOURCE = "arxiv"
METADATA_PREFIX = "arXiv"
# arXiv's pages hold up to 1,000 records; a run of empty ones means a broken server.
MAX_EMPTY_PAGES = 5


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The request policy the settings ask for, with a User-Agent naming this site."""
    return FetchPolicy(
        delay=settings.sync_delay_seconds,
        timeout=settings.sync_timeout_seconds,
        retries=settings.sync_retries,
        backoff=settings.sync_backoff_seconds,
        user_agent=f"{FetchPolicy.user_agent} +{settings.base_url}",
        budget_seconds=settings.sync_budget_minutes * 60,
        max_requests=settings.sync_max_requests,
    )


def list_records_url(
    base: str,
    set_spec: str | None = None,
    first: str | None = None,
    last: str | None = None,
    token: str | None = None,
) -> str:
    """A ``ListRecords`` request; with a resumption token, the token is its only argument."""
    if token is not None:
        arguments = {"verb": "ListRecords", "resumptionToken": token}
    else:
        arguments = {"verb": "ListRecords", "metadataPrefix": METADATA_PREFIX}
        if set_spec:
            arguments["set"] = set_spec
        if first:
            arguments["from"] = first
        if last:
            arguments["until"] = last
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urllib.parse.urlencode(arguments)}"


def harvest_arxiv(
    store: Store,
    settings: Settings,
    first: str | None = None,
    last: str | None = None,
    today: date | None = None,
    client: PoliteClient | None = None,
    on_page: Callable[[str, int], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SourceReport:
    """Harvest every set in ``settings.arxiv_sets`` into the store.

    Args:
        first, last: the window (``YYYY-MM-DD``); default: from each set's last
            datestamp to now.
        today: the current date (default: today in UTC), for the checks and first run.
        client: the HTTP client (default: one with the settings' policy).
        on_page: called with the set and the number of records after each page.
        on_progress: told about each page and each wait (a retry, a ``Retry-After``).

    Returns:
        The counts; ``error`` set when a set failed (what was stored stays stored).

    Raises:
        SyncError: a bad date, set or category; nothing was fetched.
    """
    today = today or today_utc()
    first_day = parse_day("--from", first, today)
    last_day = parse_day("--until", last, today)
    check_window(first_day, last_day)
    try:
        check_sets(settings.arxiv_sets, "PAPERFEED_ARXIV_SETS")
        check_categories(settings.arxiv_categories, "PAPERFEED_ARXIV_CATEGORIES")
    except ValueError as error:
        raise SyncError(str(error)) from None
    if not settings.arxiv_oai_url:
        raise SyncError("the arXiv sync is off: PAPERFEED_ARXIV_OAI_URL is empty")
    client = client or PoliteClient(
        fetch_policy(settings), on_wait=prefixed(on_progress, f"{SOURCE}: waiting: ")
    )
    report = SourceReport(SOURCE)
    started = time.monotonic()
    windows = []
    try:
        for set_spec in settings.arxiv_sets:
            windows.append(
                _harvest_set(
                    store,
                    settings,
                    set_spec,
                    (first_day, last_day, today),
                    client,
                    report,
                    _with_progress(on_page, on_progress),
                )
            )
    except IngestError as error:
        report.error = describe_failure(error, "PAPERFEED_ARXIV_OAI_URL")
    report.window = ", ".join(windows)
    report.requests = client.requests
    report.seconds = time.monotonic() - started
    return report


def _with_progress(
    on_page: Callable[[str, int], None] | None, on_progress: Callable[[str], None] | None
) -> Callable[[str, int], None] | None:
    if on_progress is None:
        return on_page
    pages: dict[str, int] = {}
    report = on_progress

    def both(set_spec: str, records: int) -> None:
        pages[set_spec] = pages.get(set_spec, 0) + 1
        report(f"{SOURCE} {set_spec}: page {pages[set_spec]}, {records} records")
        if on_page is not None:
            on_page(set_spec, records)

    return both


def _harvest_set(
    store: Store,
    settings: Settings,
    set_spec: str,
    days: tuple[date | None, date | None, date],
    client: PoliteClient,
    report: SourceReport,
    on_page: Callable[[str, int], None] | None,
) -> str:
    """Harvest one set; returns its window as text. Raises IngestError naming the URL."""
    first_day, last_day, today = days
    source = f"{SOURCE}:{set_spec}"
    state = harvest_state(store, source)
    window_from = first_day.isoformat() if first_day else None
    window_until = last_day.isoformat() if last_day else None
    token = None
    if window_from is None and state is not None and state.resumption_token:
        # a harvest was cut short: carry on from its next page
        window_from, window_until, token = (
            state.window_from,
            state.window_until,
            state.resumption_token,
        )
    elif (
        state is not None
        and state.resumption_token
        and (state.window_from, state.window_until) == (window_from, window_until)
    ):
        token = state.resumption_token
    elif window_from is None:
        if state is not None and state.last_datestamp:
            window_from = state.last_datestamp
        else:
            window_from = first_run_start(today).isoformat()
    followed = set(settings.arxiv_categories)
    latest: str | None = None
    restarted = False
    seen_tokens: set[str] = set()
    empty_pages = 0
    while True:
        url = list_records_url(settings.arxiv_oai_url, set_spec, window_from, window_until, token)
        body, _content_type = client.get(url, accept="text/xml")
        try:
            page = parse_list_records(body, url)
        except OaiError as error:
            # with a token, the token is the request's only argument besides the verb
            # (OAI-PMH 2.0, 3.4), so a server's badArgument can only be about the token
            forgotten = error.code in ("badResumptionToken", "badArgument")
            if forgotten and token is not None and not restarted:
                forget_resumption(store, source)
                token, restarted = None, True
                seen_tokens.clear()
                empty_pages = 0
                continue
            raise IngestError(f"{url}: {error}") from None
        except IngestError as error:
            raise IngestError(f"{url}: {error}") from None
        papers = page.papers
        if followed:
            kept = [paper for paper in papers if followed.intersection(paper.categories or ())]
            report.skipped += len(papers) - len(kept)
            papers = kept
        deleted_on = (page.response_date or today.isoformat())[:10]
        counts, withdrawn = store_harvest_page(
            store,
            source,
            papers,
            page.deleted,
            deleted_on,
            (window_from, window_until),
            page.resumption_token,
        )
        report.counts.add(counts)
        report.withdrawn += withdrawn
        report.rejections.extend(page.rejections)
        if page.latest_datestamp and (latest is None or page.latest_datestamp > latest):
            latest = page.latest_datestamp
        if on_page is not None:
            on_page(set_spec, page.records)
        token = page.resumption_token
        if token is None:
            break
        empty_pages = empty_pages + 1 if page.records == 0 else 0
        _check_progress(store, source, url, token, seen_tokens, empty_pages)
        seen_tokens.add(token)
    finish_harvest(store, source, latest)
    return f"{set_spec} {window_from or 'start'}..{window_until or 'now'}"


def _check_progress(
    store: Store, source: str, url: str, token: str, seen: set[str], empty_pages: int
) -> None:
    """Stop a list that would never end; the next run starts the window afresh.

    Raises:
        IngestError: the token was sent before, or too many pages in a row were empty.
    """
    problem = None
    if token in seen:
        problem = (
            f"the server sent resumption token {quote(token)} a second time: "
            "the list would never end"
        )
    elif empty_pages >= MAX_EMPTY_PAGES:
        problem = (
            f"{empty_pages} pages in a row held no record yet each sent a resumption "
            f"token (the last {quote(token)}): the list would never end"
        )
    if problem is not None:
        forget_resumption(store, source)
        raise IngestError(f"{url}: {problem}; stopped (run the sync again later)")
