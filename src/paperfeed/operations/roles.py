"""Who is an administrator: the one place the operations layer asks.

The ``users.role`` column ('admin' or 'user') arrives with the admin work's migration;
until a database has it, nobody is an admin here, so an admin-only detail (a sync
failure's reason) is shown to nobody rather than to everybody.
"""

from __future__ import annotations

from sqlalchemy import inspect, text

from paperfeed.store import Store
from paperfeed.store.accounts import User

_has_role_column: dict[str, bool] = {}


def _role_column_exists(store: Store) -> bool:
    known = _has_role_column.get(store.url)
    if known:
        return True
    # asked again until the column appears: a migration may add it while we run
    columns = {column["name"] for column in inspect(store.engine).get_columns("users")}
    _has_role_column[store.url] = "role" in columns
    return "role" in columns


def is_admin(store: Store, user: User | None) -> bool:
    """Whether ``user`` holds the admin role (False for anonymous visitors)."""
    if user is None:
        return False
    role = getattr(user, "role", None)
    if role is not None:
        return bool(role == "admin")
    if not _role_column_exists(store):
        return False
    with store.engine.connect() as connection:
        found = connection.scalar(text("SELECT role FROM users WHERE id = :id"), {"id": user.id})
    return bool(found == "admin")
