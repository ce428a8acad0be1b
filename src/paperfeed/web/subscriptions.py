"""Digest subscriptions on the site: subscribe, confirm, manage, unsubscribe, preview."""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import AliasChoices, BaseModel, Field, field_validator

from paperfeed import accounts
from paperfeed.config import secret_key_of
from paperfeed.digest.composing import Composer, Period, PeriodError
from paperfeed.digest.rendering import SAMPLE_SUBSCRIPTION_ID, link, render_digest_html
from paperfeed.digest.sending import Mailer, deliver_due, queue_confirmation
from paperfeed.digest.subscribing import (
    FREQUENCIES,
    MAX_TOPIC_LENGTH,
    MAX_TOPICS,
    SignedIn,
    SubscriptionError,
    TopicInput,
    mailbox_of,
    owning_account,
    read_token,
    subscribe,
    time_zone_names,
    update_subscription,
)
from paperfeed.search.feeds import daily_feed
from paperfeed.store.daily import latest_daily_date
from paperfeed.store.subscriptions import (
    Subscription,
    Topic,
    claim_subscription,
    confirm_subscription,
    delete_subscription,
    get_subscription,
)
from paperfeed.web.api import errors
from paperfeed.web.schema_hints import time_zone_schema
from paperfeed.web.security import (
    bearer_user,
    check_csrf,
    client_address,
    engine_of,
    session_user,
    settings_of,
    store_of,
)
from paperfeed.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["api"])
SUBSCRIBE_LIMIT = (5, 3600)  # per client and per inbox
TOPIC_ROWS = 3
# The preview shows the mail's own HTML, whose inline styles mail clients need.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def _topics_from_form(queries: list[str], relevances: list[str]) -> list[TopicInput]:
    topics = []
    for position, query in enumerate(queries):
        raw = relevances[position] if position < len(relevances) else ""
        try:
            relevance = float(raw) if raw.strip() else 0.3
        except ValueError:
            raise SubscriptionError(
                f"minimum relevance {raw!r} of topic {query!r} is not a number"
            ) from None
        topics.append(TopicInput(query, relevance))
    return topics


class _TypedTopic(NamedTuple):
    """A topic row as the form sent it, shown again when the form is refused."""

    query: str
    min_relevance: str


def _typed_topics(queries: list[str] | None, relevances: list[str] | None) -> list[_TypedTopic]:
    shown = relevances or []
    return [
        _TypedTopic(query, shown[position] if position < len(shown) else "0.3")
        for position, query in enumerate(queries or [])
    ]


def _form_context(
    subscription: Subscription | None,
    error: str | None = None,
    typed: list[_TypedTopic] | None = None,
    **values: Any,
) -> dict[str, Any]:
    """The form's fields: what was ``typed`` when a submission is refused (so nothing
    typed is lost), else the ``subscription``'s own topics."""
    topics: list[Topic | _TypedTopic] = (
        list(typed) if typed is not None else list(subscription.topics) if subscription else []
    )
    rows = max(TOPIC_ROWS, len(topics) + 1)
    return {
        "error": error,
        "email": values.get("email", subscription.email if subscription else ""),
        "frequency": values.get("frequency", subscription.frequency if subscription else "daily"),
        "time_zone": values.get("time_zone", subscription.time_zone if subscription else "UTC"),
        "topics": topics + [Topic("", 0.3)] * (min(rows, MAX_TOPICS) - len(topics)),
        "frequencies": FREQUENCIES,
        "time_zones": time_zone_names(),
    }


def _start_subscription(request: Request, subscription: Subscription) -> None:
    """Queue the confirmation mail and try to send it now; if the mail server is down,
    the outbox keeps it for the next ``paperfeed digest send``."""
    store = store_of(request)
    if subscription.confirmed:
        return
    queue_confirmation(store, settings_of(request), subscription)
    deliver_due(store, Mailer(settings_of(request)), kinds=("confirmation",))


def _check_subscribe_rate(request: Request, email: str) -> None:
    """Count one attempt per client and per inbox (the page and the API share them):
    plus-address and case variants of one address share the inbox's count, so only
    a few confirmation mails an hour can reach any one inbox."""
    store = store_of(request)
    accounts.check_rate(store, f"subscribe:client:{client_address(request)}", *SUBSCRIBE_LIMIT)
    accounts.check_rate(store, f"subscribe:mailbox:{mailbox_of(email)[:320]}", *SUBSCRIBE_LIMIT)


