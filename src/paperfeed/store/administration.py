"""Roles, disabled accounts, invites and the audit log: their database reads and writes.

Policy (who may do what, how long an invite lasts) lives in ``paperfeed.administration``;
this module only stores and reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update

from paperfeed.store import schema
from paperfeed.store.database import Store, value_batches

_USERS = schema.users
_INVITES = schema.invites
_AUDIT = schema.audit_log


@dataclass(frozen=True)
class UserSummary:
    """A user as the admin pages list them."""

    id: int
    email: str
    name: str
    role: str
    created_at: float
    disabled_at: float | None
    comments: int


@dataclass(frozen=True)
class Invite:
    """An invite as stored (its token is known only to the link's holder)."""

    id: int
    email: str | None
    created_by: int | None
    created_at: float
    expires_at: float
    used_at: float | None
    used_by: int | None
    revoked_at: float | None


@dataclass(frozen=True)
class AuditEntry:
    """One admin action: who, what, on what, when."""

    id: int
    at: float
    actor_id: int | None
    actor: str
    action: str
    target: str
    detail: str


# -- users ------------------------------------------------------------------------------


def count_users(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(_USERS)) or 0)


def count_active_admins(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(_USERS)
                .where(
                    _USERS.c.role == "admin",
                    _USERS.c.disabled_at.is_(None),
                    _USERS.c.deleted_at.is_(None),  # its owner deleted it: nobody signs in
                )
            )
            or 0
        )


_LISTED = _USERS.c.deleted_at.is_(None)  # an account its owner deleted is no user any more


def _matching_user_ids(connection: Connection, matching: str) -> list[int]:
    """Users whose address or name holds ``matching`` in any case, oldest account first.

    Compared here, case-folded, not by SQL: SQLite's ``lower()`` folds ASCII only (a
    search for "łukasz" would miss "Łukasz"), and PostgreSQL refuses a NUL in a query.
    A site's users are a few thousand rows of two short columns."""
    needle = matching.casefold()
    rows = connection.execute(
        select(_USERS.c.id, _USERS.c.email, _USERS.c.name)
        .where(_LISTED)
        .order_by(_USERS.c.created_at, _USERS.c.id)
    )
    return [
        int(user_id)
        for user_id, email, name in rows
        if needle in email.casefold() or needle in (name or "").casefold()
    ]


def list_users(
    store: Store,
    matching: str = "",
    offset: int = 0,
    limit: int | None = None,
    user_id: int | None = None,
) -> tuple[int, list[UserSummary]]:
    """How many users (not accounts their owners deleted) there are, or hold ``matching``
    in their address or name, and ``limit`` of them from ``offset``, oldest account
    first, each with how many of their comments are shown (neither deleted nor removed
    by a moderator); or only ``user_id``."""
    # Counted for the listed users only, by the (user_id, created_at) index: a page of a
    # big site's users does not group every comment ever written.
    comments = (
        select(func.count())
        .select_from(schema.comments)
        .where(
            schema.comments.c.user_id == _USERS.c.id,
            schema.comments.c.deleted_at.is_(None),
            schema.comments.c.moderation.is_(None),
        )
        .scalar_subquery()
    )
    listed = _LISTED if user_id is None else _LISTED & (_USERS.c.id == user_id)
    ordered = (
        select(_USERS, comments.label("comments"))
        .where(listed)
        .order_by(_USERS.c.created_at, _USERS.c.id)
    )
    with store.engine.connect() as connection:
        if matching:
            matches = _matching_user_ids(connection, matching)
            total = len(matches)
            page = matches[offset:]
            page = page[:limit] if limit is not None else page
            rows: list[Row[Any]] = []
            for batch in value_batches(page):
                rows += connection.execute(ordered.where(_USERS.c.id.in_(batch))).all()
        else:
            counted = select(func.count()).select_from(_USERS).where(listed)
            total = int(connection.scalar(counted) or 0)
            rows = list(connection.execute(ordered.offset(offset).limit(limit)).all())
    return total, [
        UserSummary(
            id=int(row.id),
            email=row.email,
            name=row.name,
            role=row.role,
            created_at=float(row.created_at),
            disabled_at=None if row.disabled_at is None else float(row.disabled_at),
            comments=int(row.comments),
        )
        for row in rows
    ]


