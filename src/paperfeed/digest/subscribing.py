"""Subscribing: checking what a visitor typed, double opt-in, and the signed links.

Links in mails carry a token signed with the site's secret key (itsdangerous, HMAC-SHA1
over the subscription id and a purpose-specific salt), so they cannot be forged or
turned from one purpose to another. Confirmation links expire after a week; manage and
unsubscribe links do not, so an old digest can always unsubscribe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from paperfeed.accounts import AccountError, normalize_email
from paperfeed.ingest import quoted
from paperfeed.mail_addresses import inbox_of
from paperfeed.search.query import parse_query
from paperfeed.store import Store
from paperfeed.store.subscriptions import (
    Subscription,
    Topic,
    find_subscription,
    save_subscription,
)
from paperfeed.typed_text import unwritable_character

FREQUENCIES = ("daily", "weekly")
MAX_TOPICS = 10
MAX_TOPIC_LENGTH = 300
DEFAULT_MIN_RELEVANCE = 0.3
CONFIRMATION_MAX_AGE = 7 * 24 * 3600
PURPOSES = ("confirm", "manage", "unsubscribe")


class SubscriptionError(ValueError):
    """Bad subscription input, or a bad or expired link; the message names the value."""


@dataclass(frozen=True)
class TopicInput:
    query: str
    min_relevance: float = DEFAULT_MIN_RELEVANCE


def check_topics(topics: Sequence[TopicInput]) -> list[Topic]:
    """Validate saved searches: no line breaks or control characters (they would end up
    in mail headers and bodies), a sane length, a relevance in 0..1."""
    if len(topics) > MAX_TOPICS:
        raise SubscriptionError(f"{len(topics)} topics is too many (at most {MAX_TOPICS})")
    checked: list[Topic] = []
    for topic in topics:
        query = topic.query
        problem = unwritable_character(query)
        if problem:
            raise SubscriptionError(f"topic {quoted(query)} contains {problem}")
        query = query.strip()
        if not query:
            continue
        if len(query) > MAX_TOPIC_LENGTH:
            raise SubscriptionError(
                f"topic {query[:40]!r}… is {len(query)} characters (at most {MAX_TOPIC_LENGTH})"
            )
        parsed = parse_query(query)
        if not parsed.has_content and not parsed.categories:
            raise SubscriptionError(f"topic {query!r} has no words or categories to match")
        if not 0.0 <= topic.min_relevance <= 1.0:
            raise SubscriptionError(
                f"minimum relevance {topic.min_relevance!r} of topic {query!r} must be 0..1"
            )
        checked.append(Topic(query, float(topic.min_relevance)))
    return checked


def check_time_zone(name: str) -> str:
    name = name.strip()
    if unwritable_character(name) or not name:
        raise SubscriptionError(f"time zone {quoted(name)} is not a time zone (expected e.g. UTC)")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SubscriptionError(
            f"time zone {quoted(name)} is not a time zone (expected e.g. Europe/Paris or UTC)"
        ) from None
    return name


def time_zone_names() -> list[str]:
    """Every IANA time zone this machine knows, for the form's list."""
    return sorted(available_timezones())


# The account a caller is signed in to: its id and its (canonical) address.
SignedIn = tuple[int, str]


def owning_account(address: str, signed_in: SignedIn | None) -> int | None:
    """The account a subscription of ``address`` belongs to, when made or confirmed by
    ``signed_in``: that account if it has this very address, else none. Sign-up proves
    no address, so a subscription is never an account's for the address alone."""
    return signed_in[0] if signed_in is not None and signed_in[1] == address else None


def subscribe(
    store: Store,
    email: str,
    frequency: str = "daily",
    time_zone: str = "UTC",
    topics: Sequence[TopicInput] = (),
    signed_in: SignedIn | None = None,
) -> Subscription:
    """Create a subscription, unconfirmed until its link is followed; made by
    ``signed_in``, it is that account's when the addresses agree (``owning_account``).

    An address that is subscribed already keeps its settings and owner: only its
    manage link (sent to that address) may change them, so nobody can rewrite another
    person's subscription by typing their address.

    Returns:
        The new subscription, or the existing one unchanged.

    Raises:
        SubscriptionError: naming the bad email, frequency, time zone or topic.
    """
    address, checked_topics = _check(email, frequency, time_zone, topics)
    existing = find_subscription(store, address)
    if existing is not None:
        return existing
    owner = owning_account(address, signed_in)
    return save_subscription(
        store, address, frequency, time_zone.strip(), checked_topics, owner=owner
    )


