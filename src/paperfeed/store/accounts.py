"""Users, API tokens, votes and rate-limit events: their database reads and writes.

Policy (password hashing, what counts as too many attempts) lives in
``paperfeed.accounts``; this module only stores and counts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError

from paperfeed.store import schema
from paperfeed.store.database import Store, key_batches


@dataclass(frozen=True)
class User:
    """A signed-up person."""

    id: int
    email: str
    name: str
    password_hash: str
    # migration 9: "user" or "admin"; when an admin disabled the account (None: active)
    role: str = "user"
    disabled_at: float | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" and self.disabled_at is None


class DuplicateEmailError(ValueError):
    """An account with this email address exists already."""


def insert_user(store: Store, email: str, name: str, password_hash: str) -> User:
    """Add a user; ``email`` must already be normalised (lower case, trimmed)."""
    try:
        with store.engine.begin() as connection:
            result = connection.execute(
                schema.users.insert().values(
                    email=email, name=name, password_hash=password_hash, created_at=time.time()
                )
            )
            user_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    except IntegrityError:
        raise DuplicateEmailError(f"an account for {email!r} exists already") from None
    return User(user_id, email, name, password_hash)


def _user(row: Row[Any] | None) -> User | None:
    if row is None:
        return None
    disabled_at = None if row.disabled_at is None else float(row.disabled_at)
    return User(row.id, row.email, row.name, row.password_hash, row.role, disabled_at)


def find_user_by_email(store: Store, email: str) -> User | None:
    with store.engine.connect() as connection:
        return _user(
            connection.execute(select(schema.users).where(schema.users.c.email == email)).first()
        )


def find_user(store: Store, user_id: int) -> User | None:
    with store.engine.connect() as connection:
        return _user(
            connection.execute(select(schema.users).where(schema.users.c.id == user_id)).first()
        )


def update_password_hash(store: Store, user_id: int, password_hash: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            schema.users.update()
            .where(schema.users.c.id == user_id)
            .values(password_hash=password_hash)
        )


# -- sessions ---------------------------------------------------------------------


def insert_session(store: Store, user_id: int, token_hash: str, expires_at: float) -> None:
    """Record a session; the user's expired ones are deleted on the way."""
    now = time.time()
    with store.engine.begin() as connection:
        connection.execute(
            delete(schema.sessions).where(
                schema.sessions.c.user_id == user_id, schema.sessions.c.expires_at <= now
            )
        )
        connection.execute(
            schema.sessions.insert().values(
                token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
            )
        )


def find_session_user(store: Store, token_hash: str, now: float) -> User | None:
    """The user of the unexpired session with this hash, or None."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(schema.users)
            .join(schema.sessions, schema.sessions.c.user_id == schema.users.c.id)
            .where(schema.sessions.c.token_hash == token_hash, schema.sessions.c.expires_at > now)
            .where(schema.users.c.disabled_at.is_(None))  # a disabled account has no session
        ).first()
    return _user(row)


def delete_session(store: Store, token_hash: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            delete(schema.sessions).where(schema.sessions.c.token_hash == token_hash)
        )


def delete_user_sessions(store: Store, user_id: int) -> int:
    """End every session of a user. Returns how many there were."""
    with store.engine.begin() as connection:
        result = connection.execute(
            delete(schema.sessions).where(schema.sessions.c.user_id == user_id)
        )
    return int(result.rowcount or 0)


# -- API tokens -------------------------------------------------------------------


def delete_user_tokens(store: Store, user_id: int) -> int:
    """Revoke every API token of a user. Returns how many there were."""
    with store.engine.begin() as connection:
        result = connection.execute(
            delete(schema.api_tokens).where(schema.api_tokens.c.user_id == user_id)
        )
    return int(result.rowcount or 0)


def insert_token(
    store: Store, user_id: int, token_hash: str, label: str, scope: str = "write"
) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            schema.api_tokens.insert().values(
                token_hash=token_hash,
                user_id=user_id,
                label=label,
                created_at=time.time(),
                scope=scope,
            )
        )


def find_token_scope(store: Store, token_hash: str) -> str | None:
    """The scope ("read" or "write") of the token with this hash, or None."""
    with store.engine.connect() as connection:
        scope = connection.scalar(
            select(schema.api_tokens.c.scope).where(schema.api_tokens.c.token_hash == token_hash)
        )
    return str(scope) if scope is not None else None


def find_token_user(store: Store, token_hash: str) -> User | None:
    """The owner of the token with this hash, or None."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(schema.users)
            .join(schema.api_tokens, schema.api_tokens.c.user_id == schema.users.c.id)
            .where(schema.api_tokens.c.token_hash == token_hash)
            .where(schema.users.c.disabled_at.is_(None))  # nor a working token
        ).first()
    return _user(row)