def set_role(store: Store, user_id: int, role: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(update(_USERS).where(_USERS.c.id == user_id).values(role=role))


def set_disabled(store: Store, user_id: int, at: float | None) -> None:
    """Disable the account (``at``: when) and end its sessions, tokens and password-reset
    links in the same transaction, or enable it again (``at`` None)."""
    with store.engine.begin() as connection:
        connection.execute(update(_USERS).where(_USERS.c.id == user_id).values(disabled_at=at))
        if at is not None:
            for table in (schema.sessions, schema.api_tokens, schema.password_resets):
                connection.execute(delete(table).where(table.c.user_id == user_id))


# -- invites ----------------------------------------------------------------------------


def _invite(row: Row[Any]) -> Invite:
    def moment(value: Any) -> float | None:
        return None if value is None else float(value)

    return Invite(
        id=int(row.id),
        email=row.email,
        created_by=None if row.created_by is None else int(row.created_by),
        created_at=float(row.created_at),
        expires_at=float(row.expires_at),
        used_at=moment(row.used_at),
        used_by=None if row.used_by is None else int(row.used_by),
        revoked_at=moment(row.revoked_at),
    )


def insert_invite(
    store: Store,
    token_hash: str,
    email: str | None,
    created_by: int | None,
    at: float,
    expires_at: float,
) -> Invite:
    with store.engine.begin() as connection:
        result = connection.execute(
            _INVITES.insert().values(
                token_hash=token_hash,
                email=email,
                created_by=created_by,
                created_at=at,
                expires_at=expires_at,
            )
        )
        invite_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return Invite(invite_id, email, created_by, at, expires_at, None, None, None)


def find_invite_by_hash(store: Store, token_hash: str) -> Invite | None:
    with store.engine.connect() as connection:
        row = connection.execute(
            select(_INVITES).where(_INVITES.c.token_hash == token_hash)
        ).first()
    return _invite(row) if row else None


def find_invite(store: Store, invite_id: int) -> Invite | None:
    with store.engine.connect() as connection:
        row = connection.execute(select(_INVITES).where(_INVITES.c.id == invite_id)).first()
    return _invite(row) if row else None


def list_invites(store: Store, limit: int = 200) -> list[Invite]:
    """The newest invites first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(_INVITES)
            .order_by(_INVITES.c.created_at.desc(), _INVITES.c.id.desc())
            .limit(limit)
        ).all()
    return [_invite(row) for row in rows]


def claim_invite(store: Store, invite_id: int, at: float) -> bool:
    """Mark an invite used, if it still is unused, unrevoked and unexpired at ``at``.

    One conditional UPDATE: of two sign-ups racing for the same link, one wins.
    """
    with store.engine.begin() as connection:
        result = connection.execute(
            update(_INVITES)
            .where(
                _INVITES.c.id == invite_id,
                _INVITES.c.used_at.is_(None),
                _INVITES.c.revoked_at.is_(None),
                _INVITES.c.expires_at > at,
            )
            .values(used_at=at)
        )
    return bool(result.rowcount)


def release_invite(store: Store, invite_id: int) -> None:
    """Undo a claim whose sign-up then failed (the address was taken, say)."""
    with store.engine.begin() as connection:
        connection.execute(
            update(_INVITES)
            .where(_INVITES.c.id == invite_id, _INVITES.c.used_by.is_(None))
            .values(used_at=None)
        )


def record_invite_user(store: Store, invite_id: int, user_id: int) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            update(_INVITES).where(_INVITES.c.id == invite_id).values(used_by=user_id)
        )


def revoke_invite(store: Store, invite_id: int, at: float) -> bool:
    """Revoke an unused invite. Returns False when it was used or revoked already."""
    with store.engine.begin() as connection:
        result = connection.execute(
            update(_INVITES)
            .where(
                _INVITES.c.id == invite_id,
                _INVITES.c.used_at.is_(None),
                _INVITES.c.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
    return bool(result.rowcount)


# -- audit log ---------------------------------------------------------------------------


def insert_audit(
    store: Store,
    at: float,
    actor_id: int | None,
    actor: str,
    action: str,
    target: str,
    detail: str = "",
) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            _AUDIT.insert().values(
                at=at,
                actor_id=actor_id,
                actor=actor[:320],
                action=action,
                target=target[:400],
                detail=detail,
            )
        )


def list_audit(store: Store, limit: int = 200, offset: int = 0) -> tuple[int, list[AuditEntry]]:
    """How many entries there are, and ``limit`` of them from ``offset``, newest first."""
    with store.engine.connect() as connection:
        total = int(connection.scalar(select(func.count()).select_from(_AUDIT)) or 0)
        rows = connection.execute(
            select(_AUDIT)
            .order_by(_AUDIT.c.at.desc(), _AUDIT.c.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return total, [
        AuditEntry(
            id=int(row.id),
            at=float(row.at),
            actor_id=None if row.actor_id is None else int(row.actor_id),
            actor=row.actor,
            action=row.action,
            target=row.target,
            detail=row.detail,
        )
        for row in rows
    ]
