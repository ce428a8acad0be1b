"""``paperfeed digest``: compose, queue and send the email digests."""

from __future__ import annotations

import sys
import time

import click

from paperfeed.cli.common import load_settings, open_store, quiet_option
from paperfeed.operations.logs import configure_logging


@click.group()
def digest() -> None:
    """Email digests: compose, queue and send."""


@digest.command("send")
@click.option(
    "--period",
    "frequency",
    type=click.Choice(["daily", "weekly"]),
    default="daily",
    show_default=True,
    help="Which subscribers: daily or weekly.",
)
@click.option(
    "--for",
    "label",
    metavar="DAY|WEEK",
    help="Compose for this day (2026-08-21), or with --period weekly this ISO week "
    "(2026-W34, or any day of it), instead of each subscriber's last complete one.",
)
@click.option("--dry-run", is_flag=True, help="Compose and print; queue and send nothing.")
@quiet_option("No progress bars")
def digest_send(frequency: str, label: str | None, dry_run: bool, quiet: bool) -> None:
    """Queue every due digest in the outbox, then send what the outbox holds.

    Safe to run as often as you like (e.g. hourly from cron): a period is composed
    once per subscriber, a message is sent once, failures are retried with backoff.
    Exit status 0 when everything due was sent, 1 when some mail is left to retry.
    """
    from paperfeed.digest.composing import Period, PeriodError
    from paperfeed.digest.rendering import text_of
    from paperfeed.digest.sending import Mailer, deliver_due, queue_digests
    from paperfeed.search import SearchEngine
    from paperfeed.store.subscriptions import Subscription, waiting_for_retry
    from paperfeed.store.sync_runs import failed_sources

    settings = load_settings()
    configure_logging(settings, quiet=quiet)  # the job's log lines, on stderr
    store = open_store(settings)
    if label is not None:
        try:
            label = Period.parse(frequency, label).label  # a day of the week names its week
        except PeriodError as error:
            hint = " (a week needs --period weekly)" if "-W" in label.upper() else ""
            raise click.BadParameter(f"{error}{hint}", param_hint="--for") from None
    if not settings.base_url_configured:
        click.echo(
            f"warning: PAPERFEED_BASE_URL is not set: links in the mails say {settings.base_url}",
            err=True,
        )
    engine = SearchEngine(store, settings)

    def show(subscription: Subscription, message: bytes | None) -> None:
        if message is None:
            click.echo(f"{subscription.email}: nothing new in the period, no mail")
        else:
            subject, text = text_of(message)
            click.echo(f"--- {subscription.email}: {subject}\n{text}")

    # after a failed sync (cron runs "paperfeed sync; paperfeed digest send") an empty
    # period may only lack what failed to come in: it is left open for the next run
    failed = failed_sources(store)
    report = queue_digests(
        store,
        engine,
        settings,
        frequency,
        period=label,
        dry_run=dry_run,
        show_progress=not quiet,
        on_digest=show if dry_run else None,
        empty_is_final=not failed,
    )
    click.echo(
        f"{frequency} digests: {report.subscribers} confirmed subscribers, "
        f"{report.queued if not dry_run else report.subscribers - report.already - report.empty}"
        f" {'composed' if dry_run else 'queued'}, {report.empty} with nothing new, "
        f"{report.already} composed before; {report.searches} topic searches "
        f"in {report.seconds:.1f} s"
    )
    if failed and report.empty:
        click.echo(
            f"the last sync of {', '.join(failed)} failed: the {report.empty} empty "
            "period(s) are composed again on the next run",
            err=True,
        )
    if dry_run:
        return
    delivery = deliver_due(store, Mailer(settings), show_progress=not quiet)
    click.echo(f"sent {delivery.sent}, failed {delivery.failed} (retried later with backoff)")
    for problem in delivery.errors:
        click.echo(f"  {problem}", err=True)
    waiting, next_at = waiting_for_retry(store)
    if waiting:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(next_at or time.time()))
        click.echo(f"{waiting} mail(s) wait for a retry (the next at {when})", err=True)
    if delivery.failed or waiting:
        sys.exit(1)


@digest.command("status")
def digest_status() -> None:
    """Outbox messages by status."""
    from paperfeed.store.subscriptions import outbox_counts

    counts = outbox_counts(open_store(load_settings()))
    summary = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
    click.echo(summary or "the outbox is empty")
