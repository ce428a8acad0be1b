"""Attempt counters that parallel requests cannot outrun: one row per key, one statement each.

A read-then-write count ("how many failures? below the limit, so check the password,
then record a failure") lets every request that arrives before the first one writes
read the same low count: 38 of 40 parallel guesses were checked that way (issue 19
item 6). Here an attempt is claimed by a single conditional ``UPDATE``: SQLite runs
writes one at a time, and PostgreSQL re-checks the ``WHERE`` of a row another
transaction just changed (READ COMMITTED's re-evaluation of updated rows), so exactly
as many attempts as the rule allows are claimed, in one process or several. The rule
itself (which delays, which limits) is the caller's; this module only counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, case, delete, select, update
from sqlalchemy.exc import IntegrityError

from paperfeed.store import schema
from paperfeed.store.database import Store

_COUNTERS = schema.attempt_counters


def _ensure_row(store: Store, bucket: str) -> None:
    """Create the bucket's row (no attempts yet) unless it exists."""
    # the dialect's own module, imported on use: PostgreSQL's took ~0.1 s of every
    # command's start, on SQLite too
    if store.engine.dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite as dialect
    else:
        from sqlalchemy.dialects import postgresql as dialect  # type: ignore[no-redef]
    statement = (
        dialect.insert(_COUNTERS)
        .values(bucket=bucket, attempts=0, latest_at=0.0)
        .on_conflict_do_nothing(index_elements=["bucket"])
    )
    try:
        with store.engine.begin() as connection:
            connection.execute(statement)
    except IntegrityError:  # pragma: no cover - the ON CONFLICT clause makes this rare
        pass


def _delay_of(attempts: ColumnElement[int], delays: Sequence[float]) -> ColumnElement[float]:
    """``delays[attempts]`` as SQL (the last delay for every count beyond the list)."""
    return case(
        *[(attempts == index, float(delay)) for index, delay in enumerate(delays[:-1])],
        else_=float(delays[-1]),
    )


def claim_spaced_attempt(
    store: Store, bucket: str, now: float, delays: Sequence[float], memory: float
) -> bool:
    """Count one attempt in ``bucket`` if it may go ahead now, atomically.

    An attempt may go ahead when ``delays[n]`` seconds have passed since the latest
    counted one, ``n`` being the attempts counted so far (the last delay applies to
    every ``n`` beyond the list), or when the latest is older than ``memory`` seconds
    (the count then starts again at one).

    Returns:
        True when the attempt was counted and may go ahead; False when it must wait
        (nothing is counted then).
    """
    if not delays:
        raise ValueError("delays must hold at least one value")
    _ensure_row(store, bucket)
    column = _COUNTERS.c
    forgotten = column.latest_at < now - memory
    with store.engine.begin() as connection:
        result = connection.execute(
            update(_COUNTERS)
            .where(
                column.bucket == bucket,
                forgotten | (column.latest_at + _delay_of(column.attempts, delays) <= now),
            )
            .values(
                attempts=case((forgotten, 1), else_=column.attempts + 1),
                latest_at=now,
            )
        )
    return result.rowcount == 1


def claim_window_attempt(
    store: Store, bucket: str, now: float, limit: int, window_seconds: float
) -> bool:
    """Count one attempt in a fixed window of ``window_seconds`` if fewer than ``limit``
    were counted in it, atomically. The window starts at the first attempt after the
    previous one ended (``latest_at`` holds the window's start here).

    Returns:
        True when counted; False when the window is full (nothing is counted then).
    """
    _ensure_row(store, bucket)
    column = _COUNTERS.c
    # no attempts yet (a new row, or all taken back): the window starts now
    ended = (column.attempts == 0) | (column.latest_at < now - window_seconds)
    with store.engine.begin() as connection:
        result = connection.execute(
            update(_COUNTERS)
            .where(column.bucket == bucket, ended | (column.attempts < limit))
            .values(
                attempts=case((ended, 1), else_=column.attempts + 1),
                latest_at=case((ended, now), else_=column.latest_at),
            )
        )
    return result.rowcount == 1


def release_attempt(store: Store, bucket: str) -> None:
    """Take back one counted attempt (one that turned out not to count, e.g. a success)."""
    with store.engine.begin() as connection:
        connection.execute(
            update(_COUNTERS)
            .where(_COUNTERS.c.bucket == bucket, _COUNTERS.c.attempts > 0)
            .values(attempts=_COUNTERS.c.attempts - 1)
        )


def clear_attempts(store: Store, bucket: str) -> None:
    """Forget every attempt of ``bucket``."""
    with store.engine.begin() as connection:
        connection.execute(delete(_COUNTERS).where(_COUNTERS.c.bucket == bucket))


def attempts_of(store: Store, bucket: str) -> tuple[int, float]:
    """``(attempts counted, latest_at)`` of a bucket; ``(0, 0.0)`` when it has none."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(_COUNTERS.c.attempts, _COUNTERS.c.latest_at).where(_COUNTERS.c.bucket == bucket)
        ).first()
    return (int(row.attempts), float(row.latest_at)) if row else (0, 0.0)


def forget_attempts_before(store: Store, before: float) -> int:
    """Delete the counters whose latest attempt (or window start) is older than
    ``before``, so the table holds only live keys. Returns how many went."""
    with store.engine.begin() as connection:
        result = connection.execute(delete(_COUNTERS).where(_COUNTERS.c.latest_at < before))
    return int(result.rowcount or 0)
