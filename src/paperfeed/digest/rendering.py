"""Mails as multipart (plain text + HTML) RFC 5322 messages.

Digests carry ``List-Unsubscribe`` with a signed link and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 8058), so mail clients can unsubscribe in one click.
Headers are built only from checked addresses and fixed text, and ``_header`` refuses
any value with a line break, so nothing a subscriber typed can add a header."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from email import message_from_bytes
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from paperfeed.config import Settings, secret_key_of
from paperfeed.digest.composing import Digest
from paperfeed.digest.subscribing import make_token
from paperfeed.ingest.identifiers import url_id
from paperfeed.models import StoredPaper
from paperfeed.store.subscriptions import Subscription

TEMPLATES = Path(__file__).resolve().parent / "templates"
CONFIRMATION_SUBJECT = "Confirm your paperfeed subscription"
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)

# The made-up subscriber of a sample digest (``/digest/preview`` without a token): no
# stored row has this id, so it has no links to manage or unsubscribe.
SAMPLE_SUBSCRIPTION_ID = 0


def byline(paper: StoredPaper) -> str:
    if not paper.authors:
        return "unknown authors"
    if len(paper.authors) <= 2:
        return " and ".join(paper.authors)
    return f"{paper.authors[0]} and {len(paper.authors) - 1} others"


_environment.globals["byline"] = byline
_environment.filters["url_id"] = url_id  # a DOI id percent-encoded in links


def link(settings: Settings, path: str, purpose: str, subscription: Subscription) -> str:
    token = make_token(secret_key_of(settings), purpose, subscription)
    return f"{settings.base_url}{path}?{urlencode({'token': token})}"


class HeaderInjectionError(ValueError):
    """A header value holds a line break."""


def _header(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderInjectionError(f"header value {value!r} contains a line break")
    return value


def _encoded_word(text: str) -> str:
    """RFC 2047 encoding for a non-ASCII header value (subjects with curly quotes)."""
    if text.isascii():
        return text
    return Header(text, "utf-8").encode()


def _base64_lines(text: str) -> str:
    return base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", "\r\n")


def build_message(
    settings: Settings,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """A multipart/alternative message: plain text first, HTML last (the preferred part).

    Written directly rather than through the ``email`` package, which spends ~4 ms a
    message folding headers: too slow for 10,000 digests. Bodies are base64 (7-bit safe,
    lines of 76 characters); every header value passes ``_header``.
    """
    boundary = f"=_paperfeed_{uuid.uuid4().hex}"
    headers = [
        ("From", settings.mail_from),
        ("To", recipient),
        ("Subject", _encoded_word(subject)),
        ("Date", formatdate(localtime=False, usegmt=True)),
        ("Message-ID", make_msgid(domain=urlsplit(settings.base_url).hostname or "localhost")),
        *extra_headers,
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    head = "".join(f"{name}: {_header(value)}\r\n" for name, value in headers)
    parts = "".join(
        f'--{boundary}\r\nContent-Type: text/{kind}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{_base64_lines(body)}"
        for kind, body in (("plain", text), ("html", html))
    )
    return f"{head}\r\n{parts}--{boundary}--\r\n".encode("ascii")


def _period_text(digest: Digest) -> str:
    period = digest.period
    if period.frequency == "daily":
        return period.first.strftime("%A, %B %d, %Y").replace(" 0", " ")
    return f"Week {period.label}: {period.first:%b %d} – {period.last:%b %d, %Y}"


def digest_subject(digest: Digest) -> str:
    count = len(digest.paper_keys)
    what = "Daily" if digest.period.frequency == "daily" else "Weekly"
    return f"{what} papers {digest.period.label}: {count} paper{'s' if count != 1 else ''}"


def text_of(message: bytes) -> tuple[str, str]:
    """The subject and the plain-text part of a message built here, decoded (what the
    console and ``digest send --dry-run`` show instead of base64)."""
    parsed = message_from_bytes(message, policy=SMTP)
    body = parsed.get_body(("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return str(parsed["Subject"] or ""), text


def digest_context(settings: Settings, digest: Digest) -> dict[str, object]:
    """What the digest templates (mail and the preview page) are rendered with."""
    subscription = digest.subscription
    what = "daily" if digest.period.frequency == "daily" else "weekly"

    def organization(paper: StoredPaper) -> str:
        """The organisation as the site shows it (one spelling for all its papers)."""
        spelling = paper.organization or ""
        return digest.organizations.get(spelling, spelling)

    return {
        "organization": organization,
        "subject": digest_subject(digest),
        "heading": f"Your {what} papers",
        "period_text": _period_text(digest),
        "top": digest.top,
        "topics": digest.topics,
        "for_you": digest.for_you,
        "base_url": settings.base_url,
        "email": subscription.email,
        "frequency": what,
        # a sample (the site's preview) has no subscription to manage: it links to sign-up
        "sample": subscription.id == SAMPLE_SUBSCRIPTION_ID,
        "subscribe_url": f"{settings.base_url}/subscribe",
        "manage_url": link(settings, "/subscribe/manage", "manage", subscription),
        "unsubscribe_url": link(settings, "/unsubscribe", "unsubscribe", subscription),
    }


def render_digest_html(settings: Settings, digest: Digest) -> str:
    return _environment.get_template("digest.html").render(digest_context(settings, digest))


def render_digest(settings: Settings, digest: Digest) -> bytes:
    """The digest mail, with the one-click unsubscribe headers."""
    context = digest_context(settings, digest)
    unsubscribe = str(context["unsubscribe_url"])
    return build_message(
        settings,
        digest.subscription.email,
        str(context["subject"]),
        _environment.get_template("digest.txt").render(context),
        _environment.get_template("digest.html").render(context),
        [
            ("List-Unsubscribe", f"<{unsubscribe}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("List-Id", f"paperfeed digest <digest.{urlsplit(settings.base_url).hostname}>"),
        ],
    )


def render_confirmation(settings: Settings, subscription: Subscription) -> bytes:
    """The double opt-in mail with its signed confirmation link."""
    context = {
        "email": subscription.email,
        "frequency": subscription.frequency,
        "confirm_url": link(settings, "/subscribe/confirm", "confirm", subscription),
    }
    return build_message(
        settings,
        subscription.email,
        CONFIRMATION_SUBJECT,
        _environment.get_template("confirmation.txt").render(context),
        _environment.get_template("confirmation.html").render(context),
    )
