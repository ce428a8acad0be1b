"""Comments on papers: their database reads and writes.

Policy (who may edit, how long a comment may be, rate limits, threading) lives in
``paperfeed.discussion``; this module only stores and reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, func, select

from paperfeed.store import schema
from paperfeed.store.database import Store, is_row_id, key_batches

_COMMENTS = schema.comments


@dataclass(frozen=True)
class Comment:
    """One comment as stored, with its author's display name."""

    id: int
    paper_key: int
    user_id: int
    author: str
    parent_id: int | None
    text: str
    created_at: float
    edited_at: float | None
    deleted_at: float | None
    # migration 9: "hidden" or "deleted" by a moderator (None: as its author left it)
    moderation: str | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def removed_by_moderator(self) -> bool:
        return self.moderation is not None


def _select() -> Any:
    return select(_COMMENTS, schema.users.c.name.label("author")).join(
        schema.users, schema.users.c.id == _COMMENTS.c.user_id
    )


def _comment(row: Row[Any]) -> Comment:
    return Comment(
        id=int(row.id),
        paper_key=int(row.paper_key),
        user_id=int(row.user_id),
        author=row.author,
        parent_id=None if row.parent_id is None else int(row.parent_id),
        text=row.text,
        created_at=float(row.created_at),
        edited_at=None if row.edited_at is None else float(row.edited_at),
        deleted_at=None if row.deleted_at is None else float(row.deleted_at),
        moderation=row.moderation,
    )


def insert_comment(
    store: Store, paper_key: int, user_id: int, parent_id: int | None, text: str, at: float
) -> int:
    """Add a comment; returns its id."""
    with store.engine.begin() as connection:
        result = connection.execute(
            _COMMENTS.insert().values(
                paper_key=paper_key, user_id=user_id, parent_id=parent_id, text=text, created_at=at
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def find_comment(store: Store, comment_id: int) -> Comment | None:
    if not is_row_id(comment_id):
        return None  # no such row, and a query would overflow the driver's integer
    with store.engine.connect() as connection:
        row = connection.execute(_select().where(_COMMENTS.c.id == comment_id)).first()
    return _comment(row) if row else None


def paper_comments(store: Store, paper_key: int) -> list[Comment]:
    """Every comment on a paper, deleted ones included, oldest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            _select()
            .where(_COMMENTS.c.paper_key == paper_key)
            .order_by(_COMMENTS.c.created_at, _COMMENTS.c.id)
        ).all()
    return [_comment(row) for row in rows]


def update_text(store: Store, comment_id: int, text: str, at: float) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            _COMMENTS.update().where(_COMMENTS.c.id == comment_id).values(text=text, edited_at=at)
        )


def mark_deleted(store: Store, comment_id: int, at: float) -> None:
    """Blank a comment and mark it deleted; the row stays so its replies keep their thread."""
    with store.engine.begin() as connection:
        connection.execute(
            _COMMENTS.update().where(_COMMENTS.c.id == comment_id).values(text="", deleted_at=at)
        )


_COMMENT_COUNTS = (
    select(_COMMENTS.c.paper_key, func.count())
    .where(_COMMENTS.c.deleted_at.is_(None), _COMMENTS.c.moderation.is_(None))
    .group_by(_COMMENTS.c.paper_key)
)
# built once, as ``store.database.PAPERS_WITH_KEYS``: every search runs it
_COMMENT_COUNTS_OF_PAPERS = _COMMENT_COUNTS.where(
    _COMMENTS.c.paper_key.in_(bindparam("keys", expanding=True))
)


def count_comments(store: Store, paper_keys: Sequence[int] | None = None) -> dict[int, int]:
    """Comments not deleted, per paper (all papers when ``paper_keys`` is None)."""
    counts: dict[int, int] = {}
    with store.engine.connect() as connection:
        if paper_keys is None:
            return {int(key): int(count) for key, count in connection.execute(_COMMENT_COUNTS)}
        for batch in key_batches(paper_keys):
            rows = connection.execute(_COMMENT_COUNTS_OF_PAPERS, {"keys": batch})
            counts.update({int(key): int(count) for key, count in rows})
    return counts


def user_comments(store: Store, user_id: int, limit: int) -> list[Comment]:
    """A user's comments not deleted, newest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            _select()
            .where(_COMMENTS.c.user_id == user_id, _COMMENTS.c.deleted_at.is_(None))
            .where(_COMMENTS.c.moderation.is_(None))
            .order_by(_COMMENTS.c.created_at.desc(), _COMMENTS.c.id.desc())
            .limit(limit)
        ).all()
    return [_comment(row) for row in rows]


def latest_comments(store: Store, paper_key: int, limit: int) -> list[Comment]:
    """A paper's newest comments not deleted (threads and replies alike), for its feed."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            _select()
            .where(_COMMENTS.c.paper_key == paper_key, _COMMENTS.c.deleted_at.is_(None))
            .where(_COMMENTS.c.moderation.is_(None))
            .order_by(_COMMENTS.c.created_at.desc(), _COMMENTS.c.id.desc())
            .limit(limit)
        ).all()
    return [_comment(row) for row in rows]
