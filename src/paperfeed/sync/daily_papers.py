"""Follow a daily-papers site: ``GET {base}/api/daily_papers?date=YYYY-MM-DD`` per day.

The answer is a JSON list of entries in the original site's shape (the shared
``daily_papers_api.tar.gz`` holds 580 of them), read by ``ingest.daily_papers_api``.
paperfeed serves the same endpoint, so one paperfeed can follow another. Each run
fetches the days since the last one it completed plus the last
``PAPERFEED_DAILY_PAPERS_REFRESH_DAYS`` again, so upvotes and comment counts stay
current; the upvotes a source reports are stored apart from the votes cast here, which
are still added on top. Each day is one transaction with the day it completes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date, timedelta

from paperfeed.config import Settings
from paperfeed.ingest import IngestError
from paperfeed.ingest.daily_papers_api import read_day_entries
from paperfeed.ingest.fetching import FetchError, PoliteClient
from paperfeed.ingest.json_values import JsonTooDeep, loads, loads_list_items
from paperfeed.ingest.records import SalvagedList, describe_type
from paperfeed.models import Paper, Rejection
from paperfeed.store import Store
from paperfeed.store.syncing import harvest_state, upsert_with_state
from paperfeed.sync.arxiv import fetch_policy
from paperfeed.sync.reports import (
    SourceReport,
    SyncError,
    check_window,
    describe_failure,
    first_run_start,
    parse_day,
    today_utc,
)

SOURCE = "daily-papers"


# The most entries the API answers at once (its ``limit`` is 1..100, 50 by default): a
# day is asked for in pages of this size, the next page only after a full one.
DAY_PAGE = 100
_MAX_DAY_PAGES = 50


def day_url(base: str, day: str, page: int = 0) -> str:
    paging = f"&limit={DAY_PAGE}" + (f"&p={page}" if page else "")
    return f"{base.rstrip('/')}/api/daily_papers?date={day}{paging}"


def days_to_fetch(last_done: str | None, today: date, refresh_days: int) -> tuple[date, date]:
    """The default window: the days since the last completed one, and the refresh days."""
    refresh_start = today - timedelta(days=refresh_days - 1)
    if last_done is None:
        return min(first_run_start(today), refresh_start), today
    following = date.fromisoformat(last_done) + timedelta(days=1)
    return min(following, refresh_start), today


def parse_day_response(
    body: bytes, content_type: str, url: str, day: str
) -> list[Paper | Rejection]:
    """The papers of one day's answer; an entry with a number out of range, a field
    over its cap or nested too deep is rejected (named by its id), the others kept.

    Raises:
        IngestError: the answer is an HTML page, not JSON, or not a list; the message
            names the URL.
    """
    text_start = body[:512].lstrip().lower()
    if "html" in content_type.lower() or text_start.startswith((b"<!doctype html", b"<html")):
        raise IngestError(f"{url}: got an HTML page instead of a JSON list")
    document: object
    try:
        document = loads(body)
    except JsonTooDeep as error:
        items = loads_list_items(body)
        if items is None:
            raise IngestError(f"{url}: {error}") from None
        document = SalvagedList(items)
    except ValueError as error:
        problem = str(error)
        # cut short: the parser stopped at the end, or inside a string that never closes
        # (it then reports where the string began)
        if isinstance(error, json.JSONDecodeError) and (
            error.pos >= len(body.rstrip()) - 1 or error.msg.startswith("Unterminated string")
        ):
            problem = f"the JSON ends early (truncated after {len(body)} bytes)"
        raise IngestError(f"{url}: not valid JSON: {problem}") from None
    if not isinstance(document, list | SalvagedList):
        detail = ""
        if isinstance(document, dict) and isinstance(document.get("error"), str):
            detail = f": {document['error']}"
        raise IngestError(
            f"{url}: expected a JSON list of entries, got {describe_type(document)}{detail}"
        )
    return list(read_day_entries(document, url, day))


def _fetch_day(client: PoliteClient, base: str, day: str) -> list[Paper | Rejection]:
    """Every entry of one day, a page at a time; a source that ignores ``p`` (answers
    the same page again) or never ends stops after what is new."""
    records: list[Paper | Rejection] = []
    seen: set[str] = set()
    for page in range(_MAX_DAY_PAGES):
        url = day_url(base, day, page)
        try:
            body, content_type = client.get(url, accept="application/json")
        except FetchError as error:
            if page and error.status == 404:
                break  # no page past the last
            raise
        answer = parse_day_response(body, content_type, url, day)
        ids = {record.arxiv_id for record in answer if isinstance(record, Paper)}
        if page and ids <= seen:
            break
        seen |= ids
        records += answer
        if len(answer) < DAY_PAGE:
            break
    return records


def sync_daily_papers(
    store: Store,
    settings: Settings,
    first: str | None = None,
    last: str | None = None,
    today: date | None = None,
    client: PoliteClient | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SourceReport:
    """Fetch each day of the window and store its papers.

    Args:
        first, last: the window (``YYYY-MM-DD``); default: see ``days_to_fetch``.
        today: the current date (default: today in UTC).
        client: the HTTP client (default: one with the settings' policy).
        on_progress: told about each day and each wait (a retry, a ``Retry-After``).

    Returns:
        The counts; ``error`` set when a day failed (the days before it are stored).

    Raises:
        SyncError: a bad date, or the source is off; nothing was fetched.
    """
    today = today or today_utc()
    first_day = parse_day("--from", first, today)
    last_day = parse_day("--until", last, today)
    check_window(first_day, last_day)
    if not settings.daily_papers_url:
        raise SyncError("the daily-papers sync is off: PAPERFEED_DAILY_PAPERS_URL is empty")
    state = harvest_state(store, SOURCE)
    default_first, default_last = days_to_fetch(
        state.last_datestamp if state else None, today, settings.daily_papers_refresh_days
    )
    start = first_day or default_first
    end = last_day or (default_last if first_day is None else today)
    if end < start:  # only --until, before where the sync goes on from
        raise SyncError(
            f"--until {end} is before {start}, where this sync goes on from: the days up "
            "to it are fetched already (give --from to fetch them again)"
        )
    if client is None:
        notify = on_progress
        client = PoliteClient(
            fetch_policy(settings),
            on_wait=None if notify is None else lambda text: notify(f"{SOURCE}: waiting: {text}"),
        )
    report = SourceReport(SOURCE, window=f"{start}..{end}")
    began = time.monotonic()
    day = start
    missing: list[FetchError] = []  # days the site answers 404 for
    try:
        while day <= end:
            try:
                records = _fetch_day(client, settings.daily_papers_url, day.isoformat())
            except FetchError as error:
                if error.status != 404:
                    raise
                # a site with no list for a day (a weekend, a day before it began, today
                # not out yet) may say 404 rather than []: the days after it are still
                # fetched, and this one is not marked done, so the next run asks again
                missing.append(error)
                if on_progress is not None:
                    on_progress(f"{SOURCE} {day}: no list (HTTP 404)")
                day += timedelta(days=1)
                continue
            papers = [record for record in records if isinstance(record, Paper)]
            report.rejections.extend(record for record in records if isinstance(record, Rejection))
            report.counts.add(upsert_with_state(store, SOURCE, papers, day.isoformat()))
            if on_progress is not None:
                on_progress(f"{SOURCE} {day}: {len(papers)} papers")
            day += timedelta(days=1)
        if missing and len(missing) == (end - start).days + 1:
            # every day 404: not a daily-papers site, or a wrong path
            raise IngestError(
                f"{missing[-1]} (and every other day of {start}..{end}): is "
                f"{settings.daily_papers_url} a daily-papers site?"
            )
    except IngestError as error:
        report.error = describe_failure(error, "PAPERFEED_DAILY_PAPERS_URL")
    report.requests = client.requests
    report.seconds = time.monotonic() - began
    return report
