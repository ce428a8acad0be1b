"""Mails as multipart (plain text + HTML) RFC 5322 messages.

Digests carry ``List-Unsubscribe`` with a signed link and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 8058), so mail clients can unsubscribe in one click.
Headers are built only from checked addresses and fixed text, and the ``email``
package's SMTP policy refuses a header value containing a line break, so nothing a
subscriber typed can add a header.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from paperfeed.config import Settings, secret_key_of
from paperfeed.digest.composing import Digest
from paperfeed.digest.subscribing import make_token
from paperfeed.models import StoredPaper
from paperfeed.store.subscriptions import Subscription

TEMPLATES = Path(__file__).resolve().parent / "templates"
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


def byline(paper: StoredPaper) -> str:
    if not paper.authors:
        return "unknown authors"
    if len(paper.authors) <= 2:
        return " and ".join(paper.authors)
    return f"{paper.authors[0]} and {len(paper.authors) - 1} others"


_environment.globals["byline"] = byline


def link(settings: Settings, path: str, purpose: str, subscription: Subscription) -> str:
    token = make_token(secret_key_of(settings), purpose, subscription)
    return f"{settings.base_url}{path}?{urlencode({'token': token})}"


def _new_message(settings: Settings, recipient: str, subject: str) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=urlsplit(settings.base_url).hostname or "localhost")
    return message


def _period_text(digest: Digest) -> str:
    period = digest.period
    if period.frequency == "daily":
        return period.first.strftime("%A, %B %d, %Y").replace(" 0", " ")
    return f"Week {period.label}: {period.first:%b %d} – {period.last:%b %d, %Y}"


def digest_subject(digest: Digest) -> str:
    count = len(digest.paper_keys)
    what = "Daily" if digest.period.frequency == "daily" else "Weekly"
    return f"{what} papers {digest.period.label}: {count} paper{'s' if count != 1 else ''}"


def digest_context(settings: Settings, digest: Digest) -> dict[str, object]:
    """What the digest templates (mail and the preview page) are rendered with."""
    subscription = digest.subscription
    what = "daily" if digest.period.frequency == "daily" else "weekly"
    return {
        "subject": digest_subject(digest),
        "heading": f"Your {what} papers",
        "period_text": _period_text(digest),
        "top": digest.top,
        "topics": digest.topics,
        "base_url": settings.base_url,
        "email": subscription.email,
        "frequency": what,
        "manage_url": link(settings, "/subscribe/manage", "manage", subscription),
        "unsubscribe_url": link(settings, "/unsubscribe", "unsubscribe", subscription),
    }


def render_digest_html(settings: Settings, digest: Digest) -> str:
    return _environment.get_template("digest.html").render(digest_context(settings, digest))


def render_digest(settings: Settings, digest: Digest) -> EmailMessage:
    """The digest mail: plain text first, HTML as the preferred alternative."""
    context = digest_context(settings, digest)
    message = _new_message(settings, digest.subscription.email, str(context["subject"]))
    unsubscribe = str(context["unsubscribe_url"])
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["List-Id"] = f"paperfeed digest <digest.{urlsplit(settings.base_url).hostname}>"
    message.set_content(_environment.get_template("digest.txt").render(context))
    message.add_alternative(
        _environment.get_template("digest.html").render(context), subtype="html"
    )
    return message


def render_confirmation(settings: Settings, subscription: Subscription) -> EmailMessage:
    """The double opt-in mail with its signed confirmation link."""
    context = {
        "email": subscription.email,
        "frequency": subscription.frequency,
        "confirm_url": link(settings, "/subscribe/confirm", "confirm", subscription),
    }
    message = _new_message(settings, subscription.email, "Confirm your paperfeed subscription")
    message.set_content(_environment.get_template("confirmation.txt").render(context))
    message.add_alternative(
        _environment.get_template("confirmation.html").render(context), subtype="html"
    )
    return message
