"""A user's triage signals beyond upvotes and saves: papers marked "not for me" (explicit
negatives) and the seeds of a cold start (papers claimed or picked, and vectors of
library entries the corpus does not hold)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from paperfeed.store import schema
from paperfeed.store.database import Store, key_batches, value_batches

AUTHORED = "authored"
PICKED = "picked"
IMPORTED = "imported"
SEED_REASONS = (AUTHORED, PICKED, IMPORTED)


@dataclass(frozen=True)
class Mark:
    """One paper a user marked "not for me", and when (epoch seconds)."""

    paper_key: int
    created_at: float


def mark_not_for_me(store: Store, user_id: int, paper_key: int) -> bool:
    """Mark a paper; False when it was marked already (nothing changes)."""
    try:
        with store.engine.begin() as connection:
            connection.execute(
                schema.not_for_me.insert().values(
                    user_id=user_id, paper_key=paper_key, created_at=time.time()
                )
            )
    except IntegrityError:
        return False
    return True


def unmark_not_for_me(store: Store, user_id: int, paper_key: int) -> bool:
    """Take the mark back; False when there was none."""
    with store.engine.begin() as connection:
        result = connection.execute(
            delete(schema.not_for_me).where(
                schema.not_for_me.c.user_id == user_id,
                schema.not_for_me.c.paper_key == paper_key,
            )
        )
    return bool(result.rowcount)


def not_for_me_marks(store: Store, user_id: int) -> list[Mark]:
    """The user's marks, newest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(schema.not_for_me.c.paper_key, schema.not_for_me.c.created_at)
            .where(schema.not_for_me.c.user_id == user_id)
            .order_by(schema.not_for_me.c.created_at.desc(), schema.not_for_me.c.paper_key)
        )
        return [Mark(int(key), float(created)) for key, created in rows]


def marked_among(store: Store, user_id: int, paper_keys: Sequence[int]) -> set[int]:
    """Which of ``paper_keys`` the user marked "not for me"."""
    found: set[int] = set()
    marks = schema.not_for_me.c
    with store.engine.connect() as connection:
        for batch in key_batches(paper_keys):
            found.update(
                int(key)
                for key in connection.scalars(
                    select(marks.paper_key).where(
                        marks.user_id == user_id, marks.paper_key.in_(batch)
                    )
                )
            )
    return found


def add_seed_papers(store: Store, user_id: int, paper_keys: Sequence[int], reason: str) -> int:
    """Make papers positives of the user's model ("authored", "picked"). Returns how many
    were new."""
    if reason not in SEED_REASONS:
        raise ValueError(f"unknown seed reason {reason!r} (expected one of {SEED_REASONS})")
    with store.engine.begin() as connection:
        have = set(
            connection.scalars(
                select(schema.seed_papers.c.paper_key).where(
                    schema.seed_papers.c.user_id == user_id
                )
            )
        )
        new = [key for key in dict.fromkeys(paper_keys) if key not in have]
        if new:
            now = time.time()
            connection.execute(
                schema.seed_papers.insert(),
                [
                    {"user_id": user_id, "paper_key": key, "reason": reason, "created_at": now}
                    for key in new
                ],
            )
    return len(new)


def seed_papers(store: Store, user_id: int) -> list[tuple[int, str]]:
    """``(paper key, reason)`` of the user's seed papers, newest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(schema.seed_papers.c.paper_key, schema.seed_papers.c.reason)
            .where(schema.seed_papers.c.user_id == user_id)
            .order_by(schema.seed_papers.c.created_at.desc(), schema.seed_papers.c.paper_key)
        )
        return [(int(key), str(reason)) for key, reason in rows]


# The most library entries kept per user: a big reference manager's library is a few
# thousand; past it the oldest go, so repeated imports cannot grow the table without end.
MAX_SEED_VECTORS = 5_000


def add_seed_vectors(
    store: Store, user_id: int, model: str, titles: Sequence[str], vectors: NDArray[np.float32]
) -> int:
    """Keep vectors of library entries the corpus lacks, as extra positives: an entry
    imported again replaces its earlier vector, and past ``MAX_SEED_VECTORS`` a user's
    oldest entries go."""
    if len(titles) != len(vectors):
        raise ValueError(f"{len(titles)} titles for {len(vectors)} vectors")
    if not titles:
        return 0
    now = time.time()
    rows = np.asarray(vectors, "<f4")
    table = schema.seed_vectors
    with store.engine.begin() as connection:
        for batch in value_batches(titles):
            connection.execute(
                delete(table).where(
                    table.c.user_id == user_id, table.c.model == model, table.c.title.in_(batch)
                )
            )
        connection.execute(
            schema.seed_vectors.insert(),
            [
                {
                    "user_id": user_id,
                    "title": title,
                    "model": model,
                    "vector": row.tobytes(),
                    "created_at": now,
                }
                for title, row in zip(titles, rows, strict=True)
            ],
        )
        kept = (
            select(table.c.id)
            .where(table.c.user_id == user_id)
            .order_by(table.c.created_at.desc(), table.c.id.desc())
            .limit(MAX_SEED_VECTORS)
        )
        connection.execute(delete(table).where(table.c.user_id == user_id, table.c.id.not_in(kept)))
    return len(titles)


def seed_vectors(store: Store, user_id: int, model: str) -> tuple[list[str], NDArray[np.float32]]:
    """Titles and vectors (one row each) of the user's library entries for ``model``."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(schema.seed_vectors.c.title, schema.seed_vectors.c.vector)
            .where(schema.seed_vectors.c.user_id == user_id, schema.seed_vectors.c.model == model)
            .order_by(schema.seed_vectors.c.id)
        ).all()
    if not rows:
        return [], np.empty((0, 0), np.float32)
    return [str(row[0]) for row in rows], np.vstack(
        [np.frombuffer(row[1], "<f4") for row in rows]
    ).astype(np.float32)


def count_seeds(store: Store, user_id: int) -> int:
    """Seed papers plus seed vectors the user has."""
    with store.engine.connect() as connection:
        papers = connection.scalar(
            select(func.count())
            .select_from(schema.seed_papers)
            .where(schema.seed_papers.c.user_id == user_id)
        )
        vectors = connection.scalar(
            select(func.count())
            .select_from(schema.seed_vectors)
            .where(schema.seed_vectors.c.user_id == user_id)
        )
    return int(papers or 0) + int(vectors or 0)
