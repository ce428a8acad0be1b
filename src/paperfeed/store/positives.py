"""The papers a user has shown interest in: their upvotes and the papers of their collections."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from paperfeed.store import schema
from paperfeed.store.database import Store

UPVOTED = "upvoted"
SAVED = "saved"


@dataclass(frozen=True)
class Positive:
    """A paper the user upvoted or saved; ``reason`` is ``"upvoted"`` or ``"saved"``."""

    paper_key: int
    reason: str


def user_positives(store: Store, user_id: int) -> list[Positive]:
    """The user's saved papers, then their upvoted ones not saved, one entry per paper.

    A paper both saved and upvoted counts once, as saved (the stronger signal).
    """
    found: dict[int, Positive] = {}
    with store.engine.connect() as connection:
        saved = connection.scalars(
            select(schema.collection_papers.c.paper_key)
            .join(
                schema.collections,
                schema.collections.c.id == schema.collection_papers.c.collection_id,
            )
            .where(schema.collections.c.user_id == user_id)
            .order_by(
                schema.collection_papers.c.added_at.desc(), schema.collection_papers.c.paper_key
            )
        )
        for key in saved:
            found.setdefault(int(key), Positive(int(key), SAVED))
        upvoted = connection.scalars(
            select(schema.votes.c.paper_key)
            .where(schema.votes.c.user_id == user_id)
            .order_by(schema.votes.c.created_at.desc(), schema.votes.c.paper_key)
        )
        for key in upvoted:
            found.setdefault(int(key), Positive(int(key), UPVOTED))
    return list(found.values())
