"""Digest subscriptions, their topics, the mail outbox and the papers already sent.

Every message is written to the outbox before any attempt to send it, in the same
transaction that records which papers it carries; sending claims a row, and only a
successful hand-over to the SMTP server marks it sent. So a crash or an SMTP failure
leaves the row to retry, and the unique (subscription, kind, period) key means a
period is composed once however often the run is repeated.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import ColumnElement

from paperfeed.store import schema
from paperfeed.store.database import Store, value_batches

_SUBSCRIPTIONS = schema.subscriptions
_TOPICS = schema.subscription_topics
_OUTBOX = schema.outbox

# Account mails (reset links) belong to no subscription; their outbox key is (0, kind,
# a nonce).
NO_SUBSCRIPTION = 0


@dataclass(frozen=True)
class Topic:
    """A saved search in the search syntax, and the least relevance a match needs."""

    query: str
    min_relevance: float


@dataclass
class Subscription:
    id: int
    email: str
    frequency: str
    time_zone: str
    confirmed: bool
    topics: list[Topic] = field(default_factory=list)
    created_at: float = 0.0  # signed links carry it: a link names one subscription ever
    owner: int | None = None  # the account it belongs to (migration 18), if one proved it


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    subscription_id: int
    recipient: str
    kind: str
    period: str
    subject: str
    message: bytes
    status: str
    attempts: int


def _topics_of(store: Store, ids: Sequence[int]) -> dict[int, list[Topic]]:
    found: dict[int, list[Topic]] = {}
    with store.engine.connect() as connection:
        for batch in value_batches(ids):
            for row in connection.execute(
                select(_TOPICS).where(_TOPICS.c.subscription_id.in_(batch)).order_by(_TOPICS.c.id)
            ):
                found.setdefault(row.subscription_id, []).append(
                    Topic(row.query, row.min_relevance)
                )
    return found


def _subscriptions(store: Store, rows: Sequence[Row[Any]]) -> list[Subscription]:
    topics = _topics_of(store, [row.id for row in rows])
    return [
        Subscription(
            row.id,
            row.email,
            row.frequency,
            row.time_zone,
            row.confirmed_at is not None,
            topics.get(row.id, []),
            float(row.created_at),
            row.user_id,
        )
        for row in rows
    ]


def save_subscription(
    store: Store,
    email: str,
    frequency: str,
    time_zone: str,
    topics: Sequence[Topic],
    owner: int | None = None,
) -> Subscription:
    """Create the subscription of ``email``, or replace its settings and topics.

    An existing subscription keeps its confirmation (changing topics needs no new
    opt-in) and its owner; ``owner``, the account it belongs to, is set on a new one.
    """
    now = time.time()
    with store.engine.begin() as connection:
        existing = connection.execute(
            select(_SUBSCRIPTIONS.c.id).where(_SUBSCRIPTIONS.c.email == email)
        ).first()
        if existing is None:
            try:
                result = connection.execute(
                    _SUBSCRIPTIONS.insert().values(
                        email=email,
                        frequency=frequency,
                        time_zone=time_zone,
                        created_at=now,
                        user_id=owner,
                    )
                )
            except IntegrityError:  # subscribed concurrently: settle on that row
                connection.rollback()
                return save_subscription(store, email, frequency, time_zone, topics, owner)
            subscription_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        else:
            subscription_id = int(existing.id)
            connection.execute(
                update(_SUBSCRIPTIONS)
                .where(_SUBSCRIPTIONS.c.id == subscription_id)
                .values(frequency=frequency, time_zone=time_zone)
            )
            connection.execute(delete(_TOPICS).where(_TOPICS.c.subscription_id == subscription_id))
        if topics:
            connection.execute(
                _TOPICS.insert(),
                [
                    {
                        "subscription_id": subscription_id,
                        "query": topic.query,
                        "min_relevance": topic.min_relevance,
                    }
                    for topic in topics
                ],
            )
    found = get_subscription(store, subscription_id)
    assert found is not None
    return found


def _one_subscription(store: Store, condition: ColumnElement[bool]) -> Subscription | None:
    with store.engine.connect() as connection:
        row = connection.execute(select(_SUBSCRIPTIONS).where(condition)).first()
    return _subscriptions(store, [row])[0] if row else None


def get_subscription(store: Store, subscription_id: int) -> Subscription | None:
    return _one_subscription(store, _SUBSCRIPTIONS.c.id == subscription_id)


def find_subscription(store: Store, email: str) -> Subscription | None:
    return _one_subscription(store, _SUBSCRIPTIONS.c.email == email)


def confirm_subscription(store: Store, subscription_id: int) -> bool:
    """Mark confirmed (idempotent). Returns False when the subscription is gone."""
    with store.engine.begin() as connection:
        result = connection.execute(
            update(_SUBSCRIPTIONS)
            .where(_SUBSCRIPTIONS.c.id == subscription_id)
            .values(confirmed_at=time.time())
        )
    return bool(result.rowcount)


def claim_subscription(store: Store, subscription_id: int, user_id: int) -> bool:
    """Make the subscription ``user_id``'s, unless it is an account's already; returns
    whether it is now that account's."""
    with store.engine.begin() as connection:
        connection.execute(
            update(_SUBSCRIPTIONS)
            .where(_SUBSCRIPTIONS.c.id == subscription_id, _SUBSCRIPTIONS.c.user_id.is_(None))
            .values(user_id=user_id)
        )
        owner = connection.scalar(
            select(_SUBSCRIPTIONS.c.user_id).where(_SUBSCRIPTIONS.c.id == subscription_id)
        )
    return owner == user_id


