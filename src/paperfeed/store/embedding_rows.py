"""Embedding vectors kept in the store, so the slow embedding stage is resumable.

A vector is fresh while the paper's ``content_hash`` equals the hash it was made
from; unchanged texts are never embedded twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select, and_, delete, func, or_, select

from paperfeed.store import schema
from paperfeed.store.database import Store


@dataclass(frozen=True)
class EmbeddingTask:
    """A paper whose text needs (re-)embedding."""

    key: int
    content_hash: str
    title: str
    abstract: str


def _stale_condition(model: str):  # type: ignore[no-untyped-def]
    joined = schema.papers.outerjoin(
        schema.embeddings,
        and_(
            schema.embeddings.c.paper_key == schema.papers.c.key,
            schema.embeddings.c.model == model,
        ),
    )
    stale = or_(
        schema.embeddings.c.paper_key.is_(None),
        schema.embeddings.c.content_hash != schema.papers.c.content_hash,
    )
    return joined, stale


def count_papers_to_embed(store: Store, model: str) -> int:
    """Papers with no fresh vector for ``model``."""
    joined, stale = _stale_condition(model)
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(joined).where(stale)) or 0)


def papers_to_embed(
    store: Store, model: str, limit: int, after_key: int = 0
) -> list[EmbeddingTask]:
    """Up to ``limit`` papers with no fresh vector for ``model``, in key order."""
    joined, stale = _stale_condition(model)
    statement = (
        select(
            schema.papers.c.key,
            schema.papers.c.content_hash,
            schema.papers.c.title,
            schema.papers.c.abstract,
        )
        .select_from(joined)
        .where(stale, schema.papers.c.key > after_key)
        .order_by(schema.papers.c.key)
        .limit(limit)
    )
    with store.engine.connect() as connection:
        return [EmbeddingTask(*row) for row in connection.execute(statement)]


def save_embeddings(
    store: Store,
    model: str,
    keys: Sequence[int],
    hashes: Sequence[str],
    vectors: NDArray[np.float32],
) -> None:
    """Replace the vectors of ``keys`` for ``model`` in one transaction."""
    if len(keys) != len(hashes) or len(keys) != len(vectors):
        raise ValueError(
            f"{len(keys)} keys, {len(hashes)} hashes and {len(vectors)} vectors do not line up"
        )
    if not keys:
        return
    matrix = np.ascontiguousarray(vectors, dtype="<f4")
    rows = [
        {
            "paper_key": int(key),
            "model": model,
            "content_hash": content_hash,
            "dimension": int(matrix.shape[1]),
            "vector": matrix[position].tobytes(),
            "norm": float(np.linalg.norm(matrix[position])),
        }
        for position, (key, content_hash) in enumerate(zip(keys, hashes, strict=True))
    ]
    with store.engine.begin() as connection:
        connection.execute(
            delete(schema.embeddings).where(
                schema.embeddings.c.model == model,
                schema.embeddings.c.paper_key.in_([int(key) for key in keys]),
            )
        )
        connection.execute(schema.embeddings.insert(), rows)


def _fresh_embeddings(model: str, *columns: Any) -> Select[Any]:
    """``columns`` of the vectors of ``model`` made from their paper's current text."""
    return (
        select(*columns)
        .select_from(schema.embeddings)
        .join(schema.papers, schema.papers.c.key == schema.embeddings.c.paper_key)
        .where(
            schema.embeddings.c.model == model,
            schema.embeddings.c.content_hash == schema.papers.c.content_hash,
        )
    )


def iter_fresh_embeddings(
    store: Store, model: str, batch_size: int = 20_000
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.float32]]]:
    """Fresh vectors of ``model`` as (keys, matrix) batches in key order."""
    last_key = 0
    while True:
        statement = (
            _fresh_embeddings(model, schema.embeddings.c.paper_key, schema.embeddings.c.vector)
            .where(schema.embeddings.c.paper_key > last_key)
            .order_by(schema.embeddings.c.paper_key)
            .limit(batch_size)
        )
        with store.engine.connect() as connection:
            rows = connection.execute(statement).all()
        if not rows:
            return
        keys = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype="<f4").reshape(len(rows), -1)
        last_key = int(keys[-1])
        yield keys, matrix.astype(np.float32, copy=False)


def count_fresh_embeddings(store: Store, model: str) -> int:
    """Papers whose vector for ``model`` matches their current text."""
    statement = _fresh_embeddings(model, func.count())
    with store.engine.connect() as connection:
        return int(connection.scalar(statement) or 0)


def keys_with_fresh_vectors(store: Store, model: str) -> set[int]:
    """Keys of the papers whose vector for ``model`` matches their current text."""
    statement = _fresh_embeddings(model, schema.embeddings.c.paper_key)
    with store.engine.connect() as connection:
        return {int(key) for key in connection.scalars(statement)}
