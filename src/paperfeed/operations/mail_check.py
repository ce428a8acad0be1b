"""``paperfeed mail test ADDRESS``: one message through the configured SMTP server."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from paperfeed.config import Settings
from paperfeed.digest.sending import Mailer, MailError
from paperfeed.mail_addresses import AddressError, canonical_address

TEST_SUBJECT = "paperfeed: test message"


class MailCheckError(RuntimeError):
    """The test message could not be sent; the message says why."""


def compose_test_message(settings: Settings, address: str) -> bytes:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = address
    message["Subject"] = TEST_SUBJECT
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="paperfeed")
    message.set_content(
        "This is a test message from paperfeed (paperfeed mail test).\n\n"
        f"It went through {settings.smtp_host}:{settings.smtp_port} "
        f"({settings.smtp_security}); digests and confirmations take the same way.\n"
    )
    return message.as_bytes()


def send_test_message(settings: Settings, address: str) -> str:
    """Send one message to ``address``; returns what happened, in a sentence.

    Raises:
        MailCheckError: a malformed address, no server configured, or the server
            refused or could not be reached (its own error text included).
    """
    try:
        # the check every address the site mails goes through: no header syntax
        # ("a@example.org>", "bob,eve@example.org") reaches the To header
        address = canonical_address(address)
    except AddressError as error:
        raise MailCheckError(str(error)) from None
    if not settings.smtp_host:
        raise MailCheckError(
            "no mail server is configured (PAPERFEED_SMTP_HOST is unset): mails are printed "
            "to the console instead of sent"
        )
    mailer = Mailer(settings)
    try:
        mailer.send(address, compose_test_message(settings, address))
    except MailError as error:
        raise MailCheckError(str(error)) from None
    finally:
        mailer.close()
    return (
        f"accepted: {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security}"
        f"{', as ' + settings.smtp_user if settings.smtp_user else ''}) took the test message "
        f"for {address} from {settings.mail_from}"
    )