def owned_subscriptions(store: Store, user_id: int) -> list[Subscription]:
    """The subscriptions that belong to the account ``user_id``, oldest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(_SUBSCRIPTIONS)
            .where(_SUBSCRIPTIONS.c.user_id == user_id)
            .order_by(_SUBSCRIPTIONS.c.id)
        ).all()
    return _subscriptions(store, rows)


def delete_subscriptions_in(connection: Connection, chosen: ColumnElement[bool]) -> int:
    """Delete the subscriptions ``chosen`` selects, their topics and their unsent mail,
    in the caller's transaction; returns how many subscriptions went."""
    ids = select(_SUBSCRIPTIONS.c.id).where(chosen)
    connection.execute(delete(_TOPICS).where(_TOPICS.c.subscription_id.in_(ids)))
    connection.execute(
        delete(_OUTBOX).where(
            _OUTBOX.c.subscription_id.in_(ids), _OUTBOX.c.status.in_(["pending", "sending"])
        )
    )
    return int(connection.execute(delete(_SUBSCRIPTIONS).where(chosen)).rowcount)


def delete_subscription(store: Store, subscription_id: int) -> bool:
    """Delete a subscription, its topics and its unsent mail."""
    with store.engine.begin() as connection:
        return bool(delete_subscriptions_in(connection, _SUBSCRIPTIONS.c.id == subscription_id))


def confirmed_subscriptions(store: Store, frequency: str) -> list[Subscription]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(_SUBSCRIPTIONS)
            .where(
                _SUBSCRIPTIONS.c.frequency == frequency,
                _SUBSCRIPTIONS.c.confirmed_at.is_not(None),
            )
            .order_by(_SUBSCRIPTIONS.c.id)
        ).all()
    return _subscriptions(store, rows)


# -- the outbox -------------------------------------------------------------------------


def composed_periods(store: Store, kind: str, periods: Sequence[str]) -> set[tuple[int, str]]:
    """``(subscription id, period)`` pairs already in the outbox (sent or not)."""
    with store.engine.connect() as connection:
        return {
            (int(row.subscription_id), str(row.period))
            for row in connection.execute(
                select(_OUTBOX.c.subscription_id, _OUTBOX.c.period).where(
                    _OUTBOX.c.kind == kind, _OUTBOX.c.period.in_(list(periods))
                )
            )
        }


def sent_paper_keys(store: Store, subscription_ids: Sequence[int]) -> dict[int, set[int]]:
    """The papers each subscriber has been sent (or has queued), by subscription id."""
    found: dict[int, set[int]] = {}
    with store.engine.connect() as connection:
        for batch in value_batches(subscription_ids):
            for row in connection.execute(
                select(schema.sent_papers.c.subscription_id, schema.sent_papers.c.paper_key).where(
                    schema.sent_papers.c.subscription_id.in_(batch)
                )
            ):
                found.setdefault(int(row.subscription_id), set()).add(int(row.paper_key))
    return found


@dataclass
class NewMessage:
    """A message to queue: for whom, which period, what, and which papers it carries."""

    subscription_id: int
    recipient: str
    kind: str
    period: str
    subject: str
    message: bytes
    paper_keys: list[int] = field(default_factory=list)
    empty: bool = False  # an empty period: recorded so it is not composed again, never sent


