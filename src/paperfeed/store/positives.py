"""The papers a user has shown interest in: their upvotes and the papers of their collections.

The collections tables (``collections``, ``collection_papers``) belong to the collections
feature; this module only reads them, through lightweight table clauses naming the
columns it needs, and only once they exist. A database without them gives the votes alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import column, inspect, select, table

from paperfeed.store import schema
from paperfeed.store.database import Store

UPVOTED = "upvoted"
SAVED = "saved"

_collections = table("collections", column("id"), column("user_id"))
_collection_papers = table("collection_papers", column("collection_id"), column("paper_key"))


@dataclass(frozen=True)
class Positive:
    """A paper the user upvoted or saved; ``reason`` is ``"upvoted"`` or ``"saved"``."""

    paper_key: int
    reason: str


def has_collections(store: Store) -> bool:
    """Whether the collections tables exist in this database."""
    return inspect(store.engine).has_table("collection_papers")


def user_positives(store: Store, user_id: int) -> list[Positive]:
    """The user's saved papers, then their upvoted ones not saved, one entry per paper.

    A paper both saved and upvoted counts once, as saved (the stronger signal).
    """
    found: dict[int, Positive] = {}
    with store.engine.connect() as connection:
        if has_collections(store):
            saved = connection.scalars(
                select(_collection_papers.c.paper_key)
                .join(_collections, _collections.c.id == _collection_papers.c.collection_id)
                .where(_collections.c.user_id == user_id)
                .order_by(_collection_papers.c.paper_key)
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
