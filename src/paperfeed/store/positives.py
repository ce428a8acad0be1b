"""The papers a user has shown interest in: their upvotes, the papers of their collections,
and their cold-start seeds (papers they wrote or picked); less any they marked "not for me"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from paperfeed.store import schema
from paperfeed.store.database import Store

UPVOTED = "upvoted"
SAVED = "saved"


@dataclass(frozen=True)
class Positive:
    """A paper the user upvoted, saved, wrote or picked; ``reason`` says which
    (``"upvoted"``, ``"saved"``, ``"authored"``, ``"picked"``)."""

    paper_key: int
    reason: str


def user_positives(store: Store, user_id: int) -> list[Positive]:
    """The user's saved papers, then their upvoted ones not saved, one entry per paper.

    A paper both saved and upvoted counts once, as saved (the stronger signal); seed
    papers follow; a paper marked "not for me" is no positive, whatever else was done.
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
        seeds = connection.execute(
            select(schema.seed_papers.c.paper_key, schema.seed_papers.c.reason)
            .where(schema.seed_papers.c.user_id == user_id)
            .order_by(schema.seed_papers.c.created_at.desc(), schema.seed_papers.c.paper_key)
        )
        for key, reason in seeds:
            found.setdefault(int(key), Positive(int(key), str(reason)))
        rejected = set(
            connection.scalars(
                select(schema.not_for_me.c.paper_key).where(schema.not_for_me.c.user_id == user_id)
            )
        )
    return [positive for positive in found.values() if positive.paper_key not in rejected]
