"""``paperfeed sync``: fetch new papers from every configured source, then index them."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from paperfeed.cli.common import load_settings, open_store, quiet_option
from paperfeed.operations.logs import configure_logging


def print_sync_report(report: Any) -> None:
    from paperfeed.sync.running import report_lines

    for line in report_lines(report):
        click.echo(line, err="FAILED" in line)


@contextmanager
def stopped_like_ctrl_c() -> Iterator[None]:
    """While the sync runs, SIGTERM (systemd, cron's timeouts, ``kill``) ends it as Ctrl+C
    does, so its run is recorded as interrupted instead of staying "running"."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a signal handler
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command()
@click.argument(
    "source",
    required=False,
    metavar="[SOURCE]",
    type=click.Choice(["arxiv", "daily-papers", "biorxiv", "medrxiv", "arxiv-listing"]),
)
@click.option("--from", "first", metavar="YYYY-MM-DD", help="Start of the window.")
@click.option("--until", "last", metavar="YYYY-MM-DD", help="End of the window.")
@click.option("--no-index", is_flag=True, help="Store only; update the index later.")
@click.option("--no-embed", is_flag=True, help="Update the lexical index only; embed later.")
@quiet_option("No progress bars, nor a line per page or wait (failures are still said)")
def sync(
    source: str | None,
    first: str | None,
    last: str | None,
    no_index: bool,
    no_embed: bool,
    quiet: bool,
) -> None:
    """Fetch new papers (arXiv OAI-PMH and its daily listing, the daily-papers API,
    bioRxiv and medRxiv), then update the index.

    SOURCE is arxiv, arxiv-listing, daily-papers, biorxiv or medrxiv; without it, every
    configured source. Without --from, each source carries on
    from where its last sync stopped (the first time: the last 7 days). Exit status 0
    when every source synced (whether or not anything was new), 1 when one failed or
    was left incomplete: what it fetched is stored and the next run carries on.
    """
    from paperfeed.sync.reports import SyncError, check_window, parse_day, today_utc
    from paperfeed.sync.running import run_sync

    # a bad option value is a usage error (exit 2) naming the option, before any work
    try:
        today = today_utc()
        check_window(parse_day("--from", first, today), parse_day("--until", last, today))
    except SyncError as error:
        raise click.UsageError(str(error)) from None
    settings = load_settings()
    configure_logging(settings, quiet=quiet)  # the job's one log line, on stderr
    store = open_store(settings)
    try:
        with stopped_like_ctrl_c():
            report = run_sync(
                store,
                settings,
                [source] if source else None,
                first,
                last,
                index=not no_index,
                embed=not no_embed,
                show_progress=not quiet,
                on_progress=None if quiet else lambda line: click.echo(line, err=True),
            )
    except SyncError as error:
        raise click.ClickException(str(error)) from None
    print_sync_report(report)
    for result in report.sources:
        for rejection in result.rejections[:20]:
            click.echo(f"rejected {rejection}", err=True)
    if report.failed:
        sys.exit(1)