def _signed_in(request: Request) -> SignedIn | None:
    """The caller's account (API token or session), if any: a subscription it makes to
    its own address is its own, in its download and deletion."""
    try:
        user = bearer_user(request) or session_user(request)
    except HTTPException:  # a bad token: subscribing needs none, so it is no account
        return None
    return (user.id, user.email) if user is not None else None


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request) -> HTMLResponse:
    """The form; signed in, its address is the account's (a subscription to it is then
    the account's own, in its download and deletion)."""
    user = session_user(request)
    return render(request, "subscribe.html", _form_context(None, email=user.email if user else ""))


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe_submit(
    request: Request,
    email: Annotated[str, Form()] = "",
    frequency: Annotated[str, Form()] = "daily",
    time_zone: Annotated[str, Form()] = "UTC",
    topic: Annotated[list[str] | None, Form()] = None,
    relevance: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    store = store_of(request)
    values = {"email": email, "frequency": frequency, "time_zone": time_zone}
    typed = _typed_topics(topic, relevance)
    try:
        _check_subscribe_rate(request, email)
        topics = _topics_from_form(topic or [], relevance or [])
        subscription = subscribe(store, email, frequency, time_zone, topics, _signed_in(request))
    except accounts.RateLimitedError as error:
        return render(
            request,
            "subscribe.html",
            _form_context(None, str(error), typed, **values),
            status_code=429,
        )
    except SubscriptionError as error:
        return render(
            request,
            "subscribe.html",
            _form_context(None, str(error), typed, **values),
            status_code=400,
        )
    _start_subscription(request, subscription)
    # the same answer whether or not the address was subscribed: no address probing
    return render(request, "subscribe_sent.html", {"email": subscription.email})


@router.get("/subscribe/confirm", response_class=HTMLResponse)
def confirm(request: Request, token: str = "") -> HTMLResponse:
    subscription = _subscription_of(request, "confirm", token)
    confirm_subscription(store_of(request), subscription.id)
    user = session_user(request)
    # the link came to the mailbox: followed signed in to the account of that address,
    # both are one person's, so the subscription is the account's
    owner = owning_account(subscription.email, (user.id, user.email) if user else None)
    if owner is not None:
        claim_subscription(store_of(request), subscription.id, owner)
    manage = link(settings_of(request), "/subscribe/manage", "manage", subscription)
    return render(request, "subscribe_done.html", {"message": "confirmed", "manage_url": manage})


def _subscription_of(request: Request, purpose: str, token: str) -> Subscription:
    try:
        target = read_token(secret_key_of(settings_of(request)), purpose, token)
    except SubscriptionError as error:
        raise HTTPException(400, str(error)) from None
    subscription = get_subscription(store_of(request), target.subscription_id)
    if subscription is None or not target.names(subscription):
        raise HTTPException(404, "this subscription does not exist any more")
    return subscription


@router.get("/subscribe/manage", response_class=HTMLResponse)
def manage_form(request: Request, token: str = "") -> HTMLResponse:
    subscription = _subscription_of(request, "manage", token)
    context = _form_context(subscription) | {"token": token, "saved": False}
    return render(request, "manage.html", context)


@router.post("/subscribe/manage", response_class=HTMLResponse)
def manage_submit(
    request: Request,
    token: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
    frequency: Annotated[str, Form()] = "daily",
    time_zone: Annotated[str, Form()] = "UTC",
    topic: Annotated[list[str] | None, Form()] = None,
    relevance: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    subscription = _subscription_of(request, "manage", token)
    store = store_of(request)
    if action == "delete":
        delete_subscription(store, subscription.id)
        return render(request, "subscribe_done.html", {"message": "deleted", "manage_url": None})
    try:
        topics = _topics_from_form(topic or [], relevance or [])
        subscription = update_subscription(store, subscription, frequency, time_zone, topics)
    except SubscriptionError as error:
        values = {"frequency": frequency, "time_zone": time_zone}
        typed = _typed_topics(topic, relevance)
        context = _form_context(subscription, str(error), typed, **values) | {"token": token}
        return render(request, "manage.html", context | {"saved": False}, status_code=400)
    context = _form_context(subscription) | {"token": token, "saved": True}
    return render(request, "manage.html", context)


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(request: Request, token: str = "") -> HTMLResponse:
    subscription = _subscription_of(request, "unsubscribe", token)
    return render(request, "unsubscribe.html", {"token": token, "email": subscription.email})


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str = "") -> HTMLResponse:
    """One click, from the page's button or a mail client's RFC 8058 POST: the signed
    token is the authorisation, so no session or CSRF token is needed."""
    subscription = _subscription_of(request, "unsubscribe", token)
    delete_subscription(store_of(request), subscription.id)
    return render(request, "subscribe_done.html", {"message": "unsubscribed", "manage_url": None})


@router.get("/digest/preview", response_class=HTMLResponse)
def preview(request: Request, token: str = "", period: str = "", q: str = "") -> Response:
    """The digest a subscriber would get (their manage link's token), or a sample one
    (trending plus the topic ``q``), for a day; by default the latest day with papers."""
    store = store_of(request)
    if token:
        subscription = _subscription_of(request, "manage", token)
    else:
        topics = [Topic(q.strip(), 0.0)] if q.strip() else []
        subscription = Subscription(
            SAMPLE_SUBSCRIPTION_ID, "you@example.org", "daily", "UTC", True, topics
        )
    label = period or latest_daily_date(store) or ""
    frequency = "weekly" if "-W" in label else "daily"
    try:
        chosen = Period.parse(frequency, label)
    except PeriodError as error:
        raise HTTPException(400, f"parameter 'period': {error}") from None
    digest = Composer(store, engine_of(request)).compose(subscription, chosen, set())
    if digest.empty:
        feed = daily_feed(store, day=chosen.first.isoformat()) if frequency == "daily" else None
        nearest = feed.nearest_before if feed else None
        raise HTTPException(
            404,
            f"no papers for {label}: nothing would be sent"
            + (f" (try period={nearest})" if nearest else ""),
        )
    html = render_digest_html(settings_of(request), digest)
    return HTMLResponse(html, headers={"Content-Security-Policy": PREVIEW_POLICY})


# A saved search with words to match: no control characters, not only exclusions.
_NOT_CONTROL = r"[^\x00-\x1f\x7f\u2028\u2029]"
# (leading spaces, but no line break or tab: those are control characters too; a blank
# topic is skipped, as an empty row of the form is)
_TOPIC_PATTERN = (
    r"^[^\S\x00-\x1f\x7f\u2028\u2029]*"
    rf"(?:[^\s\-\x00-\x1f\x7f\u2028\u2029]{_NOT_CONTROL}*)?$"
)
# What the address check accepts: printable ASCII, one @, a dot in the domain.
_EMAIL_PATTERN = r"^[!-?A-~]{1,64}@[!-?A-~]+\.[!-?A-~]+$"


class TopicBody(BaseModel):
    query: str = Field(
        description="a saved search in the search syntax",
        json_schema_extra={"pattern": _TOPIC_PATTERN, "maxLength": MAX_TOPIC_LENGTH},
    )
    min_relevance: float = Field(
        0.3, ge=0.0, le=1.0, validation_alias=AliasChoices("min_relevance", "relevance")
    )

    @field_validator("min_relevance", mode="before")
    @classmethod
    def _a_number(cls, value: object) -> object:
        # JSON false is not 0: the schema says number, pydantic's lax mode takes a bool
        if isinstance(value, bool):
            raise ValueError(f"min_relevance {value!r} is not a number")
        return value


TopicText = Annotated[
    str,
    Field(
        description="a saved search in the search syntax, with the default minimum relevance",
        json_schema_extra={"pattern": _TOPIC_PATTERN, "maxLength": MAX_TOPIC_LENGTH},
    ),
]


class SubscriptionBody(BaseModel):
    email: str = Field(
        description="the address digests go to (ASCII; an internationalised domain is "
        "sent to as its IDNA form)",
        json_schema_extra={"format": "email", "pattern": _EMAIL_PATTERN, "maxLength": 254},
    )
    # the other spellings a client may reach for (``timezone``, ``period`` as the CLI's
    # option says) are taken too: dropped silently, they left a subscriber in UTC
    frequency: str = Field(
        "daily",
        description="daily or weekly",
        json_schema_extra={"enum": list(FREQUENCIES)},
        validation_alias=AliasChoices("frequency", "period"),
    )
    time_zone: str = Field(
        "UTC",
        description="IANA name, e.g. Europe/Paris",
        json_schema_extra=time_zone_schema(),
        validation_alias=AliasChoices("time_zone", "timezone", "tz"),
    )
    # a topic given as just its query ("KL divergence") has the default relevance
    topics: list[TopicBody | TopicText] = Field(
        default_factory=list, json_schema_extra={"maxItems": MAX_TOPICS}
    )

    def topic_inputs(self) -> list[TopicInput]:
        return [
            TopicInput(topic.query, topic.min_relevance)
            if isinstance(topic, TopicBody)
            else TopicInput(topic)
            for topic in self.topics
        ]


@api_router.post(
    "/subscriptions",
    status_code=202,
    summary="Subscribe to email digests",
    responses=errors(400, 413, 429),
)
def subscribe_api(request: Request, body: SubscriptionBody) -> dict[str, str]:
    """Starts a double opt-in: a confirmation mail is sent; nothing else is sent before
    its link is followed. The answer is the same for an address already subscribed."""
    store = store_of(request)
    try:
        _check_subscribe_rate(request, body.email)
        subscription = subscribe(
            store,
            body.email,
            body.frequency,
            body.time_zone,
            body.topic_inputs(),
            _signed_in(request),
        )
    except accounts.RateLimitedError as error:
        raise HTTPException(429, str(error)) from None
    except SubscriptionError as error:
        raise HTTPException(400, str(error)) from None
    _start_subscription(request, subscription)
    return {"status": "confirmation sent", "email": subscription.email}