def update_subscription(
    store: Store,
    subscription: Subscription,
    frequency: str,
    time_zone: str,
    topics: Sequence[TopicInput],
) -> Subscription:
    """Change the frequency, time zone and topics (from the manage page)."""
    address, checked_topics = _check(subscription.email, frequency, time_zone, topics)
    return save_subscription(store, address, frequency, time_zone.strip(), checked_topics)


def mail_address(email: str) -> str:
    """A checked address mail can be sent to, in the form it is stored.

    Mail goes out without SMTPUTF8 (RFC 6531), which few relays offer, so the part
    before the @ must be ASCII; an internationalised domain is written in its IDNA
    ("xn--") form, which every server accepts (``mail_addresses.canonical_address``).

    Raises:
        SubscriptionError: naming the address and what is wrong with it.
    """
    try:
        address = normalize_email(email)
    except AccountError as error:
        raise SubscriptionError(str(error)) from None
    if not address.isascii():
        raise SubscriptionError(
            f"email {quoted(email)} has non-ASCII characters before the @: this site "
            "cannot send to internationalised (SMTPUTF8) addresses; use an ASCII one"
        )
    return address


def mailbox_of(email: str) -> str:
    """The inbox an address reaches, for per-inbox caps on mail (one definition:
    ``mail_addresses.inbox_of``): ``"Ada+x"@Example.org.`` is ``ada@example.org``."""
    return inbox_of(email)


def _check(
    email: str, frequency: str, time_zone: str, topics: Sequence[TopicInput]
) -> tuple[str, list[Topic]]:
    address = mail_address(email)
    if frequency not in FREQUENCIES:
        raise SubscriptionError(
            f"frequency {quoted(frequency)} is not one of {', '.join(FREQUENCIES)}"
        )
    check_time_zone(time_zone)
    return address, check_topics(topics)


def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return URLSafeTimedSerializer(secret_key, salt=f"paperfeed-subscription-{purpose}")


def make_token(secret_key: str, purpose: str, subscription: Subscription) -> str:
    """A signed token naming the subscription: its id, its address and the moment it
    was created, so a link can only ever act on the subscription it was mailed for (not
    on a later one of the same address, nor on one that got a recycled id)."""
    created = f"{subscription.created_at:.6f}"
    return _serializer(secret_key, purpose).dumps([subscription.id, subscription.email, created])


@dataclass(frozen=True)
class LinkTarget:
    """What a signed link names; ``created`` is None in links made before it was added."""

    subscription_id: int
    email: str
    created: str | None

    def names(self, subscription: Subscription) -> bool:
        """Whether ``subscription`` is the one the link was made for."""
        return (
            subscription.id == self.subscription_id
            and subscription.email == self.email
            and (self.created is None or f"{subscription.created_at:.6f}" == self.created)
        )


def read_token(secret_key: str, purpose: str, token: str) -> LinkTarget:
    """What a token was made for.

    Raises:
        SubscriptionError: a forged, mangled or (for confirmations) expired token.
    """
    max_age = CONFIRMATION_MAX_AGE if purpose == "confirm" else None
    try:
        value = _serializer(secret_key, purpose).loads(token[:2000], max_age=max_age)
    except SignatureExpired:
        raise SubscriptionError("this link has expired: subscribe again") from None
    except BadSignature:
        raise SubscriptionError("this link is not valid (it may be cut short)") from None
    if (
        not isinstance(value, list)
        or len(value) not in (2, 3)
        or not isinstance(value[0], int)
        or not all(isinstance(part, str) for part in value[1:])
    ):
        raise SubscriptionError("this link is not valid")
    return LinkTarget(value[0], value[1], value[2] if len(value) == 3 else None)
