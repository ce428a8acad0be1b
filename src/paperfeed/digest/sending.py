"""Queue and send: compose every due digest into the outbox, then deliver what is due.

Delivery is at-least-once with the window made as small as SMTP allows: a message is
claimed just before it is handed to the server and marked sent right after the server
accepts it. A refused or failed hand-over is retried with exponential backoff (1 min,
2, 4, … capped at 6 h; given up after 10 attempts). Only a process killed between the
server's "250 OK" and the database update can leave a message that is sent again, after
``STALE_CLAIM_SECONDS``; every other failure loses nothing and sends nothing twice.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from paperfeed.config import Settings
from paperfeed.digest.composing import Composer, last_complete_period, periods_due
from paperfeed.digest.rendering import (
    CONFIRMATION_SUBJECT,
    digest_subject,
    render_confirmation,
    render_digest,
    text_of,
)
from paperfeed.progress import progress_bar
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.store.subscriptions import (
    NewMessage,
    OutboxMessage,
    Subscription,
    claim_due_messages,
    composed_periods,
    confirmed_subscriptions,
    mark_failed,
    mark_sent,
    queue_messages,
    sent_paper_keys,
)

MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 60.0
MAX_RETRY_SECONDS = 6 * 3600.0
STALE_CLAIM_SECONDS = 600.0
SMTP_TIMEOUT = 30.0
# one line per job run (``paperfeed.operations.logs`` decides text or JSON)
job_log = logging.getLogger("paperfeed.job")


class MailError(RuntimeError):
    """The mail server could not be reached or refused a message.

    ``this_message_only``: the server works but refused this message (its recipient,
    or its content), so the next messages may go; ``permanent``: it said so with a 5xx
    reply, which no retry will change (RFC 5321 section 4.2.1)."""

    def __init__(self, text: str, this_message_only: bool = False, permanent: bool = False):
        super().__init__(text)
        self.this_message_only = this_message_only
        self.permanent = permanent


def retry_delay(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: 60 s doubled per failure, at most 6 h."""
    return float(min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


class Mailer:
    """One SMTP connection for a batch, opened on first use (host, port, TLS, login from
    the settings). With no host configured, mails are printed instead (development)."""

    def __init__(self, settings: Settings, echo: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.echo = echo or (lambda text: print(text, file=sys.stdout, flush=True))
        self._connection: smtplib.SMTP | None = None

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()  # verifies the certificate and host name
        if self.settings.smtp_ca_file:
            try:
                context.load_verify_locations(cafile=self.settings.smtp_ca_file)
            except (OSError, ssl.SSLError) as error:  # its message does not name the file
                raise MailError(
                    f"PAPERFEED_SMTP_CA_FILE={self.settings.smtp_ca_file!r} cannot be used "
                    f"as CA certificates (PEM): {error.strerror or error}"
                ) from None
        return context

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        try:
            connection: smtplib.SMTP
            if settings.smtp_security == "tls":
                connection = smtplib.SMTP_SSL(
                    settings.smtp_host,
                    settings.smtp_port,
                    timeout=SMTP_TIMEOUT,
                    context=self._tls_context(),
                )
            else:
                connection = smtplib.SMTP(
                    settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT
                )
                if settings.smtp_security == "starttls":
                    connection.starttls(context=self._tls_context())
            if settings.smtp_user:
                connection.login(settings.smtp_user, settings.smtp_password)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(
                f"cannot reach the mail server {settings.smtp_host}:{settings.smtp_port} "
                f"({settings.smtp_security}): {error}"
            ) from None
        return connection

    def send(self, recipient: str, message: bytes) -> None:
        if not self.settings.smtp_host:
            subject, text = text_of(message)
            self.echo(f"--- mail to {recipient}: {subject}\n{text}")
            return
        if self._connection is None:
            self._connection = self._connect()
        try:
            self._connection.sendmail(self.settings.mail_from, [recipient], message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MailError(
                f"the server refused {recipient!r}: {error.recipients}",
                this_message_only=True,
                permanent=bool(codes) and all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPDataError as error:
            # a 5xx refuses this message for good; a 4xx is the server's trouble, for all
            refused = error.smtp_code >= 500
            raise MailError(
                f"the server refused the message to {recipient!r}: {error.smtp_code} "
                f"{error.smtp_error!r}",
                this_message_only=refused,
                permanent=refused,
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            self.close()  # the connection may be unusable: open a fresh one next time
            raise MailError(f"sending to {recipient!r} failed: {error}") from None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.quit()
            self._connection = None


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    given_up: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_due(
    store: Store,
    mailer: Mailer,
    now: float | None = None,
    show_progress: bool = False,
    kinds: tuple[str, ...] | None = None,
) -> DeliveryReport:
    """Send every outbox message that is due (of ``kinds`` only, when given: a web
    request sends the confirmation it queued, not every digest waiting), one claim at a
    time."""
    report = DeliveryReport()
    started = time.monotonic()
    bar = progress_bar("send", total=None, unit=" mails", enabled=show_progress)
    try:
        while True:
            moment = time.time() if now is None else now
            claimed = claim_due_messages(
                store, moment, limit=1, stale_after=STALE_CLAIM_SECONDS, kinds=kinds
            )
            if not claimed:
                break
            message: OutboxMessage = claimed[0]
            try:
                mailer.send(message.recipient, message.message)
            except MailError as error:
                attempts = message.attempts + 1
                retry = attempts < MAX_ATTEMPTS and not error.permanent
                retry_at = moment + retry_delay(attempts) if retry else None
                mark_failed(store, message.id, str(error), retry_at)
                report.failed += 1
                report.given_up += retry_at is None
                report.errors.append(str(error))
                if error.this_message_only:
                    continue  # one refused address holds up no one else's mail
                # the server is down or refusing all: later messages wait for the next run
                break
            mark_sent(store, message.id)
            report.sent += 1
            bar.update(1)
    finally:
        bar.close()
        mailer.close()
    milliseconds = round((time.monotonic() - started) * 1000, 1)
    outcome = "failed" if report.failed else "ok"
    job_log.log(
        logging.WARNING if report.failed else logging.INFO,
        "job digest-send %s %.1f ms: sent %d, failed %d",
        outcome,
        milliseconds,
        report.sent,
        report.failed,
        extra={
            "event": "job",
            "job": "digest-send",
            "outcome": outcome,
            "ms": milliseconds,
            "details": {"sent": report.sent, "failed": report.failed},
        },
    )
    return report


@dataclass
class ComposeReport:
    subscribers: int = 0
    queued: int = 0
    empty: int = 0
    already: int = 0
    searches: int = 0
    seconds: float = 0.0


def queue_digests(
    store: Store,
    engine: SearchEngine,
    settings: Settings,
    frequency: str,
    now: float | None = None,
    period: str | None = None,
    dry_run: bool = False,
    show_progress: bool = False,
    on_digest: Callable[[Subscription, bytes | None], None] | None = None,
    include: Callable[[Subscription], bool] | None = None,
    empty_is_final: bool = True,
) -> ComposeReport:
    """Compose the due digest of every confirmed ``frequency`` subscriber into the outbox.

    Args:
        period: force a period (``2026-08-21`` or ``2026-W34``) instead of each
            subscriber's last complete day or week in their time zone.
        dry_run: compose but queue nothing (``on_digest`` still sees every message).
        on_digest: called with each subscriber and the message bytes (None: empty period).
        include: only subscribers it accepts (the scheduler's "local hour reached").
        empty_is_final: False after a sync that failed: an empty period may only lack
            the papers the failed source would have brought, so it is not recorded and
            is composed again on the next run.

    An empty period sends nothing (it is recorded so the run stays a no-op when repeated,
    once the period is over: an empty day that is not over yet is composed again later).
    """
    started = time.monotonic()
    moment = time.time() if now is None else now
    subscriptions = confirmed_subscriptions(store, frequency)
    if include is not None:
        subscriptions = [s for s in subscriptions if include(s)]
    due = periods_due(subscriptions, moment, period)
    report = ComposeReport(subscribers=len(subscriptions))
    done = composed_periods(store, "digest", sorted({p.label for p in due.values()}))
    todo = [s for s in subscriptions if (s.id, due[s.id].label) not in done]
    report.already = len(subscriptions) - len(todo)
    already_sent = sent_paper_keys(store, [s.id for s in todo])
    composer = Composer(store, engine)
    batch: list[NewMessage] = []
    bar = progress_bar("compose", total=len(todo), unit=" digests", enabled=show_progress)
    for subscription in todo:
        digest = composer.compose(
            subscription, due[subscription.id], already_sent.get(subscription.id, set())
        )
        body = None if digest.empty else render_digest(settings, digest)
        if on_digest is not None:
            on_digest(subscription, body)
        report.empty += body is None
        if body is None and (
            not empty_is_final or not _has_ended(subscription, digest.period.last, moment)
        ):
            # a day or week still going on (``--for`` today), or one a failed sync may
            # not have filled: recording it as empty would keep its papers from ever
            # being sent once they come in
            bar.update(1)
            continue
        batch.append(
            NewMessage(
                subscription_id=subscription.id,
                recipient=subscription.email,
                kind="digest",
                period=digest.period.label,
                subject="" if body is None else digest_subject(digest),
                message=body or b"",
                paper_keys=digest.paper_keys,
                empty=body is None,
            )
        )
        if len(batch) >= 500 and not dry_run:
            report.queued += queue_messages(store, batch)
            batch = []
        bar.update(1)
    bar.close()
    if batch and not dry_run:
        report.queued += queue_messages(store, batch)
    report.searches = composer.searches
    report.seconds = time.monotonic() - started
    if report.queued and not dry_run:
        job_log.info(
            "job digest-compose ok %.1f ms: %s digests queued %d",
            report.seconds * 1000,
            frequency,
            report.queued,
            extra={
                "event": "job",
                "job": "digest-compose",
                "outcome": "ok",
                "ms": round(report.seconds * 1000, 1),
                "details": {"frequency": frequency, "queued": report.queued},
            },
        )
    return report


def _has_ended(subscription: Subscription, last_day: date, moment: float) -> bool:
    """Whether a period ending on ``last_day`` is over for the subscriber (in their time
    zone and in UTC, as the periods composed by default are)."""
    finished = last_complete_period(subscription.frequency, subscription.time_zone, moment)
    return last_day <= finished.last


def queue_confirmation(store: Store, settings: Settings, subscription: Subscription) -> None:
    """Queue the double opt-in mail (one per request, hence the time in its period)."""
    message = render_confirmation(settings, subscription)
    queue_messages(
        store,
        [
            NewMessage(
                subscription_id=subscription.id,
                recipient=subscription.email,
                kind="confirmation",
                period=f"{time.time():.6f}",
                subject=CONFIRMATION_SUBJECT,
                message=message,
            )
        ],
    )