def list_tokens(store: Store, user_id: int) -> list[tuple[str, str, float]]:
    """``(token hash, label, created_at)`` of a user's tokens, newest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                schema.api_tokens.c.token_hash,
                schema.api_tokens.c.label,
                schema.api_tokens.c.created_at,
            )
            .where(schema.api_tokens.c.user_id == user_id)
            .order_by(schema.api_tokens.c.created_at.desc(), schema.api_tokens.c.token_hash)
        ).all()
    return [(row.token_hash, row.label, row.created_at) for row in rows]


def delete_token(store: Store, user_id: int, token_hash: str) -> bool:
    with store.engine.begin() as connection:
        result = connection.execute(
            delete(schema.api_tokens).where(
                schema.api_tokens.c.user_id == user_id,
                schema.api_tokens.c.token_hash == token_hash,
            )
        )
    return bool(result.rowcount)


# -- votes ------------------------------------------------------------------------


def insert_vote(store: Store, user_id: int, paper_key: int, at: float | None = None) -> bool:
    """Record a vote. Returns False when the user had voted for the paper already.

    The primary key (user, paper) makes the database refuse a second vote, so
    concurrent requests cannot double-count.
    """
    try:
        with store.engine.begin() as connection:
            connection.execute(
                schema.votes.insert().values(
                    user_id=user_id,
                    paper_key=paper_key,
                    created_at=time.time() if at is None else at,
                )
            )
    except IntegrityError:
        return False
    return True


def delete_vote(store: Store, user_id: int, paper_key: int) -> bool:
    """Withdraw a vote. Returns False when there was none."""
    with store.engine.begin() as connection:
        result = connection.execute(
            delete(schema.votes).where(
                schema.votes.c.user_id == user_id, schema.votes.c.paper_key == paper_key
            )
        )
    return bool(result.rowcount)


# built once, as ``store.database.PAPERS_WITH_KEYS``: every search runs it
_VOTES_OF_PAPERS = (
    select(schema.votes.c.paper_key, func.count())
    .where(schema.votes.c.paper_key.in_(bindparam("keys", expanding=True)))
    .group_by(schema.votes.c.paper_key)
)


def count_votes(store: Store, paper_keys: Sequence[int]) -> dict[int, int]:
    """Local votes per paper; papers without votes are absent."""
    counts: dict[int, int] = {}
    with store.engine.connect() as connection:
        for batch in key_batches(paper_keys):
            for paper_key, count in connection.execute(_VOTES_OF_PAPERS, {"keys": batch}):
                counts[int(paper_key)] = int(count)
    return counts


def voted_keys(store: Store, user_id: int, paper_keys: Sequence[int]) -> set[int]:
    """Which of ``paper_keys`` the user has voted for."""
    found: set[int] = set()
    with store.engine.connect() as connection:
        for batch in key_batches(paper_keys):
            found.update(
                connection.scalars(
                    select(schema.votes.c.paper_key).where(
                        schema.votes.c.user_id == user_id, schema.votes.c.paper_key.in_(batch)
                    )
                )
            )
    return found


def votes_between(
    store: Store, since: float, before: float, paper_keys: Sequence[int] | None = None
) -> list[tuple[int, float]]:
    """``(paper key, time)`` of every vote cast at or after ``since`` and before
    ``before`` (epoch seconds), oldest first (per batch of keys when ``paper_keys`` names
    the papers)."""
    votes = schema.votes.c
    # oldest first: each paper's decayed votes are summed in the same order every time
    query = (
        select(votes.paper_key, votes.created_at)
        .where(votes.created_at >= since, votes.created_at < before)
        .order_by(votes.created_at)
    )
    found: list[tuple[int, float]] = []
    with store.engine.connect() as connection:
        if paper_keys is None:
            rows = connection.execute(query).all()
            return [(int(key), float(at)) for key, at in rows]
        for batch in key_batches(paper_keys):
            rows = connection.execute(query.where(votes.paper_key.in_(batch))).all()
            found.extend((int(key), float(at)) for key, at in rows)
    return found


def vote_counts_since(store: Store, since: float) -> dict[int, int]:
    """Votes cast at or after ``since`` (epoch seconds), per paper that has any."""
    votes = schema.votes.c
    # grouped by ``paper_key + 0``, not ``paper_key``: SQLite otherwise walks the whole
    # index on paper_key to group without sorting, reading every vote ever cast (170 ms
    # at 200,000 votes for a span holding 7,000), instead of the span's votes by time
    paper = (votes.paper_key + 0).label("paper")
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(paper, func.count()).where(votes.created_at >= since).group_by(paper)
        ).all()
    return {int(key): int(count) for key, count in rows}


def latest_vote_time(store: Store) -> float | None:
    with store.engine.connect() as connection:
        value = connection.scalar(select(func.max(schema.votes.c.created_at)))
    return float(value) if value is not None else None


# -- rate limiting ------------------------------------------------------------------


def record_rate_event(store: Store, bucket: str, window_seconds: float, at: float) -> int:
    """Record one event in ``bucket`` and return how many fall within the window.

    Events older than the window are deleted on the way, so the table stays small.
    """
    with store.engine.begin() as connection:
        connection.execute(
            delete(schema.rate_events).where(
                schema.rate_events.c.bucket == bucket,
                schema.rate_events.c.at < at - window_seconds,
            )
        )
        connection.execute(schema.rate_events.insert().values(bucket=bucket, at=at))
        return int(
            connection.scalar(
                select(func.count())
                .select_from(schema.rate_events)
                .where(schema.rate_events.c.bucket == bucket)
            )
            or 0
        )


def rate_events_since(store: Store, bucket: str, since: float) -> tuple[int, float | None]:
    """How many events ``bucket`` holds at or after ``since``, and the latest one's time."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(func.count(), func.max(schema.rate_events.c.at)).where(
                schema.rate_events.c.bucket == bucket, schema.rate_events.c.at >= since
            )
        ).one()
    return int(row[0] or 0), float(row[1]) if row[1] is not None else None


def clear_rate_events(store: Store, bucket: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(delete(schema.rate_events).where(schema.rate_events.c.bucket == bucket))