def queue_messages(store: Store, messages: Sequence[NewMessage]) -> int:
    """Write messages to the outbox with the papers they carry.

    All in one transaction when none was queued before (the usual case, and fast); if
    another run queued one of them meanwhile, the unique (subscription, kind, period)
    key refuses it and the messages are written one transaction each, skipping those.
    Returns how many were queued to be sent.
    """
    try:
        with store.engine.begin() as connection:
            for new in messages:
                _insert_message(connection, new)
        return sum(not new.empty for new in messages)
    except IntegrityError:
        pass
    queued = 0
    for new in messages:
        try:
            with store.engine.begin() as connection:
                _insert_message(connection, new)
        except IntegrityError:
            continue
        queued += not new.empty
    return queued


def _insert_message(connection: Connection, new: NewMessage) -> None:
    now = time.time()
    result = connection.execute(
        _OUTBOX.insert().values(
            subscription_id=new.subscription_id,
            recipient=new.recipient,
            kind=new.kind,
            period=new.period,
            subject=new.subject,
            message=new.message,
            status="empty" if new.empty else "pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    outbox_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if new.paper_keys:
        connection.execute(
            schema.sent_papers.insert(),
            [
                {"subscription_id": new.subscription_id, "paper_key": key, "outbox_id": outbox_id}
                for key in new.paper_keys
            ],
        )


def claim_due_messages(
    store: Store,
    now: float,
    limit: int = 100,
    stale_after: float = 600.0,
    kinds: tuple[str, ...] | None = None,
) -> list[OutboxMessage]:
    """Claim pending messages whose next attempt is due (and ones left "sending" by a
    crashed run for longer than ``stale_after`` seconds), of ``kinds`` only when given.
    A message is claimed by one runner only: the conditional update succeeds for
    exactly one of them."""
    due = select(_OUTBOX).where(
        ((_OUTBOX.c.status == "pending") & (_OUTBOX.c.next_attempt_at <= now))
        | ((_OUTBOX.c.status == "sending") & (_OUTBOX.c.claimed_at < now - stale_after))
    )
    if kinds is not None:
        due = due.where(_OUTBOX.c.kind.in_(kinds))
    with store.engine.connect() as connection:
        rows = connection.execute(due.order_by(_OUTBOX.c.id).limit(limit)).all()
    claimed: list[OutboxMessage] = []
    for row in rows:
        with store.engine.begin() as connection:
            result = connection.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.id == row.id, _OUTBOX.c.status == row.status)
                .where(
                    (_OUTBOX.c.claimed_at.is_(None))
                    if row.claimed_at is None
                    else (_OUTBOX.c.claimed_at == row.claimed_at)
                )
                .values(status="sending", claimed_at=now)
            )
        if result.rowcount == 1:
            claimed.append(
                OutboxMessage(
                    row.id,
                    row.subscription_id,
                    row.recipient,
                    row.kind,
                    row.period,
                    row.subject,
                    bytes(row.message),
                    "sending",
                    row.attempts,
                )
            )
    return claimed


def mark_sent(store: Store, outbox_id: int) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == outbox_id)
            .values(status="sent", sent_at=time.time(), attempts=_OUTBOX.c.attempts + 1)
        )


def mark_failed(store: Store, outbox_id: int, error: str, retry_at: float | None) -> None:
    """Record a failed attempt; ``retry_at`` None gives the message up ("dead")."""
    with store.engine.begin() as connection:
        connection.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == outbox_id)
            .values(
                status="pending" if retry_at is not None else "dead",
                next_attempt_at=retry_at if retry_at is not None else time.time(),
                attempts=_OUTBOX.c.attempts + 1,
                last_error=error[:2000],
                claimed_at=None,
            )
        )


def outbox_counts(store: Store) -> dict[str, int]:
    """Messages by status."""
    with store.engine.connect() as connection:
        return {
            str(status): int(count)
            for status, count in connection.execute(
                select(_OUTBOX.c.status, func.count()).group_by(_OUTBOX.c.status)
            )
        }


def waiting_for_retry(store: Store) -> tuple[int, float | None]:
    """Messages that failed and wait for another attempt, and when the next one is due."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(func.count(), func.min(_OUTBOX.c.next_attempt_at)).where(
                _OUTBOX.c.status.in_(["pending", "sending"]), _OUTBOX.c.attempts > 0
            )
        ).one()
    return int(row[0] or 0), float(row[1]) if row[1] is not None else None
