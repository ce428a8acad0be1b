"""Mail about an account (the password-reset link), through the digest's outbox and SMTP.

The message is queued in the outbox like a confirmation mail and sent at once by the
same ``deliver_due``; if the mail server is down, the next ``paperfeed digest send``
retries it (and the link may have expired by then: asking again is the remedy).
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape

from paperfeed.config import Settings, secret_key_of
from paperfeed.digest.rendering import TEMPLATES, build_message
from paperfeed.digest.sending import Mailer, deliver_due
from paperfeed.password_reset import issue_reset
from paperfeed.store import Store
from paperfeed.store.subscriptions import NO_SUBSCRIPTION, NewMessage, queue_messages

PASSWORD_RESET_SUBJECT = "Reset your paperfeed password"
RESET_PATH = "/reset-password"

_log = logging.getLogger("paperfeed.accounts")
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


def reset_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}{RESET_PATH}?{urlencode({'token': token})}"


def render_password_reset(settings: Settings, recipient: str, url: str) -> bytes:
    """The reset mail, plain text and HTML, with its link."""
    context = {"email": recipient, "reset_url": url}
    return build_message(
        settings,
        recipient,
        PASSWORD_RESET_SUBJECT,
        _environment.get_template("password_reset.txt").render(context),
        _environment.get_template("password_reset.html").render(context),
    )


def mail_password_reset(store: Store, settings: Settings, email: str) -> bool:
    """Mail a reset link to the account of ``email``, if there is one.

    Run after the visitor has had their answer (it is the same either way).

    Returns:
        Whether a link was made and queued (False: no such account).
    """
    issued = issue_reset(store, secret_key_of(settings), email)
    if issued is None:
        return False
    recipient = issued.user.email
    message = render_password_reset(settings, recipient, reset_url(settings, issued.token))
    queue_messages(
        store,
        [
            NewMessage(
                subscription_id=NO_SUBSCRIPTION,
                recipient=recipient,
                kind="password-reset",
                period=secrets.token_hex(16),
                subject=PASSWORD_RESET_SUBJECT,
                message=message,
            )
        ],
    )
    report = deliver_due(store, Mailer(settings), kinds=("password-reset",))
    if report.errors:
        _log.warning("password-reset mail not sent yet: %s", report.errors[0])
    return True
