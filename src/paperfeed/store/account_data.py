"""Everything stored about one account: read for its owner's export, erased on deletion.

Policy (what is kept, what the export holds) lives in ``paperfeed.account_data``; this
module only reads and writes. Every read returns plain JSON-ready values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select, update

from paperfeed.store import schema
from paperfeed.store.database import Store
from paperfeed.store.subscriptions import NO_SUBSCRIPTION, delete_subscriptions_in

_PAPERS = schema.papers
DELETED_NAME = "[deleted]"


def _when(value: Any) -> float | None:
    return None if value is None else float(value)


def _account(connection: Connection, user_id: int) -> dict[str, Any]:
    row = connection.execute(
        select(
            schema.users.c.id, schema.users.c.email, schema.users.c.name, schema.users.c.created_at
        ).where(schema.users.c.id == user_id)
    ).one()
    tokens = connection.execute(
        select(schema.api_tokens.c.label, schema.api_tokens.c.created_at)
        .where(schema.api_tokens.c.user_id == user_id)
        .order_by(schema.api_tokens.c.created_at, schema.api_tokens.c.token_hash)
    ).all()
    return {
        "id": int(row.id),
        "email": row.email,
        "name": row.name,
        "created_at": float(row.created_at),
        # labels and dates only: a token is shown once and stored as a hash
        "api_tokens": [{"label": t.label, "created_at": float(t.created_at)} for t in tokens],
    }


def _votes(connection: Connection, user_id: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(_PAPERS.c.arxiv_id, _PAPERS.c.title, schema.votes.c.created_at)
        .join(_PAPERS, _PAPERS.c.key == schema.votes.c.paper_key)
        .where(schema.votes.c.user_id == user_id)
        .order_by(schema.votes.c.created_at, _PAPERS.c.arxiv_id)
    ).all()
    return [
        {"paper": row.arxiv_id, "title": row.title, "created_at": float(row.created_at)}
        for row in rows
    ]


def _comments(connection: Connection, user_id: int) -> list[dict[str, Any]]:
    comments = schema.comments
    rows = connection.execute(
        select(comments, _PAPERS.c.arxiv_id)
        .join(_PAPERS, _PAPERS.c.key == comments.c.paper_key)
        .where(comments.c.user_id == user_id, comments.c.deleted_at.is_(None))
        .order_by(comments.c.created_at, comments.c.id)
    ).all()
    return [
        {
            "id": int(row.id),
            "paper": row.arxiv_id,
            "parent": None if row.parent_id is None else int(row.parent_id),
            "text": row.text,
            "created_at": float(row.created_at),
            "edited_at": _when(row.edited_at),
        }
        for row in rows
    ]


def _collections(connection: Connection, user_id: int) -> list[dict[str, Any]]:
    collections, members = schema.collections, schema.collection_papers
    found = connection.execute(
        select(collections).where(collections.c.user_id == user_id).order_by(collections.c.id)
    ).all()
    result = []
    for row in found:
        papers = connection.execute(
            select(_PAPERS.c.arxiv_id, _PAPERS.c.title, members.c.added_at)
            .join(_PAPERS, _PAPERS.c.key == members.c.paper_key)
            .where(members.c.collection_id == row.id)
            .order_by(members.c.added_at, _PAPERS.c.arxiv_id)
        ).all()
        result.append(
            {
                "id": int(row.id),
                "name": row.name,
                "description": row.description,
                "public": bool(row.is_public),
                "created_at": float(row.created_at),
                "updated_at": float(row.updated_at),
                "papers": [
                    {"paper": p.arxiv_id, "title": p.title, "added_at": float(p.added_at)}
                    for p in papers
                ],
            }
        )
    return result


def _submissions(connection: Connection, user_id: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(_PAPERS.c.arxiv_id, _PAPERS.c.title, schema.submissions.c.submitted_at)
        .join(_PAPERS, _PAPERS.c.key == schema.submissions.c.paper_key)
        .where(schema.submissions.c.user_id == user_id)
        .order_by(schema.submissions.c.submitted_at, _PAPERS.c.arxiv_id)
    ).all()
    return [
        {"paper": row.arxiv_id, "title": row.title, "submitted_at": float(row.submitted_at)}
        for row in rows
    ]


def _subscriptions(connection: Connection, user_id: int) -> list[dict[str, Any]]:
    """The account's own digest subscriptions (``subscriptions.user_id``), with topics."""
    subscriptions = schema.subscriptions
    rows = connection.execute(
        select(subscriptions).where(subscriptions.c.user_id == user_id).order_by(subscriptions.c.id)
    ).all()
    result = []
    for row in rows:
        topics = connection.execute(
            select(schema.subscription_topics.c.query, schema.subscription_topics.c.min_relevance)
            .where(schema.subscription_topics.c.subscription_id == row.id)
            .order_by(schema.subscription_topics.c.id)
        ).all()
        result.append(
            {
                "email": row.email,
                "frequency": row.frequency,
                "time_zone": row.time_zone,
                "created_at": float(row.created_at),
                "confirmed_at": _when(row.confirmed_at),
                "topics": [
                    {"query": topic.query, "min_relevance": float(topic.min_relevance)}
                    for topic in topics
                ],
            }
        )
    return result


