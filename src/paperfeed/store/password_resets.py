"""Password-reset links: their database reads and writes (only each token's SHA-256)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update

from paperfeed.store import schema
from paperfeed.store.database import Store

_RESETS = schema.password_resets


@dataclass(frozen=True)
class ResetRow:
    """A mailed reset link as stored."""

    user_id: int
    expires_at: float
    used_at: float | None


def insert_reset(
    store: Store, user_id: int, token_hash: str, created_at: float, expires_at: float
) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            _RESETS.insert().values(
                token_hash=token_hash,
                user_id=user_id,
                created_at=created_at,
                expires_at=expires_at,
            )
        )


def find_reset(store: Store, token_hash: str) -> ResetRow | None:
    with store.engine.connect() as connection:
        row = connection.execute(
            select(_RESETS.c.user_id, _RESETS.c.expires_at, _RESETS.c.used_at).where(
                _RESETS.c.token_hash == token_hash
            )
        ).first()
    if row is None:
        return None
    used = None if row.used_at is None else float(row.used_at)
    return ResetRow(int(row.user_id), float(row.expires_at), used)


def use_reset(store: Store, token_hash: str, now: float) -> int | None:
    """Mark an unused, unexpired link used, atomically (of two concurrent uses, one
    wins). Returns its user's id, or None when it was used, expired or unknown."""
    with store.engine.begin() as connection:
        result = connection.execute(
            update(_RESETS)
            .where(
                _RESETS.c.token_hash == token_hash,
                _RESETS.c.used_at.is_(None),
                _RESETS.c.expires_at > now,
            )
            .values(used_at=now)
        )
        if result.rowcount != 1:
            return None
        user_id = connection.scalar(
            select(_RESETS.c.user_id).where(_RESETS.c.token_hash == token_hash)
        )
    return None if user_id is None else int(user_id)


def delete_user_resets(store: Store, user_id: int, keep: str | None = None) -> None:
    """Forget a user's reset links (all but the one hashed ``keep``, so a used link
    still says "used" rather than "not valid")."""
    condition = _RESETS.c.user_id == user_id
    if keep is not None:
        condition = condition & (_RESETS.c.token_hash != keep)
    with store.engine.begin() as connection:
        connection.execute(delete(_RESETS).where(condition))
