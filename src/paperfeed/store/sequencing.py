"""The change sequence: every write to ``papers`` stamps its rows with one number, and an
index update reads the rows past the last number it indexed (``index/builder.py``).

The numbers must be handed out in commit order. Were writer A to take 11 and writer B 12
(or both 11), with B committing first, an index run between the two commits would move its
mark past 12 and never see A's rows. SQLite has one writer at a time, so ``max + 1``
inside the write transaction is enough there. On PostgreSQL several replicas write at
once, so the transaction first takes an advisory lock (``pg_advisory_xact_lock``, released
at commit or rollback): the next writer reads the maximum only after this one has committed.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, text

from paperfeed.store import schema

# An arbitrary constant naming the lock: "paperfeed change sequence" as 63-bit digits.
_SEQUENCE_LOCK = 7_302_116_114_099_541_101


def next_change_sequence(connection: Connection) -> int:
    """The number for this transaction's paper writes (call it inside the transaction).

    Returns:
        One more than the largest stored change sequence.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEQUENCE_LOCK})
    latest = connection.scalar(select(func.max(schema.papers.c.change_sequence)))
    return int(latest or 0) + 1
