"""Every stored paper, a page at a time by key (the ``GET /api/papers`` listing)."""

from __future__ import annotations

from sqlalchemy import select

from paperfeed.models import StoredPaper
from paperfeed.store import schema
from paperfeed.store.database import Store, stored_paper_from_row


def papers_before_key(store: Store, before: int | None, limit: int) -> list[StoredPaper]:
    """Up to ``limit`` papers with a key below ``before`` (all when None), highest first,
    but for those a moderator hid.

    Keys only grow, so a page that starts below a key never shifts when papers are
    added: the newest come first on a fresh listing, and a cursor walks to the oldest.
    """
    # not the papers a moderator hid: their pages are not found either
    hidden = select(schema.hidden_papers.c.paper_key)
    statement = (
        select(schema.papers)
        .where(schema.papers.c.key.not_in(hidden))
        .order_by(schema.papers.c.key.desc())
        .limit(limit)
    )
    if before is not None:
        statement = statement.where(schema.papers.c.key < before)
    with store.engine.connect() as connection:
        return [stored_paper_from_row(row) for row in connection.execute(statement)]