def read_account_data(store: Store, user_id: int) -> dict[str, Any]:
    """Everything of one account, in one consistent read (never the password hash)."""
    with store.engine.connect() as connection:
        account = _account(connection, user_id)
        return {
            "account": account,
            "votes": _votes(connection, user_id),
            "comments": _comments(connection, user_id),
            "collections": _collections(connection, user_id),
            "submissions": _submissions(connection, user_id),
            "subscriptions": _subscriptions(connection, user_id),
        }


def erase_account(store: Store, user_id: int, email: str, now: float) -> None:
    """Erase an account in one transaction: comments blanked (the rows stay, so replies
    keep their thread), votes, collections, submissions records, the account's own
    digest subscriptions (topics and unsent mail too), the account's own mails (reset
    links), sessions, API tokens and reset links deleted; the user row emptied (no
    address, name "[deleted]", no password) and marked deleted, so the blanked comments
    still have an author row to point at.

    A subscription of the same address that is not the account's (made by someone not
    signed in to it: sign-up does not prove the address) is left alone; its own
    unsubscribe link ends it."""
    comments = schema.comments
    with store.engine.begin() as connection:
        connection.execute(
            update(comments)
            .where(comments.c.user_id == user_id, comments.c.deleted_at.is_(None))
            .values(text="", deleted_at=now)
        )
        connection.execute(delete(schema.votes).where(schema.votes.c.user_id == user_id))
        owned = select(schema.collections.c.id).where(schema.collections.c.user_id == user_id)
        connection.execute(
            delete(schema.collection_papers).where(
                schema.collection_papers.c.collection_id.in_(owned)
            )
        )
        connection.execute(
            delete(schema.collections).where(schema.collections.c.user_id == user_id)
        )
        connection.execute(
            delete(schema.submissions).where(schema.submissions.c.user_id == user_id)
        )
        delete_subscriptions_in(connection, schema.subscriptions.c.user_id == user_id)
        # the account's own mails (reset links), not a subscription's
        connection.execute(
            delete(schema.outbox).where(
                schema.outbox.c.recipient == email,
                schema.outbox.c.subscription_id == NO_SUBSCRIPTION,
            )
        )
        for table in (schema.sessions, schema.api_tokens, schema.password_resets):
            connection.execute(delete(table).where(table.c.user_id == user_id))
        connection.execute(
            update(schema.users)
            .where(schema.users.c.id == user_id)
            .values(
                email=f"deleted:{user_id}",  # no "@": no sign-in, sign-up or reset finds it
                name=DELETED_NAME,
                password_hash="",  # no Argon2 hash: no password verifies against it
                deleted_at=now,
            )
        )
